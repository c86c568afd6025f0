"""What the dashboards and the on-call engineer's monitors read, minute by minute.

Every simulated minute :func:`record_minute` writes the gauges (damaged and missing
shares, the traffic-weighted customer error rate, the workflow switches, the queue,
whether the region is back to normal) and the control plane's read traffic. Customers
and tools read their load balancers through the API (describe, health) at
``api_calls_per_lb_h`` calls per load balancer an hour; a read of a missing record
fails, slowly. Counted as expected values, so these series carry no noise of their
own; the calls of real workflows (customer changes, creations) add to them.

:class:`ApiAlarm` is the monitor that pages the on-call engineer: the API error rate
for *existing* load balancers, per complete minute, above a threshold for a number of
minutes in a row. :func:`api_series` derives the error rates and the mean latency at
the end of a run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...metrics import Metrics, ratio
from .parameters import Params

if TYPE_CHECKING:  # pragma: no cover - for type hints only
    from .model import Model

__all__ = ["ApiAlarm", "record_minute", "api_series"]


class ApiAlarm:
    """Minutes in a row that the existing-load-balancer API error rate stayed at or above
    ``threshold``, read from the counters of each minute once it is complete."""

    def __init__(self, metrics: Metrics, threshold: float) -> None:
        self.metrics = metrics
        self.threshold = threshold
        self.minutes_above = 0

    def update(self, now: float) -> None:
        """Read the minute that has just ended (the bucket before ``now``'s)."""
        bucket = self.metrics.bucket(now) - 1
        if bucket < 0:
            return
        calls = self.metrics.counter("api_calls_existing")[bucket]
        errors = self.metrics.counter("api_errors_existing")[bucket]
        above = calls > 0 and errors / calls >= self.threshold
        self.minutes_above = self.minutes_above + 1 if above else 0


def record_minute(model: "Model", now: float) -> None:
    """Write this minute's gauges and read-API counts for ``model`` (an elb-2012 Model)."""
    p: Params = model.params
    m, region, switches = model.world.metrics, model.region, model.switches
    n = len(region)
    n_new = n - region.first_new_id if region.deletion_done else 0
    m.gauge("running_lbs", now, n)
    m.gauge("damaged_lbs", now, len(region.damaged))
    m.gauge("missing_state_lbs", now, len(region.missing))
    m.gauge("damaged_share", now, region.damaged_share)
    m.gauge("missing_share", now, len(region.missing) / n)
    m.gauge("customer_error_rate", now, p.damaged_error_share * region.damaged_traffic_share)
    m.gauge("traffic", now, model.traffic.level(now))
    m.gauge("scaling_enabled", now, switches.share("scaling", now))
    m.gauge("customer_changes_enabled", now, switches.share("customer", now))
    m.gauge("pending_workflows", now, model.control_plane.queued_count())
    m.gauge("normal", now, 1.0 if model.is_normal() else 0.0)
    per_lb = p.api_calls_per_lb_h / 60.0
    missing_existing = len(region.missing) - len(region.missing_new)
    m.count("api_calls_existing", now, per_lb * (n - n_new))
    m.count("api_errors_existing", now, per_lb * missing_existing)
    m.count("api_calls_new", now, per_lb * n_new)
    m.count("api_errors_new", now, per_lb * len(region.missing_new))
    m.count("api_slow_calls", now, per_lb * len(region.missing))


def api_series(metrics: Metrics, params: Params) -> dict[str, np.ndarray]:
    """API error rates (existing vs new load balancers, and all) and the mean API latency."""
    s = metrics.series()
    zeros = np.zeros(metrics.n_buckets)
    out = {}
    calls_all, errors_all = zeros.copy(), zeros.copy()
    for group in ("existing", "new"):
        calls = s.get(f"api_calls_{group}", zeros)
        errors = s.get(f"api_errors_{group}", zeros)
        calls_all, errors_all = calls_all + calls, errors_all + errors
        out[f"api_error_rate_{group}"] = ratio(errors, calls)
    slow = s.get("api_slow_calls", zeros)
    extra = params.missing_state_latency_s - params.api_latency_s
    out["api_error_rate"] = ratio(errors_all, calls_all)
    out["api_latency_s"] = params.api_latency_s + ratio(extra * slow, calls_all)
    return out
