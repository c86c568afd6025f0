"""Phase maps: which triggers a system rides out, and which tip it into a lasting failure.

A metastable system has two stable states, healthy and collapsed, and the trigger
decides which one it ends in. A **phase map** runs the scenario over a grid of
trigger *sizes* (how far the trigger pushes: the spike's load multiplier) and
*durations* (how long it pushes), and marks each cell **recovered** (the failure
ended by itself) or **collapsed** (it outlived the trigger). The boundary between
the two regions is the edge of the metastable region.

Two lenses compute a map:

* ``"des"``: the discrete-event scenario itself, one run per cell and seed, spread
  over the machine's cores by :mod:`simkit.sweep` (exact, about half a second a run);
* ``"fluid"``: the mean-field model of :mod:`simkit.fluid` (retry-storm only), every
  cell at once (a sketch, a 50 x 50 map in about a second).

:func:`envelope` gives the back-of-envelope prediction of the boundary, and
:func:`agreement` compares two maps cell by cell.

Example::

    from simkit.phase import phase_map
    from simkit.plots import phase_plot
    fast = phase_map("retry-storm", lens="fluid", grid=50)
    exact = phase_map("retry-storm", lens="des", grid=6, seeds=[0, 1])
    phase_plot(exact)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .params import check_choice, check_number
from .scenarios.retry_storm.params import STORM_HORIZON_S

__all__ = ["TRIGGERS", "LENSES", "Trigger", "PhaseMap", "Envelope", "phase_map", "envelope", "agreement",
           "axis_values"]

LENSES = ("des", "fluid")


@dataclass(frozen=True)
class Trigger:
    """The two parameters of a scenario that say how big and how long its trigger is,
    the ranges a phase map covers by default, and ``defaults``: parameters a map sets
    unless its caller does (retry-storm's maps run the storm alone, over
    :data:`~simkit.scenarios.retry_storm.STORM_HORIZON_S`, which ends before the
    commander game's second trigger, the database maintenance)."""

    size: str
    duration: str
    size_range: tuple[float, float]
    duration_range: tuple[float, float]
    defaults: tuple[tuple[str, Any], ...] = ()


#: The scenarios that have a phase map, and their trigger parameters.
TRIGGERS: dict[str, Trigger] = {
    "retry-storm": Trigger("spike_factor", "spike_duration_s", (1.2, 2.4), (0.0, 15.0),
                           defaults=(("horizon_s", STORM_HORIZON_S),)),
    "dynamodb-2015": Trigger("disruption_fraction", "disruption_s", (0.05, 0.6), (0.0, 300.0)),
}


@dataclass
class PhaseMap:
    """Recovered or collapsed, for each trigger size (columns) and duration (rows).

    ``recovered_by_seed[s, i, j]`` is the outcome on ``seeds[s]`` for duration
    ``durations[i]`` and size ``sizes[j]`` (the fluid lens has no seeds: one layer,
    seed ``None``). ``share_recovered`` is the share of seeds that recovered;
    ``goodput_end_rps`` and ``amplification_end`` are the means over seeds of the
    summary figures of the same name (NaN where the scenario has none).
    """

    scenario: str
    lens: str
    params: dict[str, Any]
    size_name: str
    duration_name: str
    sizes: np.ndarray
    durations: np.ndarray
    seeds: list[int | None]
    recovered_by_seed: np.ndarray
    goodput_end_rps: np.ndarray
    amplification_end: np.ndarray
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def share_recovered(self) -> np.ndarray:
        return self.recovered_by_seed.mean(axis=0)

    @property
    def recovered(self) -> np.ndarray:
        """Recovered on most seeds (a tie counts as collapsed: the map errs on the side of danger)."""
        return self.share_recovered > 0.5

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-friendly): the axes, the outcome grid and the figures per cell."""
        return {
            "scenario": self.scenario,
            "lens": self.lens,
            "params": self.params,
            "size_name": self.size_name,
            "duration_name": self.duration_name,
            "sizes": self.sizes.tolist(),
            "durations": self.durations.tolist(),
            "seeds": self.seeds,
            "recovered": self.recovered.tolist(),
            "share_recovered": self.share_recovered.tolist(),
            "goodput_end_rps": _nan_to_none(self.goodput_end_rps),
            "amplification_end": _nan_to_none(self.amplification_end),
            "notes": self.notes,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def text(self) -> str:
        """The map as text: one row per duration (longest on top), "." recovered, "X" collapsed,
        "?" seeds disagree. Wide grids get one character per cell."""
        share = self.share_recovered
        wide = len(self.sizes) > 12
        width = 1 if wide else 7
        lines = [f"rows: {self.duration_name}, columns: {self.size_name}"]
        if wide:
            lines.append(f"{self.size_name} from {self.sizes[0]:.4g} (left) to {self.sizes[-1]:.4g} (right)")
        else:
            lines.append(" " * 9 + "".join(f"{x:>{width}.3g}" for x in self.sizes))
        for i in range(len(self.durations) - 1, -1, -1):
            marks = ["." if s == 1 else "X" if s == 0 else "?" for s in share[i]]
            lines.append(f"{self.durations[i]:>8.4g} " + "".join(f"{m:>{width}}" for m in marks))
        return "\n".join(lines)


def _nan_to_none(array: np.ndarray) -> list:
    return [[None if not math.isfinite(v) else float(v) for v in row] for row in array]


# -- computing a map ------------------------------------------------------------------------------
def axis_values(low: float, high: float, n: int) -> np.ndarray:
    """``n`` evenly spaced values from ``low`` to ``high`` (both included)."""
    n = int(check_number("grid", n, kind=int, minimum=2, maximum=200))
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        raise ValueError(f"range {low!r}..{high!r} is not allowed: must be two numbers, low < high")
    return np.linspace(low, high, n)


def phase_map(
    scenario: str = "retry-storm",
    params: dict[str, Any] | None = None,
    *,
    sizes: Sequence[float] | None = None,
    durations: Sequence[float] | None = None,
    grid: int = 6,
    lens: str = "des",
    seeds: Sequence[int] = (0,),
    workers: int | None = None,
    progress: bool = True,
) -> PhaseMap:
    """The phase map of ``scenario`` over trigger sizes x durations.

    ``params`` overrides the scenario's other parameters (the trigger's own two are
    set per cell; the trigger's ``defaults`` apply unless ``params`` sets them).
    ``sizes`` and ``durations`` default to ``grid`` values over the scenario's
    :data:`TRIGGERS` ranges. ``lens`` is "des" (the scenario, one run per
    cell and seed, ``workers`` processes; see :func:`simkit.sweep.sweep`) or "fluid"
    (the fast mean-field lens; seeds do not apply).
    """
    trigger = _trigger(scenario)
    lens = check_choice("lens", lens, LENSES)
    sizes = _axis(sizes, trigger.size_range, grid, "sizes")
    durations = _axis(durations, trigger.duration_range, grid, "durations")
    base = _base_params(scenario, params, trigger, sizes, durations)
    if lens == "fluid":
        return _fluid_map(scenario, base, trigger, sizes, durations)
    return _des_map(scenario, base, trigger, sizes, durations, seeds, workers, progress)


def _trigger(scenario: str) -> Trigger:
    if scenario not in TRIGGERS:
        raise ValueError(f"scenario = {scenario!r} has no phase map; scenarios with one: {', '.join(TRIGGERS)}")
    return TRIGGERS[scenario]


def _axis(values: Sequence[float] | None, default: tuple[float, float], grid: int, name: str) -> np.ndarray:
    if values is None:
        return axis_values(*default, grid)
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or len(array) < 2 or not np.isfinite(array).all() or (np.diff(array) <= 0).any():
        raise ValueError(f"{name} is not allowed: must be at least two finite numbers in increasing order")
    return array


def _base_params(scenario: str, params: dict[str, Any] | None, trigger: Trigger, sizes: np.ndarray,
                 durations: np.ndarray) -> dict[str, Any]:
    """The other parameters, validated once, and every corner of the grid validated too
    (so a bad axis is reported before any run starts)."""
    from .scenarios import get

    model = get(scenario)
    overrides = {**dict(trigger.defaults), **(params or {})}
    for name in (trigger.size, trigger.duration):
        if name in overrides:
            raise ValueError(f"{name} is set by the phase map's axes; leave it out of params")
    checked = model.coerce_params(overrides).to_dict()
    for size in (sizes[0], sizes[-1]):
        for duration in (durations[0], durations[-1]):
            model.coerce_params({**checked, trigger.size: float(size), trigger.duration: float(duration)})
    return checked


def _des_map(scenario, base, trigger, sizes, durations, seeds, workers, progress) -> PhaseMap:
    from .sweep import run_summaries

    seeds = [int(check_number("seed", s, kind=int, minimum=0)) for s in seeds]
    if not seeds:
        raise ValueError("seeds is not allowed to be empty: give at least one seed")
    cells = [{**base, trigger.size: float(size), trigger.duration: float(duration)}
             for duration in durations for size in sizes]
    summaries = run_summaries(scenario, cells, seeds, workers=workers, progress=progress)
    shape = (len(durations), len(sizes))

    recovered = np.array([[bool(s["recovered"]) for s in per_seed] for per_seed in summaries])
    goodput = _mean_over_seeds(summaries, "goodput_end_rps").reshape(shape)
    amplification = _mean_over_seeds(summaries, "amplification_end").reshape(shape)
    return PhaseMap(scenario, "des", base, trigger.size, trigger.duration, sizes, durations, seeds,
                    recovered.T.reshape(len(seeds), *shape), goodput, amplification)


def _fluid_map(scenario, base, trigger, sizes, durations) -> PhaseMap:
    if scenario != "retry-storm":
        raise ValueError(f"lens = 'fluid' is not allowed for {scenario}: the fluid model exists for retry-storm only")
    from .fluid import simulate

    run = simulate(base, spike_factor=sizes[None, :], spike_duration_s=durations[:, None])
    return PhaseMap(scenario, "fluid", base, trigger.size, trigger.duration, sizes, durations, [None],
                    run.recovered[None, :, :], run.goodput_end_rps, run.amplification_end,
                    notes={"dt_s": run.dt_s})


def _mean_over_seeds(summaries: list[list[dict[str, Any]]], name: str) -> np.ndarray:
    """The mean over seeds of one summary figure, per cell (NaN where no seed has a number)."""
    values = np.array([[float(s.get(name, math.nan)) for s in per_seed] for per_seed in summaries])
    finite = np.isfinite(values)
    total = np.where(finite, values, 0.0).sum(axis=1)
    count = finite.sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


# -- back of the envelope ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Envelope:
    """The back-of-envelope boundary of the retry storm's metastable region.

    A spike tips the service into a lasting collapse when all three hold:

    1. **the spike exceeds capacity**: ``size x base_load > capacity``, so a queue
       builds at all (``critical_size = capacity / base_load``);
    2. **it lasts long enough to build a queue one timeout deep**:
       ``(size x base_load - capacity) x duration >= timeout x capacity`` requests, so
       that requests start to wait longer than their callers' timeout;
    3. **retries can sustain it**: ``(max_retries + 1) x base_load > capacity``; once
       every attempt times out, each customer request costs up to ``max_retries + 1``
       attempts, and if that is more than the service can do, the queue never drains.

    ``capacity = workers / mean_service_s``. These ignore randomness (a queue builds
    a little below capacity too), the queue limit and the retry policy's details, so
    they are a first guess to check against the map, not its truth.
    """

    capacity_rps: float
    base_load_rps: float
    timeout_s: float
    max_retries: int

    @property
    def critical_size(self) -> float:
        """The smallest spike factor that exceeds capacity (condition 1)."""
        return self.capacity_rps / self.base_load_rps if self.base_load_rps > 0 else math.inf

    @property
    def sustains(self) -> bool:
        """Condition 3: can retries keep the service overloaded after the spike?"""
        return (self.max_retries + 1) * self.base_load_rps > self.capacity_rps

    def critical_duration_s(self, size: float | np.ndarray) -> np.ndarray:
        """The shortest spike of factor ``size`` that builds a queue one timeout deep
        (condition 2; infinite where condition 1 fails)."""
        excess = np.asarray(size, dtype=float) * self.base_load_rps - self.capacity_rps
        with np.errstate(divide="ignore"):
            return np.where(excess > 0, self.timeout_s * self.capacity_rps / np.where(excess > 0, excess, 1.0),
                            np.inf)

    def collapses(self, size: float | np.ndarray, duration_s: float | np.ndarray) -> np.ndarray:
        """The prediction for spikes of factor ``size`` lasting ``duration_s`` (arrays broadcast)."""
        duration_s = np.asarray(duration_s, dtype=float)
        return self.sustains & (duration_s >= self.critical_duration_s(size))

    def grid(self, sizes: np.ndarray, durations: np.ndarray) -> np.ndarray:
        """The prediction on a phase map's grid: True = collapses (rows durations, columns sizes)."""
        return self.collapses(np.asarray(sizes)[None, :], np.asarray(durations)[:, None])


