"""What a simulation run returns: its series, its timeline and a short summary.

A :class:`Result` is plain data with NumPy arrays inside. It can be turned into
JSON-friendly dicts (for grading in a subprocess), hashed (for determinism
checks) and plotted with :func:`simkit.plots.dashboard`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .metrics import TimelineEvent

__all__ = ["Result"]


@dataclass
class Result:
    """The outcome of one scenario run.

    ``t_s`` holds the start of each metrics bucket; every array in ``series`` has
    the same length. ``summary`` holds the handful of numbers a reader asks for
    first (peak error rate, time to recover, ...), all plain floats or None.
    """

    scenario: str
    seed: int
    params: dict[str, Any]
    t_s: np.ndarray
    series: dict[str, np.ndarray]
    timeline: list[TimelineEvent] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    clock_start_s: float = 0.0

    def __getitem__(self, name: str) -> np.ndarray:
        """``result["error_rate"]`` is the series called ``error_rate``."""
        try:
            return self.series[name]
        except KeyError:
            raise KeyError(
                f"no series {name!r} in this result; available: {', '.join(sorted(self.series))}"
            ) from None

    def clock(self, t_s: float) -> str:
        """Time of day ("HH:MM") for simulated time ``t_s``."""
        minutes = int((self.clock_start_s + t_s) // 60) % (24 * 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    def value_at(self, name: str, t_s: float) -> float:
        """The value of series ``name`` in the bucket that holds time ``t_s``."""
        bucket = float(self.t_s[1] - self.t_s[0]) if len(self.t_s) > 1 else 1.0
        i = min(len(self.t_s) - 1, max(0, int(t_s / bucket)))
        return float(self[name][i])

    def mean_between(self, name: str, start_s: float, end_s: float) -> float:
        """Mean of series ``name`` over buckets starting in ``[start_s, end_s)``."""
        mask = (self.t_s >= start_s) & (self.t_s < end_s)
        if not mask.any():
            raise ValueError(f"no buckets between {start_s} s and {end_s} s")
        return float(np.nanmean(self[name][mask]))

    def digest(self) -> str:
        """SHA-256 over every series (exact bytes) and the timeline: equal iff identical."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.t_s, dtype=float).tobytes())
        for name in sorted(self.series):
            h.update(name.encode())
            h.update(np.ascontiguousarray(self.series[name], dtype=float).tobytes())
        for event in self.timeline:
            h.update(repr((event.t_s, event.label, event.kind)).encode())
        return h.hexdigest()

    def to_dict(self, include_series: bool = True) -> dict[str, Any]:
        """JSON-friendly copy (NaN becomes None)."""
        data: dict[str, Any] = {
            "scenario": self.scenario,
            "seed": self.seed,
            "params": self.params,
            "summary": _plain(self.summary),
            "timeline": [e.to_dict() for e in self.timeline],
            "clock_start_s": self.clock_start_s,
        }
        if include_series:
            data["t_s"] = _plain(self.t_s)
            data["series"] = {k: _plain(v) for k, v in self.series.items()}
        return data

    def to_json(self, include_series: bool = True) -> str:
        return json.dumps(self.to_dict(include_series))

    def describe(self) -> str:
        """A short readable report: the timeline and the summary, one item a line."""
        lines = [f"{self.scenario} (seed {self.seed})", "timeline:"]
        for e in self.timeline:
            lines.append(f"  {self.clock(e.t_s)}  +{e.t_s / 60:7.1f} min  {e.label}")
        lines.append("summary:")
        for key, value in self.summary.items():
            shown = f"{value:.4g}" if isinstance(value, float) else repr(value)
            lines.append(f"  {key}: {shown}")
        return "\n".join(lines)


def _plain(value: Any) -> Any:
    """Convert NumPy values and NaN to JSON-friendly Python values."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return None if f != f else f
    if isinstance(value, np.integer):
        return int(value)
    return value
