"""Lab 0's visible checks catch the typical mistakes and pass right answers in other styles (quick tier).

The whole lab, hidden tests included, is graded in ``test_lab0_submissions.py`` (slow);
these are the checks module's promises, one mistake at a time.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simkit import grading
from simkit.grading.checks import lab0
from simkit.phase import Envelope
from simkit.policies import RetryBudget


def _erlang(arrival_rps, workers, mean_service_s, guard=True):
    a = arrival_rps * mean_service_s
    rho = a / workers
    if guard and rho >= 1:
        return math.inf
    below = sum(a ** k / math.factorial(k) for k in range(workers))
    top = a ** workers / math.factorial(workers) / (1 - rho)
    return top / (below + top) * mean_service_s / (workers * (1 - rho))


def test_erlang_c_without_the_rho_guard_is_told_why_it_divides_by_zero() -> None:
    grading.check("lab0.erlang_c_wait_s", _erlang)
    with pytest.raises(AssertionError, match=r"ZeroDivisionError: at rho = 1 .* return math.inf"):
        grading.check("lab0.erlang_c_wait_s", lambda lam, c, s: _erlang(lam, c, s, guard=False))


def test_max_amplification_may_return_a_numpy_integer() -> None:
    grading.check("lab0.max_amplification", lambda k, layers=1: np.prod([np.int64(k + 1)] * layers))
    grading.check("lab0.max_amplification", lambda k, layers=1: np.int64(k + 1) ** np.int64(layers))


class _CapsBeforeDepositing:
    """Checks the cap, then adds: the bucket can end above max_tokens."""

    def __init__(self, ratio=0.1, max_tokens=10.0):
        self.ratio, self.max_tokens, self.tokens = ratio, max_tokens, max_tokens

    def on_success(self):
        if self.tokens < self.max_tokens:
            self.tokens += self.ratio

    def try_spend(self):
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def test_a_token_bucket_that_caps_before_depositing_fails() -> None:
    grading.check("lab0.token_bucket_budget", RetryBudget)
    with pytest.raises(AssertionError, match="never more"):
        grading.check("lab0.token_bucket_budget", _CapsBeforeDepositing)


def _spike_needed(size, base, capacity, timeout):
    excess = size * base - capacity
    return timeout * capacity / excess if excess > 0 else math.inf


def test_spike_needed_s_passes_the_kits_formula_and_explains_the_edge_cases() -> None:
    grading.check("lab0.spike_needed_s", lambda f, b, c, t: float(Envelope(c, b, t, 0).critical_duration_s(f)))
    grading.check("lab0.spike_needed_s", _spike_needed)
    with pytest.raises(AssertionError, match="ZeroDivisionError: when the spike's load is exactly the capacity"):
        grading.check("lab0.spike_needed_s", lambda f, b, c, t: math.inf if f * b < c else t * c / (f * b - c))
    with pytest.raises(AssertionError, match="not a negative time"):
        grading.check("lab0.spike_needed_s", lambda f, b, c, t: t * c / (f * b - c))


@pytest.mark.parametrize("wrong, words", [
    (lambda f, d, b, c, t, k: d >= _spike_needed(f, b, c, t), "without retries"),                # no condition 3
    (lambda f, d, b, c, t, k: (k + 1) * b >= c and d >= _spike_needed(f, b, c, t), "is not more than"),  # >=
    (lambda f, d, b, c, t, k: (k + 1) * b > c and d > _spike_needed(f, b, c, t), "long enough"),  # > not >=
    (lambda f, d, b, c, t, k: (k + 1) * b > c and f * b > c and d >= t, "less than one timeout"),  # the timeout alone
])
def test_the_envelope_check_names_the_condition_that_is_wrong(wrong, words: str) -> None:
    grading.check("lab0.envelope", lambda f, d, b, c, t, k: Envelope(c, b, t, k).collapses(f, d))
    with pytest.raises(AssertionError, match=words):
        grading.check("lab0.envelope", wrong)


def test_the_map_and_des_checks_hold_the_answers_to_their_own_numbers() -> None:
    grading.check("lab0.envelope_vs_map", 1 - 62 / 625, np.int64(60), 2)
    with pytest.raises(AssertionError, match="should be an integer"):
        grading.check("lab0.envelope_vs_map", 1 - 62.5 / 625, 60, 2.5)
    with pytest.raises(AssertionError, match="1 - \\(TOO_OPTIMISTIC"):
        grading.check("lab0.envelope_vs_map", 0.9, 60, 0)
    envelope = lab0.kit_envelope
    grading.check("lab0.envelope_vs_des", {2.0: 0.2, 6.0: 0.8, 10.0: 0.8}, {6.0}, envelope)
    with pytest.raises(AssertionError, match="does not match your own numbers"):
        grading.check("lab0.envelope_vs_des", {2.0: 0.2, 6.0: 0.8, 10.0: 0.8}, set(), envelope)


def test_the_kits_answers_for_the_hidden_tests() -> None:
    comparison = lab0.fluid_comparison()
    assert comparison["too_pessimistic"] == 0 < comparison["too_optimistic"]
    assert comparison["agreement"] == pytest.approx(1 - comparison["too_optimistic"] / lab0.MAP_GRID ** 2)
    assert lab0.kit_spike_needed_s(1.6, 70, 100, 1.0) == pytest.approx(100 / 12)
    assert lab0.kit_spike_needed_s(1.25, 80, 100, 1.0) == math.inf
    assert lab0.kit_envelope(1.5, 5, 80, 100, 1.0, 3) is True
    assert lab0.apply_cases(lambda x: 1 / x, [(2,), (0,)]) == [["ok", 0.5], ["raised", "ZeroDivisionError"]]


def test_a_plan_timed_to_seed_0s_page_is_told_what_happened_on_seed_2() -> None:
    early = [("00:01:05", "shed_load"), ("00:01:05", "add_capacity"), ("00:02:10", "add_capacity")]
    assert "on seed 0" in grading.check("lab0.plan_low", early)
    with pytest.raises(AssertionError, match=r"on seed 2, where the alarm fires a tick later .*nothing has alerted"):
        grading.check("lab0.plan_middle", early)
    grading.check("lab0.plan_top", [("00:01:10", "shed_load"), ("00:01:10", "add_capacity"),
                                    ("00:02:15", "add_capacity")])
