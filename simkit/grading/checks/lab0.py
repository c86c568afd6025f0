"""Visible checks of lab 0, the physics of overload (``check("lab0.<name>", ...)``).

Each check takes the learner's answers and raises ``AssertionError`` saying what is
wrong. The expected values shown here are those of the visible inputs, which the lab
shows anyway; answers read from runs are only checked for their form here (the hidden
tests compare them with the kit). Helpers that must run next to the learner's code (a
retry budget driven through a sequence of successes and retries, the storm with the
learner's budget plugged in, a function tried on many inputs) are plain functions,
called through :func:`~simkit.grading.context.in_notebook`, so the hidden tests can use
them too; so are the kit's own answers the hidden tests compare with
(:func:`recovered_shares`, :func:`des_collapsed_shares`, :func:`fluid_comparison`).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..canonical import check_plan, run_summary
from ..context import in_hidden_tests, in_notebook
from ..values import check_between, check_close, check_number, check_seed_shares, check_type, is_number
from . import Checks

CHECKS = Checks("lab0")

#: Part 3: the storm alone (the first five minutes of the game's incident) and the window after the spike
STORM_PARAMS = {"horizon_s": 300}
AFTER_SPIKE_S = (120, 300)
#: 4.1: the run without retries
NO_RETRY_PARAMS = {"retry_policy": "none", "horizon_s": 300}
#: 4.2: the base loads and the nights (seeds) of the sweep, each run this long
BASES = [40, 45, 50, 55, 60]
SWEEP_SEEDS = [0, 1, 2, 3, 4]
SWEEP_HORIZON_S = 200
#: 4.3 and 4.4
BACKOFF_PARAMS = {"retry_policy": "backoff", "horizon_s": 200}
BUDGET_PARAMS = {"retry_policy": "budget", "horizon_s": 200}
#: 4.5: the default service in the envelope's terms, the fluid map's grid, the discrete-event check
DEFAULT_SERVICE = {"base_load_rps": 70.0, "capacity_rps": 100.0, "timeout_s": 1.0, "max_retries": 3}
MAP_GRID = 25
DES_SPIKE = 1.6
DES_DURATIONS = [2.0, 6.0, 10.0]
DES_SEEDS = [0, 1, 2, 3, 4]
#: Part 5: the nights the visible plan checks replay (on night 2 the alarm fires a tick later)
PLAN_SEEDS = (0, 2)


# -- helpers that run next to the learner's code ---------------------------------------

def budget_trace(budget_class: Any, ratio: float, max_tokens: float, steps: str) -> dict[str, Any]:
    """Drive a new ``budget_class(ratio=..., max_tokens=...)`` through ``steps``.

    ``steps`` is a string: ``"s"`` is a success (``on_success()``), ``"r"`` a retry
    (``try_spend()``). Returns the starting tokens and, per step, what
    ``try_spend()`` returned (None for a success) and the tokens after the step.
    """
    budget = budget_class(ratio=ratio, max_tokens=max_tokens)
    start = budget.tokens
    granted, tokens = [], []
    for step in steps:
        if step == "s":
            budget.on_success()
            granted.append(None)
        else:
            granted.append(budget.try_spend())
        tokens.append(budget.tokens)
    return {"start": start, "granted": granted, "tokens": tokens}


def storm_with_budget(budget_class: Any, seed: int, horizon_s: float = 200.0) -> dict[str, Any]:
    """The retry storm's summary with ``budget_class(ratio=0.1, max_tokens=10)`` as the clients' budget."""
    from ...scenarios.retry_storm import Model

    model = Model({"horizon_s": horizon_s}, seed=seed)
    model.clients.budget = budget_class(ratio=0.1, max_tokens=10)
    model.advance_to(model.horizon_s)
    return model.summary()


def granted_count(trace: dict[str, Any], what: str) -> int:
    """How many retries a trace granted; each ``try_spend()`` must have said True or False."""
    count = 0
    for answer in trace["granted"]:
        if answer is not None:
            check_type(f"{what}: try_spend()", answer, bool)
            count += bool(answer)
    return count


def apply_cases(function: Any, cases: list[tuple]) -> list[list]:
    """Call ``function(*case)`` for each case; per case ``["ok", value]`` or ``["raised", "ErrorName"]``."""
    out = []
    for case in cases:
        try:
            out.append(["ok", function(*case)])
        except Exception as exc:  # the learner's error, reported by its type
            out.append(["raised", type(exc).__name__])
    return out


# -- the kit's answers (what the hidden tests compare with) -----------------------------------

def window_figures(result: Any, start_s: float, end_s: float) -> dict[str, float]:
    """Attempts per customer request and the goodput share over the buckets ``start_s <= t < end_s``."""
    window = (result.t_s >= start_s) & (result.t_s < end_s)
    return {"amplification": float(result["attempts"][window].sum() / result["offered"][window].sum()),
            "goodput_share": float(result["useful"][window].sum() / result["served"][window].sum())}


def recovered_shares(bases: list[float] = BASES, seeds: list[int] = SWEEP_SEEDS) -> dict[float, float]:
    """4.2: for each base load, the share of ``seeds`` on which the default spike passed (kit runs, cached)."""
    return {base: sum(bool(run_summary("retry-storm", {"base_load_rps": base, "horizon_s": SWEEP_HORIZON_S},
                                       seed=seed)["recovered"]) for seed in seeds) / len(seeds)
            for base in bases}


def des_collapsed_shares(durations: list[float] = DES_DURATIONS, seeds: list[int] = DES_SEEDS,
                         spike: float = DES_SPIKE) -> dict[float, float]:
    """4.5: for each spike duration, the share of ``seeds`` on which the storm outlived the spike."""
    return {d: sum(not run_summary("retry-storm", {"spike_factor": spike, "spike_duration_s": d, **STORM_PARAMS},
                                   seed=seed)["recovered"] for seed in seeds) / len(seeds)
            for d in durations}


def kit_envelope(spike_factor: float, spike_duration_s: float, base_load_rps: float, capacity_rps: float,
                 timeout_s: float, max_retries: int) -> bool:
    """The kit's back-of-envelope prediction (:class:`simkit.phase.Envelope`) for one spike."""
    from ...phase import Envelope

    return bool(Envelope(capacity_rps, base_load_rps, timeout_s, max_retries).collapses(spike_factor,
                                                                                       spike_duration_s))


