"""Processor sharing: every job in progress advances at the same speed, together.

Some resources are not handed out one job at a time, as the workers of
:class:`simkit.service.Service` are, but shared by everything in progress: a CPU
time-sliced among requests, a network link carrying many transfers at once. With
``n`` jobs sharing ``capacity``, each advances at ``capacity / n`` of full speed (at
most full speed), so **every job slows down as more arrive**. That is how
"multiple, simultaneous requests ... caused processing to slow further" (DynamoDB,
2015), and how re-mirroring copies crawl over a congested network (EBS, 2011).

The bookkeeping is one idea, written once here. Because every job advances by the
same amount, keep a single **virtual progress** ``V``: the work each job in progress
has received so far. A job that starts at ``V = v0`` with ``w`` of work is done when
``V = v0 + w``. Jobs wait in a heap ordered by that finishing mark, so advancing
``V`` and collecting the finished jobs is cheap, however many are in progress.

Two ways to drive it, chosen by the caller:

* **stepped**, :class:`SharedProgress` on its own: the model advances ``V`` by the
  amount each job received in a time step (``advance(amount)``), as a model with a
  fixed step does (EBS copies moving ``gbit`` per step);
* **event-driven**, :class:`ProcessorSharingService`: a SimPy service that computes
  when the next job will finish at the current speed and wakes up exactly then;
  every arrival, departure or change of capacity re-plans that one timer. It also
  has a fixed number of *slots* (jobs it will work on at once; beyond that an
  arrival is dropped unanswered) and measures goodput against wasted work, like
  :class:`simkit.service.Service`.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Generic, TypeVar

import simpy

from .params import check_number
from .world import World

__all__ = ["SharedProgress", "ProcessorSharingService", "SharedJob"]

T = TypeVar("T")


class SharedProgress(Generic[T]):
    """Jobs that all advance at the same speed; the bookkeeping of processor sharing.

    ``add(work, item)`` starts a job; ``advance(amount)`` gives every job in progress
    ``amount`` more work and returns the items whose work is complete, in the order
    they completed. The owner decides how much each job receives per unit of time
    (``capacity / len(self)``, or a share of a link), so the same bookkeeping serves
    CPUs, links and anything else shared equally.
    """

    #: Work units below which a job counts as done (guards against rounding).
    EPSILON = 1e-9

    def __init__(self) -> None:
        self.virtual = 0.0                      # work every job in progress has received
        self._heap: list[tuple[float, int, T]] = []
        self._sequence = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, work: float, item: T) -> float:
        """Start a job needing ``work`` units; returns the progress mark at which it is done."""
        mark = self.virtual + max(0.0, float(work))
        heapq.heappush(self._heap, (mark, next(self._sequence), item))
        return mark

    def advance(self, amount: float) -> list[T]:
        """Every job in progress receives ``amount`` more work; return the finished ones."""
        self.virtual += amount
        done = []
        while self._heap and self._heap[0][0] <= self.virtual + self.EPSILON:
            done.append(heapq.heappop(self._heap)[2])
        return done

    def next_remaining(self) -> float | None:
        """Work still needed by the job closest to done (None when nothing is in progress)."""
        if not self._heap:
            return None
        return max(0.0, self._heap[0][0] - self.virtual)


class SharedJob:
    """One request in progress at a :class:`ProcessorSharingService`."""

    __slots__ = ("reply", "arrived_s", "deadline_s", "work_s", "kind")

    def __init__(self, reply: simpy.Event, arrived_s: float, deadline_s: float, work_s: float, kind: str):
        self.reply = reply
        self.arrived_s = arrived_s
        self.deadline_s = deadline_s
        self.work_s = work_s
        self.kind = kind


class ProcessorSharingService:
    """A SimPy service whose ``workers`` are shared equally by the jobs in progress.

    With ``n`` jobs in progress and ``n > workers``, each advances at ``workers / n``
    of full speed: twenty jobs on eight workers each take 2.5 times as long as alone.
    It works on at most ``slots`` jobs (``slots_per_worker x workers``, so added
    workers bring slots in the same ratio); a job arriving when every slot is taken
    is **dropped**: nobody answers and the caller times out.

    The service cannot see its callers give up: a job whose caller stopped waiting
    (``caller_waits_s`` after it arrived) is still worked on to the end, holding a
    slot and a share of every worker. Metrics per bucket, prefixed by ``name``:
    ``_goodput`` (answers in time), ``_wasted`` (answers too late), ``_dropped``,
    ``_work_s`` and ``_wasted_work_s`` (worker-seconds).
    """

    def __init__(self, world: World, *, workers: float, slots_per_worker: float, name: str) -> None:
        check_number("workers", workers, minimum=0, exclusive_minimum=True)
        check_number("slots_per_worker", slots_per_worker, minimum=0, exclusive_minimum=True)
        self.world = world
        self.env = world.env
        self.workers = float(workers)
        self.slots_per_worker = float(slots_per_worker)
        self.name = name
        self._jobs: SharedProgress[SharedJob] = SharedProgress()
        self._updated_s = world.env.now   # when the virtual progress was last brought up to date
        self._timer_generation = 0        # only the newest completion timer is live
        m = world.metrics
        self._goodput = m.counter(f"{name}_goodput")
        self._wasted = m.counter(f"{name}_wasted")
        self._dropped = m.counter(f"{name}_dropped")
        self._work = m.counter(f"{name}_work_s")
        self._wasted_work = m.counter(f"{name}_wasted_work_s")

    # -- what callers see ------------------------------------------------------------------
    @property
    def slots(self) -> int:
        """How many jobs the service works on at once."""
        return max(1, int(round(self.slots_per_worker * self.workers)))

    @property
    def in_progress(self) -> int:
        return len(self._jobs)

    @property
    def slowdown(self) -> float:
        """How many times longer than alone a job takes right now (1 = full speed)."""
        return max(1.0, len(self._jobs) / self.workers)

    def submit(self, work_s: float, caller_waits_s: float, kind: str = "request") -> simpy.Event:
        """Start ``work_s`` seconds of work (as alone on one worker); the event fires with
        ``kind`` when it is done. It never fires if every slot is busy (dropped).

        ``caller_waits_s`` is only used to *measure* whether the answer came in time.
        """
        now = self.env.now
        reply = self.env.event()
        self._complete(self._catch_up())
        if len(self._jobs) >= self.slots:
            self._dropped[self.world.metrics.bucket(now)] += 1
            return reply
        self._jobs.add(work_s, SharedJob(reply, now, now + caller_waits_s, work_s, kind))
        self._arm_timer()
        return reply

    def set_workers(self, workers: float) -> None:
        """Change the capacity now (jobs in progress speed up or slow down)."""
        check_number("workers", workers, minimum=0, exclusive_minimum=True)
        self._complete(self._catch_up())
        self.workers = float(workers)
        self._arm_timer()

    # -- inside the service ------------------------------------------------------------------
    def _speed(self) -> float:
        """Work per second each job in progress receives."""
        n = len(self._jobs)
        return 1.0 if n <= self.workers else self.workers / n

    def _catch_up(self) -> list[SharedJob]:
        """Advance the virtual progress to now at the speed that held since the last change."""
        now = self.env.now
        done = self._jobs.advance((now - self._updated_s) * self._speed()) if len(self._jobs) else []
        self._updated_s = now
        return done

    def _arm_timer(self) -> None:
        """Wake up when the next job finishes at the current speed (older timers become void)."""
        self._timer_generation += 1
        remaining = self._jobs.next_remaining()
        if remaining is None:
            return
        generation = self._timer_generation
        self.env.timeout(remaining / self._speed()).callbacks.append(
            lambda _event: self._finish_due(generation))

    def _finish_due(self, generation: int) -> None:
        if generation != self._timer_generation:
            return  # a newer timer replaced this one
        self._complete(self._catch_up())
        self._arm_timer()

    def _complete(self, done: list[SharedJob]) -> None:
        """Answer the finished jobs and count each as goodput or wasted work."""
        if not done:
            return
        now = self.env.now
        bucket = self.world.metrics.bucket(now)
        for job in done:
            self._work[bucket] += job.work_s
            if now <= job.deadline_s:
                self._goodput[bucket] += 1
            else:
                self._wasted[bucket] += 1
                self._wasted_work[bucket] += job.work_s
            job.reply.succeed(job.kind)

    def __repr__(self) -> str:  # pragma: no cover - for debugging
        return (f"ProcessorSharingService({self.name!r}, workers={self.workers:g}, "
                f"in_progress={self.in_progress}, slots={self.slots})")
