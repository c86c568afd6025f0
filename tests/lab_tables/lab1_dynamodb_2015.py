"""Lab 1 (DynamoDB 2015): the numbers its text states, and the answers it grades.

A claim stated as a bound ("within a quarter of an hour", "within twenty minutes") is
written as the interval it allows: ``stated`` is the middle of the interval and
``tolerance`` its half-width, so the claim holds exactly when the model's value lies in
the interval. Claims about "seeds 0-9" compute the worst case over those seeds.
"""

from __future__ import annotations

import numpy as np

from simkit.grading.checks import lab1 as checks
from simkit.plan import PlanStep
from simkit.scenarios import dynamodb_2015 as ddb
from simkit.scenarios.dynamodb_2015 import model as ddb_model

from . import Claim, Fact, GradedAnswer, run, score, summary

SCENARIO = "dynamodb-2015"
SEEDS = range(10)
P = ddb.Params()
THREE_HOURS = {"horizon_s": 10800.0}
#: the record's times of the dependents (AWS's summary), against the model's summary keys
RECORD = {"recovered_at": "07:10", "sqs_failing_from": "05:45", "sqs_failing_to": "07:10",
          "autoscaling_faults_from": "02:15", "autoscaling_faults_to": "07:10",
          "autoscaling_backlog_clears": "10:52", "cloudwatch_impaired_from": "02:35",
          "cloudwatch_impaired_to": "07:29", "console_slow_from": "05:45", "console_slow_to": "07:10"}
#: pause and resume without capacity (the remark after 4.5)
PAUSE_RESUME = [("02:35", "pause_renewals"), ("03:02", "resume_renewals")]
#: the lab's solution plan (Part 5)
SOLUTION_PLAN = [("02:35", "pause_renewals"), ("03:02", "add_capacity"), ("03:06", "resume_renewals")]


def _minutes(clock: str) -> int:
    """"05:45" -> minutes after midnight."""
    return int(clock[:2]) * 60 + int(clock[3:5])


def _plan_minute(plan, action: str) -> float:
    """The clock minute (after midnight) of the first step of ``action`` in ``plan`` (times are
    clock times here, so minutes after a clock start of 0 are minutes after midnight)."""
    at = next(at for at, name in plan if name == action)
    return PlanStep(at, action).minutes(0.0)


def _untouched(seed: int = 0):
    return run(SCENARIO, seed=seed)


def _trial(*args, **kwargs):
    return checks.renewal_trial(ddb.renewal_process, *args, **kwargs)


def _out_of_service_share() -> float:
    result = _untouched(0)
    return 1.0 - result.mean_between("in_service", 2940.0, 21600.0)


def _largest_alone_s() -> float:
    """Seconds the largest membership takes alone on a worker (default fleet)."""
    return ddb.standalone_processing_s(summary(SCENARIO)["largest_membership"], P.base_processing_s, P.per_entry_s)


def _biggest_under_load_over_allowance() -> float:
    """How long the largest membership takes on the loaded service, in allowances (seed 0,
    02:49-08:00): its time alone times the service's mean slowdown."""
    slowdown = _untouched(0).mean_between("metadata_slowdown", 2940.0, 21600.0)
    return _largest_alone_s() * slowdown / P.allowance_s


def _hourly_plateau() -> list[float]:
    """The mean error rate of each full hour from 02:49 to 07:49, on every seed 0-9."""
    return [_untouched(seed).mean_between("error_rate", 2940.0 + 3600.0 * k, 6540.0 + 3600.0 * k)
            for seed in SEEDS for k in range(5)]


def _record_deviation() -> float:
    """The largest gap (minutes) between the model's dependents on AWS's timings and the record."""
    worst = 0
    for seed in SEEDS:
        model = summary(SCENARIO, seed=seed, plan=ddb.HISTORICAL_PLAN)
        worst = max([worst] + [abs(_minutes(model[key]) - _minutes(clock)) for key, clock in RECORD.items()])
    return float(worst)


def _page_minutes() -> list[int]:
    return [_minutes(summary(SCENARIO, seed=s)["page_at"]) - 120 for s in SEEDS]


