"""Lab 0 (the physics of overload): the numbers its text states, and the answers it grades.

A claim stated as a bound ("within 20 seconds", "on some nights") is written as the
interval it allows: ``stated`` is the middle of the interval and ``tolerance`` its
half-width. Claims about the storm's equilibrium ("about 235 requests per second",
"about a fifth") hold on every seed 0-9: ``compute`` returns the value farthest from the
stated one over those seeds. The physics runs are the storm alone (``horizon_s`` 300 or
200, as the lab pins them); the game's claims use the default eight-minute incident.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from simkit.grading.checks import lab0 as checks
from simkit.phase import TRIGGERS
from simkit.scenarios import retry_storm as rs

from . import Claim, Fact, GradedAnswer, run, score, summary

SCENARIO = "retry-storm"
SEEDS = range(10)
P = rs.Params()
CAPACITY = P.workers / P.mean_service_s
STORM = {"horizon_s": 300}
NOTEBOOK = Path(__file__).resolve().parents[2] / "solutions" / "lab0-overload" / "lab0-overload.ipynb"


def _storm(seed: int = 0, **params):
    return run(SCENARIO, {**STORM, **params}, seed)


def _mean(result, name: str, start_s: float, end_s: float) -> float:
    window = (result.t_s >= start_s) & (result.t_s < end_s)
    return float(np.nanmean(result[name][window]))


def _worst(values, stated: float) -> float:
    """The value farthest from ``stated`` (a claim about every seed holds if this one does)."""
    return max(values, key=lambda v: abs(v - stated))


def _after_spike(name: str, stated: float) -> float:
    return _worst([_mean(_storm(s), name, *checks.AFTER_SPIKE_S) for s in SEEDS], stated)


def _erlang_ms(utilisation: float) -> float:
    """Erlang C for the lab's service (10 workers x 0.1 s) at this utilisation, in ms."""
    c, s = P.workers, P.mean_service_s
    a = utilisation * c
    below = sum(a ** k / math.factorial(k) for k in range(c))
    top = a ** c / math.factorial(c) / (1 - utilisation)
    return 1000 * top / (below + top) * s / (c * (1 - utilisation))


def _page_s(seed: int) -> float:
    model = rs.Model({}, seed=seed)
    model.advance_to(2 * P.spike_start_s)
    return float(model.page_s)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _clock_claim(snippet: str, seconds: float, clock: str) -> Claim:
    """A clock time the text states, as a claim that the model's time (s) is that time."""
    return Claim(snippet, float(_clock_to_s(clock)), lambda: float(seconds), 0, f"{clock} is {_clock(seconds)}")


def _clock_to_s(clock: str) -> int:
    h, m, s = (int(x) for x in clock.split(":"))
    return 3600 * h + 60 * m + s


def _points(first: str, last: str) -> float:
    """The points of the test cells from grade id ``first`` up to the cell before ``last``."""
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    ids = [c["metadata"]["nbgrader"]["grade_id"] for c in cells]
    part = cells[ids.index(first):ids.index(last)]
    return float(sum(c["metadata"]["nbgrader"].get("points", 0) for c in part
                     if c["metadata"]["nbgrader"].get("grade")))


def _des_collapsed(spike: float, duration: float, seeds=SEEDS) -> int:
    return sum(not summary(SCENARIO, {"spike_factor": spike, "spike_duration_s": duration, **STORM}, s)["recovered"]
               for s in seeds)


def _des_tips_after() -> float:
    """At 1.6x, the shortest spike (s) that tips the discrete model over on at least half of seeds 0-9."""
    return next(d for d in (3.0, 4.0, 5.0, 6.0, 8.0) if _des_collapsed(1.6, d) >= 5)


def _late_budget_minutes() -> float:
    """Seconds from a retry budget pushed at 00:02:00 to the end of the storm, the worst of seeds 0-9."""
    return _worst([summary(SCENARIO, STORM, s, [["00:02:00", "retry_budget"]])["recovered_at_s"] - 120.0
                   for s in SEEDS], 60.0)


