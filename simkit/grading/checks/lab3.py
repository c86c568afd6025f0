"""Visible checks of lab 3, the EBS re-mirroring storm (``check("lab3.<name>", ...)``).

``search_delay_s`` draws from the random generator it is given, thousands of times
per check, so the draws happen next to the learner's code: :func:`delay_samples`
makes the generator there, makes every call in one go and returns what each call
returned (or raised) as data. :func:`jitter_problem` judges a sample of jittered
waits by its spread as well as its mean and range, so that a "jitter" that always
returns the middle of the range (right on average, never random) does not pass.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from ...scenarios.ebs_2011.rules import HISTORICAL_PLAN
from ..canonical import check_plan, score_plan
from ..context import in_notebook
from ..values import check_between, check_close, check_number, check_type
from . import Checks

CHECKS = Checks("lab3")

#: the spare fractions of question 4.1, the policies of 4.2, the timeouts of 4.3 (no 120 s: on a few
#: seeds 120 s is just safe and on most just not, so the question would hang on the seed)
SPARES = [0.03, 0.06, 0.09, 0.12]
POLICIES = {"2011": (False, "none"), "backoff": (False, "full"),
            "prefer previous": (True, "none"), "both": (True, "full")}
TIMEOUTS = [5, 30, 60, 90, 150, 300]


# -- helpers that run next to the learner's code ---------------------------------------

def delay_samples(search_delay_s: Any, seed: int, calls: list) -> list:
    """Call ``search_delay_s(failures, rng, base_s, cap_s, backoff, previous_delay_s)`` for each
    tuple of ``calls`` in turn, sharing one ``random.Random(seed)``.

    Returns, per call, ``["ok", value]`` or ``["raised", "ExceptionName"]``.
    """
    rng = random.Random(seed)
    out = []
    for failures, base_s, cap_s, backoff, previous in calls:
        try:
            out.append(["ok", search_delay_s(failures, rng, base_s, cap_s, backoff, previous)])
        except Exception as exc:
            out.append(["raised", type(exc).__name__])
    return out


def values_of(samples: list, what: str) -> list[float]:
    """The values of :func:`delay_samples`' answers; an AssertionError if a call raised."""
    values = []
    for sample in samples:
        if sample[0] != "ok":
            raise AssertionError(f"{what} raised {sample[1]}")
        values.append(check_number(what, sample[1]))
    return values


def jitter_problem(waits: list[float], low: float, high: float) -> str | None:
    """What is wrong with ``waits`` as draws from uniform(``low``, ``high``), or None.

    Checks the range, the mean, the spread (standard deviation, ``(high - low) / sqrt(12)``
    for a uniform draw) and the share in the lowest quarter of the range, each with a
    margin that thousands of honest draws keep (about ten standard errors).
    """
    width = high - low
    if min(waits) < low - 1e-9 or max(waits) > high + 1e-9:
        return f"some waits left [{low:g}, {high:g}]"
    n = len(waits)
    mean, spread = float(np.mean(waits)), float(np.std(waits))
    if abs(mean - (low + high) / 2) > 0.05 * width:
        return f"their mean is {mean:.4g}, but uniform draws in [{low:g}, {high:g}] average {(low + high) / 2:g}"
    uniform_spread = width / 12 ** 0.5
    if abs(spread - uniform_spread) > 0.1 * uniform_spread:
        return (f"their spread (standard deviation) is {spread:.4g}, but uniform draws in [{low:g}, {high:g}] "
                f"spread by about {uniform_spread:.3g}: the wait must be drawn at random from the whole range, "
                "not fixed at its middle")
    lowest_quarter = sum(w < low + width / 4 for w in waits) / n
    if abs(lowest_quarter - 0.25) > 0.05:
        return (f"{lowest_quarter:.0%} of them lie in the lowest quarter of [{low:g}, {high:g}]; uniform draws "
                "put a quarter there")
    return None


# -- Part 2 -------------------------------------------------------------------------------

