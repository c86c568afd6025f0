"""The ELB 2012 model: the region, its control plane, the deletion, and what the operators can do.

Read :mod:`.fleet` first (what a load balancer and a workflow are), then
:mod:`.region` (the records), :mod:`.workload` (the workflows), :mod:`.switches`,
:mod:`.sweep` and :mod:`.recovery` (the operators' tools), :mod:`.operators` (the
actions), :mod:`.readings` (the monitors) and :mod:`.game` (the page, the rubric, the
reference plans). This module wires them into one run:

* at 12:00 PM the region's load balancers, and the three streams of control-plane work;
* the trigger at 12:24 PM: a share of the stored records is deleted; nothing alerts,
  but reads of the deleted records fail, and the API monitor pages the on-call engineer;
* a step every simulated minute: ramps, queued work, repairs, a reconciliation sweep,
  the readings;
* the operator actions of the commander game (:mod:`.operators`), each declared once
  with ``@action`` next to its effect, their delays read from :class:`.parameters.Params`;
* the results: what the rubric scores (:meth:`Model.measure`) and what the lab reads.

**The model's assumption, not a fact from the record:** switching every workflow on at once
(``enable_workflows_all``) releases all the work queued while they were off in one
minute; beyond the control plane's capacity (``control_plane_workflows_per_min``)
each queued workflow fails half-way with probability ``overload_damage_prob`` and
leaves its load balancer misconfigured (after AWS's night, 150-189 load balancers on
seeds 0-9). AWS wrote only that it re-enabled the workflows slowly so as not to harm
healthy load balancers; how much harm a burst would have done is the model's guess.

Learner code plugs in through two keywords, ``Model(params, seed, apply_workflow=f,
reconcile_lb=g)`` (and the same on :meth:`Model.run`): ``f`` and ``g`` replace
:func:`.fleet.apply_workflow` and :func:`.fleet.reconcile_lb`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...outcome import settled_since
from ...world import World
from ..base import Panel, ScenarioModel
from . import fleet, game
from .fleet import LoadBalancer, Workflow
from .parameters import CLOCK_START_S, Params
from .operators import OperatorActions
from .readings import ApiAlarm, api_series, record_minute
from .recovery import Recovery, Stage
from .region import Region
from .sweep import Sweep
from .switches import KINDS, WorkflowSwitches
from .traffic import TrafficCurve
from .workload import ControlPlane, new_config

__all__ = ["Model", "KINDS", "HISTORICAL_PLAN", "INTENDED_PLAN"]

HISTORICAL_PLAN = game.HISTORICAL_PLAN
INTENDED_PLAN = game.INTENDED_PLAN


def _hook(name: str, given: Callable | None, default: Callable) -> Callable:
    if given is None:
        return default
    if not callable(given):
        raise TypeError(f"{name} = {given!r} is not allowed: must be a function taking a LoadBalancer")
    return given


class Model(OperatorActions, ScenarioModel):
    """Christmas Eve 2012: workflows keep acting on a control plane whose records were deleted.

    Its parts, made by :meth:`build`: ``region`` (load balancers and records,
    :class:`.region.Region`), ``control_plane`` (the workflows,
    :class:`.workload.ControlPlane`), ``switches`` (:class:`.switches.WorkflowSwitches`),
    ``sweep`` (the reconciliation under way, or None), ``recovery`` (the restore's
    state machine, :class:`.recovery.Recovery`) and ``api_alarm`` (the paging monitor).
    """

    name = "elb-2012"
    title = "ELB, Christmas Eve 2012: automation acting on deleted state"
    Params = Params
    tick_s = 600.0
    headline_series = ("damaged_share", "customer_error_rate", "api_error_rate_existing")
    headline_window_s = 6 * 3600.0
    play_speeds = (600.0, 2400.0, 9600.0)
    debrief_shift_s = 3600.0
    page_rule = game.PAGE_RULE
    watches = game.WATCHES
    rubric = game.RUBRIC
    intended_plan = game.INTENDED_PLAN
    historical_plan = game.HISTORICAL_PLAN
    panels = (
        Panel("Load balancers", [("damaged_share", "damaged (misconfigured)"),
                                 ("missing_share", "stored record missing")], "% of running", scale=100),
        Panel("Customer-facing error rate", [("customer_error_rate", "requests failing")], "%", scale=100),
        Panel("Control-plane API errors", [("api_error_rate_existing", "existing load balancers"),
                                           ("api_error_rate_new", "new load balancers")], "%", scale=100,
              ylim=(0, 105)),
        Panel("Control-plane API latency", [("api_latency_s", "mean per call")], "s"),
        Panel("Workflows", [("scaling_enabled", "scaling enabled"),
                            ("customer_changes_enabled", "customer changes enabled"),
                            ("traffic", "traffic (relative)")], "share / level"),
    )

    def build(self, *, apply_workflow: Callable[[LoadBalancer, Workflow], bool] | None = None,
              reconcile_lb: Callable[[LoadBalancer], bool] | None = None) -> None:
        p = self.params
        self.apply_workflow = _hook("apply_workflow", apply_workflow, fleet.apply_workflow)
        self.reconcile_lb = _hook("reconcile_lb", reconcile_lb, fleet.reconcile_lb)
        self.world = world = World(self.seed, horizon_s=p.horizon_h * 3600.0, bucket_s=60.0,
                                   clock_start_s=CLOCK_START_S)
        self.traffic = TrafficCurve(CLOCK_START_S, p.christmas_eve_boost)
        self.region = Region()
        rng = world.rng("fleet")
        for i in range(p.load_balancers):
            config = new_config(rng)
            self.region.add(LoadBalancer(i, config, config, weight=rng.lognormvariate(0.0, 1.0)))
        self.switches = WorkflowSwitches(p.gradual_enable_h)
        self.control_plane = ControlPlane(world, p, self.region, self.switches, self.traffic, self.apply_workflow)
        self.recovery = Recovery()
        self.api_alarm = ApiAlarm(world.metrics, game.PAGE_API_ERROR)
        self.approval_required = p.approval_required
        self.sweep: Sweep | None = None
        self._snapshot_usable = False
        world.at(p.deletion_at_min * 60.0, self._delete_state)
        self.control_plane.start()
        if p.continuous_reconciliation:
            self.sweep = Sweep(world, self.region, self.reconcile_lb, p.reconcile_lbs_per_h, continuous=True)
        self._minute()                       # the state at 12:00, so a result exists before any step
        world.every(60.0, self._minute, start_s=60.0)

    # -- the trigger and the minute step ------------------------------------------------------
    def _delete_state(self) -> None:
        if self.approval_required:
            self.world.note("maintenance process stopped: production access needs approval", "event")
            return
        n = round(self.params.deleted_share * len(self.region))
        ids = self.world.rng("deletion").sample(range(len(self.region)), n)
        self.region.delete_records(ids, self.world.now)
        self.recovery.move(Stage.LOST, self.world.now)
        self.world.note(f"maintenance process run against production deletes {n} load balancers' "
                        f"records (nothing alerts)", "trigger")

    def _minute(self) -> None:
        now, control_plane = self.world.now, self.control_plane
        if self.switches.finish_ramps(now):
            self.world.note("workflows re-enabled on every load balancer", "recovery")
        control_plane.drain_queue(now)
        control_plane.repair(now)
        if self.sweep is not None and self.sweep.running:
            self.sweep.step(now)
        record_minute(self, now)
        self.api_alarm.update(now)

    def is_normal(self) -> bool:
        """Every load balancer healthy, every record present, and no kind of workflow switched
        off (a gradual re-enable under way counts as on: load balancers serve normally during it)."""
        region = self.region
        return not region.damaged and not region.missing and self.switches.none_switched_off

    # -- results ---------------------------------------------------------------------------------
    @property
    def lbs(self) -> list[LoadBalancer]:
        """Every load balancer of the region (``self.region.lbs``)."""
        return self.region.lbs

    @property
    def accepted(self) -> list[tuple[int, int, float]]:
        """(change id, lb id, t_s) of every customer change accepted (``self.region.accepted``)."""
        return self.region.accepted

    def changes_lost(self) -> int:
        """Accepted customer changes that the stored records no longer hold."""
        return self.region.changes_lost()

    def when(self, t_s: float) -> str:
        """Day and time of simulated time ``t_s``: "Mon 17:02" or "Tue 05:40" (24-25 Dec 2012)."""
        day = "Mon" if CLOCK_START_S + t_s < 86400.0 else "Tue"
        return f"{day} {self.world.clock(t_s)}"

    def extra_series(self) -> dict[str, np.ndarray]:
        """API error rates (existing vs new load balancers, and all) and mean API latency."""
        return api_series(self.world.metrics, self.params)

    def _normal_since_s(self, t: np.ndarray, normal: np.ndarray) -> float | None:
        """When the region got back to normal for good (None: not normal at the end so far)."""
        if not self.region.deletion_done:
            return settled_since(t, normal >= 0.5)
        return settled_since(t, normal >= 0.5, start_s=self.params.deletion_at_min * 60.0)

    def measure(self) -> dict[str, Any]:
        """What the rubric scores, and the figures the lab reads, over the part run so far."""
        m, p, region = self.world.metrics, self.params, self.region
        s, t = m.series(), m.times()
        upto = min(int(self.world.now // 60.0), len(t) - 1) + 1
        t, damaged, share = t[:upto], s["damaged_lbs"][:upto], s["damaged_share"][:upto]
        normal_s = self._normal_since_s(t, s["normal"][:upto])
        deletion_s = p.deletion_at_min * 60.0
        hours = None if normal_s is None else max(0.0, normal_s - deletion_s) / 3600.0
        lb_hours = float(np.nansum(damaged) / 60.0)
        at_1702 = 302 * 60.0
        return {
            "deleted_lbs": len(region.deleted_ids),
            "damaged_share_at_17_02": float(share[int(at_1702 // 60)]) if at_1702 < self.world.now else None,
            "damaged_share_peak": float(np.nanmax(share)),
            "damaged_share_end": float(share[-1]),
            "damaged_lbs_peak": int(np.nanmax(damaged)),
            "damaged_peak_at": self.when(float(t[int(np.nanargmax(share))])),
            "damaged_lb_hours": round(lb_hours, 2),
            "damage_fleet_hours": round(lb_hours / p.load_balancers, 4),
            "customer_error_rate_peak": float(np.nanmax(s["customer_error_rate"][:upto])),
            "changes_accepted": len(region.accepted),
            "changes_lost": region.changes_lost(),
            "resolved": int(normal_s is not None),
            "time_to_normal_h": None if hours is None else round(hours, 3),
            "normal_at": None if normal_s is None or not region.deletion_done else self.when(normal_s),
            "overload_damaged_lbs": int(m.total("overload_damage")),
            "changes_refused": int(m.total("changes_refused")),
            "damaged_lbs_end": len(region.damaged),
            "missing_records_end": len(region.missing),
            "running_lbs_end": len(region),
            "page_at": None if self.page_s is None else self.when(self.page_s),
        }

    def outcome(self, m: dict[str, Any]) -> str:
        if not self.region.deletion_done:
            return "the deletion never happened: production access needed approval"
        if not m["resolved"]:
            text = (f"not back to normal by the end: {m['damaged_lbs_end']} load balancers misconfigured, "
                    f"{m['missing_records_end']} records missing")
            if self.switches.all_on and m["missing_records_end"]:
                text += "; workflows kept acting on missing records"
            elif not self.switches.none_switched_off:
                text += "; workflows still switched off"
        else:
            text = (f"back to normal {m['time_to_normal_h']:.1f} h after the deletion, with "
                    f"{m['damaged_lb_hours']:.0f} damaged load-balancer-hours")
        if m["changes_lost"]:
            text += f"; {m['changes_lost']} customer changes lost (the records no longer hold them)"
        return text

    def summary(self) -> dict[str, Any]:
        """:meth:`measure`, plus the control-plane API's worst minute after the deletion."""
        out = self.measure()
        api = self.extra_series()
        t = self.world.metrics.times()
        after = (t >= self.params.deletion_at_min * 60.0) & (t < self.world.now)
        if not after.any():
            out["api_error_rate_existing_peak"], out["api_latency_s_peak"] = 0.0, self.params.api_latency_s
            return out
        out["api_error_rate_existing_peak"] = float(np.nanmax(api["api_error_rate_existing"][after]))
        out["api_latency_s_peak"] = float(np.nanmax(api["api_latency_s"][after]))
        return out


run = Model.run
