"""Processor sharing (simkit.sharing): the bookkeeping, and the SimPy service built on it."""

import pytest
import simpy

from simkit.sharing import ProcessorSharingService, SharedProgress
from simkit.world import World


def test_shared_progress_finishes_jobs_in_order_of_their_work():
    jobs = SharedProgress()
    jobs.add(3.0, "c")
    jobs.add(1.0, "a")
    jobs.add(2.0, "b")
    assert len(jobs) == 3 and jobs.next_remaining() == 1.0
    assert jobs.advance(0.5) == []
    assert jobs.advance(0.5) == ["a"]
    jobs.add(1.0, "d")          # starts now: done when every job has had one more unit
    assert jobs.advance(1.0) == ["b", "d"]
    assert jobs.advance(5.0) == ["c"]
    assert len(jobs) == 0 and jobs.next_remaining() is None


def _service(workers=8, slots_per_worker=4.0):
    world = World(0, horizon_s=10_000, bucket_s=10_000)
    return world, ProcessorSharingService(world, workers=workers, slots_per_worker=slots_per_worker, name="ps")


def test_jobs_beyond_the_workers_slow_each_other_down():
    """Twenty 10-s jobs on eight workers each take 2.5 times as long: 25 s."""
    world, service = _service()
    done = []
    for _ in range(20):
        service.submit(10.0, 100.0).callbacks.append(lambda _e: done.append(world.now))
    assert service.slowdown == pytest.approx(2.5)
    world.run(1_000)
    assert done == [pytest.approx(25.0)] * 20
    assert world.metrics.total("ps_goodput") == 20 and world.metrics.total("ps_work_s") == pytest.approx(200.0)


def test_a_short_job_leaves_first_and_the_rest_speed_up():
    world, service = _service(workers=1)
    finished = {}
    for name, work in (("short", 1.0), ("long", 3.0)):
        service.submit(work, 100.0).callbacks.append(lambda _e, n=name: finished.setdefault(n, world.now))
    world.run(1_000)
    assert finished == {"short": pytest.approx(2.0), "long": pytest.approx(4.0)}


def test_a_full_service_drops_arrivals_and_work_for_callers_who_left_is_wasted():
    world, service = _service(workers=1, slots_per_worker=2)
    replies = [service.submit(10.0, caller_waits_s=5.0) for _ in range(3)]
    world.run(1_000)
    assert [r.triggered for r in replies] == [True, True, False]   # the third found no slot
    m = world.metrics
    assert m.total("ps_dropped") == 1 and m.total("ps_wasted") == 2 and m.total("ps_goodput") == 0
    assert m.total("ps_wasted_work_s") == pytest.approx(20.0)


def test_more_workers_speed_up_jobs_in_progress():
    world, service = _service(workers=1)
    reply = service.submit(10.0, 100.0)
    service.submit(10.0, 100.0)
    world.run(10.0)                      # each has had 5 s of work
    service.set_workers(2)
    world.run(1_000)
    assert reply.triggered and world.metrics.total("ps_goodput") == 2
    assert isinstance(reply, simpy.Event)


@pytest.mark.parametrize("name, kwargs", [("workers", {"workers": 0}), ("slots_per_worker", {"slots_per_worker": -1})])
def test_bad_capacity_is_named(name, kwargs):
    world = World(0, horizon_s=10, bucket_s=1)
    args = {"workers": 1, "slots_per_worker": 1, **kwargs}
    with pytest.raises(ValueError, match=f"{name} = "):
        ProcessorSharingService(world, name="ps", **args)