@CHECKS.add("search_delay_s", passed="search_delay_s looks right")
def _search_delay(search_delay_s: Any) -> None:
    exponential = [(1, 30), (2, 60), (3, 120), (5, 480), (6, 600), (40, 600)]
    calls = ([(f, 30, 600, "none", 0.0) for f in (1, 2, 7, 500)]
             + [(f, 30, 600, "exponential", 0.0) for f, _ in exponential]
             + [(5000, 30, 600, "exponential", 0.0)]
             + [(3, 30, 600, "full", 0.0)] * 4000 + [(3, 30, 600, "equal", 0.0)] * 4000
             + [(9, 30, 600, "decorrelated", 100.0)] * 2000 + [(1, 30, 600, "sometimes", 0.0)])
    samples = in_notebook(delay_samples, search_delay_s, 1, calls)
    for f, (status, value) in zip((1, 2, 7, 500), samples[:4]):
        _call_ok(status, value, f"search_delay_s({f}, rng, 30, 600, 'none')")
        check_close(f"search_delay_s({f}, rng, 30, 600, 'none')", value, 30, rel=1e-9, show_expected=True,
                    hint="'none' means no backoff: always base_s")
    for (f, want), (status, value) in zip(exponential, samples[4:10]):
        _call_ok(status, value, f"search_delay_s({f}, rng, 30, 600, 'exponential')")
        check_close(f"search_delay_s({f}, rng, 30, 600, 'exponential')", value, want, rel=1e-9,
                    show_expected=True, hint="base_s * 2 ** (failures - 1), never more than cap_s")
    status, value = samples[10]
    if status == "raised" and value == "OverflowError":
        raise AssertionError("search_delay_s(5000, ...) overflowed: limit the exponent (the cap wins long "
                             "before 2 ** 60)")
    _call_ok(status, value, "search_delay_s(5000, rng, 30, 600, 'exponential')")
    check_close("search_delay_s(5000, rng, 30, 600, 'exponential')", value, 600, rel=1e-9, show_expected=True)
    for what, first, low, high in [("search_delay_s(3, rng, 30, 600, 'full')", 11, 0, 120),
                                   ("search_delay_s(3, rng, 30, 600, 'equal')", 4011, 60, 120),
                                   ("search_delay_s(9, rng, 30, 600, 'decorrelated', 100.0)", 8011, 30, 300)]:
        count = 4000 if first < 8011 else 2000
        problem = jitter_problem(values_of(samples[first:first + count], what), low, high)
        if problem:
            raise AssertionError(f"{count} calls of {what}: {problem}")
    if samples[10011] != ["raised", "ValueError"]:
        raise AssertionError("an unknown backoff name ('sometimes') should raise ValueError")
    twice = [in_notebook(delay_samples, search_delay_s, 7, [(3, 30, 600, "full", 0.0)]) for _ in range(2)]
    if twice[0] != twice[1]:
        raise AssertionError("use only the rng you are given, so that the same seed gives the same wait")


def _call_ok(status: str, value: Any, what: str) -> None:
    if status != "ok":
        raise AssertionError(f"{what} raised {value}")


@CHECKS.add("choose_remirror", passed="choose_remirror looks right")
def _choose_remirror(choose_remirror: Any) -> None:
    for args, want, why in [
        ((True, True, False), "search", "without prefer_previous a node always searches (2011)"),
        ((True, True, True), "reconnect", "the previous replica is alive and reachable: reconnect to it"),
        ((True, False, True), "wait", "alive but out of reach: wait for the network"),
        ((False, False, True), "search", "the previous replica is gone: the only way is a new copy"),
    ]:
        got = choose_remirror(*args)
        if got != want:
            raise AssertionError(f"choose_remirror{args} returned {got!r}, expected {want!r}: {why}")


@CHECKS.add("threads_needed")
def _threads_needed(threads_needed: Any) -> str:
    check_close("threads_needed(20, 0.25)", threads_needed(20, 0.25), 5, rel=1e-9, show_expected=True,
                hint="20 calls a second, each busy for a quarter of a second: 5 threads on average")
    needed = threads_needed(0.3, 300)
    check_close("threads_needed(0.3, 300)", needed, 90, rel=1e-9, show_expected=True)
    return f"CreateVolume hanging for 300 s needs {needed:.0f} threads; the pool has 64"