def kit_spike_needed_s(spike_factor: float, base_load_rps: float, capacity_rps: float, timeout_s: float) -> float:
    """The kit's shortest spike that builds a queue one timeout deep (math.inf if it never does)."""
    from ...phase import Envelope

    return float(Envelope(capacity_rps, base_load_rps, timeout_s, 0).critical_duration_s(spike_factor))


def fluid_comparison(grid: int = MAP_GRID, predicted: Any = None) -> dict[str, float]:
    """4.5: the default fluid phase map against an envelope's predictions on its grid.

    ``predicted`` (rows durations, columns sizes; True = collapses) defaults to the
    kit's envelope. Returns the share of cells that agree and the counts of cells
    where the map collapses but the prediction says it recovers (too optimistic) and
    the other way round (too pessimistic).
    """
    from ...phase import envelope, phase_map

    fluid = phase_map("retry-storm", lens="fluid", grid=grid)
    if predicted is None:
        predicted = envelope(fluid.params).grid(fluid.sizes, fluid.durations)
    predicted = np.asarray(predicted, dtype=bool)
    collapsed = ~fluid.recovered
    return {"agreement": float((predicted == collapsed).mean()),
            "too_optimistic": int((collapsed & ~predicted).sum()),
            "too_pessimistic": int((predicted & ~collapsed).sum())}


# -- Part 2 -------------------------------------------------------------------------------

@CHECKS.add("utilisation")
def _utilisation(utilisation: Any) -> None:
    check_close("utilisation(70, 10, 0.1)", utilisation(70, 10, 0.1), 0.7, rel=1e-9, show_expected=True,
                hint="70 requests/s x 0.1 s of work each keeps 7 of the 10 workers busy on average")
    check_close("utilisation(140, 10, 0.1)", utilisation(140, 10, 0.1), 1.4, rel=1e-9, show_expected=True,
                hint="values above 1 are allowed: they mean more work arrives than the service can do")
    check_close("utilisation(0, 4, 0.5)", utilisation(0, 4, 0.5), 0.0, abs_=1e-12, show_expected=True)


