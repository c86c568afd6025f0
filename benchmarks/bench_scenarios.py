"""Speed of every scenario: a whole default run, and a commander tick.

For each scenario present in :mod:`simkit.scenarios`:

* **default run**: ``Model.run()`` over its whole horizon with default parameters,
  median of ``--repeats`` runs after a warm-up. Target: < 2 s on a 2-core machine.
* **commander tick**: an :class:`simkit.commander.Incident` played from start to
  end, one ``tick()`` at a time with no actions; the median, 95th percentile and
  worst tick in milliseconds. Target: median < 100 ms (a tick is what the console
  waits for when the learner presses "advance").
* **dashboard**: drawing the finished run's dashboard and rendering it to PNG
  (what the console does after a tick), median of 3. No target; for information.

Usage: ``python benchmarks/bench_scenarios.py [--repeats 5] [scenario ...]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import machine, median_time, table, verdict  # noqa: E402

import simkit  # noqa: E402
from simkit.commander import Incident  # noqa: E402
from simkit.plots import dashboard, png_bytes  # noqa: E402
from simkit.scenarios import names  # noqa: E402

TARGET_RUN_S = 2.0
TARGET_TICK_MS = 100.0


def tick_times_ms(scenario: str, seed: int = 0) -> list[float]:
    """Milliseconds taken by each tick of a whole incident played without actions."""
    incident = Incident(scenario, seed=seed)
    times = []
    while not incident.finished:
        start = time.perf_counter()
        incident.tick()
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", help="scenarios to measure (default: all present)")
    parser.add_argument("--repeats", type=int, default=5, help="timed default runs (median reported)")
    args = parser.parse_args(argv)
    chosen = args.scenarios or names()

    print(f"scenarios: default run (median of {args.repeats}), commander tick (one whole incident), "
          f"dashboard (median of 3)")
    print(machine())
    print()
    rows, all_ok = [], True
    for name in chosen:
        try:
            model = simkit.scenario(name)
            run_s, _ = median_time(lambda: model.run(seed=0), repeats=args.repeats)
            ticks = tick_times_ms(name)
            result = model.run(seed=0)
            draw_s, _ = median_time(lambda: png_bytes(dashboard(result)), repeats=3)
        except Exception as exc:  # a scenario still being written: report it, measure the others
            all_ok = False
            rows.append([name] + ["-"] * 7 + [f"ERROR {type(exc).__name__}: {exc}"[:60]])
            continue
        tick_median = statistics.median(ticks)
        ok = run_s < TARGET_RUN_S and tick_median < TARGET_TICK_MS
        all_ok &= ok
        rows.append([
            name, run_s, len(ticks), f"{model.tick_s:g} s", tick_median,
            float(np.percentile(ticks, 95)), max(ticks), draw_s * 1000.0, verdict(ok),
        ])
        print(f"  measured {name}", file=sys.stderr)
    print(table(
        ["scenario", "run s", "ticks", "tick =", "tick ms (median)", "p95 ms", "max ms",
         "dashboard ms", f"run < {TARGET_RUN_S:g} s, tick < {TARGET_TICK_MS:g} ms"],
        rows,
    ))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
