"""The commander game's rules for ELB 2012: the page, the milestones, the rubric, the reference plans.

**The page.** Nothing alerted when the records were deleted at 12:24 PM, and running
load balancers kept serving. What the ELB team saw first, per AWS's summary, was the
control plane's API: high latency and error rates on calls to manage load balancers,
which the team spent the next hours on, puzzled that calls for new load balancers
worked while calls for existing ones failed. Customer traffic suffered only later,
as workflows touched load balancers whose record was gone. So the on-call engineer is
paged by the monitor a real ELB team would have had on its API: the error rate of
calls for existing load balancers at or above :data:`PAGE_API_ERROR` for
:data:`PAGE_MINUTES` minutes in a row. In the model that is 12:34 PM on every seed
(reads of the deleted quarter of the records fail from 12:24); the commander acts from
the next tick, 12:40 PM. Before the page every action is refused, so an approval gate
"before the deletion" cannot be played: that is hindsight, not incident response.

**The rubric** scores what AWS's customers lived through: load balancers left
misconfigured, and for how long; how long until the region was back to normal
(healthy, every record present, workflows on again); customer changes the records
lost; and what the operators' own actions cost. A run that never gets back to normal
scores at most 25, the bottom band.

**The reference plans.** :data:`INTENDED_PLAN` is what lab 2 teaches: stop the
automation first, rebuild the records from the live configurations (no snapshot
needed), and only then re-enable the workflows, gradually. :data:`HISTORICAL_PLAN`
is what AWS did, at the times it gave.
"""

from __future__ import annotations

from ...outcome import Watch
from ...rubric import ActionCosts, Cap, Component, Rubric

__all__ = ["PAGE_API_ERROR", "PAGE_MINUTES", "PAGE_RULE", "WATCHES", "RUBRIC", "INTENDED_PLAN",
           "HISTORICAL_PLAN"]

#: API error rate (calls for existing load balancers) that the paging monitor watches for. The
#: control plane's API normally fails almost never, so 1% of calls failing is already an alarm.
PAGE_API_ERROR = 0.01
#: How many minutes in a row it must last: an alarm that pages on one bad minute is ignored.
PAGE_MINUTES = 10

PAGE_RULE = (f"the control-plane API error rate for existing load balancers stays at or above "
             f"{PAGE_API_ERROR:.0%} for {PAGE_MINUTES} minutes")

#: Milestones on the timeline: the page first, then the share of load balancers damaged.
WATCHES = (
    Watch(f"control-plane API errors for existing load balancers at or above {PAGE_API_ERROR:.0%} "
          f"for {PAGE_MINUTES} min", lambda m: m.api_alarm.minutes_above >= PAGE_MINUTES, page=True,
          clears=lambda m: m.api_alarm.minutes_above == 0,
          clear_label=f"control-plane API errors for existing load balancers back below {PAGE_API_ERROR:.0%}"),
    *(Watch(f"{share:.0%} of load balancers misconfigured",
            lambda m, share=share: m.region.damaged_share >= share) for share in (0.01, 0.05, 0.10, 0.20)),
    Watch("back to normal: every load balancer healthy and managed again",
          lambda m: m.region.deletion_done and m.is_normal(), kind="recovery",
          clears=lambda m: not m.is_normal()),
)

#: Why these ramps. Customer impact: stopping the workflows at the page leaves a handful of load
#: balancers damaged for an hour or two (about 0.004 fleet-hours); AWS's night came to about 1.2,
#: leaving the workflows on all day to about 3.3. Time to normal: a reconciliation right after the
#: page is back in under 2 h; every hour of waiting costs, and a night of restoring (AWS: 23 h 41 min)
#: earns nothing here. Changes lost: a restore without a merge loses about 200 on the default run.
RUBRIC = Rubric(
    components=(
        Component("damage_fleet_hours", "Customer impact",
                  "load-balancer-hours spent misconfigured, divided by the number of load balancers "
                  "(6.8% of the fleet for 10 h is 0.68)", "fleet-hours", 35, full_at=0.05, zero_at=2.5),
        Component.flag("resolved", "Back to normal",
                       "every load balancer healthy, every record present and no workflow switched off "
                       "at the end of the run", 10),
        Component("time_to_normal_h", "Time to normal",
                  "hours from the deletion (12:24 PM) until the region is back to normal for good",
                  "h", 30, full_at=2, zero_at=10, none_means="not normal by the end of the run"),
        Component("changes_lost", "Customer changes lost",
                  "customer configuration changes the control plane accepted that its records no longer "
                  "hold at the end (a restore rewinds them unless the changes are merged)",
                  "changes", 15, full_at=0, zero_at=40),
    ),
    costs=ActionCosts(10, "operational risk and toil of each change made to a control plane in trouble: "
                          "a workflow switch or an approval rule costs 1, a merge 1, a reconciliation sweep "
                          "or a restore 2, switching every workflow on at once 2"),
    caps=(Cap(lambda m: not m["resolved"], 25, "the region was not back to normal at the end of the run"),),
)

#: What lab 2 teaches: stop the automation at the page, rebuild every record from the live
#: configurations (about 80 minutes for the default fleet), then bring the workflows back gradually.
INTENDED_PLAN = [("12:40", "disable_all_workflows"), ("12:40", "reconcile"),
                 ("14:10", "enable_workflows_gradually")]

#: What AWS did (times of day, PST): workflows disabled at 5:02 PM, restore attempt 1 (no usable
#: snapshot), the alternate method (restored at 2:45 AM), the merge (done 5:40 AM), a slow re-enable.
HISTORICAL_PLAN = [
    ("17:00", "disable_all_workflows"),
    ("17:10", "restore_snapshot"),
    ("22:00", "restore_alternate"),
    ("02:50", "merge_changes"),
    ("05:40", "enable_workflows_gradually"),
]
