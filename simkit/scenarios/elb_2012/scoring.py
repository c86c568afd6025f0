"""How the commander game scores an ELB 2012 response.

Three things count, as they did for AWS's customers:

* **damage**: load-balancer-hours spent misconfigured (each damaged load balancer
  fails most of its customers' requests), divided by the fleet size so the
  figure does not depend on how many load balancers the model runs:
  ``fleet_hours = damaged LB-hours / load balancers``. Christmas Eve 2012 as AWS
  played it comes to about 1.2; leaving the workflows on all day, about 3.3.
* **customer changes lost**: changes customers made after the snapshot that the
  control plane's records no longer hold at the end (a restore without a merge
  loses them, and the next workflow pushes the old configuration to the nodes).
* **time to normal**: from the deletion until every load balancer is healthy,
  every record is present and the workflows are back on (a gradual re-enable
  under way counts). Not normal by the end of the run costs more than the
  slowest recovery.

``score = 100 - damage penalty (<= 50) - time penalty (<= 35) - lost-change penalty (<= 20)``,
floored at 0. Bands as everywhere: top >= 80, middle >= 55, low >= 30.
"""

from __future__ import annotations

__all__ = ["penalties", "score_from"]

#: fleet-hours of damage that cost the whole damage penalty
DAMAGE_FULL_FLEET_H = 2.5
#: hours to normal that cost the whole (finite) time penalty
TIME_FULL_H = 30.0
#: customer changes lost that cost the whole lost-change penalty
LOST_FULL = 40.0

DAMAGE_MAX, TIME_MAX, NEVER_NORMAL, LOST_MAX = 50.0, 25.0, 35.0, 20.0


def penalties(fleet_hours: float, time_to_normal_h: float | None, changes_lost: int) -> dict[str, float]:
    """The three penalties, in points."""
    damage = DAMAGE_MAX * min(1.0, fleet_hours / DAMAGE_FULL_FLEET_H)
    if time_to_normal_h is None:
        slow = NEVER_NORMAL
    else:
        slow = TIME_MAX * min(1.0, time_to_normal_h / TIME_FULL_H)
    lost = LOST_MAX * min(1.0, changes_lost / LOST_FULL)
    return {"damage": round(damage, 2), "time_to_normal": round(slow, 2), "changes_lost": round(lost, 2)}


def score_from(fleet_hours: float, time_to_normal_h: float | None, changes_lost: int) -> float:
    """The 0-100 score for these outcomes."""
    return round(max(0.0, 100.0 - sum(penalties(fleet_hours, time_to_normal_h, changes_lost).values())), 1)