@CHECKS.add("zone_bulkhead", passed="ZoneBulkhead looks right")
def _zone_bulkhead(zone_bulkhead: Any) -> None:
    bulkhead = zone_bulkhead(64, ["a", "b", "c", "d"])
    for zone, wanted, busy, want, why in [
        ("b", 5, {"a": 16, "b": 0}, 5, "zone b holds nothing: all 5 fit in its 16 threads"),
        ("a", 5, {"a": 16, "b": 0}, 0, "zone a already holds its 16 threads"),
        ("a", 5, {"a": 14}, 2, "zone a has 2 of its 16 threads left"),
        ("c", 30, {"a": 16, "b": 16, "d": 0}, 16, "never more than the zone's share, whatever the others hold"),
        ("d", 3, {}, 3, "a zone missing from busy holds no thread"),
    ]:
        got = bulkhead.admit(zone, wanted, busy)
        if got != want:
            raise AssertionError(f"admit({zone!r}, {wanted}, {busy}) returned {got!r}, expected {want}: {why}")
    if zone_bulkhead(10, ["a", "b", "c"]).admit("a", 9, {}) != 3:
        raise AssertionError("10 threads for 3 zones: 10 // 3 = 3 each")


def hand_made_result():
    """The small result the clock-window check uses: 6 one-minute buckets from 00:30."""
    from ...result import Result

    return Result("hand-made", 0, {}, np.arange(6) * 60.0, {"x": np.array([1.0, 2, 3, 4, 5, 6])},
                  clock_start_s=1800.0)


@CHECKS.add("clock_window_mean", passed="clock_window_mean looks right")
def _clock_window_mean(clock_window_mean: Any) -> None:
    fake = hand_made_result()
    check_close('clock_window_mean(fake, "x", "00:30", "00:32")', clock_window_mean(fake, "x", "00:30", "00:32"),
                1.5, rel=1e-9, show_expected=True, hint="the buckets starting at 00:30 and 00:31; 00:32 is excluded")
    check_close('clock_window_mean(fake, "x", "00:33", "00:36")', clock_window_mean(fake, "x", "00:33", "00:36"),
                5.0, rel=1e-9, show_expected=True, hint="00:33 is 3 minutes after the start of the run: 180 s")


# -- Part 3 and 4: numbers read from runs --------------------------------------------------

def window_mean(result: Any, name: str, start_s: float, end_s: float) -> float:
    """Mean of series ``name`` of ``result`` over the buckets starting in [start_s, end_s),
    times of day in seconds after midnight (the checks' own reading, not the learner's)."""
    clock = np.asarray(result.t_s) + result.clock_start_s
    inside = (clock >= start_s) & (clock < end_s)
    return float(np.mean(np.asarray(result[name])[inside]))


@CHECKS.add("reproduce", passed="the storm is reproduced")
def _reproduce(stuck_mean: Any, stuck_0230: Any, healthy_errors: Any, storm: Any) -> None:
    check_between("STORM_STUCK_MEAN", stuck_mean, 0.08, 0.20,
                  hint="the storm leaves between 8 % and 20 % of the volumes stuck; if you got far less, "
                       "check that LearnerRemirror() searches (no preference) with no backoff")
    check_between("STUCK_0230_0300", stuck_0230, 0.11, 0.17,
                  hint="read the series stuck_share of storm with clock_window_mean")
    value = check_number("HEALTHY_ERRORS_0050_0240", healthy_errors)
    window = (50 * 60.0, (2 * 60 + 40) * 60.0)
    healthy = window_mean(storm, "api_error_share_healthy", *window)
    zone_a = window_mean(storm, "api_error_share_affected", *window)
    if abs(value - zone_a) < abs(value - healthy) and abs(value - zone_a) < 0.002:
        raise AssertionError("HEALTHY_ERRORS_0050_0240 is zone a's error share (api_error_share_affected); "
                             "the question asks for the healthy zones' (api_error_share_healthy)")
    check_between("HEALTHY_ERRORS_0050_0240", value, 0.30, 0.55,
                  hint="the shared pool is nearly full, not exhausted: a large share of the healthy zones' "
                       "calls find no thread, not all of them")
    if storm["free_slots"][-1] != 0:
        raise AssertionError("free space should still be at zero at the end of the storm")


@CHECKS.add("whatif_spare", passed="spare buffer: checked")
def _whatif_spare(spare_stuck_mean: Any, smallest_safe: Any) -> None:
    if len(spare_stuck_mean) != len(SPARES):
        raise AssertionError(f"SPARE_STUCK_MEAN needs one value per spare fraction ({len(SPARES)})")
    check_between("SPARE_STUCK_MEAN[0] (3 %, the default)", spare_stuck_mean[0], 0.08, 0.20)
    if not spare_stuck_mean[-1] < spare_stuck_mean[0] / 3:
        raise AssertionError("with 12 % spare far fewer volumes should be stuck")
    if smallest_safe not in SPARES:
        raise AssertionError(f"SMALLEST_SAFE_SPARE should be one of {SPARES}")