def _erlang_at(erlang_c_wait_s: Any, arrival_rps: float, workers: int, mean_service_s: float) -> Any:
    """Call the learner's Erlang C; a division by zero or an overflow becomes a sentence about the edge case."""
    call = f"erlang_c_wait_s({arrival_rps:g}, {workers}, {mean_service_s:g})"
    try:
        return erlang_c_wait_s(arrival_rps, workers, mean_service_s)
    except ZeroDivisionError:
        raise AssertionError(
            f"{call} raised ZeroDivisionError: at rho = 1 the formula divides by 1 - rho = 0. Check rho "
            "first and return math.inf when rho >= 1, before the formula is used") from None
    except OverflowError:
        raise AssertionError(
            f"{call} raised OverflowError: build the terms a**k / k! one from the other "
            "(term *= a / k) instead of computing huge powers and factorials") from None


@CHECKS.add("erlang_c_wait_s")
def _erlang(erlang_c_wait_s: Any) -> None:
    def wait(*args: Any) -> Any:
        return _erlang_at(erlang_c_wait_s, *args)

    check_close("erlang_c_wait_s(8, 1, 0.1)", wait(8, 1, 0.1), 0.4, rel=1e-6, show_expected=True,
                hint="with one worker the answer is S * rho / (1 - rho) = 0.1 * 0.8 / 0.2")
    check_close("erlang_c_wait_s(80, 10, 0.1)", wait(80, 10, 0.1), 0.0204590, rel=1e-4,
                show_expected=True,
                hint="10 workers at 80 % utilisation: about 20 ms of queueing on average. "
                     "Check the sum runs over k = 0 .. c-1 and the last term uses a**c / c!")
    check_close("erlang_c_wait_s(70, 10, 0.1)", wait(70, 10, 0.1), 0.0073910, rel=1e-4,
                show_expected=True)
    check_close("erlang_c_wait_s(100, 10, 0.1)", wait(100, 10, 0.1), math.inf,
                hint="at exactly 100 % utilisation (rho = 1) the queue never settles: return math.inf")
    check_close("erlang_c_wait_s(140, 10, 0.1)", wait(140, 10, 0.1), math.inf,
                hint="above 100 % utilisation the queue grows for ever: return math.inf (the formula "
                     "would give a negative number there)")
    check_close("erlang_c_wait_s(0, 5, 0.1)", wait(0, 5, 0.1), 0.0, abs_=1e-12, show_expected=True,
                hint="with no arrivals nobody waits (is something divided by the arrival rate?)")


def hand_made_result():
    """The small result the goodput check uses: 6 one-second buckets."""
    from ...result import Result

    return Result("hand-made", 0, {}, np.arange(6.0),
                  {"served": np.array([10.0, 10, 10, 10, 0, 0]), "useful": np.array([10.0, 5, 0, 0, 0, 0])})


@CHECKS.add("goodput_share")
def _goodput(goodput_share: Any) -> None:
    fake = hand_made_result()
    check_close("goodput_share(fake, 0, 4)", goodput_share(fake, 0, 4), 15 / 40, rel=1e-9, show_expected=True,
                hint="useful 10+5+0+0 over served 10+10+10+10 in the buckets starting at 0, 1, 2, 3")
    check_close("goodput_share(fake, 0, 2)", goodput_share(fake, 0, 2), 0.75, rel=1e-9, show_expected=True,
                hint="end_s is excluded: the window [0, 2) holds the buckets starting at 0 and 1 only")
    check_close("goodput_share(fake, 2, 4)", goodput_share(fake, 2, 4), 0.0, abs_=1e-12, show_expected=True,
                hint="busy but useless: everything served there was wasted")
    empty = goodput_share(fake, 4, 6)
    if not (is_number(empty) and math.isnan(empty)):
        raise AssertionError(f"goodput_share(fake, 4, 6) should be math.nan (nothing was served, so the "
                             f"share is 0/0), got {empty!r}")


@CHECKS.add("max_amplification")
def _amplification(max_amplification: Any) -> None:
    check_close("max_amplification(3)", max_amplification(3), 4, rel=1e-9, show_expected=True,
                hint="the first attempt plus 3 retries")
    check_close("max_amplification(0)", max_amplification(0), 1, rel=1e-9, show_expected=True,
                hint="no retries: one attempt per request")
    check_close("max_amplification(2, layers=5)", max_amplification(2, layers=5), 243, rel=1e-9,
                show_expected=True, hint="3 attempts at each of 5 layers multiply: 3 ** 5")


