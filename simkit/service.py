"""A server that does work for callers, and keeps doing it after they have given up.

This is the heart of every overload story in the course. A :class:`Service` has a
number of workers and a queue. A :class:`Request` waits in the queue, a worker
picks it up, works on it for a service time, and then hands back the answer.

The important part is what happens when the *caller* stops waiting (its timeout
fired): the service usually cannot tell. The request stays in the queue, a worker
still picks it up and still spends the full service time on it. That work is
**wasted**: throughput (work done) stays high while **goodput** (useful work, done
for a caller who was still waiting) falls towards zero. A plain
``simpy.Resource``, whose cancelled requests silently vanish, would hide exactly
the effect this course is about, so the queue here is written out by hand.

Levers a learner can pull:

* ``discipline``: "fifo" (oldest first), "lifo" (newest first: under overload the
  newest requests are the ones whose callers are still waiting) or "random" (a free
  worker takes any queued request, in no particular order, as a pool of threads
  woken by whichever connection is ready does);
* ``queue_limit``: reject at the door when the queue is full (admission control);
* ``max_queue_wait_s``: a deadline on queue *time*: a request that has waited longer
  than this is dropped from the queue rather than served (a form of load shedding).
  Stale requests are dropped before a worker picks its next request and before a
  full queue turns a newcomer away, so they never hold a place in the queue;
* ``drop_abandoned``: a server that can see its caller has gone skips the request;
* ``shed_fraction``: reject this share of arrivals at random (crude load shedding).
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from .params import check_choice, check_number
from .world import World

__all__ = ["Request", "Service", "ServiceTime", "exponential_service_time", "DISCIPLINES"]

#: The orders in which a free worker can take queued requests.
DISCIPLINES = ("fifo", "lifo", "random")

#: A service-time law: (request, busy_workers, workers, rng) -> seconds of work.
ServiceTime = Callable[["Request", int, int, object], float]


class Request:
    """One attempt at a piece of work.

    ``done`` is a SimPy event that fires once with the outcome: "ok" (served),
    "rejected" (turned away at the door), "shed" (dropped from the queue), or
    whatever the caller fires it with itself (the client fires "timeout").
    ``abandoned`` is set by the caller when it stops waiting; the service does not
    look at it unless ``drop_abandoned`` is on.
    """

    __slots__ = ("size", "created_s", "started_s", "abandoned", "done", "tag")

    def __init__(self, done, created_s: float, size: float = 1.0, tag: object = None) -> None:
        self.done = done
        self.created_s = created_s
        self.started_s: float | None = None
        self.size = size
        self.abandoned = False
        self.tag = tag


def exponential_service_time(mean_s: float, contention: float = 0.0) -> ServiceTime:
    """Service time ~ Exponential(mean ``mean_s`` x request size x slowdown).

    ``contention`` models workers slowing each other down (locks, shared caches,
    GC): with all workers busy the mean is ``(1 + contention)`` times longer.
    """

    def draw(request: Request, busy: int, workers: int, rng) -> float:
        slowdown = 1.0 + contention * (busy - 1) / max(1, workers - 1) if contention else 1.0
        return rng.expovariate(1.0 / (mean_s * request.size * slowdown))

    return draw


class Service:
    """A pool of ``workers`` serving a queue of :class:`Request`, with wasted work.

    Counters recorded in ``world.metrics`` (prefixed with ``prefix``): ``served``
    (every completion: throughput), ``useful`` (completions whose caller was still
    waiting: goodput), ``wasted`` (completions for a caller who had given up),
    ``rejected``, ``shed``; observations ``queue_wait`` (seconds); gauges
    ``queue_length`` and ``busy_workers`` sampled once per metrics bucket.
    """

    def __init__(
        self,
        world: World,
        *,
        workers: int,
        mean_service_s: float = 0.1,
        service_time: ServiceTime | None = None,
        contention: float = 0.0,
        discipline: str = "fifo",
        queue_limit: int | None = None,
        max_queue_wait_s: float | None = None,
        drop_abandoned: bool = False,
        shed_fraction: float = 0.0,
        prefix: str = "",
        rng_name: str = "service",
    ) -> None:
        self.world = world
        self.env = world.env
        self.workers = int(check_number("workers", workers, kind=int, minimum=1))
        check_number("mean_service_s", mean_service_s, minimum=0, exclusive_minimum=True, unit="s")
        check_number("contention", contention, minimum=0)
        self.discipline = check_choice("discipline", discipline, DISCIPLINES)
        if queue_limit is not None:
            check_number("queue_limit", queue_limit, kind=int, minimum=0)
        if max_queue_wait_s is not None:
            check_number("max_queue_wait_s", max_queue_wait_s, minimum=0, unit="s")
        self.queue_limit = queue_limit
        self.max_queue_wait_s = max_queue_wait_s
        self.drop_abandoned = bool(drop_abandoned)
        self.shed_fraction = check_number("shed_fraction", shed_fraction, minimum=0, maximum=1)
        self.service_time = service_time or exponential_service_time(mean_service_s, contention)
        self.rng = world.rng(rng_name)
        # A stream of its own for the "random" order, so that switching the discipline
        # leaves the service times drawn for the same requests unchanged.
        self.order_rng = world.rng(rng_name + ".order")
        self.busy = 0
        # In arrival order, oldest on the left, whatever the discipline: the deadline
        # drops stale requests from the left.
        self.queue: deque[Request] = deque()
        m = world.metrics
        # Raw per-bucket counters: indexing a list is the cheapest possible record.
        self._served = m.counter(prefix + "served")
        self._useful = m.counter(prefix + "useful")
        self._wasted = m.counter(prefix + "wasted")
        self._rejected = m.counter(prefix + "rejected")
        self._shed = m.counter(prefix + "shed")
        self._prefix = prefix
        world.sample_every(prefix + "queue_length", lambda: len(self.queue))
        world.sample_every(prefix + "busy_workers", lambda: self.busy)

    # -- the caller's side -----------------------------------------------------------
    def submit(self, size: float = 1.0, tag: object = None) -> Request:
        """Hand a new request to the service and return it; wait on ``request.done``."""
        now = self.env.now
        request = Request(self.env.event(), now, size, tag)
        bucket = self.world.metrics.bucket(now)
        if self.shed_fraction and self.rng.random() < self.shed_fraction:
            self._rejected[bucket] += 1
            request.done.succeed("rejected")
        elif self.busy < self.workers:
            self.world.metrics.observe(self._prefix + "queue_wait", now, 0.0)
            self._start(request)
        elif self._queue_full():
            self._rejected[bucket] += 1
            request.done.succeed("rejected")
        else:
            self.queue.append(request)
        return request

    # -- capacity changes (operator actions) -----------------------------------------
    def set_workers(self, workers: int) -> None:
        """Change the number of workers now; new workers start on queued requests."""
        self.workers = int(check_number("workers", workers, kind=int, minimum=1))
        while self.busy < self.workers and self._start_next():
            pass

    # -- inside the service ----------------------------------------------------------
    def _start(self, request: Request) -> None:
        self.busy += 1
        request.started_s = self.env.now
        work_s = self.service_time(request, self.busy, self.workers, self.rng)
        self.env.timeout(work_s).callbacks.append(lambda _event: self._finish(request))

    def _finish(self, request: Request) -> None:
        self.busy -= 1
        bucket = self.world.metrics.bucket(self.env.now)
        self._served[bucket] += 1
        if request.abandoned:
            self._wasted[bucket] += 1  # the caller gave up: this work helped nobody
        else:
            self._useful[bucket] += 1
            request.done.succeed("ok")
        if self.busy < self.workers:
            self._start_next()

    def _start_next(self) -> bool:
        """Start the next request worth starting; False if the queue is empty."""
        now = self.env.now
        self._drop_stale()
        queue = self.queue
        while queue:
            if self.discipline == "fifo":
                request = queue.popleft()
            elif self.discipline == "lifo":
                request = queue.pop()
            else:
                index = int(self.order_rng.random() * len(queue))
                request = queue[index]
                del queue[index]
            if self.drop_abandoned and request.abandoned:
                self._shed_one(request, now)
                continue
            self.world.metrics.observe(self._prefix + "queue_wait", now, now - request.created_s)
            self._start(request)
            return True
        return False

    def _queue_full(self) -> bool:
        """Is the queue at its limit, once stale requests are dropped?"""
        if self.queue_limit is None or len(self.queue) < self.queue_limit:
            return False
        self._drop_stale()
        return len(self.queue) >= self.queue_limit

    def _drop_stale(self) -> None:
        """Drop the requests that have waited longer than ``max_queue_wait_s``.

        The queue is in arrival order, so the stale requests are the ones on the left."""
        if self.max_queue_wait_s is None:
            return
        now = self.env.now
        oldest_allowed = now - self.max_queue_wait_s
        queue = self.queue
        while queue and queue[0].created_s < oldest_allowed:
            self._shed_one(queue.popleft(), now)

    def _shed_one(self, request: Request, now: float) -> None:
        self._shed[self.world.metrics.bucket(now)] += 1
        if not request.done.triggered:
            request.done.succeed("shed")

    def drain_queue(self, outcome: str = "shed") -> int:
        """Drop every queued request now (e.g. an operator flushes the queue); return how many."""
        dropped = 0
        bucket = self.world.metrics.bucket(self.env.now)
        while self.queue:
            request = self.queue.popleft()
            self._shed[bucket] += 1
            if not request.done.triggered:
                request.done.succeed(outcome)
            dropped += 1
        return dropped
