"""Visible checks of lab 2, the ELB state-data deletion (``check("lab2.<name>", ...)``).

The learner's functions change the load balancers they are given (``lb.stored``,
``lb.damaged``). A check therefore runs them through a small *case* helper next to
the learner's code (:func:`~simkit.grading.context.in_notebook`) that returns both
what the function returned and the load balancers afterwards, as data.
"""

from __future__ import annotations

import math
from typing import Any

from ..canonical import check_plan
from ..context import in_notebook
from ..values import check_between, check_choice, check_close, check_type
from . import Checks

CHECKS = Checks("lab2")


def _elb():
    from ...scenarios import elb_2012

    return elb_2012


# -- helpers that run next to the learner's code ---------------------------------------

def apply_case(apply_workflow: Any, lb: Any, workflow: Any) -> tuple[Any, Any]:
    """``apply_workflow(lb, workflow)``: (what it returned, the load balancer afterwards)."""
    returned = apply_workflow(lb, workflow)
    return returned, lb


def reconcile_case(reconcile_lb: Any, lb: Any, times: int = 1) -> tuple[list, Any]:
    """``reconcile_lb(lb)`` ``times`` times: (what each call returned, the load balancer afterwards)."""
    returned = [reconcile_lb(lb) for _ in range(times)]
    return returned, lb


def reconcile_all_case(reconcile_all: Any, lbs: list, times: int = 1) -> tuple[list, list]:
    """``reconcile_all(lbs)`` ``times`` times: (what each pass returned, the load balancers afterwards)."""
    returned = [reconcile_all(lbs) for _ in range(times)]
    return returned, lbs


def small_fleet() -> list:
    """Five load balancers, one of each state the reconcile checks need."""
    elb = _elb()
    c = elb.Config(("i-a",), 2)
    return [elb.LoadBalancer(0, c, c),                                  # fine
            elb.LoadBalancer(1, c, None),                               # record missing
            elb.LoadBalancer(2, c, None, damaged=True),                 # missing and damaged
            elb.LoadBalancer(3, c, elb.Config(("i-b",), 2)),            # stale record
            elb.LoadBalancer(4, c, c, damaged=True)]                    # damaged, record fine


# -- Part 2 -------------------------------------------------------------------------------

@CHECKS.add("apply_workflow", passed="apply_workflow: visible checks passed")
def _apply_workflow(apply_workflow: Any) -> None:
    elb = _elb()
    cfg = elb.Config(("i-a", "i-b"), 3)
    ok, lb = in_notebook(apply_case, apply_workflow, elb.LoadBalancer(1, cfg, None), elb.Workflow("scale_up"))
    check_type("apply_workflow(...) on a missing record", ok, bool)
    if ok:
        raise AssertionError("a workflow on a load balancer whose record is missing does not complete: return False")
    if lb.damaged is not True:
        raise AssertionError("a workflow acting on a missing record must leave the load balancer "
                             "misconfigured: set lb.damaged = True")
    if lb.live != cfg:
        raise AssertionError("when the record is missing, leave lb.live alone: the nodes keep their configuration")
    if lb.stored is not None:
        raise AssertionError("when the record is missing there is nothing to save: lb.stored stays None")

    ok, lb = in_notebook(apply_case, apply_workflow, elb.LoadBalancer(2, cfg, cfg), elb.Workflow("scale_up"))
    check_type("apply_workflow(...) on a load balancer with its record", ok, bool)
    if not ok:
        raise AssertionError("with a record present the workflow completes: return True")
    want = elb.Config(("i-a", "i-b"), 4)
    if lb.stored != want:
        raise AssertionError(f"after a scale_up the record should be {want}, got {lb.stored}: "
                             "use workflow.apply(lb.stored) and save the result in lb.stored")
    if lb.live != lb.stored:
        raise AssertionError("the new configuration must be pushed to the nodes: set lb.live to it as well")

    stale = elb.Config(("i-a",), 3)
    _, lb = in_notebook(apply_case, apply_workflow, elb.LoadBalancer(3, cfg, stale), elb.Workflow("scale_down"))
    if lb.live != elb.Config(("i-a",), 2):
        raise AssertionError(
            "the workflow must compute from the stored record, not from the live configuration: with a "
            f"record {stale} a scale_down should push {elb.Config(('i-a',), 2)}, got {lb.live}")


