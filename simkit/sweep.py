"""Parameter sweeps: many runs of a scenario, spread over the machine's cores.

A phase map is dozens of runs; one run of a scenario takes about a second, so a
sweep is worth running in parallel. :func:`sweep` calls a function on every point
of a list in worker processes (standard library :mod:`concurrent.futures`) and
returns the results **in the order of the points**, whatever order the workers
finish in. Because every run is deterministic for its seed, the results are the
same with 1 worker or with 8: parallelism changes the wall time, never the answer.

Example (a notebook or a script)::

    from simkit.sweep import run_summaries
    loads = [{"base_load_rps": b} for b in (40, 50, 60, 70)]
    summaries = run_summaries("retry-storm", loads, seeds=[0, 1])
    summaries[3][1]["recovered"]     # base load 70, seed 1

``workers=1`` runs everything in this process (no worker processes at all), which
is what a test or a debugger wants. Progress is shown as one line on standard
error that updates itself (``progress=False`` turns it off; a callable receives
``(done, total)`` after each run instead).

Worker processes are started with ``fork`` on Linux, so a function defined in a
notebook can be swept too; elsewhere the platform's default is used, and the
function must then live in an importable module.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from typing import Any, Callable, Sequence, TypeVar

from .params import check_number

__all__ = ["sweep", "run_summaries", "default_workers", "Progress"]

P = TypeVar("P")
R = TypeVar("R")

#: A progress report: called with (runs done, runs in all) after each run.
Progress = Callable[[int, int], None]


def default_workers(n_points: int) -> int:
    """As many workers as there are cores, but no more than there are points."""
    return max(1, min(os.cpu_count() or 1, n_points))


def sweep(
    fn: Callable[[P], R],
    points: Sequence[P],
    *,
    workers: int | None = None,
    progress: bool | Progress = True,
    label: str = "sweep",
) -> list[R]:
    """``[fn(p) for p in points]``, computed by ``workers`` processes; results in input order.

    ``workers=None`` uses one process per core (at most one per point); ``workers=1``
    runs in this process. If a run raises, the sweep stops and raises a
    ``RuntimeError`` that names the point, with the original error as its cause.
    """
    points = list(points)
    n_workers = default_workers(len(points)) if workers is None else int(
        check_number("workers", workers, kind=int, minimum=1, maximum=256))
    report = _reporter(progress, label, len(points))
    if n_workers == 1 or len(points) <= 1:
        return _in_process(fn, points, report)
    _check_picklable(fn)
    return _in_workers(fn, points, min(n_workers, len(points)), report)


def _in_process(fn: Callable[[P], R], points: list[P], report: Progress) -> list[R]:
    results = []
    for i, point in enumerate(points):
        try:
            results.append(fn(point))
        except Exception as exc:
            raise RuntimeError(f"run {i} of the sweep failed ({point!r}): {exc}") from exc
        report(i + 1, len(points))
    return results


def _in_workers(fn: Callable[[P], R], points: list[P], n_workers: int, report: Progress) -> list[R]:
    context = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    results: list[Any] = [None] * len(points)
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=context) as pool:
        futures: dict[Future, int] = {pool.submit(fn, point): i for i, point in enumerate(points)}
        pending = set(futures)
        done_count = 0
        while pending:
            finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in sorted(finished, key=futures.__getitem__):
                i = futures[future]
                error = future.exception()
                if error is not None:
                    for other in pending:
                        other.cancel()
                    raise RuntimeError(f"run {i} of the sweep failed ({points[i]!r}): {error}") from error
                results[i] = future.result()
                done_count += 1
                report(done_count, len(points))
    return results


def _check_picklable(fn: Callable) -> None:
    """Worker processes receive ``fn`` by pickling: say so plainly if that cannot work."""
    try:
        pickle.dumps(fn)
    except Exception as exc:
        raise TypeError(
            f"fn = {fn!r} cannot be sent to worker processes ({exc}); define it with `def` at the top "
            "level of a module or notebook, or pass workers=1") from None


def _reporter(progress: bool | Progress, label: str, total: int) -> Progress:
    """The progress callback: a self-updating line on stderr, a user's callable, or nothing."""
    if callable(progress):
        return progress
    if not progress:
        return lambda done, total: None
    start = time.perf_counter()

    def show(done: int, total: int) -> None:
        elapsed = time.perf_counter() - start
        end = "\n" if done == total else ""
        print(f"\r{label}: {done}/{total} runs ({100 * done / total:.0f}%), {elapsed:.1f} s",
              end=end, file=sys.stderr, flush=True)

    return show


# -- runs of a scenario ---------------------------------------------------------------------
def run_summaries(
    scenario: str,
    param_sets: Sequence[dict[str, Any]],
    seeds: Sequence[int] = (0,),
    *,
    workers: int | None = None,
    progress: bool | Progress = True,
) -> list[list[dict[str, Any]]]:
    """Run ``scenario`` once per parameter set and seed; return the summaries.

    ``result[i][j]`` is the summary of ``param_sets[i]`` on ``seeds[j]``. Every
    parameter set is validated here first, so a bad value is reported at once (with
    the parameter's name) instead of from inside a worker.
    """
    from .scenarios import get

    model = get(scenario)
    checked = [model.coerce_params(dict(p)).to_dict() for p in param_sets]
    seeds = [int(check_number("seed", s, kind=int, minimum=0)) for s in seeds]
    points = [(scenario, params, seed) for params in checked for seed in seeds]
    flat = sweep(_summary_of_run, points, workers=workers, progress=progress, label=scenario)
    return [flat[i * len(seeds):(i + 1) * len(seeds)] for i in range(len(checked))]


def _summary_of_run(point: tuple[str, dict[str, Any], int]) -> dict[str, Any]:
    """One run's summary (a module-level function, so worker processes can receive it)."""
    from .scenarios import get

    scenario, params, seed = point
    return get(scenario).run(params, seed=seed).summary
