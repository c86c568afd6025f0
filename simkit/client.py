"""Callers: an open population of clients with a timeout, retries and their guards.

:class:`LoadProfile` says how many new requests per second arrive over time (a
base rate with spikes). :class:`Clients` turns each arrival into a *call*: an
attempt with a per-attempt timeout, then retries as the policy allows. One call's
life::

    attempt 1 --timeout--> (retry policy: wait?) --> attempt 2 --ok--> success

Counters recorded (prefixed with ``prefix``): ``offered`` (new requests from
customers), ``attempts`` (every try, retries included), ``retries``, ``success``
(calls answered within their timeout), ``timeouts`` (attempts that timed out),
``failed`` (calls that gave up for good), ``answered`` (calls that succeeded, counted
in the bucket where the call *arrived*, so ``1 - answered / offered`` is the share of
customers arriving in that bucket who never got an answer), ``throttled`` (attempts refused locally by
a budget, breaker or throttle), ``paused`` (requests turned away at the edge: the clients
were paused by an operator, or are being let back in gradually, see
:attr:`Clients.admit_share`); observation ``latency`` (seconds from a call's first
attempt to its successful answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .params import check_number
from .policies import AdaptiveThrottle, CircuitBreaker, NoRetry, RetryBudget, RetryPolicy
from .service import Service
from .world import World

__all__ = ["LoadProfile", "Clients"]


@dataclass(frozen=True)
class LoadProfile:
    """A piecewise-constant arrival rate: ``steps`` is ``[(start_s, requests_per_s), ...]``.

    ``LoadProfile.spike(base=70, factor=2, start_s=60, duration_s=30)`` is the usual
    "steady load with one burst".
    """

    steps: Sequence[tuple[float, float]]

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("steps is not allowed to be empty: give at least [(0, rate)]")
        last = -1.0
        for start, rate in self.steps:
            check_number("start_s", start, minimum=0, unit="s")
            check_number("requests_per_s", rate, minimum=0, unit="1/s")
            if start <= last:
                raise ValueError(f"start_s = {start!r} is not allowed: steps must be in increasing time")
            last = start

    @classmethod
    def spike(cls, base: float, factor: float, start_s: float, duration_s: float) -> "LoadProfile":
        """``base`` requests/s, times ``factor`` from ``start_s`` for ``duration_s``.

        A spike of no length is no spike (a steady load), and a spike at time 0 is
        where the profile starts."""
        check_number("duration_s", duration_s, minimum=0, unit="s")
        if duration_s == 0:
            return cls([(0.0, base)])
        steps = [(0.0, base)] if start_s > 0 else []
        return cls(steps + [(start_s, base * factor), (start_s + duration_s, base)])

    def rate_at(self, t_s: float) -> float:
        rate = 0.0
        for start, r in self.steps:
            if start <= t_s:
                rate = r
        return rate

    def next_change_after(self, t_s: float) -> float:
        for start, _ in self.steps:
            if start > t_s:
                return start
        return float("inf")


class Clients:
    """An open population of callers of one :class:`Service`.

    Arrivals are Poisson with the rate of ``load`` at the time (exact for a
    piecewise-constant rate: after a rate change the next gap is drawn afresh,
    which is allowed because exponential gaps have no memory). Each arrival
    becomes a call process that tries, times out, and retries per ``retry``,
    subject to the optional ``budget``, ``breaker`` and ``throttle``. Any of them
    can be swapped while the simulation runs (an operator changing the policy).
    """

    def __init__(
        self,
        world: World,
        service: Service,
        load: LoadProfile,
        *,
        timeout_s: float,
        retry: RetryPolicy | None = None,
        budget: RetryBudget | None = None,
        breaker: CircuitBreaker | None = None,
        throttle: AdaptiveThrottle | None = None,
        request_size: float = 1.0,
        prefix: str = "",
        rng_name: str = "clients",
    ) -> None:
        self.world = world
        self.env = world.env
        self.service = service
        self.load = load
        self.timeout_s = check_number("timeout_s", timeout_s, minimum=0, exclusive_minimum=True, unit="s")
        self.retry: RetryPolicy = retry or NoRetry()
        self.budget = budget
        self.breaker = breaker
        self.throttle = throttle
        self.request_size = request_size
        self.paused = False
        #: Share of new requests let through at the edge (1 = all). An operator letting
        #: customers back in gradually after a pause raises it step by step; each request
        #: is let through with this probability, drawn from a stream of its own so that
        #: the arrivals stay the same whatever the share.
        self.admit_share = 1.0
        self._edge_rng = world.rng(rng_name + ".edge")
        self.arrivals_rng = world.rng(rng_name + ".arrivals")
        self.retry_rng = world.rng(rng_name + ".retries")
        m = world.metrics
        names = ("offered", "attempts", "retries", "success", "answered", "timeouts", "failed", "throttled",
                 "paused")
        self._c = {name: m.counter(prefix + name) for name in names}
        self._latency = prefix + "latency"
        self.env.process(self._arrivals())

    def _arrivals(self):
        """Generate new requests for the whole run."""
        env, rng = self.env, self.arrivals_rng
        offered = self._c["offered"]
        bucket = self.world.metrics.bucket
        while True:
            rate = self.load.rate_at(env.now)
            change = self.load.next_change_after(env.now)
            if rate <= 0:
                if change == float("inf"):
                    return
                yield env.timeout(change - env.now)
                continue
            gap = rng.expovariate(rate)
            if env.now + gap >= change:
                yield env.timeout(change - env.now)  # rate changes first: draw afresh
                continue
            yield env.timeout(gap)
            offered[bucket(env.now)] += 1
            if self.paused or (self.admit_share < 1.0 and self._edge_rng.random() >= self.admit_share):
                self._c["paused"][bucket(env.now)] += 1
                continue
            env.process(self.call())

    def call(self):
        """One customer request: attempts, timeouts and retries until success or giving up."""
        env, c = self.env, self._c
        bucket = self.world.metrics.bucket
        first_attempt_s = env.now
        retry = 0
        delay = 0.0
        while True:
            now = env.now
            if (self.breaker and not self.breaker.allow(now)) or (
                self.throttle and not self.throttle.allow(self.retry_rng)
            ):
                c["throttled"][bucket(now)] += 1
                outcome = "throttled"
            else:
                c["attempts"][bucket(now)] += 1
                request = self.service.submit(self.request_size)
                if not request.done.triggered:
                    timer = env.timeout(self.timeout_s)
                    timer.callbacks.append(lambda _e, r=request: _give_up(r))
                outcome = yield request.done
                if self.breaker:
                    self.breaker.record(outcome == "ok", env.now)
                if outcome == "ok":
                    c["success"][bucket(env.now)] += 1
                    c["answered"][bucket(first_attempt_s)] += 1
                    self.world.metrics.observe(self._latency, env.now, env.now - first_attempt_s)
                    if self.budget:
                        self.budget.on_success()
                    if self.throttle:
                        self.throttle.on_success()
                    return
                if outcome == "timeout":
                    c["timeouts"][bucket(env.now)] += 1
            retry += 1
            delay = self.retry.delay_s(retry, self.retry_rng, delay)
            if delay is None or (self.budget is not None and not self.budget.try_spend()):
                c["failed"][bucket(env.now)] += 1
                return
            if delay > 0:
                yield env.timeout(delay)
            c["retries"][bucket(env.now)] += 1


def _give_up(request) -> None:
    """The caller's timeout fired: stop waiting, and tell nobody (the server keeps going)."""
    if not request.done.triggered:
        request.abandoned = True
        request.done.succeed("timeout")
