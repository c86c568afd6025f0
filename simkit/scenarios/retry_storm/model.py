"""``retry-storm``'s model: one service, its retrying callers, a spike, and a maintenance window.

The story, the physics and the choices behind them are in the package docstring
(:mod:`simkit.scenarios.retry_storm`); the operator actions in :mod:`.operators`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...client import Clients, LoadProfile
from ...metrics import ratio
from ...outcome import Watch, error_minutes, settled_since
from ...rubric import ActionCosts, Component, Rubric
from ...service import Service, exponential_service_time
from ...world import World
from ..base import Panel, ScenarioModel
from .operators import OperatorActions
from .params import Params, make_retry

__all__ = ["Model", "run", "PAGE_TIMEOUT_SHARE", "RECOVERED_ERROR", "INTENDED_PLAN"]

#: Share of attempts timing out (over the last few seconds) that pages the on-call engineer.
PAGE_TIMEOUT_SHARE = 0.2
#: Customers count as served normally while fewer than this share of them fail.
RECOVERED_ERROR = 0.05

#: What lab 0 teaches, at the first tick after the page on every seed (00:01:05 or
#: 00:01:10): break the loop at once by bounding queue time (shed stale requests), and
#: only then restore headroom for the announced maintenance. It slows every request
#: 2.5 times, so the service needs 70 x 0.25 s = 17.5 workers' worth of work per second:
#: two steps of five workers, one after the other (each boots for a minute), in place
#: before 05:15.
INTENDED_PLAN = [("00:01:10", "shed_load"), ("00:01:10", "add_capacity"), ("00:02:15", "add_capacity")]


class Model(OperatorActions, ScenarioModel):
    """One service, an open population of retrying callers, a load spike and a maintenance window."""

    name = "retry-storm"
    title = "a retry storm after a short load spike, then the database's maintenance"
    Params = Params
    tick_s = 5.0
    debrief_shift_s = 30.0
    headline_series = ("error_rate", "queue_length", "capacity")
    headline_window_s = 180.0
    play_speeds = (5.0, 15.0, 30.0)
    page_rule = f"more than {PAGE_TIMEOUT_SHARE:.0%} of the callers' attempts time out"
    watches = (
        Watch(f"over {PAGE_TIMEOUT_SHARE:.0%} of attempts time out",
              lambda m: m.recent_timeout_share() > PAGE_TIMEOUT_SHARE,
              clears=lambda m: m.recent_timeout_share() < 0.01, clear_label="attempts succeed again",
              page=True),
    )
    intended_plan = INTENDED_PLAN
    rubric = Rubric(
        components=(
            Component("error_minutes", "Customer impact",
                      "customer error-minutes from the spike to the end (one minute with every request "
                      "failing, or two at 50%)", "error-minutes", 45, full_at=0.3, zero_at=2.5),
            Component("minutes_to_recover", "Time to end the storm",
                      f"minutes from the spike until fewer than {RECOVERED_ERROR:.0%} of customers fail, for good "
                      "before the maintenance begins", "min", 25,
                      full_at=0.75, zero_at=3.0, none_means="the storm went on until the maintenance"),
            Component("maintenance_error_minutes", "Ready for the maintenance",
                      "customer error-minutes while the database's maintenance slows every request",
                      "error-minutes", 20, full_at=0.05, zero_at=0.2),
        ),
        costs=ActionCosts(10, "toil, risk and money of each change to a service under stress: shedding 1, "
                              "a client config push 2, more workers 2, pausing customers 2, resuming 1"),
    )
    panels = (
        Panel("Load (requests/s)", [("offered", "offered by customers"), ("attempts", "attempted (with retries)"),
                                    ("useful", "goodput (useful)"), ("served", "throughput (served)"),
                                    ("capacity", "capacity (workers / work per request)")], "req/s"),
        Panel("Customer error rate", [("error_rate", "failed share")], "%", scale=100, ylim=(0, 105)),
        Panel("Queue", [("queue_length", "queued requests")], "requests"),
        Panel("Latency of successful calls", [("latency_mean", "mean")], "s"),
    )

    def build(self) -> None:
        p = self.params
        self.world = World(self.seed, horizon_s=p.horizon_s, bucket_s=1.0)
        self.service = Service(self.world, workers=p.workers, mean_service_s=p.mean_service_s,
                               discipline=p.queue_discipline, queue_limit=p.queue_limit,
                               max_queue_wait_s=p.queue_deadline_s or None)
        retry, budget = make_retry(p)
        load = LoadProfile.spike(p.base_load_rps, p.spike_factor, p.spike_start_s, p.spike_duration_s)
        self.clients = Clients(self.world, self.service, load, timeout_s=p.timeout_s, retry=retry, budget=budget)
        self.slowdown = 1.0              # how many times longer each request takes now
        self.capacity_adds = 0           # "add workers" steps that worked
        self._edge_generation = 0        # bumped by every pause and resume: a ramp checks it
        self.world.sample_every("capacity", self.capacity_rps)
        spike_end = p.spike_start_s + p.spike_duration_s
        if p.spike_duration_s > 0 and p.spike_factor > 1:
            self.world.at(p.spike_start_s, lambda: self.world.note(
                f"load spike x{p.spike_factor:g} begins", "trigger"))
            self.world.at(spike_end, lambda: self.world.note("load spike ends", "event"))
        if p.has_maintenance:
            self._schedule_maintenance()

    def _schedule_maintenance(self) -> None:
        """The second trigger: announced at the start, it slows every request for a while."""
        p, world = self.params, self.world
        start, end = p.maintenance_start_s, p.maintenance_start_s + p.maintenance_s
        world.note(f"scheduled: the database's maintenance from {world.stamp(start)} to {world.stamp(end)} "
                   f"makes every request take {p.maintenance_slowdown:g} times as long", "event")

        def begin() -> None:
            self._set_slowdown(p.maintenance_slowdown)
            world.note(f"database maintenance begins: requests take {p.maintenance_slowdown:g} times as long "
                       f"(capacity {self.capacity_rps():.0f} requests/s)", "trigger")

        def finish() -> None:
            self._set_slowdown(1.0)
            world.note(f"database maintenance ends (capacity {self.capacity_rps():.0f} requests/s)", "event")

        world.at(start, begin)
        world.at(end, finish)

    def _set_slowdown(self, factor: float) -> None:
        """Every request started from now on takes ``factor`` times as long on average."""
        self.slowdown = factor
        self.service.service_time = exponential_service_time(self.params.mean_service_s * factor)

    def capacity_rps(self) -> float:
        """Requests per second the workers can finish now: workers / mean work per request."""
        return self.service.workers / (self.params.mean_service_s * self.slowdown)

    def recent_timeout_share(self, window_s: float = 5.0) -> float:
        """Share of the attempts in the last ``window_s`` seconds that timed out (0 if none)."""
        m = self.world.metrics
        last = m.bucket(self.world.now)
        first = max(0, last - int(window_s / m.bucket_s))
        attempts = sum(m.counter("attempts")[first:last])
        return sum(m.counter("timeouts")[first:last]) / attempts if attempts else 0.0

    # -- results ----------------------------------------------------------------------
    def extra_series(self) -> dict[str, np.ndarray]:
        """The series derived at the end: the customer error rate (see :meth:`_error_rate`)."""
        return {"error_rate": self._error_rate(self.world.metrics.series())}

    def _error_rate(self, series: dict[str, np.ndarray]) -> np.ndarray:
        """Customer error rate per second: the share of the requests arriving in that second
        that never got an answer (retries included). Seconds whose calls may still be in
        flight (the last ``timeout_s x (max_retries + 1)``) are left blank (NaN)."""
        offered = series.get("offered", np.zeros(self.world.metrics.n_buckets))
        success = series.get("answered", np.zeros_like(offered))
        error = 1.0 - np.minimum(ratio(success, offered, empty=1.0), 1.0)  # nobody came: no errors
        settled = self.world.now - self._max_call_s()
        elapsed = self.world.metrics.times() < settled
        return np.where(elapsed, error, np.nan)

    def _max_call_s(self) -> float:
        """The longest a call can stay unresolved: every attempt times out, plus backoff."""
        p = self.params
        return p.timeout_s * (p.max_retries + 1) + (_longest_backoff_s(p) if p.retry_policy == "backoff" else 0.0)

    def _window_means(self, s: dict[str, np.ndarray]) -> dict[str, float]:
        """Means of the main series before the spike and over the last minute."""
        t = self.world.metrics.times()
        p = self.params
        before = (t >= 10) & (t < p.spike_start_s)
        tail = t >= max(p.horizon_s - 60.0, p.spike_start_s + p.spike_duration_s)

        def mean(name: str, mask) -> float:
            values = s.get(name)
            if values is None or not mask.any() or np.isnan(values[mask]).all():
                return float("nan")
            return float(np.nanmean(values[mask]))

        return {
            "offered_before_rps": mean("offered", before),
            "goodput_before_rps": mean("useful", before),
            "offered_end_rps": mean("offered", tail),
            "attempts_end_rps": mean("attempts", tail),
            "goodput_end_rps": mean("useful", tail),
            "throughput_end_rps": mean("served", tail),
            "error_rate_end": mean("error_rate", tail),
            "queue_end": mean("queue_length", tail),
        }

    def summary(self) -> dict[str, Any]:
        series = self.world.metrics.series()
        series["error_rate"] = self._error_rate(series)
        w = self._window_means(series)
        recovered_at = self._recovered_at_s(series["error_rate"])
        return {
            **w,
            "amplification_end": w["attempts_end_rps"] / w["offered_end_rps"] if w["offered_end_rps"] else float("nan"),
            "wasted_share": self.world.metrics.total("wasted") / max(1.0, self.world.metrics.total("served")),
            "queue_max": _finite_max(series.get("queue_length")),
            "recovered": recovered_at is not None,
            "recovered_at_s": recovered_at,
        }

    def _recovered_at_s(self, err: np.ndarray, before_s: float | None = None) -> float | None:
        """First time after the spike from which the error rate ``err`` stays below
        RECOVERED_ERROR to the end of the settled seconds, or to ``before_s`` if that
        is earlier (None: still failing, or only just stopped)."""
        t = self.world.metrics.times()
        end = self.world.now - self._max_call_s()
        if before_s is not None:
            end = min(end, before_s)
        recovered = settled_since(t, err < RECOVERED_ERROR, start_s=self.params.spike_start_s, end_s=end)
        if recovered is not None and recovered >= end - 5:
            return None
        return recovered

    def measure(self) -> dict[str, Any]:
        """Customer error-minutes from the spike on and during the maintenance, and the
        minutes until the storm ended before the maintenance (None: it had not)."""
        p = self.params
        error_rate = self._error_rate(self.world.metrics.series())
        t = self.world.metrics.times()
        bucket_s = self.world.metrics.bucket_s
        before = p.maintenance_start_s if p.has_maintenance else None
        recovered_at = self._recovered_at_s(error_rate, before_s=before)
        during = (error_minutes(t, error_rate, bucket_s, start_s=p.maintenance_start_s,
                                end_s=p.maintenance_start_s + p.maintenance_s) if p.has_maintenance else 0.0)
        return {
            "error_minutes": round(error_minutes(t, error_rate, bucket_s, start_s=p.spike_start_s), 3),
            "minutes_to_recover": None if recovered_at is None else round((recovered_at - p.spike_start_s) / 60, 2),
            "maintenance_error_minutes": round(during, 3),
            "wasted_requests": self.world.metrics.total("wasted"),
            "workers_at_end": self.service.workers,
        }

    def outcome(self, m: dict[str, Any]) -> str:
        p = self.params
        storm = ("the storm went on until the maintenance" if m["minutes_to_recover"] is None and p.has_maintenance
                 else "the storm never ended" if m["minutes_to_recover"] is None
                 else f"the storm ended {m['minutes_to_recover']:.1f} min after the spike began")
        text = f"{storm}; customers lost {m['error_minutes']:.2f} error-minutes"
        if p.has_maintenance and self.now > p.maintenance_start_s:
            text += f", {m['maintenance_error_minutes']:.2f} of them during the maintenance"
        return text


def _finite_max(values: np.ndarray | None) -> float:
    """The largest finite value (0 when there is none yet, e.g. before the first sample)."""
    if values is None or not np.isfinite(values).any():
        return 0.0
    return float(np.nanmax(values))


def _longest_backoff_s(p: Params) -> float:
    """The most time a call can spend waiting between its attempts under ``backoff``.

    Each wait is at most ``min(cap, base x 2**(n-1))``; decorrelated jitter can grow
    up to three times the previous wait, so its n-th wait is at most ``base x 3**n``."""
    if p.backoff_jitter == "decorrelated":
        ceilings = (p.backoff_base_s * 3.0 ** n for n in range(1, p.max_retries + 1))
    else:
        ceilings = (p.backoff_base_s * 2.0 ** (n - 1) for n in range(1, p.max_retries + 1))
    return sum(min(p.backoff_cap_s, ceiling) for ceiling in ceilings)


run = Model.run
