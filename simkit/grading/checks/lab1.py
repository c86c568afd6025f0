"""Visible checks of lab 1, the DynamoDB membership blowup (``check("lab1.<name>", ...)``).

The renewal process is a SimPy generator the fleet must run, so it is tried *next to
the learner's code*: :func:`renewal_trial` (the lab's ``trial``) runs the fleet with it
through :func:`~simkit.grading.context.in_notebook` and only the three numbers come
back. The expected figures of answers read from runs come from the kit itself; these
checks only test an answer's form and rough size, the hidden tests in the notebook its
value.
"""

from __future__ import annotations

from typing import Any

from ..canonical import check_plan, run_summary, score_plan
from ..context import in_hidden_tests, in_notebook
from ..values import (check_between, check_close, check_equal, check_number, check_raises, check_seed_shares,
                      check_type)
from . import Checks

CHECKS = Checks("lab1")

#: the GSI factors and the nights (seeds) of question 4.1
GSI_GRID = [1.5, 1.75, 2.0, 2.25, 2.5, 2.75]
GSI_SEEDS = [0, 1, 2, 3, 4]
#: question 4.2: a fix still leaves the fleet failing if the error of 04:00-05:00 is above this
STILL_FAILING_ABOVE = 0.25
#: question 4.5: capacity requests before and after a pause
ADMIN_PLAN = [("02:45", "add_capacity"), ("02:50", "pause_renewals"), ("03:05", "add_capacity"),
              ("03:30", "add_capacity")]
#: Part 5: a plan earns the first point if it beats AWS's own timeline by this many points
BEAT_HISTORY_BY = 10.0
#: the corrective actions of question 4.2, as parameter changes
FIXES = {
    "none": {},
    "more capacity": {"metadata_workers": 20, "metadata_slots": 64},
    "longer allowance": {"allowance_s": 180.0},
    "lower renewal rate": {"renewal_interval_s": 1200.0},
    "backoff with jitter": {"retry_policy": "backoff-jitter"},
    "retry budget": {"retry_policy": "budget"},
    "cells": {"metadata_cells": 4},
}


def _ddb():
    from ...scenarios import dynamodb_2015

    return dynamodb_2015


def renewal_trial(renewal: Any, hours: float = 1.0, unanswered: bool = False,
                  **params: Any) -> tuple[float, float, float]:
    """Run the fleet ``hours`` with ``renewal``; (share in service, attempts per server, timeouts).

    The lab's ``trial``: no disruption, seed 1; with ``unanswered`` no membership
    request ever reaches the metadata service.
    """
    model = _ddb().Model({"disruption_fraction": 0.0, **params}, seed=1, renewal=renewal)
    model.fleet.paused = unanswered
    model.advance_to(hours * 3600.0)
    attempts = model.world.metrics.total("renewal_attempts")
    timeouts = model.world.metrics.total("renewal_timeouts")
    return model.fleet.in_service_fraction, attempts / model.params.servers, timeouts


# -- Part 2 -------------------------------------------------------------------------------

@CHECKS.add("membership_size", passed="membership_size looks right")
def _membership(membership_size: Any) -> None:
    check_type("membership_size(100, 2.75)", membership_size(100, 2.75), int)
    for args, want, why in [
        ((100, 1.0), 100, "with gsi_factor 1 (no GSIs) the membership is just the table partitions"),
        ((100, 2.75), 275, "100 table partitions with gsi_factor 2.75 make 275 entries"),
        ((40, 3), 120, "40 table partitions whose GSIs have twice as many partitions: 120 entries"),
        ((0, 2.0), 0, "a server with no partitions has an empty membership"),
    ]:
        if membership_size(*args) != want:
            raise AssertionError(why)
    for bad, why in [((-1, 2.0), "a negative number of partitions"),
                     ((10, 0.5), "a GSI factor below 1"),
                     ((True, 2.0), "True for table_partitions (a bool is not a count here, although "
                                   "Python treats True as 1)")]:
        check_raises(ValueError, f"membership_size{bad}", membership_size, *bad,
                     hint=f"raise ValueError for {why}")