def _budget_like_no_retry() -> float:
    """The largest gap (s) between the budget's and the no-retry run's recovery, seeds 0-9."""
    return max(abs(summary(SCENARIO, checks.BUDGET_PARAMS, s)["recovered_at_s"]
                   - summary(SCENARIO, checks.NO_RETRY_PARAMS, s)["recovered_at_s"]) for s in SEEDS)


def _waiting_room_full_after_s() -> float:
    """Seconds from the spike's start until the queue holds 398 or more, the worst of seeds 0-9."""
    return max(float(r.t_s[np.argmax(r["queue_length"] >= 398)]) - P.spike_start_s
               for r in (_storm(s) for s in SEEDS))


CLAIMS = [
    # the introduction and the model's table
    Claim("runs comfortably at 70 % of its capacity", 0.70, lambda: P.base_load_rps / CAPACITY, 0),
    Claim("gets a 30-second burst", 30, lambda: P.spike_duration_s, 0),
    Claim("for the rest of the run most customer requests fail", 0.75,
          lambda: min(_mean(_storm(s), "error_rate", *checks.AFTER_SPIKE_S) for s in SEEDS), 0.25,
          "more than half fail from 120 s on, on every seed (interval 0.5-1)"),
    Claim("| 2. Build the pieces | five small functions / a class (autograded) | 10 |", 10,
          lambda: _points("part2_intro", "reproduce_intro"), 0),
    Claim("| 3. Reproduce the storm | two numbers from the run (autograded) | 2 |", 2,
          lambda: _points("reproduce_intro", "whatif_intro"), 0),
    Claim("| 4. What if | five experiments, the last one a map of the metastable region (autograded) | 11 |", 11,
          lambda: _points("whatif_intro", "commander_intro"), 0),
    Claim("| 5. Incident commander | play the incident, submit your plan (graded by outcome) | 4 |", 4,
          lambda: _points("commander_intro", "postmortem_intro"), 0),
    Claim("| `workers` | 10 |", 10, lambda: P.workers, 0),
    Claim("| `mean_service_s` | 0.1 |", 0.1, lambda: P.mean_service_s, 0),
    Claim("| `queue_limit` | 400 |", 400, lambda: P.queue_limit, 0),
    Claim("| `queue_discipline` | `\"random\"` |", 1, lambda: float(P.queue_discipline == "random"), 0),
    Claim("| `queue_deadline_s` | 0 |", 0, lambda: P.queue_deadline_s, 0),
    Claim("| `base_load_rps` | 70 |", 70, lambda: P.base_load_rps, 0),
    Claim("| 2, 60, 30 | the trigger: load doubles from 60 s to 90 s", 90,
          lambda: P.spike_start_s + P.spike_duration_s if (P.spike_factor, P.spike_start_s) == (2, 60) else 0, 0),
    Claim("| `timeout_s` | 1.0 |", 1.0, lambda: P.timeout_s, 0),
    Claim("| `retry_policy` | `\"immediate\"` |", 1, lambda: float(P.retry_policy == "immediate"), 0),
    Claim("| `max_retries` | 3 |", 3, lambda: P.max_retries, 0),
    Claim("| 0.2, 5, `\"full\"` |", 1,
          lambda: float((P.backoff_base_s, P.backoff_cap_s, P.backoff_jitter) == (0.2, 5.0, "full")), 0),
    Claim("| `budget_ratio` | 0.1 |", 0.1, lambda: P.budget_ratio, 0),
    Claim("| `horizon_s` | 480 |", 480, lambda: P.horizon_s, 0),
    Claim("| 315, 75, 2.5 |", 1,
          lambda: float((P.maintenance_start_s, P.maintenance_s, P.maintenance_slowdown) == (315, 75, 2.5)), 0),
    Claim("| 60, 60, 5, 60 |", 1,
          lambda: float((P.config_push_s, P.boot_s, P.capacity_step_workers, P.resume_ramp_s) == (60, 60, 5, 60)), 0),
    Claim("`horizon_s` to 300 (or 200): five minutes, which end before the maintenance", 1,
          lambda: float(rs.STORM_HORIZON_S == 300 and not rs.Params(horizon_s=300).has_maintenance), 0),
    # Part 2
    Claim("at 70 % utilisation a request waits about 7 ms", 7, lambda: _erlang_ms(0.7), 0.5),
    Claim("at 90 % about 67 ms", 67, lambda: _erlang_ms(0.9), 0.5),
    Claim("at 98 % about half a second", 500, lambda: _erlang_ms(0.98), 60),
    Claim("During the spike, 140 requests per second meet a capacity of 100", 140,
          lambda: P.spike_factor * P.base_load_rps if CAPACITY == 100 else 0, 0),
    Claim("the queue grows by about 40 requests every second", 40,
          lambda: P.spike_factor * P.base_load_rps - CAPACITY, 0),
    Claim("a queue of 100 requests is already one second of work", 1.0, lambda: 100 / CAPACITY, 0),
    Claim("The service's waiting room holds 400 requests, four seconds of work", 4.0,
          lambda: P.queue_limit / CAPACITY if P.queue_limit == 400 else 0, 0),
    Claim("the throughput stayed near capacity (about 100 per second)", 100,
          lambda: _mean(run(SCENARIO, checks.NO_RETRY_PARAMS, 0), "served", 60, 90), 5),
    Claim("only about a third of what the service completed during the spike reached a caller", 1 / 3,
          lambda: (run(SCENARIO, checks.NO_RETRY_PARAMS, 0)["useful"][60:90].sum()
                   / run(SCENARIO, checks.NO_RETRY_PARAMS, 0)["served"][60:90].sum()), 0.05),
    Claim("without retries the service recovers within 20 seconds of the spike's end", 10,
          lambda: max(summary(SCENARIO, checks.NO_RETRY_PARAMS, s)["recovered_at_s"] for s in SEEDS) - 90, 10,
          "interval 0-20 s, the worst of seeds 0-9"),
    Claim("(3 tries at each of 5 layers is $3^5 = 243$)", 243, lambda: 3 ** 5, 0),
    Claim("with `ratio = 0.1` they add at most about 10 % to the load", 0.1, lambda: rs.Params().budget_ratio, 0),
    # Part 3
    Claim("the waiting room filled up within a few seconds", 5, _waiting_room_full_after_s, 3,
          "the queue reaches 398 of 400 within 8 s of the spike's start on every seed"),
    Claim("some 398 of its 400 places", 398,
          lambda: _worst([summary(SCENARIO, STORM, s)["queue_end"] for s in SEEDS], 398), 2),
    Claim("the workers pick about 100 of the ~400 each second", 100, lambda: CAPACITY, 0),
    Claim("only with probability $1 - e^{-1/4} \\approx 22\\,\\%$", 0.22,
          lambda: 1 - math.exp(-P.timeout_s * CAPACITY / P.queue_limit), 0.005),
    Claim("the service is asked for about 235 requests per second", 235, lambda: _after_spike("attempts", 235), 7),
    Claim("more than twice its capacity", 2.25, lambda: min(
        _mean(_storm(s), "attempts", *checks.AFTER_SPIKE_S) for s in SEEDS) / CAPACITY, 0.25,
          "between 2 and 2.5 times the capacity on every seed"),
    Claim("at a throughput of about 100 per second", 100, lambda: _after_spike("served", 100), 2),
    Claim("only about a fifth of what it completes reaches a caller", 0.2,
          lambda: _worst([checks.window_figures(_storm(s), *checks.AFTER_SPIKE_S)["goodput_share"] for s in SEEDS],
                         0.2), 0.01),
    Claim("a goodput of about 20 per second", 20, lambda: _after_spike("useful", 20), 1.5),
    Claim("about seven customer requests in ten fail altogether", 0.7, lambda: _after_spike("error_rate", 0.7), 0.04),
    Claim("the trigger lasted 30 seconds", 30, lambda: P.spike_duration_s, 0),
    Claim("e^{-T\\mu/Q}) = 100 \\times (1 - e^{-0.25}) \\approx 22$ per second", 22,
          lambda: CAPACITY * (1 - math.exp(-P.timeout_s * CAPACITY / P.queue_limit)), 0.5),
    Claim("close to what the run shows", 22, lambda: _after_spike("useful", 22), 3,
          "the measured goodput lies within 3/s of the formula's 22/s on every seed"),
    Claim("the collapsed service serves nobody in time (goodput zero)", 0,
          lambda: max(summary(SCENARIO, {**STORM, "queue_discipline": "fifo"}, s)["goodput_end_rps"]
                      for s in range(3)), 0.05, "fifo, seeds 0-2"),
    Claim("the goodput falls to almost nothing", 0.5,
          lambda: summary(SCENARIO, {**STORM, "queue_limit": 1_000_000}, 0)["goodput_end_rps"], 0.5,
          "an unbounded queue: goodput below 1/s"),
    Claim("Here $4 \\times 70 = 280 > 100$", 280, lambda: (P.max_retries + 1) * P.base_load_rps, 0),
    Claim("(The run asks for fewer than 280 attempts a second", 235,
          lambda: max(_mean(_storm(s), "attempts", *checks.AFTER_SPIKE_S) for s in SEEDS), 40,
          "below 275 on every seed"),
    # Part 4
    Claim("horizon keeps the 25 runs quick", 25, lambda: len(checks.BASES) * len(checks.SWEEP_SEEDS), 0),
    Claim("at 45 requests per second it runs at 45 % utilisation", 0.45, lambda: 45 / CAPACITY, 0),
    Claim("and yet on some nights the default spike tips it over for good", 5,
          lambda: sum(not summary(SCENARIO, {"base_load_rps": 45, "horizon_s": 200}, s)["recovered"] for s in SEEDS),
          4, "45/s collapses on 1-9 of seeds 0-9"),
    Claim("exceeds the capacity only once the base load passes 50", 50, lambda: CAPACITY / P.spike_factor, 0),
    Claim("the first retry waits at most `backoff_base_s` = 0.2 s", 0.2, lambda: P.backoff_base_s, 0),
    Claim("never more than `backoff_cap_s` = 5 s", 5, lambda: P.backoff_cap_s, 0),
    Claim("fewer than 5 % of the customer requests", 0.05, lambda: rs.RECOVERED_ERROR, 0),
    Claim("the bucket's 10 tokens go in an instant", 10, lambda: rs.BUDGET_TOKENS, 0),
    Claim("the service recovers by itself, about as fast as without any retries", 0, _budget_like_no_retry, 5,
          "the budget's and the no-retry run's recoveries lie within 5 s of each other on every seed"),
    Claim("a budget ends it about a minute later", 60, _late_budget_minutes, 10,
          "pushed at 00:02:00 the storm ends 50-70 s later on every seed"),
    Claim("over spike factors from 1.2 to", 1.2, lambda: TRIGGERS["retry-storm"].size_range[0], 0),
    Claim("2.4 and durations from 0 to 15 s", 15, lambda: TRIGGERS["retry-storm"].duration_range[1]
          if TRIGGERS["retry-storm"].size_range[1] == 2.4 else 0, 0),
    Claim("for the default service (base load 70, capacity 100, timeout 1 s, 3 retries)", 1,
          lambda: float(checks.DEFAULT_SERVICE == {"base_load_rps": P.base_load_rps, "capacity_rps": CAPACITY,
                                                  "timeout_s": P.timeout_s, "max_retries": P.max_retries}), 0),
    Claim("`DES_SPIKE` = 1.6 (112 requests per second", 112, lambda: checks.DES_SPIKE * P.base_load_rps, 1e-9),
    Claim("last about 8.3 s to tip the service over", 8.3,
          lambda: checks.kit_spike_needed_s(checks.DES_SPIKE, P.base_load_rps, CAPACITY, P.timeout_s), 0.05),
    Claim("each seed in `DES_SEEDS` (15 runs)", 15, lambda: len(checks.DES_DURATIONS) * len(checks.DES_SEEDS), 0),
    Claim("At 1.6× the discrete model tips over after spikes of about 4 to 6 seconds", 5, _des_tips_after, 1,
          "the shortest spike that tips at least half of seeds 0-9 lies in 4-6 s"),
    Claim("where the envelope asks for 8.3", 8.3,
          lambda: checks.kit_spike_needed_s(checks.DES_SPIKE, P.base_load_rps, CAPACITY, P.timeout_s), 0.05),
    Claim("at 98 % utilisation the mean wait is already half a second", 500, lambda: _erlang_ms(0.98), 60),
    Claim("so a long spike to 98 requests per second tips the service over on some nights", 5,
          lambda: _des_collapsed(1.4, 30.0), 4, "1.4 x 70 = 98/s for 30 s collapses on 1-9 of seeds 0-9"),
    Claim("The envelope never predicted a collapse where the map recovered", 0,
          lambda: checks.fluid_comparison()["too_pessimistic"] + checks.fluid_comparison(50)["too_pessimistic"], 0,
          "the fluid map at 25 x 25 and 50 x 50"),
    # Part 5
    Claim("the default run, eight minutes (`horizon_s` 480)", 8, lambda: P.horizon_s / 60, 0),
    Claim("played in **ticks of 5 seconds**", 5, lambda: rs.Model.tick_s, 0),
    _clock_claim("scheduled maintenance from 00:05:15", P.maintenance_start_s, "00:05:15"),
    _clock_claim("to 00:06:30: every request", P.maintenance_start_s + P.maintenance_s, "00:06:30"),
    Claim("every request will take 2.5 times as long", 2.5, lambda: P.maintenance_slowdown, 0),
    _clock_claim("| 00:01:00 | the load spike", P.spike_start_s, "00:01:00"),
    Claim("twice the base load for 30 seconds", 2 * 30, lambda: P.spike_factor * P.spike_duration_s, 0),
    Claim("| 00:01:05 | you are **paged**", 65, lambda: min(_page_s(s) for s in SEEDS), 0),
    Claim("(at 00:01:10 on some nights, seed 2 for one)", 70,
          lambda: _page_s(2) if max(_page_s(s) for s in SEEDS) == 70 else 0, 0),
    Claim("more than 20 % of the callers' attempts time out", 0.2, lambda: rs.PAGE_TIMEOUT_SHARE, 0),
    Claim("the 10 workers finish only 40 requests a second while 70 arrive", 40,
          lambda: P.workers / (P.mean_service_s * P.maintenance_slowdown) if P.base_load_rps == 70 else 0, 0),
    Claim("on seed 2 (where the alarm fires a tick later)", rs.Model.tick_s, lambda: _page_s(2) - _page_s(0), 0),
    Claim("13 ticks of 5 s: now 00:01:05", 65, lambda: 13 * rs.Model.tick_s, 0),
    Claim("Your plan earns 1 point if it reaches the *low* band on seed 0", 1,
          lambda: _points("test_plan_low", "test_plan_middle"), 0),
    Claim("1 point more for the *middle* band", 1, lambda: _points("test_plan_middle", "test_plan_top"), 0),
    Claim("2 more for the *top* band", 2, lambda: _points("test_plan_top", "postmortem_intro"), 0),
]

