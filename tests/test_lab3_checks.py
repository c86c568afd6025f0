"""Lab 3's visible checks catch the typical mistakes and pass the kit's own answers (quick tier).

The whole lab, hidden tests included, is graded in ``test_lab3_submissions.py`` (slow);
these are the checks module's promises, one mistake at a time.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from simkit import grading
from simkit.grading.checks import lab3
from simkit.scenarios import ebs_2011 as ebs


def _midpoint_jitter(failures, rng, base_s, cap_s, backoff, previous_delay_s=0.0):
    """Right on average, never random: the middle of each jitter's range."""
    ceiling = min(cap_s, base_s * 2.0 ** min(failures - 1, 60))
    waits = {"full": ceiling / 2, "equal": 0.75 * ceiling,
             "decorrelated": min(cap_s, 2 * max(previous_delay_s, base_s))}
    if backoff in waits:
        return waits[backoff]
    return ebs.search_delay_s(failures, rng, base_s, cap_s, backoff, previous_delay_s)


def _triangular_jitter(failures, rng, base_s, cap_s, backoff, previous_delay_s=0.0):
    """The right range, mean and (nearly) spread for 'full', but not uniform."""
    if backoff == "full":
        ceiling = min(cap_s, base_s * 2.0 ** min(failures - 1, 60))
        return ceiling * (rng.random() + rng.random()) / 2
    return ebs.search_delay_s(failures, rng, base_s, cap_s, backoff, previous_delay_s)


def test_the_kits_search_delay_passes_and_a_numpy_one_too() -> None:
    grading.check("lab3.search_delay_s", ebs.search_delay_s)
    grading.check("lab3.search_delay_s",
                  lambda f, rng, b, c, k, p=0.0: np.float64(ebs.search_delay_s(f, rng, b, c, k, p)))


@pytest.mark.parametrize("wrong, words", [(_midpoint_jitter, "spread"), (_triangular_jitter, "uniform")])
def test_a_jitter_that_is_not_a_uniform_draw_fails(wrong, words: str) -> None:
    with pytest.raises(AssertionError, match=words):
        grading.check("lab3.search_delay_s", wrong)


def test_jitter_problem_accepts_uniform_draws_and_names_what_is_wrong() -> None:
    rng = random.Random(5)
    assert lab3.jitter_problem([rng.uniform(0, 16) for _ in range(4000)], 0, 16) is None
    assert "spread" in lab3.jitter_problem([8.0] * 4000, 0, 16)
    assert "mean" in lab3.jitter_problem([rng.uniform(0, 8) for _ in range(4000)], 0, 16)
    assert "left" in lab3.jitter_problem([rng.uniform(0, 17) for _ in range(4000)], 0, 16)


@pytest.fixture(scope="module")
def storm():
    return ebs.run(seed=0)


def test_reproduce_passes_the_healthy_zones_and_names_zone_a(storm) -> None:
    mean = storm.summary["stuck_share_mean"]
    stuck = storm.mean_between("stuck_share", 2 * 3600, 2.5 * 3600)
    healthy = storm.mean_between("api_error_share_healthy", 20 * 60, 130 * 60)
    zone_a = storm.mean_between("api_error_share_affected", 20 * 60, 130 * 60)
    grading.check("lab3.reproduce", mean, stuck, np.float64(healthy), storm)
    with pytest.raises(AssertionError, match="zone a's error share"):
        grading.check("lab3.reproduce", mean, stuck, zone_a, storm)
    with pytest.raises(AssertionError, match="nearly full, not exhausted"):
        grading.check("lab3.reproduce", mean, stuck, 0.9, storm)


def test_timeout_check_wants_the_prediction_with_the_right_call_rate() -> None:
    errors = [0.0, 0.0, 0.0015, 0.0027, 0.066, 0.449]
    grading.check("lab3.whatif_timeout", errors, 90, (64 - 20) / 0.3)
    grading.check("lab3.whatif_timeout", np.array(errors), np.int64(90), np.float64(146.7))
    with pytest.raises(AssertionError, match="PREDICTED_MAX_TIMEOUT_S"):
        grading.check("lab3.whatif_timeout", errors, 90, (64 - 20) / 0.4)
    with pytest.raises(AssertionError, match="one of"):
        grading.check("lab3.whatif_timeout", errors, 120, (64 - 20) / 0.3)


def test_the_first_plan_check_asks_to_beat_what_aws_did() -> None:
    with pytest.raises(AssertionError, match="AWS's own response"):
        grading.check("lab3.plan_low", ebs.HISTORICAL_PLAN)
    card = lab3.beats_history([(np.int64(20), "disable_create_volume"), ("00:50:00", "throttle_remirror")], seed=0)
    assert card["band"] in ("middle", "top")