@CHECKS.add("tipping", passed="the tipping point is right")
def _tipping(tipping_gsi_factor_for: Any, tipping_default: Any) -> None:
    ddb = _ddb()
    check_close("tipping_gsi_factor_for(200, 60, 1, 0.1)", tipping_gsi_factor_for(200, 60.0, 1.0, 0.1),
                59.0 / 20.0, rel=1e-6, show_expected=True,
                hint="solve base + per_entry * largest * g = allowance for g")
    check_close("TIPPING_DEFAULT", tipping_default, ddb.tipping_gsi_factor(ddb.Params()), rel=1e-6,
                hint="compute it with your function, from max(SIZES) and the default parameters p "
                     "(not a rounded number)")
    if not tipping_default > ddb.Params().gsi_factor:
        raise AssertionError("the default fleet should sit *below* its tipping point")


@CHECKS.add("renewal_healthy", passed="renewal_process keeps a quiet fleet in service")
def _renewal_healthy(renewal_process: Any) -> None:
    share, per_server, timeouts = in_notebook(renewal_trial, renewal_process, 2.0, gsi_factor=1.0)
    if share != 1.0:
        raise AssertionError(f"on a quiet night every server should stay in service; {share:.0%} are")
    if timeouts != 0:
        raise AssertionError(f"on a quiet night with small memberships no renewal should time out; "
                             f"{timeouts:g} did")
    check_between("renewals per server in 2 h", per_server, 11.0, 13.0,
                  hint="renew, then wait for server.renewal_due() before renewing again (every 600 s)")


@CHECKS.add("renewal_timeouts", passed="renewal_process gives up after the allowance and retries")
def _renewal_timeouts(renewal_process: Any) -> None:
    share, per_server, _ = in_notebook(renewal_trial, renewal_process, 1.0, True)
    if share != 0.0:
        raise AssertionError(f"when no membership ever arrives every server must leave service; "
                             f"{share:.0%} still serve")
    check_between("attempts per server in 1 h, immediate retries", per_server, 30.0, 41.0,
                  hint="wait at most server.allowance_s for each reply, then retry after "
                       "server.retry_delay_s(attempt)")
    _, backoff, _ = in_notebook(renewal_trial, renewal_process, 1.0, True, retry_policy="backoff-jitter")
    if not backoff < 0.7 * per_server:
        raise AssertionError("with retry_policy='backoff-jitter' the server must wait "
                             "server.retry_delay_s(attempt) between tries (and count attempts up)")


# -- Part 3: the reproduction -----------------------------------------------------------------

@CHECKS.add("plateau", passed="PLATEAU_ERROR is in the right range")
def _plateau(plateau_error: Any) -> None:
    canon = run_summary("dynamodb-2015", {}, seed=0)
    check_between("PLATEAU_ERROR", plateau_error, 0.40, 0.70, hint="a share (0.5 is 50%), near AWS's 55%")
    check_close("PLATEAU_ERROR", plateau_error, canon["plateau_error"], rel=0.15,
                hint="mean of REPRO's error_rate over 02:49-03:49, i.e. t_s from 2940 to 6540 s")


@CHECKS.add("minutes_to_40", passed="MINUTES_TO_40 is in the right range")
def _minutes_to_40(minutes_to_40: Any) -> None:
    value = check_number("MINUTES_TO_40", minutes_to_40)
    check_between("MINUTES_TO_40", value, 5.0, 30.0, hint="minutes after 02:19 (t_s = 1140 s), not after 02:00")
    if value != round(value):
        raise AssertionError("MINUTES_TO_40 should be a whole number of minutes: buckets start on the minute")


@CHECKS.add("error_0500_0600", passed="ERROR_0500_0600 is in the right range")
def _error_0500_0600(error_0500_0600: Any) -> None:
    check_between("ERROR_0500_0600", error_0500_0600, 0.35, 1.0,
                  hint="the mean of REPRO's error_rate over t_s from 10800 to 14400 s")


# -- Part 4: what if --------------------------------------------------------------------------

@CHECKS.add("recovered_share", passed="RECOVERED_SHARE has the right form")
def _recovered_share(recovered_share: Any) -> None:
    check_seed_shares("RECOVERED_SHARE", recovered_share, GSI_GRID, keys_name="GSI_GRID", key_kind="factor",
                      seeds=GSI_SEEDS, what="recovered")
    if recovered_share[GSI_GRID[0]] != 1.0:
        raise AssertionError(f"at GSI factor {GSI_GRID[0]} the fleet recovers on every seed")