HUANG = ("L. Huang et al., Metastable Failures in the Wild, OSDI 2022, "
         "https://www.usenix.org/conference/osdi22/presentation/huang-lexiang")
BRONSON = ("N. Bronson et al., Metastable Failures in Distributed Systems, HotOS 2021, "
           "https://sigops.org/s/conferences/hotos/2021/papers/hotos21-s11-bronson.pdf")

FACTS = [
    Fact("In 2021 Nathan Bronson and colleagues, drawing on a decade of running very large systems", BRONSON),
    Fact("found 22 of them at 11 organisations", HUANG),
    Fact("retries were the sustaining effect in more than half", HUANG),
    Fact("a 10-second capacity drop of 78 % versus 80 % in their experiment", HUANG),
]


# -- graded answers, as functions of the seed ---------------------------------------------------

def _between(low: float, high: float):
    return lambda a, b: low <= a <= high and low <= b <= high


def _storm_figures(seed: int) -> dict[str, float]:
    return checks.window_figures(_storm(seed), *checks.AFTER_SPIKE_S)


def _recovered_share(seed: int) -> dict[float, float]:
    """RECOVERED_SHARE on the five nights starting at ``seed`` (the lab asks seeds 0-4)."""
    return checks.recovered_shares(seeds=list(range(seed, seed + len(checks.SWEEP_SEEDS))))