@CHECKS.add("blast_radius", passed="blast_radius: visible checks passed")
def _blast_radius(blast_radius: Any) -> None:
    check_close("blast_radius(0.25, 0.07, 4.6)", blast_radius(0.25, 0.07, 4.6),
                0.25 * (1 - math.exp(-0.07 * 4.6)), rel=1e-6, show_expected=True,
                hint="a deleted load balancer is still intact only if no workflow touched it: probability exp(-r T)")
    check_close("blast_radius(0.25, 0.07, 0)", blast_radius(0.25, 0.07, 0), 0.0, abs_=1e-12, show_expected=True,
                hint="no time, no damage")
    check_close("blast_radius(0.25, 0.07, 1000)", blast_radius(0.25, 0.07, 1000), 0.25, rel=1e-6,
                show_expected=True,
                hint="after a very long time every deleted record has been touched: the damage tends to deleted_share")


@CHECKS.add("reconcile_lb", passed="reconcile_lb: visible checks passed")
def _reconcile_lb(reconcile_lb: Any) -> None:
    elb = _elb()
    cfg = elb.Config(("i-a", "i-b"), 3, frozenset({4}))
    (first, second), lb = in_notebook(reconcile_case, reconcile_lb, elb.LoadBalancer(1, cfg, None, damaged=True), 2)
    check_type("reconcile_lb(...)", first, bool)
    check_type("reconcile_lb(...) on a healthy load balancer", second, bool)
    if not first:
        raise AssertionError("a missing record was rebuilt: return True")
    if lb.stored != cfg:
        raise AssertionError("a missing record must be rebuilt from the live configuration (lb.live)")
    if lb.damaged is not False:
        raise AssertionError("a damaged load balancer must be repaired: set lb.damaged = False")
    if second:
        raise AssertionError("reconciling a healthy load balancer whose record matches changes nothing: return False")
    (out,), lb = in_notebook(reconcile_case, reconcile_lb, elb.LoadBalancer(2, cfg, elb.Config(("i-a",), 3)))
    check_type("reconcile_lb(...) on a stale record", out, bool)
    if not out or lb.stored != cfg:
        raise AssertionError("a record that differs from the live configuration (a stale one) must be "
                             "replaced by the live one")


@CHECKS.add("reconcile_all", passed="reconcile_all: visible checks passed")
def _reconcile_all(reconcile_all: Any) -> None:
    (out, again), lbs = in_notebook(reconcile_all_case, reconcile_all, small_fleet(), 2)
    check_type("reconcile_all(...)", out, dict)
    if set(out) != {"rebuilt", "repaired"}:
        raise AssertionError(f"return a dict with keys 'rebuilt' and 'repaired', got keys {sorted(map(str, out))}")
    if out["rebuilt"] != 3:
        raise AssertionError(f"3 records were missing or stale, so 3 were rebuilt; you counted {out['rebuilt']}")
    if out["repaired"] != 2:
        raise AssertionError(f"2 load balancers were damaged and got repaired; you counted {out['repaired']}")
    if not all(lb.stored == lb.live and not lb.damaged for lb in lbs):
        raise AssertionError("after reconcile_all every record matches and nothing is damaged")
    if again != {"rebuilt": 0, "repaired": 0}:
        raise AssertionError("a second pass finds nothing to do")


@CHECKS.add("changes_lost", passed="changes_lost: visible checks passed")
def _changes_lost(changes_lost: Any) -> None:
    elb = _elb()
    old = elb.Config(("i-a",), 2, frozenset({1}))
    new = elb.Config(("i-a", "i-b"), 2, frozenset({1, 2}))
    lbs = {10: elb.LoadBalancer(10, new, new),       # holds changes 1 and 2
           11: elb.LoadBalancer(11, new, old),       # record rewound: holds 1, not 2
           12: elb.LoadBalancer(12, new, None)}      # record missing
    n = changes_lost(lbs, [(1, 10), (2, 10), (1, 11), (2, 11), (5, 12)])
    check_type("changes_lost(...)", n, int)
    if n != 2:
        raise AssertionError(f"expected 2 lost changes (change 2 on load balancer 11, change 5 on 12, whose "
                             f"record is missing), got {n}")
    if changes_lost(lbs, []) != 0:
        raise AssertionError("no accepted changes, nothing lost")


