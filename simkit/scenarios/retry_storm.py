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

from ..client import Clients, LoadProfile
from ..metrics import ratio
from ..params import Params, param
from ..policies import JITTERS, ExponentialBackoff, FixedRetry, NoRetry, RetryBudget
from ..service import DISCIPLINES, Service
from ..world import World
from .base import ActionSpec, Panel, ScenarioModel, ScoreCard

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


class Model(ScenarioModel):
    """One service, an open population of retrying callers, one load spike."""

    name = "retry-storm"
    title = "a retry storm after a short load spike"
    Params = Params
    tick_s = 5.0
    actions = {
        "shed_load": ActionSpec(
            "shed_load", "Shed stale requests",
            "The service drops queued requests that waited longer than half the caller's timeout "
            "instead of working on them (takes effect at once).", 0.0),
        "retry_budget": ActionSpec(
            "retry_budget", "Switch to a retry budget",
            "Push a client config that limits retries with a token bucket (10% of successes); "
            "the push reaches the clients after 10 s.", 10.0),
        "add_capacity": ActionSpec(
            "add_capacity", "Add 5 workers",
            "Start 5 more workers; they take 60 s to boot (at most twice).", 60.0),
        "pause_clients": ActionSpec(
            "pause_clients", "Pause clients",
            "Turn new customer requests away at the edge (they fail at once) until resumed.", 0.0),
        "resume_clients": ActionSpec(
            "resume_clients", "Resume clients", "Let customer requests through again.", 0.0),
    }
    panels = (
        Panel("Load (requests/s)", [("offered", "offered by customers"), ("attempts", "attempted (with retries)"),
                                    ("useful", "goodput (useful)"), ("served", "throughput (served)")], "req/s"),
        Panel("Customer error rate", [("error_rate", "failed share")], "%", scale=100, ylim=(0, 105)),
        Panel("Queue", [("queue_length", "queued requests")], "requests"),
        Panel("Latency of successful calls", [("latency_mean", "mean")], "s"),
    )

    def __init__(self, params: Params | dict | None = None, seed: int = 0) -> None:
        super().__init__(params, seed)
        p = self.params
        self.world = World(seed, horizon_s=p.horizon_s, bucket_s=1.0)
        self.service = Service(self.world, workers=p.workers, mean_service_s=p.mean_service_s,
                               discipline=p.queue_discipline, queue_limit=p.queue_limit,
                               max_queue_wait_s=p.queue_deadline_s or None)
        retry, budget = make_retry(p)
        load = LoadProfile.spike(p.base_load_rps, p.spike_factor, p.spike_start_s, p.spike_duration_s)
        self.clients = Clients(self.world, self.service, load, timeout_s=p.timeout_s, retry=retry, budget=budget)
        self.capacity_added = 0
        self.budget_requested = False
        spike_end = p.spike_start_s + p.spike_duration_s
        if p.spike_duration_s > 0 and p.spike_factor > 1:
            self.world.at(p.spike_start_s, lambda: self.world.note(
                f"load spike x{p.spike_factor:g} begins", "trigger"))
            self.world.at(spike_end, lambda: self.world.note("load spike ends", "event"))

    # -- operator actions -------------------------------------------------------------
    def precondition(self, action: str) -> str | None:
        if action == "shed_load" and self.service.max_queue_wait_s is not None:
            return "stale requests are already being shed"
        if action == "retry_budget" and (self.budget_requested or self.clients.budget is not None):
            return "the clients already use a retry budget"
        if action == "add_capacity" and self.capacity_added >= 2:
            return "no more spare machines: capacity was already added twice"
        if action == "pause_clients" and self.clients.paused:
            return "clients are already paused"
        if action == "resume_clients" and not self.clients.paused:
            return "clients are not paused"
        return None

    def _apply(self, action: str) -> str:
        world, p = self.world, self.params
        if action == "shed_load":
            self.service.max_queue_wait_s = p.timeout_s / 2
            return "the service now drops requests that waited longer than half the timeout"
        if action == "retry_budget":
            def push():
                self.clients.retry = FixedRetry(max_retries=p.max_retries)
                self.clients.budget = RetryBudget(ratio=p.budget_ratio, max_tokens=10)
                world.note("clients now use a retry budget", "recovery")
            world.at(world.now + self.actions[action].delay_s, push)
            self.budget_requested = True
            return "config push under way: clients switch to a retry budget in 10 s"
        if action == "add_capacity":
            self.capacity_added += 1

            def boot():
                self.service.set_workers(self.service.workers + 5)
                world.note(f"5 workers added ({self.service.workers} now)", "recovery")
            world.at(world.now + self.actions[action].delay_s, boot)
            return "5 workers are booting; they join in 60 s"
        if action == "pause_clients":
            self.clients.paused = True
            return "new customer requests are turned away"
        if action == "resume_clients":
            self.clients.paused = False
            return "customer requests flow again"
        raise AssertionError(action)  # pragma: no cover - check() rejects unknown actions

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
        """First time after the spike from which the error rate ``err`` stays below 5% to the end."""
        t = self.world.metrics.times()
        start = self.params.spike_start_s
        end = self.world.now - self._max_call_s()
        bad = (err >= 0.05) & (t >= start) & (t < end)
        if not ((t >= start) & (t < end)).any():
            return None
        if not bad.any():
            return start
        last_bad = int(np.nonzero(bad)[0][-1])
        if last_bad + 1 >= len(t) or t[last_bad + 1] >= end - 5:
            return None  # still failing (or only just stopped) at the end of the run
        return float(t[last_bad + 1])

    def score_card(self) -> ScoreCard:
        """Score: 100 minus the share of customer requests failed after the spike began,
        scaled so that failing everything from the spike to the end scores 0."""
        p = self.params
        error_rate = self._error_rate(self.world.metrics.series())
        err = np.nan_to_num(error_rate, nan=0.0)
        t = self.world.metrics.times()
        after = t >= p.spike_start_s
        error_minutes = float(err[after].sum() * self.world.metrics.bucket_s / 60.0)
        worst = float(after.sum() * self.world.metrics.bucket_s / 60.0)
        recovered_at = self._recovered_at_s(error_rate)
        ttr = None if recovered_at is None else (recovered_at - p.spike_start_s) / 60.0
        score = round(100.0 * max(0.0, 1.0 - error_minutes / worst) ** 2, 1) if worst else 100.0
        wasted = self.world.metrics.total("wasted")
        band = ScoreCard.band_for(score)
        if recovered_at is None:
            verdict = "the service never recovered: retries kept it overloaded after the spike"
        elif ttr <= 2:
            verdict = f"recovered {ttr:.1f} min after the spike began: the storm was cut short"
        else:
            verdict = f"recovered, but only {ttr:.1f} min after the spike began"
        return ScoreCard(
            error_minutes=round(error_minutes, 3),
            time_to_recover_min=None if ttr is None else round(ttr, 2),
            work_lost=wasted,
            work_lost_unit="requests of wasted work",
            score=score,
            band=band,
            verdict=verdict,
            details={"recovered_at_s": recovered_at, "workers_at_end": self.service.workers},
        )


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