@CHECKS.add("token_bucket_budget", passed="TokenBucketBudget: the visible checks pass")
def _token_bucket(budget_class: Any) -> None:
    steps = "rrrrr" + "s" + "r" + "s" + "r" + "s" * 100
    trace = in_notebook(budget_trace, budget_class, 0.5, 3, steps)
    if trace["start"] != 3:
        raise AssertionError(f"a new budget should start full (tokens == max_tokens == 3), "
                             f"but tokens = {trace['start']!r}")
    granted, tokens = trace["granted"], trace["tokens"]
    if granted[:5] != [True, True, True, False, False]:
        raise AssertionError(f"with 3 tokens, 5 retries in a row should give [True, True, True, False, False], "
                             f"got {granted[:5]}")
    if tokens[5] != 0.5:
        raise AssertionError(f"after one success at ratio 0.5 the bucket should hold 0.5 tokens, "
                             f"it holds {tokens[5]!r}")
    if granted[6] != False:  # noqa: E712 (0 and numpy booleans count too)
        raise AssertionError("half a token is not enough: try_spend() should return False (and spend nothing)")
    if granted[8] != True:  # noqa: E712
        raise AssertionError("two successes at ratio 0.5 make one whole token: try_spend() should return True")
    if tokens[-1] != 3:
        raise AssertionError(f"the bucket must never hold more than max_tokens (3), but it holds {tokens[-1]!r}")
    # A deposit that does not fit exactly: 1.9 + 0.3 must stop at 2, not reach 2.2.
    tokens = in_notebook(budget_trace, budget_class, 0.3, 2, "r" + "s" * 6)["tokens"]
    if max(check_number("tokens", t) for t in tokens) > 2 + 1e-9 or abs(tokens[-1] - 2) > 1e-9:
        raise AssertionError(f"with ratio 0.3 and max_tokens 2, one retry and then six successes should end with "
                             f"exactly 2 tokens and never more; the bucket held {[round(t, 3) for t in tokens]}. "
                             "Cap after adding the deposit: min(max_tokens, tokens + ratio)")
    # The bound: retries granted <= max_tokens + ratio * successes.
    steps = "".join("s" if i % 3 == 0 else "r" for i in range(400))
    count = granted_count(in_notebook(budget_trace, budget_class, 0.25, 2, steps), "ratio 0.25")
    successes = steps.count("s")
    if count > 2 + 0.25 * successes:
        raise AssertionError(f"{count} retries were allowed after {successes} successes, more than the bound "
                             f"max_tokens + ratio x successes = {2 + 0.25 * successes:g}")
    if count != 35:
        raise AssertionError(f"{count} retries were allowed after {successes} successes (ratio 0.25, max 2); "
                             "expected 35: 2 from the full bucket, then one per 4 successes")


# -- Part 3 and 4.1-4.4: numbers read from runs ----------------------------------------------

@CHECKS.add("reproduce", passed="the numbers are in range (hidden tests compare them with the kit's run)")
def _reproduce(amplification: Any, goodput_share: Any) -> None:
    check_between("AMPLIFICATION_AFTER_SPIKE", amplification, 1.0, 4.5,
                  hint="attempts / offered: at least 1 (every request is tried once), and with "
                       "max_retries = 3 not (much) more than 4")
    check_between("GOODPUT_SHARE_AFTER_SPIKE", goodput_share, 0.0, 1.0,
                  hint="a share: useful completions over all completions")


@CHECKS.add("whatif_wasted", passed="the answer is in range (hidden tests compare it with the kit's run)")
def _wasted(wasted_share: Any) -> None:
    check_between("NO_RETRY_WASTED_SHARE", wasted_share, 0.0, 1.0,
                  hint="wasted work is served minus useful: its share is 1 - goodput share")
    if not wasted_share > 0:
        raise AssertionError("even without retries the spike made callers time out while their requests "
                             "were queued, so some work was wasted: expected a share above 0")


@CHECKS.add("whatif_vulnerable", passed="the sweep has the right form (hidden tests compare it with the kit's runs)")
def _vulnerable(recovered_share: Any, safe_base: Any, never_base: Any) -> None:
    check_seed_shares("RECOVERED_SHARE", recovered_share, BASES, keys_name="BASES", key_kind="base load",
                      seeds=SWEEP_SEEDS, what="recovered")
    for name, value in (("SAFE_BASE_RPS", safe_base), ("NEVER_BASE_RPS", never_base)):
        check_type(name, value, float)
        if value not in BASES:
            raise AssertionError(f"{name} should be one of BASES ({BASES}), got {value!r}")
    always = [b for b in BASES if recovered_share[b] == 1.0]
    never = [b for b in BASES if recovered_share[b] == 0.0]
    if not always or safe_base != max(always):
        raise AssertionError("SAFE_BASE_RPS does not match your own RECOVERED_SHARE: it should be the largest base "
                             f"load that recovered on every seed ({max(always) if always else 'none did'})")
    if not never or never_base != min(never):
        raise AssertionError("NEVER_BASE_RPS does not match your own RECOVERED_SHARE: it should be the smallest "
                             f"base load that recovered on no seed ({min(never) if never else 'none is'})")