def _safe_and_never(seed: int) -> tuple[float, float]:
    share = _recovered_share(seed)
    return (max(b for b in checks.BASES if share[b] == 1), min(b for b in checks.BASES if share[b] == 0))


def _des_share(seed: int) -> dict[float, float]:
    return checks.des_collapsed_shares(seeds=list(range(seed, seed + len(checks.DES_SEEDS))))


def _wrong_at(seed: int) -> set[float]:
    share = _des_share(seed)
    return {d for d in checks.DES_DURATIONS
            if checks.kit_envelope(checks.DES_SPIKE, d, **checks.DEFAULT_SERVICE) != (share[d] > 0.5)}


def _plan(seed: int) -> str:
    return score(SCENARIO, rs.INTENDED_PLAN, seed=seed).band


ANSWERS = [
    GradedAnswer("AMPLIFICATION_AFTER_SPIKE", lambda s: _storm_figures(s)["amplification"], _between(3.2, 3.6),
                 "graded against seed 0's run; between 3.2 and 3.6 attempts per request on every seed"),
    GradedAnswer("GOODPUT_SHARE_AFTER_SPIKE", lambda s: _storm_figures(s)["goodput_share"], _between(0.15, 0.25),
                 "graded against seed 0's run; the collapsed state's goodput share is 0.19-0.21 on every seed"),
    GradedAnswer("NO_RETRY_WASTED_SHARE", lambda s: summary(SCENARIO, checks.NO_RETRY_PARAMS, s)["wasted_share"],
                 _between(0.10, 0.16), "graded against seed 0's run; 0.12-0.14 on every seed"),
    GradedAnswer("RECOVERED_SHARE", _recovered_share,
                 lambda a, b: all((a[x] == 1, a[x] == 0) == (b[x] == 1, b[x] == 0) for x in checks.BASES),
                 "asked on five nights; which base loads always, sometimes and never recover is the same for "
                 "any five consecutive seeds"),
    GradedAnswer("SAFE_BASE_RPS, NEVER_BASE_RPS", _safe_and_never,
                 why_robust="asked on five nights; checked for the windows of seeds s..s+4, s = 0-9"),
    GradedAnswer("BACKOFF_RECOVERS, BACKOFF_AMPLIFICATION_END",
                 lambda s: (summary(SCENARIO, checks.BACKOFF_PARAMS, s)["recovered"],
                            summary(SCENARIO, checks.BACKOFF_PARAMS, s)["amplification_end"]),
                 lambda a, b: a[0] == b[0] and 3.0 < a[1] < 4.0 and 3.0 < b[1] < 4.0,
                 "graded against seed 0's run; backoff never recovers and keeps 3.5-3.6 attempts per request"),
    GradedAnswer("BUDGET_GOODPUT_END_RPS, BUDGET_RECOVERED_AT_S",
                 lambda s: (summary(SCENARIO, checks.BUDGET_PARAMS, s)["goodput_end_rps"],
                            summary(SCENARIO, checks.BUDGET_PARAMS, s)["recovered_at_s"]),
                 lambda a, b: all(60 <= x[0] <= 75 and 95 <= x[1] <= 115 for x in (a, b)),
                 "graded against seed 0's run; the budget recovers at 101-108 s with goodput 67-72/s on every seed"),
    GradedAnswer("ENVELOPE_AGREEMENT, TOO_OPTIMISTIC, TOO_PESSIMISTIC",
                 lambda s: tuple(checks.fluid_comparison().values()),
                 why_robust="the fluid lens has no seed: the same map on every run"),
    GradedAnswer("DES_COLLAPSED_SHARE", _des_share,
                 lambda a, b: {d: v > 0.5 for d, v in a.items()} == {d: v > 0.5 for d, v in b.items()},
                 "asked on five seeds; the majority verdict per duration is the same for any five consecutive seeds"),
    GradedAnswer("ENVELOPE_WRONG_AT", _wrong_at,
                 why_robust="asked on five seeds; checked for the windows of seeds s..s+4, s = 0-9"),
    GradedAnswer("PLAN (the solution's)", _plan,
                 why_robust="the intended plan scores 95 (top band) on every seed 0-9"),
]
