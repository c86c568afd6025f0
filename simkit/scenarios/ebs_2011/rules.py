"""The rules of the commander game for ``ebs-2011``: the page, the rubric, the reference plans.

**The page.** The on-call engineer is paged when more than ``PAGE_STUCK`` of zone a's
volumes have their I/O blocked ("stuck", in AWS's word). That is the first thing
customers and EBS's own volume monitoring saw: volumes whose replica sat behind the
misrouted network stopped serving I/O within a minute of the 00:47 shift, before the
control plane's API errors (from about 00:50 in the record). The threshold is the
model's: AWS did not publish its alarms.

**What is scored** (:data:`RUBRIC`): the customers' pain in zone a (the share of
volumes stuck, and the error-minutes of zone a's EBS API), how far the failure spread
(API error-minutes in the *healthy* zones: the blast radius), how long until it
stopped spreading (time to contain), the volumes lost for good, and the cost of the
operator's actions (:class:`~simkit.rubric.ActionCosts`). An incident that is still
spreading when the run ends (healthy zones failing, a node cut off, or nodes still
crashing under the search storm) scores at most 25, whatever else went well: in 2011
disabling CreateVolume alone was not enough, the crash loop brought the second
brownout. The ramps are the model's, chosen so that the stages of the night can be
told apart: the storm leaves about 14-16% of the volumes stuck on average, a cluster
given new servers at the page about 6-7%; AWS needed 11 h to contain the failure,
a plan that takes more than 4 h earns nothing for speed.

**Reference plans.** :data:`INTENDED_PLAN` is what lab 3 teaches: contain first, then
repair, one lever per loop. At the page: roll the network back; reject CreateVolume in
zone a at the edge, so no call hangs on a control-plane thread (loop 3); stop the
futile searching, which also starves the race condition (loops 1 and 2); and order
servers, since new space is the only thing that unsticks the volumes and it takes
hours to arrive. Cutting the cluster off from the control plane also contains loop 3,
but it takes zone a's whole EBS API down with it (as in 2011), so that plan scores a
little lower. :data:`HISTORICAL_PLAN` is what AWS did, at the times of the postmortem.
"""

from __future__ import annotations

from ...rubric import ActionCosts, Cap, Component, Rubric

__all__ = ["PAGE_STUCK", "HEALTHY_API_OK", "CRASH_HAZARD_OK_PER_H", "ACTION_COSTS", "cost", "RUBRIC",
           "INTENDED_PLAN", "HISTORICAL_PLAN"]

#: Share of zone a's volumes stuck that pages the on-call engineer.
PAGE_STUCK = 0.02
#: Healthy zones count as unaffected while their API error share stays below this.
HEALTHY_API_OK = 0.01
#: The cluster has stopped degrading when fewer node crashes than this are expected per
#: hour (the race condition's hazard, summed over the nodes' search rounds).
CRASH_HAZARD_OK_PER_H = 0.1

#: What AWS did on 21 April 2011 (PDT): CreateVolume disabled in the affected zone at
#: 02:40; the degraded cluster cut off from the control plane at 08:20; the futile
#: searching stopped at 11:30. New servers arrived only on Friday, after the run ends.
HISTORICAL_PLAN = [("02:40", "disable_create_volume"), ("08:20", "isolate_control_plane"),
                   ("11:30", "throttle_remirror")]

#: What lab 3 teaches, at the first tick after the page (paged at 00:48 on every seed).
INTENDED_PLAN = [("00:50", "rollback_network"), ("00:50", "disable_create_volume"),
                 ("00:50", "throttle_remirror"), ("00:50", "add_capacity")]

#: What each operator action costs in the rubric, and why (the actions read their cost here).
ACTION_COSTS = {
    "rollback_network": (1, "rolling back a change"),
    "disable_create_volume": (2, "disabling CreateVolume (customers get errors on purpose)"),
    "throttle_remirror": (2, "pushing a change to every node of a sick cluster"),
    "isolate_control_plane": (2, "cutting zone a off from the control plane"),
    "add_capacity": (4, "trucking in and racking 40 servers at night"),
    "shorten_timeout": (3, "a config deploy to the regional control plane that serves every zone"),
    "split_pool": (5, "new thread-pool code in that control plane during an incident"),
}


def cost(action: str) -> float:
    """The rubric cost of ``action`` (see :data:`ACTION_COSTS`)."""
    return ACTION_COSTS[action][0]


RUBRIC = Rubric(
    components=(
        Component("stuck_share_mean_pct", "Volumes stuck",
                  "mean share of zone a's volumes with I/O blocked, from the network change to the end "
                  "(volume-hours stuck over all volume-hours)", "% of volumes", 20, full_at=7.0, zero_at=14.0),
        Component("healthy_api_error_minutes", "Blast radius",
                  "EBS API error-minutes in the healthy zones (one minute with every call failing, or "
                  "two at 50%)", "error-minutes", 30, full_at=30.0, zero_at=300.0),
        Component("minutes_to_contain", "Time to contain",
                  "minutes from the network change until, for good, the healthy zones' API errors are "
                  "below 1%, no node is cut off and nodes have stopped crashing",
                  "min", 20, full_at=30.0, zero_at=240.0, none_means="not contained by 12:30"),
        Component("affected_api_error_minutes", "Zone a's API",
                  "EBS API error-minutes in zone a (its customers cannot create, attach or detach volumes)",
                  "error-minutes", 10, full_at=30.0, zero_at=300.0),
        Component("volumes_lost_pct", "Volumes lost",
                  "share of zone a's volumes with no current copy on a running node", "% of volumes",
                  5, full_at=0.0, zero_at=0.2),
    ),
    costs=ActionCosts(15, "each action's operational risk, toil or money: " + "; ".join(
        f"{why} {cost:g}" for cost, why in ACTION_COSTS.values())),
    caps=(Cap(lambda m: not m["contained"], 25,
              "the failure was still spreading at the end (healthy zones failing, a node cut off, or "
              "nodes crashing)"),),
)