def _admin_rollout() -> float:
    """1 when ADMIN_PLAN's second request comes while the pause rolls out and its third after."""
    pause = _plan_minute(checks.ADMIN_PLAN, "pause_renewals")
    adds = [PlanStep(at, name).minutes(0.0) for at, name in checks.ADMIN_PLAN if name == "add_capacity"]
    in_place = pause + P.switch_delay_s / 60.0
    return float(adds[0] < pause and pause < adds[1] < in_place < adds[2])


CLAIMS = [
    # Part 1: the model and its first run
    Claim("Our model (`simkit/scenarios/dynamodb_2015/`, five short files worth reading) has 150 storage "
          "servers", 150, lambda: P.servers, 0),
    Claim("one metadata service with 10 workers", 10, lambda: P.metadata_workers, 0),
    Claim("a clock running from 02:00 to 08:00", 6 * 60, lambda: P.horizon_s / 60.0, 0,
          "six hours of simulated time"),
    Claim("the **network is back at 02:20**", 20, lambda: (P.disruption_start_s + P.disruption_s) // 60, 0),
    Claim("the customer error rate climbs to about half within twenty minutes", 15,
          lambda: max(summary(SCENARIO, seed=s)["minutes_to_plateau"] for s in SEEDS), 5,
          "within twenty minutes (interval 10-20) on every seed 0-9"),
    Claim("the customer error rate climbs to about half", 0.5, lambda: summary(SCENARIO)["plateau_error"], 0.06),
    Claim("about 70% of the storage servers are out of service", 0.70, _out_of_service_share, 0.05),
    Claim("about 85% of its work goes into replies that arrive after the server asking has given up", 0.85,
          lambda: summary(SCENARIO)["wasted_work_share"], 0.03),
    Claim("SQS hardly notices a 50% error rate", 0.0,
          lambda: max(float(np.nanmax(_untouched(s)["sqs_error_rate"])) for s in SEEDS), 0.01,
          "SQS's error rate on the untouched night, seeds 0-9, stays below 1%"),
    Claim("it fails only once renewals are paused", 0,
          lambda: sum(summary(SCENARIO, seed=s)["sqs_failing_from"] is not None for s in SEEDS), 0,
          "no SQS failure window on the untouched night (no pause), seeds 0-9"),
    # Part 2
    Claim("takes about 90% of the allowance", 0.9,
          lambda: _largest_alone_s() / P.allowance_s, 0.02),
    Claim("the trial in 2.3 counts 2 timeouts in two hours", 2, lambda: _trial(2.0)[2], 0),
    Claim("among some 1,700 renewals", 1700, lambda: _trial(2.0)[1] * P.servers, 50),
    # Part 3
    Claim("2 h 40 min after the network came back", 160,
          lambda: (5 * 3600 - 2 * 3600 - P.disruption_start_s - P.disruption_s) / 60.0, 1),
    Claim("The trigger lasted 90 seconds", 90, lambda: P.disruption_s, 0),
    Claim("averages between 49%", 0.49, lambda: min(_hourly_plateau()), 0.005,
          "the lowest full-hour mean, 02:49-07:49, seeds 0-9"),
    Claim("and 59% of requests failing on seeds 0–9", 0.59, lambda: max(_hourly_plateau()), 0.005,
          "the highest full-hour mean, 02:49-07:49, seeds 0-9"),
    Claim("the outage lasts as long as the run", 0, lambda: sum(summary(SCENARIO, seed=s)["recovered"] for s in SEEDS),
          0, "no seed 0-9 recovers by 08:00"),
    Claim("the biggest memberships now take several times the allowance", 3.0, _biggest_under_load_over_allowance,
          1.0, "'several': between 2 and 4 allowances"),
    # Part 4
    Claim("fits in the allowance up to a GSI factor of about 3.1", 3.1, lambda: ddb.tipping_gsi_factor(P), 0.05),
    Claim("whether a 90-second blip tips", 90, lambda: P.disruption_s, 0),
    Claim("an error in that hour still above 25%", 0.25, lambda: checks.STILL_FAILING_ABOVE, 0),
    Claim("or four cells of 10 workers and 36 slots each", 10, lambda: P.metadata_workers, 0),
    Claim("four cells of 10 workers and 36 slots each", 36, lambda: P.metadata_slots, 0),
    Claim("one service of 40 workers and 144 slots", 144, lambda: 4 * P.metadata_slots, 0,
          "the same total as the four cells"),
    Claim("one service of 40 workers", 40, lambda: 4 * P.metadata_workers, 0),
    Claim("the pause decided at 05:06", 5 * 60 + 6, lambda: _plan_minute(ddb.HISTORICAL_PLAN, "pause_renewals"), 0),
    Claim("renewals resumed at 06:45", 6 * 60 + 45, lambda: _plan_minute(ddb.HISTORICAL_PLAN, "resume_renewals"), 0),
    Claim("Console's login call timeout at its default of 40 s", 40, lambda: P.console_call_timeout_s, 0),
    Claim("every time in the table lies within a quarter of an hour of AWS's", 7.5, _record_deviation, 7.5,
          "at most 15 minutes (interval 0-15) on every seed 0-9"),
    Claim("the model's alarm fires between 02:27", 27, lambda: min(_page_minutes()), 0),
    Claim("and 02:30 on seeds 0–9", 30, lambda: max(_page_minutes()), 0),
    Claim("took to provision (20 minutes here)", 20, lambda: P.capacity_delay_s / 60.0, 0),
    Claim("then two more capacity requests, one while the pause is still rolling out across the fleet and one "
          "after it is in place", 1, _admin_rollout, 0),
    Claim("pausing and resuming without adding capacity is not enough either", 0,
          lambda: sum(summary(SCENARIO, seed=s, plan=PAUSE_RESUME)["recovered"] for s in SEEDS), 0,
          "pause then resume (no capacity) recovers on no seed 0-9"),
    # Part 5
    Claim("in **ticks of one minute**", 1, lambda: ddb.Model.tick_s / 60.0, 0),
    Claim("at or above 5% for 3 minutes in a row", 0.05, lambda: ddb_model.PAGE_ERROR, 0),
    Claim("for 3 minutes in a row", 3, lambda: ddb_model.PAGE_MINUTES, 0),
    Claim("which lands in the *low* band", 0,
          lambda: sum(score(SCENARIO, ddb.HISTORICAL_PLAN, seed=s).band != "low" for s in SEEDS), 0,
          "the historical plan is in the low band on every seed 0-9"),
    Claim("by at least 10 points", 10, lambda: checks.BEAT_HISTORY_BY, 0),
]

SUMMARY_URL = "AWS's summary of the event, https://aws.amazon.com/message/5467D2/ (shared/seeds)"

FACTS = [
    Fact("took about half of all requests to DynamoDB in US-East down with it, for almost five hours", SUMMARY_URL),
    Fact("| 02:19 | a short network disruption", SUMMARY_URL),
    Fact("| 02:37 | the customer error rate is higher than at any time in three years, and settles near **55%**",
         SUMMARY_URL),
    Fact("| before 05:06 | several attempts to add metadata capacity fail", SUMMARY_URL),
    Fact("| 05:06 | requests to the metadata service are **paused**", SUMMARY_URL),
    Fact("| 07:10 | requests re-enabled", SUMMARY_URL),
    Fact("errors 05:45–07:10, no data lost", SUMMARY_URL),
    Fact("faulted from 02:15 to 07:10 and its backlog of scaling jobs took until 10:52 to drain", SUMMARY_URL),
    Fact("delayed or missing from 02:35 to about 07:29", SUMMARY_URL),
    Fact("logins were slow from 05:45 to 07:10", SUMMARY_URL),
    Fact("AWS's summary has Auto Scaling faulting from 02:15, four minutes before the 02:19 disruption",
         SUMMARY_URL),
]


# -- graded answers, as functions of the seed ---------------------------------------------------

def _repro(seed: int) -> dict:
    result = _untouched(seed)
    t, error = result.t_s, result["error_rate"]
    first = next(ti for ti, e in zip(t, error) if ti >= 1140.0 and e >= 0.40)
    return {"plateau": result.mean_between("error_rate", 2940.0, 6540.0),
            "minutes_to_40": (first - 1140.0) / 60.0,
            "late": result.mean_between("error_rate", 10800.0, 14400.0)}


def _recovered_share(seed: int) -> dict:
    """RECOVERED_SHARE on five nights starting at ``seed`` (the lab asks seeds 0-4)."""
    nights = range(seed, seed + len(checks.GSI_SEEDS))
    return {g: sum(summary(SCENARIO, {"gsi_factor": g, **THREE_HOURS}, seed=s)["recovered"] for s in nights)
            / len(nights) for g in checks.GSI_GRID}


def _collapse(seed: int) -> float:
    share = _recovered_share(seed)
    return min(g for g in checks.GSI_GRID if share[g] < 0.5)


def _fix_error(seed: int) -> dict:
    return {name: summary(SCENARIO, {**change, **THREE_HOURS}, seed=seed)["error_last_hour"]
            for name, change in checks.FIXES.items()}


def _cells(seed: int) -> tuple[float, float]:
    big = summary(SCENARIO, {"gsi_factor": 6.0, "metadata_workers": 40, "metadata_slots": 144, **THREE_HOURS},
                  seed=seed)["error_last_hour"]
    cells = summary(SCENARIO, {"gsi_factor": 6.0, "metadata_cells": 4, **THREE_HOURS}, seed=seed)["error_last_hour"]
    return big, cells


def _logins(seed: int) -> tuple[float, float]:
    slow = run(SCENARIO, seed=seed, plan=ddb.HISTORICAL_PLAN)["console_login_s"].max()
    fast = run(SCENARIO, {"console_call_timeout_s": 1.0}, seed=seed, plan=ddb.HISTORICAL_PLAN)["console_login_s"].max()
    return round(float(slow), 1), round(float(fast), 1)


def _plan(seed: int) -> tuple[str, bool]:
    mine = score(SCENARIO, SOLUTION_PLAN, seed=seed)
    history = score(SCENARIO, ddb.HISTORICAL_PLAN, seed=seed)
    return mine.band, mine.score >= history.score + checks.BEAT_HISTORY_BY


ANSWERS = [
    GradedAnswer("PLATEAU_ERROR", lambda s: _repro(s)["plateau"], lambda a, b: 0.40 <= a <= 0.70 and 0.40 <= b <= 0.70,
                 "graded against the learner's own seed-0 run; the conclusion the lab draws (about half, "
                 "between 40% and 70%) holds on every seed"),
    GradedAnswer("MINUTES_TO_40", lambda s: _repro(s)["minutes_to_40"], lambda a, b: 5 <= a <= 20 and 5 <= b <= 20,
                 "graded against the learner's own seed-0 run; 40% is reached within 20 minutes on every seed"),
    GradedAnswer("ERROR_0500_0600", lambda s: _repro(s)["late"], lambda a, b: a > 0.35 and b > 0.35,
                 "graded against the learner's own seed-0 run; the fleet is still failing badly at 05:00 on every seed"),
    GradedAnswer("RECOVERED_SHARE", _recovered_share,
                 lambda a, b: {g: v >= 0.5 for g, v in a.items()} == {g: v >= 0.5 for g, v in b.items()},
                 "asked on five nights; the majority verdict per factor is the same for any five consecutive seeds"),
    GradedAnswer("COLLAPSE_GSI", _collapse, why_robust="asked on five nights (a seed average); checked for the "
                 "windows of seeds s..s+4, s = 0-9"),
    GradedAnswer("FIX_ERROR", _fix_error,
                 lambda a, b: {k: v < a["none"] for k, v in a.items()} == {k: v < b["none"] for k, v in b.items()},
                 "graded against seed 0's runs; every fix lowers the error of 04:00-05:00 on every seed"),
    GradedAnswer("STILL_FAILING",
                 lambda s: {k for k, v in _fix_error(s).items() if k != "none" and v > checks.STILL_FAILING_ABOVE},
                 why_robust="the 25% threshold lies far from every fix's error on seeds 0-9 (the retry budget's "
                            "varies from 0 to 22%)"),
    GradedAnswer("ONE_BIG_ERROR, CELLS_ERROR", _cells, lambda a, b: (a[1] < a[0] / 1.5) == (b[1] < b[0] / 1.5),
                 "graded against seed 0's runs; cells fail far less than one big service on every seed"),
    GradedAnswer("LOGIN_MAX_40, LOGIN_MAX_1", _logins),
    GradedAnswer("ADMIN_FAILED", lambda s: summary(SCENARIO, seed=s, plan=checks.ADMIN_PLAN)["admin_requests_failed"]),
    GradedAnswer("PLAN (the solution's)", _plan,
                 why_robust="the hidden plan checks replay it on seeds 1-5: top band and 10 points above AWS's "
                            "timeline on every seed"),
]
