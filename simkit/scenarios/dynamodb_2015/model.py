"""``dynamodb-2015``: the model that ties fleet, metadata service, trigger and operators together.

The run covers 02:00 to 08:00 on 20 September 2015 (clock times in PDT). At
02:19 a short network disruption cuts off a portion of the storage fleet. When
it ends, those servers all ask the metadata service for their membership at
once. With post-GSI membership sizes their requests, processed together, take
longer than the servers' allowance: they stay out of service and retry, the
service keeps working on the abandoned requests, and healthy servers' routine
renewals now time out too. The retries sustain the overload long after the
network is fine: a metastable failure.

Operators act through :attr:`Model.actions` (pause renewals, add capacity, ...);
the commander game (:mod:`simkit.commander`) plays them at chosen times.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...metrics import ratio
from ...world import World
from ..base import ActionSpec, Panel, ScenarioModel, ScoreCard
from . import dependents
from .fleet import Fleet, FleetSettings, MembershipFn, RenewalFn, membership_size, \
    partitions_per_server, renewal_process
from .metadata import MetadataService
from .params import CLOCK_START_S, Params

__all__ = ["Model", "run", "tipping_gsi_factor", "ADMIN_WORK_S", "REFERENCE_PLAN"]

#: Standalone processing time of the administrative request that adds capacity: it
#: rewrites the service's own configuration, a heavy request.
ADMIN_WORK_S = 30.0
#: How often the error rate and the gauges are sampled (seconds).
SAMPLE_S = 10.0
#: How long a switch (pause/resume) takes to reach the whole fleet (seconds).
SWITCH_DELAY_S = 120.0
#: How long a configuration change of the storage servers takes to deploy (seconds).
DEPLOY_DELAY_S = 600.0
#: How many times capacity can be added (spare hosts run out).
MAX_CAPACITY_ADDS = 3
#: Error rate at or below which customers count as served normally.
RECOVERED_ERROR = 0.01
#: Score points lost per customer error-minute after the trigger.
POINTS_PER_ERROR_MINUTE = 0.3
#: Highest score for an incident still unresolved at the end of the run.
UNRESOLVED_MAX_SCORE = 25.0

#: What AWS did in 2015, as a plan: two failed attempts to add capacity, the pause
#: at 05:06, capacity added once the service could take the request, then requests
#: re-enabled (customers back to low error rates at 07:10).
REFERENCE_PLAN = [("03:30", "add_capacity"), ("04:30", "add_capacity"), ("05:06", "pause_renewals"),
                  ("05:30", "add_capacity"), ("06:55", "resume_renewals")]


def tipping_gsi_factor(params: Params | None = None) -> float:
    """The GSI factor at which the *largest* membership, processed alone, takes exactly
    the allowance: ``(allowance_s - base_processing_s) / (per_entry_s x largest table
    partitions)``. Below it every renewal fits in an idle service; the fleet gets
    fragile well before it, because concurrent requests slow each other down."""
    p = params or Params()
    largest = max(partitions_per_server(p.servers, p.partitions_median, p.partitions_spread))
    return (p.allowance_s - p.base_processing_s) / (p.per_entry_s * largest)


class Model(ScenarioModel):
    """The DynamoDB fleet, its metadata service(s), a disruption, and the operators.

    ``membership`` and ``renewal`` replace the canonical
    :func:`~simkit.scenarios.dynamodb_2015.fleet.membership_size` and
    :func:`~simkit.scenarios.dynamodb_2015.fleet.renewal_process` with your own
    (same signatures), so the scenario runs with your code::

        Model.run(seed=1, renewal=my_renewal)
    """

    name = "dynamodb-2015"
    title = "DynamoDB, 20 Sep 2015: the GSI membership blowup"
    Params = Params
    tick_s = 60.0
    actions = {
        "pause_renewals": ActionSpec(
            "pause_renewals", "Pause renewal requests",
            "Stop storage servers' requests from reaching the metadata service (takes 2 min). "
            "Servers that cannot renew drop out of service, but the retry load goes away.",
            SWITCH_DELAY_S),
        "resume_renewals": ActionSpec(
            "resume_renewals", "Resume renewal requests",
            "Let storage servers' requests reach the metadata service again (takes 2 min).",
            SWITCH_DELAY_S),
        "add_capacity": ActionSpec(
            "add_capacity", "Add metadata capacity",
            "Send the administrative request that adds workers to the metadata service. "
            "It must be processed by that same service within the admin timeout; if it is, "
            "the new workers come online after the capacity delay (at most 3 times).",
            0.0),
        "lengthen_allowance": ActionSpec(
            "lengthen_allowance", "Double the retrieval allowance",
            "Deploy a config that doubles how long servers wait for their membership "
            "(takes 10 min; at most twice).", DEPLOY_DELAY_S),
        "slow_renewals": ActionSpec(
            "slow_renewals", "Halve the renewal rate",
            "Deploy a config that doubles the time between routine renewals "
            "(takes 10 min; at most twice).", DEPLOY_DELAY_S),
        "enable_backoff": ActionSpec(
            "enable_backoff", "Retry with backoff and jitter",
            "Deploy a config: servers wait a random, growing delay between retries (takes 10 min).",
            DEPLOY_DELAY_S),
        "enable_retry_budget": ActionSpec(
            "enable_retry_budget", "Retry within a budget",
            "Deploy a config: servers retry at once only while their token bucket allows, "
            "else wait for the next routine renewal (takes 10 min).", DEPLOY_DELAY_S),
    }
    panels = (
        Panel("DynamoDB customer error rate", [("error_rate", "requests failing")], "%",
              scale=100, ylim=(0, 105)),
        Panel("Storage servers", [("in_service", "in service"), ("paused", "renewals paused")], "%",
              scale=100, ylim=(0, 105)),
        Panel("Metadata service (per minute)",
              [("metadata_goodput", "replies in time"), ("metadata_wasted", "replies too late (wasted)"),
               ("metadata_dropped", "requests dropped")], "requests"),
        Panel("Dependents: errors", [("sqs_error_rate", "SQS queues failing"),
                                     ("autoscaling_fault_rate", "Auto Scaling API faults"),
                                     ("cloudwatch_missing_fraction", "CloudWatch metrics missing")], "%",
              scale=100, ylim=(0, 105)),
        Panel("Dependents: delays", [("autoscaling_backlog_jobs", "Auto Scaling job backlog (jobs)"),
                                     ("console_login_s", "Console login time (s)")], ""),
    )

    def __init__(self, params: Params | dict | None = None, seed: int = 0, *,
                 membership: MembershipFn | None = None, renewal: RenewalFn | None = None) -> None:
        super().__init__(params, seed)
        p = self.params
        self.world = world = World(seed, horizon_s=p.horizon_s, bucket_s=60.0, clock_start_s=CLOCK_START_S)
        self.cells = [
            MetadataService(world, workers=p.metadata_workers,
                            slots_per_worker=p.metadata_slots / p.metadata_workers, base_processing_s=p.base_processing_s,
                            per_entry_s=p.per_entry_s, name="metadata" if p.metadata_cells == 1 else f"cell{c}")
            for c in range(p.metadata_cells)
        ]
        self.settings = FleetSettings(
            allowance_s=p.allowance_s, renewal_interval_s=p.renewal_interval_s, retry_policy=p.retry_policy,
            backoff_base_s=p.backoff_base_s, backoff_cap_s=p.backoff_cap_s, budget_ratio=p.budget_ratio,
            budget_tokens=p.budget_tokens, rng=world.rng("retry"))
        sizes = partitions_per_server(p.servers, p.partitions_median, p.partitions_spread)
        world.rng("fleet").shuffle(sizes)
        self.fleet = Fleet(world, table_partitions=sizes, gsi_factor=p.gsi_factor,
                           membership=membership or membership_size, cells=self.cells,
                           replicas=p.replicas, customer_partitions=p.customer_partitions,
                           settings=self.settings)
        self._start_renewals(renewal or renewal_process)
        self._schedule_disruption()
        self.capacity_adds = 0
        self.admin_in_flight = False
        self.admin_log: list[dict[str, Any]] = []
        self._changes = {"lengthen_allowance": 0, "slow_renewals": 0}
        self._pause_target = False       # what the last pause/resume asked for
        self._was_failing = False
        self._error_sum = world.metrics.counter("error_sum")
        self._error_samples = world.metrics.counter("error_samples")
        world.every(SAMPLE_S, self._sample)

    # -- building the run ---------------------------------------------------------------------
    def _start_renewals(self, renewal: RenewalFn) -> None:
        """Start every server's renewal process at a random moment of the first interval:
        the fleet has been running for a while, so renewals are spread out."""
        env, rng = self.world.env, self.world.rng("startup")
        for server in self.fleet.servers:
            start = rng.uniform(0.0, self.params.renewal_interval_s)
            env.timeout(start).callbacks.append(
                lambda _e, s=server: env.process(renewal(env, s)))

    def _schedule_disruption(self) -> None:
        """The trigger: a contiguous block of servers (one part of the network) is cut off."""
        p, world = self.params, self.world
        count = round(p.disruption_fraction * p.servers)
        if count == 0 or p.disruption_s <= 0:
            return
        first = world.rng("disruption").randrange(p.servers)
        victims = [self.fleet.servers[(first + i) % p.servers] for i in range(count)]

        def cut() -> None:
            world.note(f"network disruption: {count} of {p.servers} storage servers cut off", "trigger")
            for server in victims:
                server.disconnect()

        def heal() -> None:
            world.note("network restored: cut-off servers re-request their membership", "event")
            for server in victims:
                server.reconnect()

        world.at(p.disruption_start_s, cut)
        world.at(p.disruption_start_s + p.disruption_s, heal)

    def _sample(self) -> None:
        """Every SAMPLE_S: accumulate the error rate, record gauges, note big changes."""
        world, fleet = self.world, self.fleet
        now = world.now
        bucket = world.metrics.bucket(now)
        error = fleet.error_rate
        self._error_sum[bucket] += error
        self._error_samples[bucket] += 1
        world.metrics.gauge("in_service", now, fleet.in_service_fraction)
        world.metrics.gauge("paused", now, 1.0 if fleet.paused else 0.0)
        world.metrics.gauge("metadata_workers", now, sum(c.workers for c in self.cells))
        world.metrics.gauge("metadata_in_progress", now, sum(c.in_progress for c in self.cells))
        world.metrics.gauge("metadata_slowdown", now, max(c.slowdown for c in self.cells))
        if not self._was_failing and error >= 0.2:
            self._was_failing = True
            world.note("customer error rate above 20%", "failure")
        elif self._was_failing and error <= RECOVERED_ERROR:
            self._was_failing = False
            world.note("customer error rate back below 1%", "recovery")

    # -- operator actions -----------------------------------------------------------------------
    def precondition(self, action: str) -> str | None:
        s = self.settings
        if action == "pause_renewals" and self._pause_target:
            return "renewal requests are already paused"
        if action == "resume_renewals" and not self._pause_target:
            return "renewal requests are not paused"
        if action == "add_capacity":
            if self.admin_in_flight:
                return "an add-capacity request is still waiting for the metadata service"
            if self.capacity_adds >= MAX_CAPACITY_ADDS:
                return f"no spare hosts left: capacity was already added {MAX_CAPACITY_ADDS} times"
        if action in self._changes and self._changes[action] >= 2:
            return "this setting was already changed twice"
        if action == "enable_backoff" and s.retry_policy == "backoff-jitter":
            return "servers already retry with backoff and jitter"
        if action == "enable_retry_budget" and s.retry_policy == "budget":
            return "servers already retry within a budget"
        return None

    def _apply(self, action: str) -> str:
        world, s = self.world, self.settings
        later = world.now + self.actions[action].delay_s
        if action in ("pause_renewals", "resume_renewals"):
            pause = action == "pause_renewals"
            self._pause_target = pause

            def switch() -> None:
                self.fleet.paused = pause
                world.note("renewal requests paused" if pause else "renewal requests flow again", "event")
            world.at(later, switch)
            return f"{'pausing' if pause else 'resuming'} renewal requests: the switch reaches the fleet in 2 min"
        if action == "add_capacity":
            return self._send_admin_request()
        if action == "lengthen_allowance":
            self._changes[action] += 1
            world.at(later, lambda: self._set("allowance_s", s.allowance_s * 2, "retrieval allowance"))
            return "deploying a doubled retrieval allowance (10 min)"
        if action == "slow_renewals":
            self._changes[action] += 1
            world.at(later, lambda: self._set("renewal_interval_s", s.renewal_interval_s * 2, "renewal interval"))
            return "deploying a halved renewal rate (10 min)"
        policy = "backoff-jitter" if action == "enable_backoff" else "budget"
        world.at(later, lambda: self._set("retry_policy", policy, "retry policy"))
        return f"deploying retry policy {policy!r} (10 min)"

    def _set(self, name: str, value: Any, label: str) -> None:
        setattr(self.settings, name, value)
        shown = f"{value:g} s" if isinstance(value, float) else value
        self.world.note(f"{label} now {shown}", "event")

    def _send_admin_request(self) -> str:
        """Add capacity the only way there is: an administrative request to the metadata
        service itself. It succeeds only if the service answers within the admin timeout."""
        world, p = self.world, self.params
        self.admin_in_flight = True
        step = p.capacity_step_workers / len(self.cells)
        replies = [cell.submit(ADMIN_WORK_S, p.admin_timeout_s, kind="admin") for cell in self.cells]
        sent_s = world.now

        def verdict() -> None:
            self.admin_in_flight = False
            answered = [cell for cell, reply in zip(self.cells, replies) if reply.triggered]
            self.admin_log.append({"minute": sent_s / 60.0, "ok": bool(answered),
                                   "cells_answered": len(answered)})
            if not answered:
                world.note(f"add capacity failed: no answer to the admin request within "
                           f"{p.admin_timeout_s:g} s", "failure")
                return
            self.capacity_adds += 1
            world.note(f"admin request accepted: {p.capacity_step_workers} workers coming online", "event")

            def online() -> None:
                for cell in answered:
                    cell.set_workers(cell.workers + step)
                total = sum(c.workers for c in self.cells)
                world.note(f"metadata capacity now {total:g} workers", "recovery")
            world.at(world.now + p.capacity_delay_s, online)

        world.at(sent_s + p.admin_timeout_s, verdict)
        return (f"administrative request sent; it must be answered within {p.admin_timeout_s:g} s")

    # -- results --------------------------------------------------------------------------------
    def extra_series(self) -> dict[str, np.ndarray]:
        """The customer error rate per minute (mean of the 10-s samples; NaN where not yet
        simulated) and the dependents' series computed from it."""
        m = self.world.metrics
        error = ratio(self._error_sum, self._error_samples)
        p, bucket = self.params, m.bucket_s
        fault, backlog = dependents.autoscaling(error, bucket, p.autoscaling_jobs_per_min,
                                                p.autoscaling_capacity_per_min)
        return {
            "error_rate": error,
            "sqs_error_rate": dependents.sqs_error_rate(error, bucket, p.sqs_cache_ttl_s),
            "cloudwatch_missing_fraction": dependents.cloudwatch_missing_fraction(
                error, bucket, p.cloudwatch_cache_ttl_s),
            "autoscaling_fault_rate": fault,
            "autoscaling_backlog_jobs": backlog,
            "console_login_s": dependents.console_login_s(error, p.console_call_timeout_s),
        }

    def _error(self) -> tuple[np.ndarray, np.ndarray]:
        return self.world.metrics.times(), self.extra_series()["error_rate"]

    def _recovered_at_s(self) -> float | None:
        """First time after the trigger from which the error rate stays at or below 1%
        to the end of what has been simulated (None: still failing)."""
        t, error = self._error()
        start = self.params.disruption_start_s
        done = (t >= start) & ~np.isnan(error)
        if not done.any():
            return None
        bad = done & (error > RECOVERED_ERROR)
        if not bad.any():
            return start
        last_bad = int(np.nonzero(bad)[0][-1])
        if last_bad + 1 >= len(t) or np.isnan(error[last_bad + 1]):
            return None
        return float(t[last_bad + 1])

    def _error_minutes(self) -> float:
        """Customer error-minutes from the trigger on (share failing x minutes)."""
        t, error = self._error()
        after = t >= self.params.disruption_start_s
        return float(np.nansum(error[after]) * self.world.metrics.bucket_s / 60.0)

    def summary(self) -> dict[str, Any]:
        p = self.params
        t, error = self._error()
        start = p.disruption_start_s

        def mean(lo: float, hi: float) -> float | None:
            mask = (t >= lo) & (t < hi) & ~np.isnan(error)
            return float(error[mask].mean()) if mask.any() else None

        plateau = mean(start + 30 * 60, start + 90 * 60)
        reached = None
        if plateau is not None and plateau > 0.05:
            above = np.nonzero((t >= start) & (error >= 0.8 * plateau))[0]
            reached = float((t[above[0]] + self.world.metrics.bucket_s - start) / 60.0) if len(above) else None
        recovered_at = self._recovered_at_s()
        m = self.world.metrics
        work = sum(m.total(f"{c.name}_work_s") for c in self.cells)
        wasted = sum(m.total(f"{c.name}_wasted_work_s") for c in self.cells)
        sizes = [s.entries for s in self.fleet.servers]
        return {
            "error_before": mean(0.0, start),
            "plateau_error": plateau,
            "minutes_to_plateau": reached,
            "peak_error": float(np.nanmax(error)) if np.isfinite(error).any() else None,
            "error_last_hour": mean(self.world.now - 3600.0, self.world.now),
            "recovered": recovered_at is not None,
            "recovered_at": None if recovered_at is None else self.world.clock(recovered_at),
            "minutes_to_recover": None if recovered_at is None else (recovered_at - start) / 60.0,
            "error_minutes": self._error_minutes(),
            "wasted_work_share": wasted / work if work else 0.0,
            "largest_membership": max(sizes),
            "median_membership": float(np.median(sizes)),
            "tipping_gsi_factor": tipping_gsi_factor(p),
            "capacity_adds": self.capacity_adds,
            "admin_requests_failed": sum(1 for a in self.admin_log if not a["ok"]),
            "metadata_workers_end": sum(c.workers for c in self.cells),
        }

    def score_card(self) -> ScoreCard:
        """Score: 100 minus 0.3 points per customer error-minute after the trigger (an
        error-minute is one minute with every request failing, or two at 50%); an
        incident still unresolved at the end of the run scores at most 25 (bottom band)."""
        error_minutes = self._error_minutes()
        recovered_at = self._recovered_at_s()
        start = self.params.disruption_start_s
        ttr = None if recovered_at is None else (recovered_at - start) / 60.0
        score = max(0.0, 100.0 - POINTS_PER_ERROR_MINUTE * error_minutes)
        if recovered_at is None:
            score = min(score, UNRESOLVED_MAX_SCORE)
        score = round(score, 1)
        failed_admin = sum(1 for a in self.admin_log if not a["ok"])
        if recovered_at is None:
            verdict = "DynamoDB never recovered: the renewal retries kept the metadata service overloaded"
            if failed_admin:
                verdict += f"; {failed_admin} add-capacity request(s) timed out, as they did in 2015"
        else:
            verdict = (f"customers recovered at {self.world.clock(recovered_at)}, {ttr:.0f} min after the "
                       f"disruption, after {error_minutes:.0f} customer error-minutes")
        m = self.world.metrics
        wasted_hours = sum(m.total(f"{c.name}_wasted_work_s") for c in self.cells) / 3600.0
        return ScoreCard(
            error_minutes=round(error_minutes, 2),
            time_to_recover_min=None if ttr is None else round(ttr, 1),
            work_lost=round(wasted_hours, 2),
            work_lost_unit="worker-hours of metadata work wasted on abandoned requests",
            score=score,
            band=ScoreCard.band_for(score),
            verdict=verdict,
            details={"admin_requests": list(self.admin_log), "capacity_adds": self.capacity_adds,
                     "recovered_at": None if recovered_at is None else self.world.clock(recovered_at)},
        )


run = Model.run
