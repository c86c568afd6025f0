"""``dynamodb-2015``: the model that ties fleet, metadata service, trigger and operators together.

The run covers 02:00 to 08:00 on 20 September 2015 (clock times in PDT). At
02:19 a short network disruption cuts off a portion of the storage fleet. When
it ends, those servers all ask the metadata service for their membership at
once. With post-GSI membership sizes their requests, processed together, take
longer than the servers' allowance: they stay out of service and retry, the
service keeps working on the abandoned requests, and healthy servers' routine
renewals now time out too. The retries sustain the overload long after the
network is fine: a metastable failure, which holds near 55% of customer requests
failing, as it did in 2015.

Operators act through :attr:`Model.actions` (:mod:`.operators`: pause renewals,
add capacity, ...); the commander game (:mod:`simkit.commander`) plays them at
chosen times, and :attr:`Model.rubric` scores the night.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...metrics import ratio
from ...outcome import Watch, error_minutes, settled_since
from ...plugins import guarded_process
from ...rubric import ActionCosts, Cap, Component, Rubric
from ...world import World
from ..base import Panel, ScenarioModel
from . import dependents
from .fleet import Fleet, FleetSettings, MembershipFn, RenewalFn, membership_size, \
    partitions_per_server, renewal_process
from .metadata import MetadataService
from .operators import ADMIN_WORK_S, MAX_CAPACITY_ADDS, OperatorActions
from .params import CLOCK_START_S, Params

__all__ = ["Model", "run", "tipping_gsi_factor", "ADMIN_WORK_S", "MAX_CAPACITY_ADDS", "HISTORICAL_PLAN",
           "INTENDED_PLAN", "PAGE_ERROR", "PAGE_MINUTES"]

#: How often the error rate and the gauges are sampled (seconds).
SAMPLE_S = 10.0
#: Error rate at or below which customers count as served normally.
RECOVERED_ERROR = 0.01
#: The page: the customer error rate, averaged over each minute, at or above
#: PAGE_ERROR for PAGE_MINUTES minutes in a row. AWS's summary does not say when its
#: on-call engineers were paged; it says a brief network disruption like the one at
#: 02:19 is "normally" absorbed without customers noticing, so the model's alarm is a
#: standard one that a 90-second blip does not trip (a few partitions whose replicas
#: are all cut off for a minute), while the climb that followed does within minutes.
PAGE_ERROR = 0.05
PAGE_MINUTES = 3

#: What AWS did in 2015, as a plan: failed attempts to add capacity while the
#: retries kept the service busy (the record says "several", not when), the pause
#: decided at 05:06, capacity added once the service could take the request, and
#: requests re-enabled so that customers were back at low error rates at 07:10.
HISTORICAL_PLAN = [("03:30", "add_capacity"), ("04:30", "add_capacity"), ("05:06", "pause_renewals"),
                   ("05:40", "add_capacity"), ("06:45", "resume_renewals")]

#: What lab 1 teaches: break the loop first (pause), add capacity once the service is
#: quiet, and let the renewals back in only once the new hosts have joined.
INTENDED_PLAN = [("02:35", "pause_renewals"), ("03:02", "add_capacity"), ("03:06", "resume_renewals")]


def tipping_gsi_factor(params: Params | None = None) -> float:
    """The GSI factor at which the *largest* membership, processed alone, takes exactly
    the allowance: ``(allowance_s - base_processing_s) / (per_entry_s x largest table
    partitions)``. Below it every renewal fits in an idle service; the fleet gets
    fragile well before it, because concurrent requests slow each other down."""
    p = params or Params()
    largest = max(partitions_per_server(p.servers, p.partitions_median, p.partitions_spread))
    return (p.allowance_s - p.base_processing_s) / (p.per_entry_s * largest)


class Model(OperatorActions, ScenarioModel):
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
    debrief_shift_s = 20 * 60.0
    headline_series = ("error_rate", "in_service", "metadata_wasted")
    headline_window_s = 90 * 60.0
    play_speeds = (60.0, 240.0, 960.0)
    intended_plan = INTENDED_PLAN
    historical_plan = HISTORICAL_PLAN
    page_rule = (f"the customer error rate (one-minute average) has been at or above {PAGE_ERROR:.0%} "
                 f"for {PAGE_MINUTES} minutes in a row")
    watches = (
        Watch(f"alarm: customer error rate at or above {PAGE_ERROR:.0%} for {PAGE_MINUTES} min",
              lambda m: m.alarm_minutes >= PAGE_MINUTES, page=True),
        Watch("customer error rate above 20%", lambda m: m.fleet.error_rate >= 0.2,
              clears=lambda m: m.fleet.error_rate <= RECOVERED_ERROR,
              clear_label="customer error rate back below 1%"),
    )
    rubric = Rubric(
        components=(
            Component("error_minutes", "Customer impact",
                      "customer error-minutes from the disruption on (one minute with every request "
                      "failing, or two at 50%)", "error-minutes", 40, full_at=40, zero_at=200),
            Component.flag("resolved", "Incident resolved",
                           "customers back at or below 1% errors for good before the run ended", 20),
            Component("minutes_to_recover", "Time to recover",
                      "minutes from the disruption until the error rate is back at or below 1% for good",
                      "min", 30, full_at=75, zero_at=420, none_means="not recovered by 08:00"),
        ),
        costs=ActionCosts(10, "operational risk and toil of each change made to a fleet in trouble: a "
                              "switch costs 1, a capacity request 2, a fleet-wide config change 3"),
        caps=(Cap(lambda m: not m["resolved"], 25, "customers were still failing at the end of the run"),),
    )
    panels = (
        Panel("DynamoDB customer error rate", [("error_rate", "requests failing")], "%",
              scale=100, ylim=(0, 105)),
        Panel("Storage servers", [("in_service", "in service"), ("paused", "renewals paused"),
                                  ("on_new_config", "on the newest config")], "%",
              scale=100, ylim=(0, 105)),
        Panel("Metadata service (per minute)",
              [("metadata_goodput", "replies in time"), ("metadata_wasted", "replies too late (wasted)"),
               ("metadata_dropped", "requests dropped")], "requests"),
        Panel("Dependents: errors", [("sqs_error_rate", "SQS queues failing"),
                                     ("autoscaling_fault_rate", "Auto Scaling API faults"),
                                     ("cloudwatch_missing_fraction", "CloudWatch metrics missing")], "%",
              scale=100, ylim=(0, 105)),
        Panel("Dependents: delays", [("console_login_s", "Console login time (s)"),
                                     ("cloudwatch_backlog_min", "CloudWatch metrics held back (min)")], ""),
        Panel("Auto Scaling scheduler", [("autoscaling_backlog_jobs", "scaling jobs waiting")], "jobs"),
    )

    def build(self, *, membership: MembershipFn | None = None, renewal: RenewalFn | None = None) -> None:
        p = self.params
        self.world = world = World(self.seed, horizon_s=p.horizon_s, bucket_s=60.0, clock_start_s=CLOCK_START_S)
        self.cells = [
            MetadataService(world, workers=p.metadata_workers,
                            slots_per_worker=p.metadata_slots / p.metadata_workers, base_processing_s=p.base_processing_s,
                            per_entry_s=p.per_entry_s, name="metadata" if p.metadata_cells == 1 else f"cell{c}")
            for c in range(p.metadata_cells)
        ]
        self.settings = FleetSettings(
            allowance_s=p.allowance_s, renewal_interval_s=p.renewal_interval_s, retry_policy=p.retry_policy,
            backoff_base_s=p.backoff_base_s, backoff_cap_s=p.backoff_cap_s, budget_ratio=p.budget_ratio,
            budget_tokens=p.budget_tokens, reconnect_s=p.reconnect_s, rng=world.rng("retry"))
        sizes = partitions_per_server(p.servers, p.partitions_median, p.partitions_spread)
        world.rng("fleet").shuffle(sizes)
        self.fleet = Fleet(world, table_partitions=sizes, gsi_factor=p.gsi_factor,
                           membership=membership or membership_size, cells=self.cells,
                           replicas=p.replicas, customer_partitions=p.customer_partitions,
                           settings=self.settings)
        if renewal is None:
            renewal = renewal_process
        else:  # a learner's: its SimPy mistakes stop the run with a message that says what to write
            renewal = guarded_process(renewal, arguments=("env", "server"), what="renewal process")
        self._start_renewals(renewal)
        self._schedule_disruption()
        self.capacity_adds = 0
        self.admin_log: list[dict[str, Any]] = []
        self._admin_replies: list = []
        self.alarm_minutes = 0           # whole minutes in a row at or above PAGE_ERROR
        self._minute = [0, 0.0, 0]       # (minute index, sum of samples, samples) of the open minute
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
        """Every SAMPLE_S: accumulate the error rate, keep the alarm, record the gauges."""
        world, fleet = self.world, self.fleet
        now = world.now
        bucket = world.metrics.bucket(now)
        error = fleet.error_rate
        self._error_sum[bucket] += error
        self._error_samples[bucket] += 1
        self._keep_alarm(now, error)
        world.metrics.gauge("in_service", now, fleet.in_service_fraction)
        world.metrics.gauge("paused", now, 1.0 if fleet.paused else 0.0)
        world.metrics.gauge("on_new_config", now, fleet.adopted_fraction)
        world.metrics.gauge("metadata_workers", now, sum(c.workers for c in self.cells))
        world.metrics.gauge("metadata_in_progress", now, sum(c.in_progress for c in self.cells))
        world.metrics.gauge("metadata_slowdown", now, max(c.slowdown for c in self.cells))

    def _keep_alarm(self, now: float, error: float) -> None:
        """The paging alarm: when a minute closes, compare its average error rate with
        PAGE_ERROR and count the minutes in a row at or above it."""
        minute = int(now // 60.0)
        index, total, samples = self._minute
        if minute != index:
            if samples:
                above = total / samples >= PAGE_ERROR
                self.alarm_minutes = self.alarm_minutes + 1 if above else 0
            index, total, samples = minute, 0.0, 0
        self._minute = [index, total + error, samples + 1]

    # -- results --------------------------------------------------------------------------------
    def extra_series(self) -> dict[str, np.ndarray]:
        """The customer error rate per minute (mean of the 10-s samples; NaN where not yet
        simulated) and the dependents' series computed from it."""
        m = self.world.metrics
        error = ratio(self._error_sum, self._error_samples)
        p, bucket = self.params, m.bucket_s
        fault, backlog = dependents.autoscaling(error, bucket, p.autoscaling_jobs_per_min,
                                                p.autoscaling_capacity_per_min)
        missing, held = dependents.cloudwatch(error, bucket, p.cloudwatch_cache_ttl_s, p.cloudwatch_hold_s,
                                              p.cloudwatch_spare)
        return {
            "error_rate": error,
            "sqs_error_rate": dependents.sqs_error_rate(error, bucket, p.sqs_cache_ttl_s),
            "cloudwatch_missing_fraction": missing,
            "cloudwatch_backlog_min": held,
            "autoscaling_fault_rate": fault,
            "autoscaling_backlog_jobs": backlog,
            "console_login_s": dependents.console_login_s(error, p.console_call_timeout_s),
        }

    def dependents_windows(self) -> dict[str, Any]:
        """When each dependent was impaired, as clock times ``(from, to)`` (None: never), and
        when the Auto Scaling backlog clears (extrapolated past the end if still draining).
        The thresholds are in :mod:`.dependents`."""
        series = self.extra_series()
        t, bucket = self.world.metrics.times(), self.world.metrics.bucket_s
        d = dependents
        flags = {
            "sqs_failing": series["sqs_error_rate"] >= d.SQS_THRESHOLD,
            "cloudwatch_impaired": (series["cloudwatch_missing_fraction"] >= d.CLOUDWATCH_THRESHOLD)
            | (series["cloudwatch_backlog_min"] >= 1.0),
            "console_slow": series["console_login_s"] >= d.CONSOLE_SLOW_S,
            "autoscaling_faults": series["autoscaling_fault_rate"] >= d.AUTOSCALING_THRESHOLD,
        }
        out: dict[str, Any] = {}
        for name, flag in flags.items():
            window = d.impaired_window(t, flag)
            out[name] = None if window is None else (self.world.clock(window[0]),
                                                     self.world.clock(window[1] + bucket))
        clears = d.clears_at_min(series["autoscaling_backlog_jobs"], bucket, self.params.autoscaling_jobs_per_min,
                                 self.params.autoscaling_capacity_per_min)
        out["autoscaling_backlog_clears"] = None if clears is None else self.world.clock(clears * 60.0)
        return out

    def _error(self) -> tuple[np.ndarray, np.ndarray]:
        return self.world.metrics.times(), self.extra_series()["error_rate"]

    def _recovered_at_s(self) -> float | None:
        """First time after the trigger from which the error rate stays at or below 1%
        to the end of what has been simulated (None: still failing)."""
        t, error = self._error()
        simulated = ~np.isnan(error)
        return settled_since(t[simulated], error[simulated] <= RECOVERED_ERROR,
                             start_s=self.params.disruption_start_s)

    def _error_minutes(self) -> float:
        """Customer error-minutes from the trigger on (share failing x minutes)."""
        t, error = self._error()
        return error_minutes(t, error, self.world.metrics.bucket_s, start_s=self.params.disruption_start_s)

    def measure(self) -> dict[str, Any]:
        """What the rubric scores: error-minutes and time to recover (None: not recovered)."""
        recovered_at = self._recovered_at_s()
        start = self.params.disruption_start_s
        failed_admin = sum(1 for a in self.admin_log if not a["ok"])
        return {
            "error_minutes": round(self._error_minutes(), 2),
            "resolved": int(recovered_at is not None),
            "minutes_to_recover": None if recovered_at is None else round((recovered_at - start) / 60.0, 1),
            "recovered_at": None if recovered_at is None else self.world.clock(recovered_at),
            "capacity_adds": self.capacity_adds,
            "admin_requests_failed": failed_admin,
        }

    def outcome(self, m: dict[str, Any]) -> str:
        if not m["resolved"]:
            text = "customers were still failing at the end: the renewal retries kept the metadata service overloaded"
            if m["admin_requests_failed"]:
                text += (f"; {m['admin_requests_failed']} administrative request(s) to add capacity went "
                         f"unanswered by the overloaded service, as they did in 2015")
            return text
        return (f"customers recovered at {m['recovered_at']}, {m['minutes_to_recover']:.0f} min after the "
                f"disruption, after {m['error_minutes']:.0f} customer error-minutes")

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
        windows = {}
        for name, window in self.dependents_windows().items():
            if name == "autoscaling_backlog_clears":
                windows[name] = window
            else:
                windows[f"{name}_from"], windows[f"{name}_to"] = window or (None, None)
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
            "page_at": None if self.page_s is None else self.world.clock(self.page_s),
            **windows,
        }


run = Model.run