@CHECKS.add("whatif_backoff", passed="the answers have the right form (hidden tests compare them with the kit's run)")
def _backoff(recovers: Any, amplification: Any) -> None:
    check_type("BACKOFF_RECOVERS", recovers, bool)
    check_between("BACKOFF_AMPLIFICATION_END", amplification, 1.0, 4.5,
                  hint="attempts per customer request: at least 1, and not much more than max_retries + 1 = 4")


@CHECKS.add("whatif_budget", passed="the answers have the right form (hidden tests compare them with the kit's run)")
def _budget(goodput_rps: Any, recovered_at_s: Any) -> None:
    check_between("BUDGET_GOODPUT_END_RPS", goodput_rps, 0.0, 100.0,
                  hint="goodput in requests per second: the service cannot do more than 100 per second")
    if recovered_at_s is None:
        raise AssertionError("BUDGET_RECOVERED_AT_S is None: with a retry budget the service recovers; read "
                             "summary['recovered_at_s'] of the run with retry_policy='budget'")
    check_between("BUDGET_RECOVERED_AT_S", recovered_at_s, 60.0, 200.0,
                  hint="seconds since the start of the run (the spike starts at 60 s), from summary['recovered_at_s']")


# -- 4.5: the metastable region ----------------------------------------------------------------

def _called(function: Any, name: str, args: tuple) -> Any:
    """``function(*args)``; a division by zero becomes a sentence about the edge case."""
    try:
        return function(*args)
    except ZeroDivisionError:
        raise AssertionError(f"{name}{args} raised ZeroDivisionError: when the spike's load is exactly the "
                             "capacity no queue builds at all, so return math.inf before dividing") from None


@CHECKS.add("spike_needed_s", passed="spike_needed_s: the visible checks pass")
def _spike_needed(spike_needed_s: Any) -> None:
    for args, expected, hint in [
        ((2.0, 70, 100, 1.0), 2.5, "140 requests/s against 100: the queue grows by 40 a second, and one timeout "
                                   "of work is 1 s x 100 requests/s = 100 requests"),
        ((1.6, 70, 100, 1.0), 100 / 12, "112 against 100: 12 more a second, 100 requests to reach one timeout"),
        ((1.5, 80, 100, 2.0), 10.0, "a 2-s timeout: the queue must hold 2 s x 100 = 200 requests"),
    ]:
        check_close(f"spike_needed_s{args}", _called(spike_needed_s, "spike_needed_s", args), expected, rel=1e-9,
                    show_expected=True, hint=hint)
    for args, hint in [
        ((1.2, 70, 100, 1.0), "84 requests/s never exceed the capacity of 100: no queue builds, return math.inf "
                              "(not a negative time)"),
        ((1.25, 80, 100, 1.0), "a spike to exactly the capacity (100 of 100) builds no queue in this estimate: "
                               "return math.inf"),
    ]:
        check_close(f"spike_needed_s{args}", _called(spike_needed_s, "spike_needed_s", args), math.inf, hint=hint)


@CHECKS.add("envelope", passed="envelope_predicts_collapse: the visible checks pass")
def _envelope(envelope_predicts_collapse: Any) -> None:
    name = "envelope_predicts_collapse"
    for args, expected, why in [
        ((2.0, 30, 70, 100, 1.0, 3), True, "the default storm: 140/s for 30 s, and 4 x 70 = 280 > 100"),
        ((2.0, 2, 70, 100, 1.0, 3), False, "2 s at 140/s builds 80 requests, less than one timeout of work (100)"),
        ((1.5, 5, 80, 100, 1.0, 3), True, "120/s for 5 s builds exactly 100 requests: one timeout deep is "
                                          "long enough (>=)"),
        ((1.3, 60, 70, 100, 1.0, 3), False, "91 requests/s never exceed the capacity, however long the spike"),
        ((2.0, 30, 70, 100, 1.0, 0), False, "without retries (max_retries = 0) the 70/s left after the spike fit "
                                            "in the capacity: (0 + 1) x 70 < 100"),
        ((5.0, 30, 25, 100, 1.0, 3), False, "(3 + 1) x 25 = 100 is not more than the capacity: the retries "
                                            "cannot keep it overloaded"),
        ((5.0, 30, 26, 100, 1.0, 3), True, "(3 + 1) x 26 = 104 > 100, and 130/s for 30 s is far past one timeout"),
    ]:
        got = _called(envelope_predicts_collapse, name, args)
        check_type(f"{name}{args}", got, bool)
        if bool(got) != expected:
            raise AssertionError(f"{name}{args} should be {expected}: {why}")


