"""The knobs of the ELB 2012 scenario, with defaults calibrated against the postmortem.

Sources: AWS's summary of the event (https://aws.amazon.com/message/680587/) and
``incidents.md`` (Lab 2). The simulated clock starts at 12:00 PM PST on Monday 24
December 2012; the deletion comes at 12:24 PM; the run lasts to 1:30 PM on
Christmas Day, past the moment AWS declared the service normal (12:05 PM).

Why these rates. The postmortem gives the outcome (6.8% of running load balancers
affected when workflows were disabled at 5:02 PM) but neither the share of
records deleted nor the workflow rates. We take a quarter of the records deleted,
and workflow rates that touch an average load balancer about once every 14 hours
on a December afternoon (a customer change every two days or so, scaling a little
more often, more at busy hours). Between 12:24 and 5:02 PM that touches about a
quarter of the load balancers, so about a quarter of a quarter, 6-7% of the
fleet, ends up damaged. Other combinations give the same product; the lab's
blast-radius exercise shows why.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...params import Params as BaseParams
from ...params import param

__all__ = ["Params", "CLOCK_START_S"]

#: Simulated time 0 is 12:00 PM (noon) PST on Monday 24 December 2012.
CLOCK_START_S = 12 * 3600.0


@dataclass(frozen=True)
class Params(BaseParams):
    """Fleet, workflows, trigger, recovery durations. Defaults reproduce Christmas Eve 2012."""

    # -- the fleet --------------------------------------------------------------------
    load_balancers: int = param(2000, unit="load balancers", minimum=100, maximum=20000,
                                doc="load balancers running in the region at noon")
    new_lbs_per_h: float = param(6.0, unit="load balancers/h", minimum=0, maximum=1000,
                                 doc="new load balancers customers create (creation keeps working)")
    # -- workflows --------------------------------------------------------------------
    customer_change_rate_per_lb_h: float = param(0.02, unit="changes/LB/h", minimum=0, maximum=2,
                                                 doc="customer configuration changes per load balancer")
    scaling_rate_per_lb_h: float = param(0.045, unit="workflows/LB/h", minimum=0, maximum=2,
                                         doc="scale-up/scale-down workflows per load balancer at traffic level 1.0")
    christmas_eve_boost: float = param(0.3, unit="share", minimum=0, maximum=2,
                                       doc="extra traffic on the evening of 24 December (at 20:00)")
    control_plane_workflows_per_min: float = param(20.0, unit="workflows/min", minimum=1, maximum=10000,
                                                   doc="workflows the control plane can run in a minute")
    overload_damage_prob: float = param(0.2, unit="probability", minimum=0, maximum=1,
                                        doc="chance that a workflow beyond capacity fails half-way and "
                                            "misconfigures its load balancer")
    # -- the trigger ------------------------------------------------------------------
    deletion_at_min: float = param(24.0, unit="min after 12:00", minimum=0, maximum=72 * 60,
                                   doc="when the maintenance process deletes state (24 = 12:24 PM)")
    deleted_share: float = param(0.25, unit="share", minimum=0, maximum=1,
                                 doc="share of load balancers whose stored record is deleted")
    approval_required: bool = param(False, doc="production access needs approval for each use "
                                               "(the maintenance process is stopped: no deletion)")
    # -- effects ----------------------------------------------------------------------
    damaged_error_share: float = param(0.8, unit="share", minimum=0, maximum=1,
                                       doc="share of a damaged load balancer's requests that fail")
    api_calls_per_lb_h: float = param(1.0, unit="calls/LB/h", minimum=0, maximum=100,
                                      doc="read calls (describe, health) to the control-plane API per LB")
    api_latency_s: float = param(0.25, unit="s", minimum=0, exclusive_minimum=True, maximum=60,
                                 doc="control-plane API latency of a normal call")
    missing_state_latency_s: float = param(9.0, unit="s", minimum=0, exclusive_minimum=True, maximum=600,
                                           doc="how long a call on a missing record takes to fail")
    # -- recovery ---------------------------------------------------------------------
    restore_attempt_h: float = param(4.5, unit="h", minimum=0, exclusive_minimum=True, maximum=48,
                                     doc="restore attempt 1 (to just before the deletion) takes this long")
    snapshot_usable_prob: float = param(0.0, unit="probability", minimum=0, maximum=1,
                                        doc="chance that restore attempt 1 yields a usable snapshot")
    alternate_restore_h: float = param(4.75, unit="h", minimum=0, exclusive_minimum=True, maximum=48,
                                       doc="the alternate restore method takes this long")
    merge_h: float = param(2.8, unit="h", minimum=0, exclusive_minimum=True, maximum=48,
                           doc="merging the changes made since the snapshot takes this long")
    reconcile_lbs_per_h: float = param(1500.0, unit="load balancers/h", minimum=0, exclusive_minimum=True,
                                       maximum=1e6, doc="how fast a reconciliation sweep checks load balancers")
    continuous_reconciliation: bool = param(False, doc="the control plane reconciles stored state against "
                                                       "live state all the time (the corrective action)")
    repair_lbs_per_h: float = param(20.0, unit="load balancers/h", minimum=0, exclusive_minimum=True,
                                    maximum=1e6, doc="how fast enabled workflows re-push damaged load "
                                                     "balancers whose record is back")
    gradual_enable_h: float = param(4.5, unit="h", minimum=0, exclusive_minimum=True, maximum=48,
                                    doc="a gradual re-enable reaches all load balancers after this long")
    horizon_h: float = param(25.5, unit="h", minimum=1, maximum=72,
                             doc="simulated duration from 12:00 PM on 24 December")

    rules = (
        (lambda p: p.deletion_at_min < p.horizon_h * 60,
         "deletion_at_min must come before the end of the run (horizon_h x 60)"),
    )
