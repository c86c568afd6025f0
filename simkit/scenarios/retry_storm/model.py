"""``retry-storm``: the textbook metastable failure, in one service and its callers.

Customers send requests at a steady rate to a service that can handle it with
room to spare. Each caller waits ``timeout_s`` per attempt and then retries, up
to ``max_retries`` times. At ``spike_start_s`` the load doubles for a short while.
The service has a bounded queue (``queue_limit``: newcomers beyond it are turned
away at once), and its free workers take queued requests in no particular order
(``queue_discipline="random"``, as a pool of threads woken by whichever
connection is ready does).

What happens (with the defaults):

1. During the spike the queue grows. Soon many requests wait longer than the timeout.
2. Callers give up and retry, but the service does not know: it still works on
   every abandoned request it picks (wasted work). Each customer request now costs
   up to ``max_retries + 1`` attempts, so the *attempted* load is several times the
   offered load, far beyond capacity.
3. The spike ends, but the queue stays full: the retries alone sustain the
   overload. The service settles into a **degraded equilibrium**: the queue is
   full, a few requests are lucky enough to be picked before their caller gives
   up (goodput low, not zero), most work is wasted, and attempts run at about
   three times the offered load. It stays there although the trigger is gone: a
   *metastable* failure (Bronson et al., HotOS 2021; Huang et al., OSDI 2022).

Without retries, with a retry budget, or with half the base load, the same spike
passes and the service recovers by itself. Because the queue is bounded, breaking
the loop ends the collapse at any time: a retry budget pushed minutes later drains
the queue in seconds. The operator actions of the commander game are the usual
ways out: shed load, limit retries, add capacity, pause callers.

With ``queue_discipline="fifo"`` every queued request waits the same (the queue's
whole length), so the collapsed state serves nobody in time (goodput zero); with an
unbounded queue (a huge ``queue_limit``) the backlog of abandoned requests grows
without end, and no late lever can work until it is flushed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..actions import action
from ..client import Clients, LoadProfile
from ..metrics import ratio
from ..outcome import Watch, error_minutes, settled_since
from ..params import Params, param
from ..policies import JITTERS, ExponentialBackoff, FixedRetry, NoRetry, RetryBudget
from ..rubric import ActionCosts, Component, Rubric
from ..service import DISCIPLINES, Service
from ..world import World
from .base import Panel, ScenarioModel

__all__ = ["Params", "Model", "run", "RETRY_POLICIES"]

RETRY_POLICIES = ("none", "immediate", "backoff", "budget")

#: The default waiting room of the service, and the order its workers take requests in.
QUEUE_LIMIT = 400
QUEUE_DISCIPLINE = "random"


@dataclass(frozen=True)
class Params(Params):
    """The knobs of the retry storm. Defaults tip over into a metastable collapse."""

    base_load_rps: float = param(70.0, unit="requests/s", minimum=0, maximum=1000,
                                 doc="steady customer request rate")
    spike_factor: float = param(2.0, unit="x", minimum=1, maximum=20, doc="load multiplier during the spike")
    spike_start_s: float = param(60.0, unit="s", minimum=0, maximum=3600, doc="when the spike starts")
    spike_duration_s: float = param(30.0, unit="s", minimum=0, maximum=3600,
                                    doc="how long the spike lasts (0 = no spike)")
    workers: int = param(10, unit="workers", minimum=1, maximum=1000, doc="parallel workers of the service")
    mean_service_s: float = param(0.1, unit="s", minimum=0, exclusive_minimum=True, maximum=60,
                                  doc="mean work per request (exponential)")
    queue_limit: int = param(QUEUE_LIMIT, unit="requests", minimum=0, maximum=1_000_000,
                             doc="requests that may wait in the service's queue; more are turned away at once "
                                 "(0 = no waiting room)")
    queue_deadline_s: float = param(0.0, unit="s", minimum=0, maximum=3600,
                                    doc="server-side deadline: queued requests that waited longer are dropped "
                                        "instead of served (0 = no deadline)")
    queue_discipline: str = param(QUEUE_DISCIPLINE, choices=DISCIPLINES,
                                  doc="which queued request a free worker takes: fifo (oldest) | lifo (newest) "
                                      "| random (any, in no particular order)")
    timeout_s: float = param(1.0, unit="s", minimum=0, exclusive_minimum=True, maximum=600,
                             doc="caller timeout per attempt")
    retry_policy: str = param("immediate", choices=RETRY_POLICIES,
                              doc="none | immediate (retry at once) | backoff (capped exponential, with jitter) "
                                  "| budget (immediate, but limited by a token bucket)")
    max_retries: int = param(3, unit="retries", minimum=0, maximum=20, doc="retries per request after the first try")
    backoff_base_s: float = param(0.2, unit="s", minimum=0, exclusive_minimum=True, maximum=60,
                                  doc="backoff: ceiling of the first retry's wait (it doubles for each retry)")
    backoff_cap_s: float = param(5.0, unit="s", minimum=0, exclusive_minimum=True, maximum=600,
                                 doc="backoff: longest wait before a retry")
    backoff_jitter: str = param("full", choices=JITTERS,
                                doc="backoff: none | full | equal | decorrelated (how the wait is randomised)")
    budget_ratio: float = param(0.1, unit="tokens/success", minimum=0, maximum=1,
                                doc="retry budget: tokens a success deposits (a retry spends 1)")
    config_push_s: float = param(10.0, unit="s", minimum=0, maximum=600,
                                 doc="time for a client configuration push (the retry budget) to reach the callers")
    boot_s: float = param(60.0, unit="s", minimum=0, maximum=3600, doc="time for added workers to boot")
    capacity_step_workers: int = param(5, unit="workers", minimum=1, maximum=1000,
                                       doc="workers one 'add capacity' action starts")
    horizon_s: float = param(300.0, unit="s", minimum=10, maximum=3600, doc="simulated duration")

    rules = (
        (lambda p: p.spike_start_s + p.spike_duration_s <= p.horizon_s,
         "the spike (spike_start_s + spike_duration_s) must end within horizon_s"),
        (lambda p: p.backoff_base_s <= p.backoff_cap_s, "backoff_base_s must be <= backoff_cap_s"),
    )


def make_retry(p: Params):
    """The client-side retry policy and budget that the parameters ``p`` ask for."""
    if p.retry_policy == "none":
        return NoRetry(), None
    if p.retry_policy == "backoff":
        return ExponentialBackoff(max_retries=p.max_retries, base_s=p.backoff_base_s, cap_s=p.backoff_cap_s,
                                  jitter=p.backoff_jitter), None
    if p.retry_policy == "budget":
        return FixedRetry(max_retries=p.max_retries), RetryBudget(ratio=p.budget_ratio, max_tokens=10)
    return FixedRetry(max_retries=p.max_retries), None


#: Share of attempts timing out (over the last few seconds) that pages the on-call engineer.
PAGE_TIMEOUT_SHARE = 0.2


class Model(ScenarioModel):
    """One service, an open population of retrying callers, one load spike."""

    name = "retry-storm"
    title = "a retry storm after a short load spike"
    Params = Params
    tick_s = 5.0
    debrief_shift_s = 30.0
    headline_series = ("error_rate", "useful", "queue_length")
    headline_window_s = 120.0
    play_speeds = (5.0, 15.0, 30.0)
    page_rule = f"more than {PAGE_TIMEOUT_SHARE:.0%} of the callers' attempts time out"
    watches = (
        Watch(f"over {PAGE_TIMEOUT_SHARE:.0%} of attempts time out",
              lambda m: m.recent_timeout_share() > PAGE_TIMEOUT_SHARE,
              clears=lambda m: m.recent_timeout_share() < 0.01, clear_label="attempts succeed again",
              page=True),
    )
    intended_plan = [(1.25, "shed_load"), (1.25, "retry_budget")]
    rubric = Rubric(
        components=(
            Component("error_minutes", "Customer impact",
                      "customer error-minutes from the spike on (one minute with every request failing)",
                      "error-minutes", 60, full_at=0.5, zero_at=3.0),
            Component("minutes_to_recover", "Time to recover",
                      "minutes from the spike until customers stop failing for good", "min", 30,
                      full_at=1.0, zero_at=4.0, none_means="not recovered by the end"),
        ),
        costs=ActionCosts(10, "toil and risk of each change to a service under stress: shedding and a "
                              "config push cost 2, pausing customers 3, capacity 3"),
    )
    panels = (
        Panel("Load (requests/s)", [("offered", "offered by customers"), ("attempts", "attempted (with retries)"),
                                    ("useful", "goodput (useful)"), ("served", "throughput (served)")], "req/s"),
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
        spike_end = p.spike_start_s + p.spike_duration_s
        if p.spike_duration_s > 0 and p.spike_factor > 1:
            self.world.at(p.spike_start_s, lambda: self.world.note(
                f"load spike x{p.spike_factor:g} begins", "trigger"))
            self.world.at(spike_end, lambda: self.world.note("load spike ends", "event"))

    def recent_timeout_share(self, window_s: float = 5.0) -> float:
        """Share of the attempts in the last ``window_s`` seconds that timed out (0 if none)."""
        m = self.world.metrics
        last = m.bucket(self.world.now)
        first = max(0, last - int(window_s / m.bucket_s))
        attempts = sum(m.counter("attempts")[first:last])
        return sum(m.counter("timeouts")[first:last]) / attempts if attempts else 0.0

    # -- operator actions -------------------------------------------------------------
    @action("Shed stale requests", cost=2,
            description="The service drops queued requests that waited longer than half the callers' "
                        "timeout instead of working on them.")
    def shed_load(self) -> str:
        self.service.max_queue_wait_s = self.params.timeout_s / 2
        return "the service now drops requests that waited longer than half the timeout"

    @action("Switch to a retry budget", delay="config_push_s", cost=2,
            description="Push a client config that limits retries with a token bucket "
                        "(budget_ratio tokens per success, 10 at most).")
    def retry_budget(self) -> str:
        p = self.params
        self.clients.retry = FixedRetry(max_retries=p.max_retries)
        self.clients.budget = RetryBudget(ratio=p.budget_ratio, max_tokens=10)
        return "clients now use a retry budget"

    @retry_budget.precondition
    def retry_budget(self) -> str | None:
        return "the clients already use a retry budget" if self.clients.budget is not None else None

    @action("Add workers", delay="boot_s", limit=2, cost=3,
            description="Start more workers (capacity_step_workers each time); they must boot first.")
    def add_capacity(self) -> str:
        self.service.set_workers(self.service.workers + self.params.capacity_step_workers)
        return f"{self.params.capacity_step_workers} workers added ({self.service.workers} now)"

    @action("Pause clients", limit=None, cost=3,
            description="Turn new customer requests away at the edge (they fail at once) until resumed.")
    def pause_clients(self) -> str:
        self.clients.paused = True
        return "new customer requests are turned away"

    @pause_clients.precondition
    def pause_clients(self) -> str | None:
        return "clients are already paused" if self.clients.paused else None

    @action("Resume clients", limit=None, cost=1, description="Let customer requests through again.")
    def resume_clients(self) -> str:
        self.clients.paused = False
        return "customer requests flow again"

    @resume_clients.precondition
    def resume_clients(self) -> str | None:
        return None if self.clients.paused else "clients are not paused"

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

    def _recovered_at_s(self, err: np.ndarray) -> float | None:
        """First time after the spike from which the error rate ``err`` stays below 5% to
        the end of the settled seconds (None: still failing, or only just stopped)."""
        t = self.world.metrics.times()
        end = self.world.now - self._max_call_s()
        recovered = settled_since(t, err < 0.05, start_s=self.params.spike_start_s, end_s=end)
        if recovered is not None and recovered >= end - 5:
            return None
        return recovered

    def measure(self) -> dict[str, Any]:
        """Customer error-minutes from the spike on, and minutes until recovery (None: not)."""
        p = self.params
        error_rate = self._error_rate(self.world.metrics.series())
        t = self.world.metrics.times()
        recovered_at = self._recovered_at_s(error_rate)
        return {
            "error_minutes": round(error_minutes(t, error_rate, self.world.metrics.bucket_s,
                                                 start_s=p.spike_start_s), 3),
            "minutes_to_recover": None if recovered_at is None else round((recovered_at - p.spike_start_s) / 60, 2),
            "wasted_requests": self.world.metrics.total("wasted"),
            "workers_at_end": self.service.workers,
        }

    def outcome(self, m: dict[str, Any]) -> str:
        if m["minutes_to_recover"] is None:
            return "the service never recovered: retries kept it overloaded after the spike"
        return (f"customers stopped failing {m['minutes_to_recover']:.1f} min after the spike began, "
                f"after {m['error_minutes']:.2f} customer error-minutes")


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