@CHECKS.add("envelope_vs_map", passed="the comparison is consistent (hidden tests compare it with the kit's map)")
def _envelope_vs_map(agreement: Any, too_optimistic: Any, too_pessimistic: Any) -> None:
    cells = MAP_GRID * MAP_GRID
    check_between("ENVELOPE_AGREEMENT", agreement, 0.0, 1.0, hint="a share of the map's cells")
    for name, value in (("TOO_OPTIMISTIC", too_optimistic), ("TOO_PESSIMISTIC", too_pessimistic)):
        check_type(name, value, int)
        if not 0 <= value <= cells:
            raise AssertionError(f"{name} counts cells of the {MAP_GRID} x {MAP_GRID} map: between 0 and {cells}")
    if abs(float(agreement) - (1 - (too_optimistic + too_pessimistic) / cells)) > 1e-9:
        raise AssertionError("the cells that disagree are the too optimistic and the too pessimistic ones: "
                             "ENVELOPE_AGREEMENT should be 1 - (TOO_OPTIMISTIC + TOO_PESSIMISTIC) / cells")


@CHECKS.add("envelope_vs_des", passed="the answers are consistent (hidden tests compare them with the kit's runs)")
def _envelope_vs_des(collapsed_share: Any, wrong_at: Any, envelope_predicts_collapse: Any) -> None:
    check_seed_shares("DES_COLLAPSED_SHARE", collapsed_share, DES_DURATIONS, keys_name="DES_DURATIONS",
                      key_kind="duration", seeds=DES_SEEDS, what="collapsed (did not recover)")
    check_type("ENVELOPE_WRONG_AT", wrong_at, set)
    if not set(wrong_at) <= set(DES_DURATIONS):
        raise AssertionError(f"ENVELOPE_WRONG_AT holds durations of DES_DURATIONS ({DES_DURATIONS})")
    mine = {d for d in DES_DURATIONS
            if bool(envelope_predicts_collapse(DES_SPIKE, d, *DEFAULT_SERVICE.values())) != (collapsed_share[d] > 0.5)}
    if set(wrong_at) != mine:
        raise AssertionError("ENVELOPE_WRONG_AT does not match your own numbers: it should hold the durations where "
                             "your envelope_predicts_collapse says one thing and most seeds (share > 0.5) the other")


# -- Part 5: the commander plan -------------------------------------------------------------

def _plan_check(band: str, seeds: tuple[int, ...]) -> Callable[[Any], str]:
    def plan_reaches(plan: Any) -> str:
        cards = []
        for seed in seeds:
            try:
                cards.append(check_plan("retry-storm", plan, at_least=band, seed=seed))
            except AssertionError as failure:
                if seed == 0 or in_hidden_tests():
                    raise
                raise AssertionError(f"on seed {seed}, where the alarm fires a tick later (00:01:10): "
                                     f"{failure}") from None
        return "; ".join(f"band '{c['band']}' ({c['score']:.0f}/100) on seed {s}" for c, s in zip(cards, seeds))
    return plan_reaches


CHECKS.add("plan_low")(_plan_check("low", (0,)))
for _band in ("middle", "top"):
    CHECKS.add(f"plan_{_band}")(_plan_check(_band, PLAN_SEEDS))

__all__ = ["CHECKS", "BASES", "SWEEP_SEEDS", "SWEEP_HORIZON_S", "STORM_PARAMS", "AFTER_SPIKE_S", "NO_RETRY_PARAMS",
           "BACKOFF_PARAMS", "BUDGET_PARAMS", "DEFAULT_SERVICE", "MAP_GRID", "DES_SPIKE", "DES_DURATIONS",
           "DES_SEEDS", "PLAN_SEEDS", "budget_trace", "storm_with_budget", "granted_count", "apply_cases",
           "window_figures", "recovered_shares", "des_collapsed_shares", "kit_envelope", "kit_spike_needed_s",
           "fluid_comparison", "hand_made_result"]
