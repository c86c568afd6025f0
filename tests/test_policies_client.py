"""Retry policies, budget, breaker, throttle, and the clients that use them."""

import random

import pytest

from simkit.client import Clients, LoadProfile
from simkit.policies import (AdaptiveThrottle, CircuitBreaker, ExponentialBackoff, FixedRetry, NoRetry,
                             RetryBudget)
from simkit.service import Service
from simkit.world import World


def test_no_retry_and_fixed_retry():
    rng = random.Random(0)
    assert NoRetry().delay_s(1, rng) is None
    fixed = FixedRetry(max_retries=2, wait_s=0.5)
    assert [fixed.delay_s(i, rng) for i in (1, 2, 3)] == [0.5, 0.5, None]


def test_backoff_without_jitter_doubles_up_to_the_cap():
    b = ExponentialBackoff(max_retries=6, base_s=0.1, cap_s=1.0, jitter="none")
    assert [b.delay_s(i, None) for i in range(1, 8)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, None]


@pytest.mark.parametrize("jitter, low_share", [("full", 0.0), ("equal", 0.5)])
def test_jittered_backoff_stays_in_its_range(jitter, low_share):
    b = ExponentialBackoff(max_retries=10, base_s=0.1, cap_s=2.0, jitter=jitter)
    rng = random.Random(1)
    for retry in range(1, 10):
        ceiling = min(2.0, 0.1 * 2 ** (retry - 1))
        draws = [b.delay_s(retry, rng) for _ in range(200)]
        assert min(draws) >= low_share * ceiling and max(draws) <= ceiling
        assert max(draws) - min(draws) > 0.3 * ceiling  # really spread out


def test_decorrelated_jitter_grows_from_previous_delay_and_respects_cap():
    b = ExponentialBackoff(max_retries=50, base_s=0.1, cap_s=3.0, jitter="decorrelated")
    rng = random.Random(2)
    delay = 0.0
    for retry in range(1, 40):
        new = b.delay_s(retry, rng, delay)
        assert 0.1 <= new <= min(3.0, 3 * max(delay, 0.1))
        delay = new


def test_retry_budget_bounds_retries_by_successes():
    budget = RetryBudget(ratio=0.1, max_tokens=5)
    spent = sum(budget.try_spend() for _ in range(100))
    assert spent == 5  # the initial bucket, then nothing
    for _ in range(100):
        budget.on_success()
    assert sum(budget.try_spend() for _ in range(100)) == 5  # 100 x 0.1 = 10, capped at 5


def test_circuit_breaker_opens_cools_down_and_probes():
    cb = CircuitBreaker(failure_threshold=3, cooldown_s=10)
    for t in range(3):
        assert cb.allow(t)
        cb.record(False, t)
    assert cb.is_open and not cb.allow(5)
    assert cb.allow(13)  # half-open: one probe
    assert not cb.allow(13.5)  # ...only one
    cb.record(True, 14)
    assert not cb.is_open and cb.allow(14)


def test_adaptive_throttle_rejects_when_backend_accepts_little():
    rng = random.Random(3)
    throttle = AdaptiveThrottle(k=2)
    allowed = sum(throttle.allow(rng) for _ in range(2000))  # nothing is ever accepted
    assert allowed < 300
    healthy = AdaptiveThrottle(k=2)
    ok = 0
    for _ in range(2000):
        if healthy.allow(rng):
            ok += 1
            healthy.on_success()
    assert ok == 2000


def test_load_profile_spike_and_changes():
    p = LoadProfile.spike(base=10, factor=3, start_s=5, duration_s=2)
    assert [p.rate_at(t) for t in (0, 5, 6.9, 7)] == [10, 30, 30, 10]
    assert p.next_change_after(5) == 7 and p.next_change_after(7) == float("inf")


def test_poisson_arrivals_follow_the_profile():
    world = World(4, horizon_s=200, bucket_s=100)
    service = Service(world, workers=100, mean_service_s=0.01)
    Clients(world, service, LoadProfile([(0, 50), (100, 10)]), timeout_s=1)
    world.run()
    offered = world.metrics.series()["offered"]
    assert offered[0] == pytest.approx(5000, rel=0.05) and offered[1] == pytest.approx(1000, rel=0.1)


def _storm(**client_kw):
    world = World(5, horizon_s=60, bucket_s=1)
    service = Service(world, workers=2, mean_service_s=0.1)  # capacity 20/s
    Clients(world, service, LoadProfile([(0, 30)]), timeout_s=0.3, **client_kw)
    world.run()
    return world.metrics


def test_retries_amplify_attempts_and_budget_caps_them():
    plain = _storm(retry=FixedRetry(max_retries=3))
    budgeted = _storm(retry=FixedRetry(max_retries=3), budget=RetryBudget(ratio=0.1))
    assert plain.total("attempts") > 3.5 * plain.total("offered")
    assert budgeted.total("retries") <= 0.1 * budgeted.total("success") + 10 + 1e-9
    for m in (plain, budgeted):
        assert m.total("attempts") == m.total("offered") + m.total("retries") - m.total("throttled")


def test_breaker_turns_attempts_into_local_failures():
    m = _storm(retry=FixedRetry(max_retries=3), breaker=CircuitBreaker(failure_threshold=5, cooldown_s=2))
    assert m.total("throttled") > 0
    assert m.total("attempts") < _storm(retry=FixedRetry(max_retries=3)).total("attempts")


def test_every_call_ends_once():
    m = _storm(retry=ExponentialBackoff(max_retries=2, base_s=0.05, cap_s=1))
    assert m.total("success") + m.total("failed") <= m.total("offered")
    assert m.total("answered") == m.total("success")