@CHECKS.add("whatif_policy", passed="policies: checked")
def _whatif_policy(stuck_mean: Any, searches: Any, crashes: Any) -> None:
    for table, name in [(stuck_mean, "POLICY_STUCK_MEAN"), (searches, "POLICY_SEARCHES"),
                        (crashes, "POLICY_CRASHES")]:
        check_type(name, table, dict)
        if set(table) != set(POLICIES):
            raise AssertionError(f"{name} should have the keys {list(POLICIES)}")
    if not searches["backoff"] < searches["2011"] / 5:
        raise AssertionError("backoff should cut the searches by far more than 5x")
    if not stuck_mean["both"] < stuck_mean["2011"] / 3:
        raise AssertionError("backoff plus prefer-previous: far fewer stuck")
    check_between("POLICY_STUCK_MEAN['backoff']", stuck_mean["backoff"], 0.08, 0.20,
                  hint="backoff alone does not create space: the volumes without space stay stuck")


@CHECKS.add("whatif_timeout", passed="timeouts: checked")
def _whatif_timeout(healthy_errors: Any, longest_safe: Any, predicted: Any) -> None:
    if len(healthy_errors) != len(TIMEOUTS):
        raise AssertionError("one error share per timeout")
    check_between("TIMEOUT_HEALTHY_ERRORS[0] (5 s)", healthy_errors[0], 0.0, 0.01,
                  hint="a 5 s timeout keeps the healthy zones fine")
    check_between("TIMEOUT_HEALTHY_ERRORS[-1] (300 s, the default)", healthy_errors[-1], 0.30, 0.70,
                  hint="the default timeout is the storm you reproduced in Part 3")
    if longest_safe not in TIMEOUTS:
        raise AssertionError(f"LONGEST_SAFE_TIMEOUT_S should be one of {TIMEOUTS}")
    check_close("PREDICTED_MAX_TIMEOUT_S", predicted, 44 / 0.3, rel=0.01,
                hint="Little's law turned around: the threads the normal calls leave free, divided by the "
                     "rate of the calls that hold a thread for the whole timeout")


@CHECKS.add("whatif_pool", passed="bulkhead: checked")
def _whatif_pool(healthy_errors: Any, affected_errors: Any, shrinks_storm: Any) -> None:
    check_between("BULKHEAD_HEALTHY_ERRORS", healthy_errors, 0.0, 0.01,
                  hint="with a pool per zone the healthy zones keep their own threads")
    check_between("BULKHEAD_AFFECTED_ERRORS", affected_errors, 0.5, 1.0,
                  hint="zone a's own share is still exhausted by the calls into its sick cluster")
    check_type("BULKHEAD_SHRINKS_STORM", shrinks_storm, bool)


# -- Part 5: the commander plan -------------------------------------------------------------

def beats_history(plan: Any, seed: int) -> dict:
    """Assert that ``plan`` reaches the low band and scores more than AWS's own response on
    ``seed``; return its card. (Copying what AWS did, from the lab's text, is not enough.)"""
    card = check_plan("ebs-2011", plan, at_least="low", seed=seed)
    history = score_plan("ebs-2011", HISTORICAL_PLAN, seed=seed)
    if card["score"] <= history["score"]:
        raise AssertionError(
            f"your plan scored {card['score']:.0f}/100, no better than AWS's own response that night "
            f"({history['score']:.0f}/100): you have the postmortem, they did not. What happened: "
            f"{card['verdict']}.")
    return card


@CHECKS.add("plan_low")
def _plan_low(plan: Any) -> str:
    card = beats_history(plan, seed=0)
    return f"band '{card['band']}' ({card['score']:.0f}/100) on seed 0, better than AWS's response"


def _plan_check(band: str) -> Any:
    def plan_reaches(plan: Any) -> str:
        card = check_plan("ebs-2011", plan, at_least=band, seed=0)
        return f"band '{card['band']}' ({card['score']:.0f}/100) on seed 0"
    return plan_reaches


for _band in ("middle", "top"):
    CHECKS.add(f"plan_{_band}")(_plan_check(_band))

__all__ = ["CHECKS", "SPARES", "POLICIES", "TIMEOUTS", "delay_samples", "values_of",
           "jitter_problem", "window_mean", "hand_made_result", "beats_history"]
