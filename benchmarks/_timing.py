"""Small helpers shared by the benchmarks: medians of wall times, event counts, tables.

Wall times use :func:`time.perf_counter`; each figure is the median of several
repeats after one warm-up run, so one slow repeat (another process woke up) does
not move it. Kernel events are counted by wrapping ``env.step`` in a *separate*
run (the simulations are deterministic, so a repeat processes the same events),
so that counting costs nothing in the timed runs.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from typing import Callable, Sequence

import simpy

__all__ = ["median_time", "alternating_medians", "StepCounter", "table", "machine", "verdict"]


def median_time(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> tuple[float, list[float]]:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times; return (median s, all s)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def alternating_medians(
    fns: dict[str, Callable[[], object]], repeats: int = 5, warmup: int = 1
) -> dict[str, tuple[float, list[float]]]:
    """Time several functions in turns (a, b, a, b, ...) so that a slow moment of the
    machine hits all of them alike; return name -> (median s, all s)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(t), t) for name, t in times.items()}


class StepCounter:
    """Counts the events a ``simpy.Environment`` processes, by wrapping its ``step``.

    ``Environment.run`` calls ``self.step()`` once per event popped from the queue,
    so an instance attribute named ``step`` sees every one of them, whoever
    scheduled it (processes, timeouts, callbacks, the ``until`` event).
    """

    def __init__(self, env: simpy.Environment) -> None:
        self.events = 0
        step = env.step

        def counted_step() -> None:
            self.events += 1
            step()

        env.step = counted_step  # type: ignore[method-assign]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table with right-aligned columns (first column left-aligned)."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(parts))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def machine() -> str:
    """One line describing where the figures were measured."""
    return (
        f"Python {platform.python_version()} ({sys.executable}), SimPy {simpy.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.platform(terse=True)}"
    )


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"
