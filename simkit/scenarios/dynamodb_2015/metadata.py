"""The metadata service: finite capacity, slower under load, and it never gives up.

A storage server asks the metadata service for its membership (the list of
partitions it holds). The service reads the list from its store, bundles it and
sends it back. Three properties of that service made 20 September 2015:

1. **Processing time grows with membership size**: ``base_processing_s +
   per_entry_s x entries`` when a request has a worker to itself
   (:func:`standalone_processing_s`).
2. **Processing time grows with concurrent load**. The service works on up to
   ``slots`` requests at once and shares its ``workers`` among them equally
   (*processor sharing*): with ``n`` requests in progress and ``n > workers``, each
   one advances at ``workers / n`` of full speed. Twenty simultaneous requests on
   eight workers each take 2.5 times as long. A request that arrives when all
   slots are taken is dropped: the caller hears nothing and times out.
3. **It keeps working on requests whose caller already gave up.** The storage
   server stops waiting after its allowance; the service cannot tell and finishes
   the request anyway. That work is *wasted*: it occupies a slot and a share of
   every worker, slowing down the requests whose callers are still waiting.

Why not :class:`simkit.service.Service` (workers + a FIFO queue)? Because the
2015 story is about requests *slowing each other down* while they are processed
("multiple, simultaneous requests for these large memberships caused processing
to slow further"), which processor sharing expresses directly.

How processor sharing is simulated cheaply: every request in progress receives
the same speed, so we keep one "virtual clock" ``V``, the work each request in
progress has received since the service started. A request that arrives when
``V = v0`` with ``w`` seconds of work finishes when ``V = v0 + w``. Requests sit
in a heap ordered by that finishing value; the service only needs one timer, for
the next one to finish, recomputed whenever a request arrives or leaves or the
capacity changes.
"""

from __future__ import annotations

import heapq
import itertools

import simpy

from ...world import World

__all__ = ["MetadataService", "standalone_processing_s"]


def standalone_processing_s(entries: int, base_processing_s: float, per_entry_s: float) -> float:
    """Seconds the service needs for a membership of ``entries`` when nothing else is running."""
    return base_processing_s + per_entry_s * entries


class _Job:
    """One request in progress: its reply event, when it arrived, and until when its caller waits."""

    __slots__ = ("reply", "arrived_s", "deadline_s", "work_s", "kind")

    def __init__(self, reply: simpy.Event, arrived_s: float, deadline_s: float, work_s: float, kind: str):
        self.reply = reply
        self.arrived_s = arrived_s
        self.deadline_s = deadline_s
        self.work_s = work_s
        self.kind = kind


class MetadataService:
    """A processor-sharing service with ``workers`` of capacity and ``slots_per_worker`` x
    ``workers`` request slots. ``name`` prefixes its metrics (one service per cell).

    Metrics (per bucket): ``<name>_goodput`` (replies in time), ``<name>_wasted``
    (replies after the caller gave up), ``<name>_dropped`` (turned away: all slots
    busy), ``<name>_wasted_work_s`` and ``<name>_work_s`` (worker-seconds).
    """

    def __init__(self, world: World, *, workers: float, slots_per_worker: float,
                 base_processing_s: float, per_entry_s: float, name: str = "metadata") -> None:
        self.world = world
        self.env = world.env
        self.workers = float(workers)
        self.slots_per_worker = float(slots_per_worker)
        self.base_processing_s = base_processing_s
        self.per_entry_s = per_entry_s
        self.name = name
        self._active: list[tuple[float, int, _Job]] = []  # heap of (finish at V, sequence, job)
        self._virtual = 0.0          # work each request in progress has received so far
        self._updated_s = 0.0        # when _virtual was last brought up to date
        self._timer_generation = 0   # only the newest completion timer is live
        self._sequence = itertools.count()
        m = world.metrics
        self._goodput = m.counter(f"{name}_goodput")
        self._wasted = m.counter(f"{name}_wasted")
        self._dropped = m.counter(f"{name}_dropped")
        self._work = m.counter(f"{name}_work_s")
        self._wasted_work = m.counter(f"{name}_wasted_work_s")

    # -- what callers see ------------------------------------------------------------------
    @property
    def slots(self) -> int:
        """How many requests the service works on at once."""
        return max(1, int(round(self.slots_per_worker * self.workers)))

    @property
    def in_progress(self) -> int:
        return len(self._active)

    @property
    def slowdown(self) -> float:
        """How many times longer than standalone a request takes right now (1 = full speed)."""
        return max(1.0, len(self._active) / self.workers)

    def request(self, entries: int, caller_waits_s: float, kind: str = "renewal") -> simpy.Event:
        """Ask for a membership of ``entries`` entries; the event fires when the reply is sent.

        ``caller_waits_s`` is how long the caller will wait. The service does not act
        on it (it cannot see its callers give up); it is only used to *measure*
        whether the reply was in time (goodput) or too late (wasted work).
        """
        work = standalone_processing_s(entries, self.base_processing_s, self.per_entry_s)
        return self.submit(work, caller_waits_s, kind)

    def submit(self, work_s: float, caller_waits_s: float, kind: str = "renewal") -> simpy.Event:
        """Start ``work_s`` seconds of standalone work; a never-firing event if every slot is busy."""
        now = self.env.now
        reply = self.env.event()
        if len(self._active) >= self.slots:
            self._dropped[self.world.metrics.bucket(now)] += 1
            return reply  # dropped: nobody will ever answer
        self._catch_up()
        job = _Job(reply, now, now + caller_waits_s, work_s, kind)
        heapq.heappush(self._active, (self._virtual + work_s, next(self._sequence), job))
        self._arm_timer()
        return reply

    def set_workers(self, workers: float) -> None:
        """Change the capacity now (operator action); requests in progress speed up."""
        self._catch_up()
        self.workers = float(workers)
        self._arm_timer()

    # -- inside the service ------------------------------------------------------------------
    def _speed(self) -> float:
        """Work per second each request in progress receives."""
        n = len(self._active)
        return 1.0 if n <= self.workers else self.workers / n

    def _catch_up(self) -> None:
        """Advance the virtual clock to now at the speed that held since the last change."""
        now = self.env.now
        if self._active:
            self._virtual += (now - self._updated_s) * self._speed()
        self._updated_s = now

    def _arm_timer(self) -> None:
        """Schedule a wake-up for the next request to finish (older timers become void)."""
        self._timer_generation += 1
        if not self._active:
            return
        generation = self._timer_generation
        remaining = max(0.0, self._active[0][0] - self._virtual)
        self.env.timeout(remaining / self._speed()).callbacks.append(
            lambda _event: self._finish_due(generation))

    def _finish_due(self, generation: int) -> None:
        if generation != self._timer_generation:
            return  # a newer timer replaced this one
        self._catch_up()
        now = self.env.now
        bucket = self.world.metrics.bucket(now)
        while self._active and self._active[0][0] <= self._virtual + 1e-9:
            _, _, job = heapq.heappop(self._active)
            self._work[bucket] += job.work_s
            if now <= job.deadline_s:
                self._goodput[bucket] += 1
            else:
                self._wasted[bucket] += 1
                self._wasted_work[bucket] += job.work_s
            job.reply.succeed(job.kind)
        self._arm_timer()
