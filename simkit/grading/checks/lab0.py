"""Visible checks of lab 0, the physics of overload (``check("lab0.<name>", ...)``).

Each check takes the learner's answers and raises ``AssertionError`` saying what is
wrong. The expected values shown here are those of the visible inputs, which the lab
shows anyway. Helpers that must run next to the learner's code (a retry budget
driven through a sequence of successes and retries, the storm with the learner's
budget plugged in) are plain functions, called through
:func:`~simkit.grading.context.in_notebook`, so the hidden tests can use them too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..canonical import check_plan
from ..context import in_notebook
from ..values import check_between, check_close, check_number, check_type
from . import Checks

CHECKS = Checks("lab0")

#: the base loads of the sweep in question 4.2
BASES = [40, 45, 50, 55, 60, 65, 70]


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


# -- Part 2 -------------------------------------------------------------------------------

@CHECKS.add("utilisation")
def _utilisation(utilisation: Any) -> None:
    check_close("utilisation(70, 10, 0.1)", utilisation(70, 10, 0.1), 0.7, rel=1e-9, show_expected=True,
                hint="70 requests/s x 0.1 s of work each keeps 7 of the 10 workers busy on average")
    check_close("utilisation(140, 10, 0.1)", utilisation(140, 10, 0.1), 1.4, rel=1e-9, show_expected=True,
                hint="values above 1 are allowed: they mean more work arrives than the service can do")
    check_close("utilisation(0, 4, 0.5)", utilisation(0, 4, 0.5), 0.0, abs_=1e-12, show_expected=True)


@CHECKS.add("erlang_c_wait_s")
def _erlang(erlang_c_wait_s: Any) -> None:
    check_close("erlang_c_wait_s(8, 1, 0.1)", erlang_c_wait_s(8, 1, 0.1), 0.4, rel=1e-6, show_expected=True,
                hint="with one worker the answer is S * rho / (1 - rho) = 0.1 * 0.8 / 0.2")
    check_close("erlang_c_wait_s(80, 10, 0.1)", erlang_c_wait_s(80, 10, 0.1), 0.0204590, rel=1e-4,
                show_expected=True,
                hint="10 workers at 80 % utilisation: about 20 ms of queueing on average. "
                     "Check the sum runs over k = 0 .. c-1 and the last term uses a**c / c!")
    check_close("erlang_c_wait_s(70, 10, 0.1)", erlang_c_wait_s(70, 10, 0.1), 0.0073910, rel=1e-4,
                show_expected=True)
    check_close("erlang_c_wait_s(100, 10, 0.1)", erlang_c_wait_s(100, 10, 0.1), math.inf,
                hint="at exactly 100 % utilisation the queue never settles: return math.inf")
    check_close("erlang_c_wait_s(140, 10, 0.1)", erlang_c_wait_s(140, 10, 0.1), math.inf,
                hint="above 100 % utilisation the queue grows for ever: return math.inf")
    check_close("erlang_c_wait_s(0, 5, 0.1)", erlang_c_wait_s(0, 5, 0.1), 0.0, abs_=1e-12, show_expected=True,
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
    if not (isinstance(empty, float) and math.isnan(empty)):
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


# -- Part 3 and 4: numbers read from runs --------------------------------------------------

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


@CHECKS.add("whatif_vulnerable", passed="the sweep is consistent (hidden tests rerun the edge of it)")
def _vulnerable(recovered: Any, goodput_end: Any, largest: Any) -> None:
    if not (isinstance(recovered, (list, tuple, np.ndarray)) and isinstance(goodput_end, (list, tuple, np.ndarray))
            and len(recovered) == len(BASES) and len(goodput_end) == len(BASES)):
        raise AssertionError(f"SWEEP_RECOVERED and SWEEP_GOODPUT_END need one entry per base load "
                             f"({len(BASES)}), in the order of BASES")
    for value in recovered:
        check_type("each entry of SWEEP_RECOVERED", value, bool)
    for value in goodput_end:
        check_number("each entry of SWEEP_GOODPUT_END", value)
    check_type("LARGEST_RECOVERING_BASE_RPS", largest, float)
    if largest not in BASES:
        raise AssertionError(f"LARGEST_RECOVERING_BASE_RPS should be one of {BASES}, got {largest!r}")
    ok = [b for b, r in zip(BASES, recovered) if r]
    if not ok or largest != max(ok):
        raise AssertionError("LARGEST_RECOVERING_BASE_RPS does not match your own SWEEP_RECOVERED: it should be "
                             f"the largest base load marked True there ({max(ok) if ok else 'none is'})")


@CHECKS.add("whatif_backoff", passed="the answers have the right form (hidden tests compare them with the kit's run)")
def _backoff(recovers: Any, amplification: Any) -> None:
    check_type("BACKOFF_RECOVERS", recovers, bool)
    check_between("BACKOFF_AMPLIFICATION_END", amplification, 1.0, 4.5,
                  hint="attempts per customer request: at least 1, and not much more than max_retries + 1 = 4")


@CHECKS.add("whatif_budget", passed="the answers have the right form (hidden tests compare them with the kit's run)")
def _budget(goodput_rps: Any, amplification: Any) -> None:
    check_between("BUDGET_GOODPUT_END_RPS", goodput_rps, 0.0, 100.0,
                  hint="goodput in requests per second: the service cannot do more than 100 per second")
    check_between("BUDGET_AMPLIFICATION_END", amplification, 1.0, 4.5,
                  hint="attempts per customer request: at least 1, and not much more than max_retries + 1 = 4")


# -- Part 5: the commander plan -------------------------------------------------------------

def _plan_check(band: str) -> Any:
    def plan_reaches(plan: Any) -> str:
        card = check_plan("retry-storm", plan, at_least=band, seed=0)
        return f"band '{card['band']}' ({card['score']:.0f}/100) on seed 0"
    return plan_reaches


for _band in ("low", "middle", "top"):
    CHECKS.add(f"plan_{_band}")(_plan_check(_band))

__all__ = ["CHECKS", "BASES", "budget_trace", "storm_with_budget", "granted_count", "hand_made_result"]
