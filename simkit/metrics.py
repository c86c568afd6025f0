"""Time-bucketed measurements of a simulation, cheap to record and easy to plot.

A :class:`Metrics` object divides the simulated horizon into equal buckets
(say 1 s, or 1 min) and keeps, per bucket:

* **counts**: how many attempts, on-time successes, timeouts, ... happened in it;
* **gauges**: the value of a level (queue length, servers in service) sampled at
  the end of the bucket, or set explicitly;
* **observations**: sums and counts of a measured quantity (latency), so a
  per-bucket mean can be plotted, plus every value for percentiles.

Recording is a list index and an addition: no tuple per event, no NumPy call in
the hot path. :meth:`Metrics.series` converts everything to NumPy arrays once, at
the end. The :class:`Timeline` holds labelled moments ("02:19 network
disruption") that plots draw as annotations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

__all__ = ["Metrics", "Timeline", "TimelineEvent", "ratio"]


def ratio(num, den, empty: float = np.nan) -> np.ndarray:
    """``num / den`` per bucket, with ``empty`` where ``den`` is 0 (no division warning).

    The usual shape of a rate: errors per call, successes per request. A bucket with
    no calls has no rate, so it gets ``empty`` (NaN by default: a plot leaves a gap).
    """
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.full(np.broadcast(num, den).shape, float(empty)), where=den > 0)


@dataclass(frozen=True)
class TimelineEvent:
    """A labelled moment on the simulated clock; ``kind`` groups them for plots."""

    t_s: float
    label: str
    kind: str = "event"  # "trigger", "action", "failure", "recovery", "event"

    def to_dict(self) -> dict:
        return {"t_s": self.t_s, "label": self.label, "kind": self.kind}


class Timeline:
    """An ordered list of :class:`TimelineEvent` that scenarios and operators add to."""

    def __init__(self) -> None:
        self.events: list[TimelineEvent] = []

    def add(self, t_s: float, label: str, kind: str = "event") -> TimelineEvent:
        """Record that ``label`` happened at simulated time ``t_s``."""
        event = TimelineEvent(float(t_s), label, kind)
        self.events.append(event)
        return event

    def __iter__(self):
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def to_list(self) -> list[dict]:
        return [e.to_dict() for e in self.events]


class Metrics:
    """Counters, gauges and observations per time bucket over ``[0, horizon_s)``.

    Names are free-form strings; a series springs into existence the first time it
    is recorded. Times at or past the horizon go into the last bucket, so nothing
    recorded is silently lost.
    """

    def __init__(self, bucket_s: float, horizon_s: float) -> None:
        if not (bucket_s > 0 and horizon_s > 0):
            raise ValueError(f"bucket_s and horizon_s must be > 0, got {bucket_s}, {horizon_s}")
        self.bucket_s = float(bucket_s)
        self.horizon_s = float(horizon_s)
        self.n_buckets = max(1, math.ceil(horizon_s / bucket_s - 1e-9))
        self._counts: dict[str, list[float]] = {}
        self._gauges: dict[str, list[float]] = {}
        self._obs_sum: dict[str, list[float]] = {}
        self._obs_n: dict[str, list[int]] = {}
        self._obs_all: dict[str, list[float]] = {}
        self.timeline = Timeline()

    # -- recording (hot path) ------------------------------------------------------
    def bucket(self, t_s: float) -> int:
        """Index of the bucket that holds time ``t_s``."""
        i = int(t_s / self.bucket_s)
        return i if i < self.n_buckets else self.n_buckets - 1

    def count(self, name: str, t_s: float, n: float = 1) -> None:
        """Add ``n`` to counter ``name`` in the bucket holding ``t_s``."""
        series = self._counts.get(name)
        if series is None:
            series = self._counts[name] = [0.0] * self.n_buckets
        series[self.bucket(t_s)] += n

    def counter(self, name: str) -> list[float]:
        """The raw per-bucket list of counter ``name``, for hot loops that index it directly."""
        series = self._counts.get(name)
        if series is None:
            series = self._counts[name] = [0.0] * self.n_buckets
        return series

    def gauge(self, name: str, t_s: float, value: float) -> None:
        """Set gauge ``name`` for the bucket holding ``t_s`` (the last value set wins)."""
        series = self._gauges.get(name)
        if series is None:
            series = self._gauges[name] = [math.nan] * self.n_buckets
        series[self.bucket(t_s)] = value

    def observe(self, name: str, t_s: float, value: float) -> None:
        """Record one measurement (e.g. a latency in seconds) in the bucket of ``t_s``."""
        s = self._obs_sum.get(name)
        if s is None:
            s = self._obs_sum[name] = [0.0] * self.n_buckets
            self._obs_n[name] = [0] * self.n_buckets
            self._obs_all[name] = []
        i = self.bucket(t_s)
        s[i] += value
        self._obs_n[name][i] += 1
        self._obs_all[name].append(value)

    # -- reading ---------------------------------------------------------------------
    def times(self) -> np.ndarray:
        """Start time of every bucket, in seconds."""
        return np.arange(self.n_buckets, dtype=float) * self.bucket_s

    def series(self) -> dict[str, np.ndarray]:
        """Every recorded series as a NumPy array of length ``n_buckets``.

        Counters keep their names; gauges are forward-filled from the last value set
        (a bucket where nothing changed keeps the previous level); observations give
        ``<name>_mean`` per bucket (NaN where empty) and ``<name>_n``.
        """
        out: dict[str, np.ndarray] = {}
        for name, values in self._counts.items():
            out[name] = np.asarray(values, dtype=float)
        for name, values in self._gauges.items():
            out[name] = _forward_fill(np.asarray(values, dtype=float))
        for name, sums in self._obs_sum.items():
            n = np.asarray(self._obs_n[name], dtype=float)
            out[f"{name}_mean"] = ratio(sums, n)
            out[f"{name}_n"] = n
        return out

    def observations(self, name: str) -> np.ndarray:
        """Every value recorded with :meth:`observe` under ``name``, in order."""
        return np.asarray(self._obs_all.get(name, []), dtype=float)

    def total(self, name: str) -> float:
        """Sum of counter ``name`` over the whole run (0 if never recorded)."""
        return float(sum(self._counts.get(name, ())))

    def names(self) -> Iterable[str]:
        return list(self._counts) + list(self._gauges) + list(self._obs_sum)


def _forward_fill(values: np.ndarray) -> np.ndarray:
    """Replace NaNs by the last earlier non-NaN value (leading NaNs stay NaN)."""
    mask = np.isnan(values)
    if not mask.any():
        return values
    idx = np.where(~mask, np.arange(len(values)), 0)
    np.maximum.accumulate(idx, out=idx)
    filled = values[idx]
    filled[mask & (idx == 0) & np.isnan(values[0])] = np.nan
    return filled