def envelope(params: dict[str, Any] | None = None) -> Envelope:
    """The back-of-envelope boundary (see :class:`Envelope`) for retry-storm parameters."""
    from .scenarios.retry_storm import Params

    p = Params.from_dict(params or {})
    return Envelope(p.workers / p.mean_service_s, p.base_load_rps, p.timeout_s,
                    p.max_retries if p.retry_policy != "none" else 0)


# -- comparing maps ---------------------------------------------------------------------------------
def agreement(reference: PhaseMap, other: PhaseMap) -> dict[str, float]:
    """How well ``other`` (e.g. the fluid lens) matches ``reference`` (e.g. the DES), cell by cell.

    Each seed of the reference is compared with the other map's outcome (its majority
    over seeds). Returns ``share``: the share of (seed, cell) pairs that agree, and
    ``max_steps``: for the cells that disagree, how many grid steps away the nearest
    cell is where ``other`` gives the reference's outcome (0 if all agree; 1 means
    the two boundaries differ by at most one grid step).
    """
    if reference.recovered.shape != other.recovered.shape or not (
            np.allclose(reference.sizes, other.sizes) and np.allclose(reference.durations, other.durations)):
        raise ValueError("the two maps must cover the same grid (same sizes and durations)")
    theirs = other.recovered
    agree = reference.recovered_by_seed == theirs[None, :, :]
    steps = 0
    for layer in reference.recovered_by_seed:
        for i, j in zip(*np.nonzero(layer != theirs)):
            steps = max(steps, _distance_to(theirs, layer[i, j], i, j))
    return {"share": float(agree.mean()), "max_steps": float(steps)}


def _distance_to(grid: np.ndarray, value: bool, i: int, j: int) -> float:
    """Grid steps (Chebyshev distance) from cell (i, j) to the nearest cell of ``grid`` equal to ``value``."""
    rows, cols = np.nonzero(grid == value)
    if len(rows) == 0:
        return math.inf
    return float(np.max(np.abs(np.stack([rows - i, cols - j])), axis=0).min())