# -- Part 3 and 4: numbers read from runs --------------------------------------------------

@CHECKS.add("share_1702", passed="DAMAGED_SHARE_AT_1702 has the right form")
def _share_1702(share: Any) -> None:
    check_between("DAMAGED_SHARE_AT_1702", share, 0.03, 0.12,
                  hint="a share between 0 and 1 (not a percentage); AWS saw 6.8%")


@CHECKS.add("share_end", passed="DAMAGED_SHARE_END has the right form")
def _share_end(share_end: Any, share_1702: Any) -> None:
    check_between("DAMAGED_SHARE_END", share_end, 0.08, 0.25,
                  hint="it can never exceed the share whose records were deleted (0.25)")
    if not share_end > share_1702:
        raise AssertionError("left alone, the damage keeps growing after 5:02 PM")


@CHECKS.add("estimate_1702", passed="ESTIMATE_AT_1702 is close to the simulation")
def _estimate_1702(estimate: Any, share_1702: Any) -> None:
    check_type("ESTIMATE_AT_1702", estimate, float)
    check_close("ESTIMATE_AT_1702", estimate, float(share_1702), rel=0.25,
                hint="the estimate should land near the simulated share; check r and T (hours, not seconds)")


@CHECKS.add("whatif_disable", passed="the answers have the right form")
def _whatif_disable(at_1300: Any, at_1500: Any) -> None:
    check_between("DAMAGED_IF_DISABLED_1300", at_1300, 0.0, 0.05,
                  hint="a share (0 to 1): the peak of result.summary for a plan disabling all workflows at 13:00")
    check_between("DAMAGED_IF_DISABLED_1500", at_1500, 0.0, 0.08)
    if not at_1300 < at_1500:
        raise AssertionError("disabling earlier should leave less damage")


@CHECKS.add("whatif_restore", passed="the answers have the right form")
def _whatif_restore(lost_without_merge: Any, hours_restore: Any, hours_reconcile: Any) -> None:
    check_type("LOST_WITHOUT_MERGE", lost_without_merge, int)
    if not lost_without_merge > 0:
        raise AssertionError("a restore without the merge loses the changes made after the snapshot: "
                             "expected more than 0")
    check_between("HOURS_TO_NORMAL_RESTORE", hours_restore, 10.0, 25.5, hint="hours from 12:24 PM; AWS took about 23.7 h")
    check_between("HOURS_TO_NORMAL_RECONCILE", hours_reconcile, 0.5, float(hours_restore),
                  hint="the reconcile path needs no snapshot")


@CHECKS.add("whatif_burst", passed="the answer has the right form")
def _whatif_burst(broken: Any) -> None:
    check_type("BROKEN_BY_BURST", broken, int)
    if not broken > 0:
        raise AssertionError("the burst of queued workflows should break some healthy load balancers")


@CHECKS.add("whatif_approval", passed="the answers have the right form")
def _whatif_approval(deleted_before: Any, damaged_at_page: Any) -> None:
    check_type("DELETED_GATE_BEFORE", deleted_before, int)
    check_between("DELETED_GATE_BEFORE", deleted_before, 0, 20000,
                  hint="the number of records the maintenance process deleted: summary['deleted_lbs']")
    check_between("DAMAGED_GATE_AT_PAGE", damaged_at_page, 0.0, 1.0,
                  hint="a share between 0 and 1 (not a percentage): summary['damaged_share_at_17_02']")


@CHECKS.add("side_by_side", passed="the answer is one of the choices")
def _side_by_side(answer: Any) -> None:
    check_type("WHY_STOPPING_WORKS", answer, str)
    check_choice("WHY_STOPPING_WORKS", answer.strip().lower(), ["a", "b", "c", "d"])


# -- Part 5: the commander plan -------------------------------------------------------------

def _plan_check(band: str) -> Any:
    def plan_reaches(plan: Any) -> str:
        card = check_plan("elb-2012", plan, at_least=band, seed=0)
        return f"band '{card['band']}' ({card['score']:.0f}/100) on seed 0"
    return plan_reaches


for _band in ("low", "middle", "top"):
    CHECKS.add(f"plan_{_band}")(_plan_check(_band))

__all__ = ["CHECKS", "apply_case", "reconcile_case", "reconcile_all_case", "small_fleet"]
