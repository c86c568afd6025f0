"""A fast lens on the retry storm: a fluid (mean-field) model, thousands of runs at once.

The discrete-event model (:mod:`simkit.scenarios.retry_storm`) follows every request;
a run takes about half a second, so a 50 x 50 phase map would take minutes. This
module follows *amounts* of requests instead, as numbers that flow between a few
compartments in time steps of ``dt_s``, and it advances every cell of a parameter
grid together as one NumPy array, taking out the cells that have settled. A
50 x 50 phase map takes well under a second of computing.

What it keeps (per step, for every cell):

* customers arrive at the load profile's rate (base load, one spike, the spike's
  share of a step counted exactly);
* the service finishes requests at up to ``workers / mean_service_s`` per second,
  in random order (the scenario's default discipline): every request in the
  service has the same chance to finish in a step, fresh or stale;
* how busy the workers are for a given number of requests in the service comes from
  the M/M/c queue (Erlang C, read backwards: the *pointwise stationary* closure of
  fluid queues), so a queue builds up below capacity too, and slowly near it, as
  in the discrete model, rather than only when arrivals exceed capacity;
* a queue limit: attempts that find it full are turned away at once;
* requests whose caller is still waiting are *live*; a live request not finished
  ``timeout_s`` after it arrived turns *dead*: its caller times out and may retry,
  and the request stays in the service, where finishing it is wasted work;
* a timed-out or turned-away attempt is retried per the retry policy, up to
  ``max_retries`` times: at once (an immediate retry of a turned-away attempt meets
  the same full queue, so such a caller spends its retries in an instant and fails),
  after a backoff (capped and growing, with its jitter's mean wait), or while a retry
  budget (a token bucket) has tokens;
* a server-side deadline (``queue_deadline_s``) drops requests that waited longer.

What it leaves out, so read its answers as a sketch of the discrete-event model:

* **chance**: arrivals, service times and the order of service are averages, not
  draws; one fluid run stands for the average of many seeds. Near the boundary, where
  chance decides whether a particular run tips over, the discrete model's seeds
  disagree and the fluid gives one answer. In particular, where the collapsed state is
  only just sustained (its goodput close to the offered load, e.g. a queue limit of
  about one timeout of work), chance fluctuations let a discrete run escape back to
  health, while the fluid stays collapsed. Nor does a fluid queue ever overflow while
  the average load fits in it (with ``queue_limit=0`` the discrete service turns away
  about 8% of its callers at the default load; the fluid turns away none);
* **individual requests**: a request's time in the service is spread like an
  exponential with the mean the queue gives (random order), with no memory of how
  long it has already waited or been worked on;
* **the shape of the waits between retries**: each retry waits the mean of its
  backoff (spread exponentially with that mean when jittered), so lock-step effects
  of "no jitter" are smoothed out;
* **queue orders other than random**: ``fifo`` and ``lifo`` are refused (their waits
  depend on each request's place in the queue, which a fluid does not have);
* **operator actions and the game's second trigger**: the commander game's actions
  are not modelled, nor is the database maintenance of its default run. The fluid
  simulates the storm alone: its defaults are the scenario's with ``horizon_s`` =
  :data:`~simkit.scenarios.retry_storm.STORM_HORIZON_S` (300 s, before the
  maintenance), and it refuses parameters whose run would include the maintenance;
* the retry budget's tokens are a continuous amount (the discrete model needs a whole
  token per retry).

Example::

    from simkit.fluid import simulate
    import numpy as np
    run = simulate({"spike_duration_s": 20.0}, spike_factor=np.linspace(1.2, 2.4, 50))
    run.recovered          # one True/False per spike factor
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .scenarios.retry_storm import STORM_HORIZON_S, Params

__all__ = ["FluidRun", "simulate", "GRID_PARAMETERS", "STEPS_PER_TIMEOUT"]

#: Parameters that may vary from cell to cell (arrays); the others are one value per call.
GRID_PARAMETERS = ("base_load_rps", "spike_factor", "spike_start_s", "spike_duration_s")

#: Time steps per caller timeout: the retry loop's delay is resolved in this many steps.
STEPS_PER_TIMEOUT = 10

#: The most time steps one run may take (a tiny timeout over a long horizon would take ages).
MAX_STEPS = 200_000

@dataclass(frozen=True)
class FluidRun:
    """The outcome of a fluid run, one value per cell (arrays of the grid's shape).

    Rates are means over the last minute of the run (like the discrete model's
    ``*_end_rps`` summary figures); ``recovered`` is True where the share of
    customers who got no answer fell below 5% by the end and stayed there.
    """

    recovered: np.ndarray
    goodput_end_rps: np.ndarray
    offered_end_rps: np.ndarray
    attempts_end_rps: np.ndarray
    queue_end: np.ndarray
    error_rate_end: np.ndarray
    dt_s: float

    @property
    def amplification_end(self) -> np.ndarray:
        """Attempts per customer request over the last minute."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.attempts_end_rps / self.offered_end_rps


def simulate(params: Params | dict[str, Any] | None = None, *, dt_s: float | None = None,
             **grid: Any) -> FluidRun:
    """Run the fluid model for every cell of a grid at once.

    ``params`` gives every parameter (a retry-storm :class:`Params`, a dict of
    overrides, or None for the defaults; both of the latter start from the storm
    alone, ``horizon_s`` = :data:`~simkit.scenarios.retry_storm.STORM_HORIZON_S`);
    ``grid`` overrides any of :data:`GRID_PARAMETERS` with arrays, which are
    broadcast together into the grid (e.g. ``spike_factor=f[None, :],
    spike_duration_s=d[:, None]`` for a map).
    ``dt_s`` defaults to a tenth of the timeout (at most 0.5 s).
    """
    p = params
    if isinstance(params, dict) or params is None:
        p = Params.from_dict({"horizon_s": STORM_HORIZON_S, **(params or {})})
    if not isinstance(p, Params):
        raise TypeError(f"params must be a retry-storm Params or a dict of its fields, got {type(p).__name__}")
    if p.has_maintenance:
        raise ValueError(f"horizon_s = {p.horizon_s:g} is not allowed in the fluid model: the run would include the "
                         f"database maintenance (from maintenance_start_s = {p.maintenance_start_s:g}), which it does "
                         "not model; use horizon_s <= maintenance_start_s or maintenance_s = 0")
    if p.queue_discipline != "random":
        raise ValueError(f"queue_discipline = {p.queue_discipline!r} is not allowed in the fluid model: "
                         "it models the 'random' order only (use the discrete-event model)")
    from .fluid_model import FluidModel

    arrays = _grid_arrays(p, grid)
    dt = _time_step(p, dt_s)
    return FluidModel(p, arrays, dt).run()


def _grid_arrays(p: Params, grid: dict[str, Any]) -> dict[str, np.ndarray]:
    """The per-cell parameters, broadcast to one shape, each value validated like Params does."""
    unknown = sorted(set(grid) - set(GRID_PARAMETERS))
    if unknown:
        raise TypeError(f"simulate() cannot vary {', '.join(unknown)} across the grid; "
                        f"it can vary: {', '.join(GRID_PARAMETERS)}")
    values = {name: np.asarray(grid.get(name, getattr(p, name)), dtype=float) for name in GRID_PARAMETERS}
    shaped = dict(zip(values, np.broadcast_arrays(*values.values())))
    specs = Params.specs()
    for name, array in shaped.items():
        spec = specs[name]
        bad = ~np.isfinite(array) | (array < spec.minimum) | (array > spec.maximum)
        if bad.any():
            raise ValueError(f"{name} = {float(array[bad].flat[0])!r} is not allowed: must be {spec.allowed()}")
    ends = shaped["spike_start_s"] + shaped["spike_duration_s"]
    if (ends > p.horizon_s).any():
        raise ValueError("the spike (spike_start_s + spike_duration_s) must end within horizon_s")
    return {name: array.copy() for name, array in shaped.items()}


def _time_step(p: Params, dt_s: float | None) -> float:
    if dt_s is None:
        dt_s = min(0.5, p.timeout_s / STEPS_PER_TIMEOUT)
    elif not (isinstance(dt_s, (int, float)) and 0 < dt_s <= p.timeout_s / 2):
        raise ValueError(f"dt_s = {dt_s!r} is not allowed: must be > 0 and <= timeout_s / 2 ({p.timeout_s / 2:g})")
    if p.horizon_s / dt_s > MAX_STEPS:
        raise ValueError(f"timeout_s = {p.timeout_s!r} is too short for the fluid model over horizon_s = "
                         f"{p.horizon_s:g}: it would take {p.horizon_s / dt_s:.0f} steps (at most {MAX_STEPS}); "
                         "use a longer timeout_s, a shorter horizon_s or the discrete-event model")
    return float(dt_s)