@CHECKS.add("whatif_gsi", passed="COLLAPSE_GSI has the right form")
def _whatif_gsi(collapse_gsi: Any, tipping_default: Any) -> None:
    if collapse_gsi not in GSI_GRID:
        raise AssertionError(f"COLLAPSE_GSI should be one of GSI_GRID ({GSI_GRID})")
    if not collapse_gsi < tipping_default:
        raise AssertionError("the fleet tips below the single-request tipping point (TIPPING_DEFAULT)")


@CHECKS.add("whatif_fix", passed="FIX_ERROR has the right form")
def _whatif_fix(fix_error: Any) -> None:
    check_type("FIX_ERROR", fix_error, dict)
    if set(fix_error) != set(FIXES):
        raise AssertionError("FIX_ERROR needs one entry per key of FIXES")
    for name, value in fix_error.items():
        check_between(f"FIX_ERROR[{name!r}]", value, 0.0, 1.0, hint="an error rate is a share between 0 and 1")
    if not fix_error["none"] > 0.4:
        raise AssertionError("without any fix the fleet should still be failing at 04:00-05:00")


@CHECKS.add("still_failing", passed="STILL_FAILING has the right form")
def _still_failing(still_failing: Any) -> None:
    check_type("STILL_FAILING", still_failing, set)
    if not still_failing <= set(FIXES) - {"none"}:
        raise AssertionError("STILL_FAILING holds names of fixes (keys of FIXES, not 'none')")


@CHECKS.add("whatif_cells", passed="the cell answers have the right form")
def _whatif_cells(one_big_error: Any, cells_error: Any) -> None:
    check_between("ONE_BIG_ERROR", one_big_error, 0.0, 1.0)
    check_between("CELLS_ERROR", cells_error, 0.0, 1.0)


@CHECKS.add("whatif_console", passed="the login answers have the right form")
def _whatif_console(login_max_40: Any, login_max_1: Any) -> None:
    check_between("LOGIN_MAX_40", login_max_40, 2.0, 60.0, hint="seconds, from result['console_login_s']")
    check_between("LOGIN_MAX_1", login_max_1, 2.0, 60.0, hint="seconds, from result['console_login_s']")


@CHECKS.add("whatif_admin", passed="ADMIN_FAILED has the right form")
def _whatif_admin(admin_failed: Any) -> None:
    check_type("ADMIN_FAILED", admin_failed, int)
    requests = sum(1 for _, name in ADMIN_PLAN if name == "add_capacity")
    if not 0 <= admin_failed <= 2 * requests:
        raise AssertionError(f"ADMIN_FAILED counts failed administrative requests: each of the {requests} "
                             f"capacity requests can fail once, and its hosts' joining once more")


# -- Part 5: the commander plan -------------------------------------------------------------

def beats_history(plan: Any, seed: int = 0) -> tuple[float, float]:
    """(the plan's score, the historical plan's score) on ``seed``; AssertionError unless the plan
    beats AWS's timeline by :data:`BEAT_HISTORY_BY` points."""
    mine = score_plan("dynamodb-2015", plan, seed=seed)
    history = score_plan("dynamodb-2015", _ddb().HISTORICAL_PLAN, seed=seed)
    if mine["score"] >= history["score"] + BEAT_HISTORY_BY:
        return mine["score"], history["score"]

    if in_hidden_tests():
        raise AssertionError("on another run of the incident your plan does not beat AWS's own timeline "
                             "by enough")
    raise AssertionError(f"your plan scored {mine['score']:.0f}/100 and AWS's own timeline (ddb.HISTORICAL_PLAN) "
                         f"{history['score']:.0f}: beat it by at least {BEAT_HISTORY_BY:g} points. What "
                         f"happened: {mine['verdict']}")


@CHECKS.add("plan_beats_aws")
def _plan_beats_aws(plan: Any) -> str:
    mine, history = beats_history(plan, seed=0)
    return f"your plan scores {mine:.0f}/100 on seed 0, AWS's timeline {history:.0f}"


def _plan_check(band: str) -> Any:
    def plan_reaches(plan: Any) -> str:
        card = check_plan("dynamodb-2015", plan, at_least=band, seed=0)
        return f"band '{card['band']}' ({card['score']:.0f}/100) on seed 0: {card['verdict']}"
    return plan_reaches


for _band in ("middle", "top"):
    CHECKS.add(f"plan_{_band}")(_plan_check(_band))

__all__ = ["CHECKS", "GSI_GRID", "GSI_SEEDS", "FIXES", "STILL_FAILING_ABOVE", "ADMIN_PLAN", "BEAT_HISTORY_BY",
           "renewal_trial", "beats_history"]
