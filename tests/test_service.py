"""The service against queueing theory, and its wasted work under timeouts."""

import math

import pytest

from simkit.client import Clients, LoadProfile
from simkit.policies import NoRetry
from simkit.service import Service
from simkit.world import World


def erlang_c_wait_s(arrival_rps: float, workers: int, mean_service_s: float) -> float:
    """Mean time in queue of an M/M/c queue (Erlang C formula)."""
    a = arrival_rps * mean_service_s  # offered load in Erlangs
    rho = a / workers
    top = a**workers / math.factorial(workers) / (1 - rho)
    bottom = sum(a**k / math.factorial(k) for k in range(workers)) + top
    p_wait = top / bottom
    return p_wait * mean_service_s / (workers * (1 - rho))


@pytest.mark.parametrize("workers, arrival_rps", [(1, 0.6), (4, 3.0), (10, 8.0)])
def test_mmc_mean_queueing_delay_matches_erlang_c(workers, arrival_rps):
    world = World(11, horizon_s=60_000 / arrival_rps, bucket_s=100)
    service = Service(world, workers=workers, mean_service_s=1.0)
    Clients(world, service, LoadProfile([(0, arrival_rps)]), timeout_s=1e9, retry=NoRetry())
    world.run()
    waits = world.metrics.observations("queue_wait")
    waits = waits[len(waits) // 10:]  # drop the warm-up
    expected = erlang_c_wait_s(arrival_rps, workers, 1.0)
    assert abs(waits.mean() - expected) / expected < 0.06, (waits.mean(), expected)


def test_timeout_fraction_matches_exponential_tail():
    # Plenty of workers, so nobody queues: an attempt times out iff its service
    # time exceeds the timeout, which for exponential service has probability exp(-T/mean).
    world = World(3, horizon_s=600, bucket_s=10)
    service = Service(world, workers=200, mean_service_s=0.1)
    Clients(world, service, LoadProfile([(0, 100)]), timeout_s=0.2, retry=NoRetry())
    world.run()
    m = world.metrics
    fraction = m.total("timeouts") / m.total("attempts")
    assert fraction == pytest.approx(math.exp(-2), rel=0.03)


def _overloaded(**service_kw):
    world = World(1, horizon_s=120, bucket_s=1)
    service = Service(world, workers=2, mean_service_s=0.1, **service_kw)
    Clients(world, service, LoadProfile([(0, 40)]), timeout_s=0.5, retry=NoRetry())
    world.run()
    return world.metrics


def test_overloaded_fifo_works_hard_for_nobody():
    m = _overloaded()
    served, useful, wasted = m.total("served"), m.total("useful"), m.total("wasted")
    assert served == useful + wasted
    assert served > 0.95 * 120 * 20 * 0.9  # throughput stays near capacity (20/s)...
    assert useful < 0.1 * served  # ...but nearly all of it was for callers who left


def test_dropping_stale_requests_restores_goodput():
    m = _overloaded(max_queue_wait_s=0.2)
    assert m.total("useful") > 0.8 * m.total("served")
    assert m.total("shed") > 0


def test_lifo_serves_fresh_requests_under_overload():
    assert _overloaded(discipline="lifo").total("useful") > 5 * _overloaded().total("useful")


def test_bounded_queue_rejects_at_the_door():
    m = _overloaded(queue_limit=3)
    assert m.total("rejected") > 1000
    assert m.series()["queue_length"].max() <= 3


def test_drop_abandoned_skips_requests_whose_caller_left():
    m = _overloaded(drop_abandoned=True)
    assert m.total("shed") > 1000  # abandoned requests never reach a worker
    assert m.total("useful") > 2 * _overloaded().total("useful")


def test_set_workers_starts_queued_work_at_once():
    world = World(0, horizon_s=10)
    service = Service(world, workers=1, mean_service_s=1.0)
    for _ in range(5):
        service.submit()
    assert service.busy == 1 and len(service.queue) == 4
    service.set_workers(3)
    assert service.busy == 3 and len(service.queue) == 2


def test_contention_slows_a_busy_service():
    def mean_wait(contention):
        world = World(2, horizon_s=3000, bucket_s=10)
        service = Service(world, workers=4, mean_service_s=1.0, contention=contention)
        Clients(world, service, LoadProfile([(0, 3.0)]), timeout_s=1e9)
        world.run()
        return world.metrics.observations("queue_wait").mean()

    assert mean_wait(0.5) > 2 * mean_wait(0.0)


def test_random_order_serves_a_full_queue_partly_in_time():
    # FIFO: every request in a long queue waits its whole length; random order: some are lucky.
    fifo = _overloaded(queue_limit=60)
    random_order = _overloaded(queue_limit=60, discipline="random")
    assert fifo.total("useful") < 0.05 * fifo.total("served")
    assert 0.1 * random_order.total("served") < random_order.total("useful") < 0.9 * random_order.total("served")
    assert random_order.series()["queue_length"].max() <= 60


def test_random_order_keeps_the_mean_wait_of_erlang_c():
    world = World(5, horizon_s=60_000 / 8.0, bucket_s=100)
    service = Service(world, workers=10, mean_service_s=1.0, discipline="random")
    Clients(world, service, LoadProfile([(0, 8.0)]), timeout_s=1e9, retry=NoRetry())
    world.run()
    waits = world.metrics.observations("queue_wait")
    waits = waits[len(waits) // 10:]
    assert waits.mean() == pytest.approx(erlang_c_wait_s(8.0, 10, 1.0), rel=0.08)


@pytest.mark.parametrize("discipline", ["fifo", "lifo", "random"])
def test_deadline_frees_the_places_stale_requests_hold(discipline):
    world = World(0, horizon_s=10)
    service = Service(world, workers=1, mean_service_s=100.0, queue_limit=3, max_queue_wait_s=1.0,
                      discipline=discipline)
    first = [service.submit() for _ in range(4)]  # one in service, three queued: full
    assert service.submit().done.value == "rejected"
    world.run(2.0)  # the three queued requests are now stale
    fresh = service.submit()
    assert not fresh.done.triggered and list(service.queue) == [fresh]
    assert [r.done.value for r in first[1:]] == ["shed"] * 3
    assert world.metrics.total("shed") == 3
