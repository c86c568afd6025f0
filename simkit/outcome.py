"""How an incident went: recovery, error-minutes and the milestones of the timeline.

Every scenario asks the same questions of its series, so the kit answers them once:

* :func:`settled_since`: from when on did a series stay healthy until the end of
  what has been simulated? (``None``: it was not healthy at the end.) This is "time
  to recover" when the series is an error rate, "time to contain" when it is a
  containment flag.
* :func:`error_minutes`: a rate (share of requests failing) integrated over minutes;
  one error-minute is one minute with every request failing, or two at 50%.
* :class:`Watch`: a milestone the kit watches while the run goes on and writes to the
  timeline when it happens ("customer error rate above 20%"), and again when it
  clears ("customer error rate back below 1%"). One watch per scenario *pages* the
  on-call engineer: the first alarm a real operator would have seen. Before the page,
  the commander game refuses every action.

Series are the per-bucket NumPy arrays of :class:`simkit.metrics.Metrics`; NaN marks a
bucket not simulated yet (or with nothing to measure) and counts as unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["settled_since", "error_minutes", "Watch"]


def settled_since(
    t_s: np.ndarray,
    healthy: np.ndarray,
    *,
    start_s: float = 0.0,
    end_s: float | None = None,
) -> float | None:
    """Start of the last run of healthy buckets that lasts to the end of the window.

    ``healthy`` is a boolean array, one value per bucket starting at ``t_s``; only
    buckets with ``start_s <= t < end_s`` count (``end_s`` defaults to the last bucket).
    Returns ``start_s`` if every bucket in the window is healthy, the start time of the
    first bucket of the final healthy stretch otherwise, and None if the last bucket of
    the window is unhealthy or the window is empty.
    """
    t = np.asarray(t_s, dtype=float)
    ok = np.asarray(healthy, dtype=bool)
    window = t >= start_s
    if end_s is not None:
        window &= t < end_s
    if not window.any():
        return None
    indices = np.nonzero(window)[0]
    bad = indices[~ok[indices]]
    if bad.size == 0:
        return float(start_s)
    last_bad = int(bad[-1])
    if last_bad == int(indices[-1]):
        return None
    return float(t[last_bad + 1])


def error_minutes(
    t_s: np.ndarray,
    rate: np.ndarray,
    bucket_s: float,
    *,
    start_s: float = 0.0,
    end_s: float | None = None,
) -> float:
    """Sum of ``rate`` (a share of requests failing, 0..1) over buckets in
    ``[start_s, end_s)``, in minutes. NaN buckets (not simulated) count as 0."""
    t = np.asarray(t_s, dtype=float)
    window = t >= start_s
    if end_s is not None:
        window &= t < end_s
    return float(np.nansum(np.asarray(rate, dtype=float)[window]) * bucket_s / 60.0)


@dataclass(frozen=True)
class Watch:
    """A milestone the kit checks during a run and writes to the timeline.

    ``fires(model)`` says whether the condition holds now; when it starts to hold, the
    kit notes ``label`` (kind ``kind``). If ``clears`` is given, the watch re-arms when
    ``clears(model)`` holds, noting ``clear_label`` (kind ``"recovery"``). A watch with
    ``page=True`` pages the on-call engineer the first time it fires: that moment is the
    model's :attr:`~simkit.scenarios.base.ScenarioModel.page_s`.
    """

    label: str
    fires: Callable[[Any], bool]
    clears: Callable[[Any], bool] | None = None
    clear_label: str = ""
    kind: str = "failure"
    page: bool = False
