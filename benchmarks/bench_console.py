"""Frame time of the commander console: one tick of the engine plus the whole redraw.

For each scenario present in :mod:`simkit.scenarios`, and each of its play speeds, a
:class:`simkit.commander.console.Console` plays the whole incident frame by frame, as
its play loop does in the kernel (:meth:`Console.frame`: a frame's worth of ticks, then
clock, status, log, plan table, score meter and headline charts redrawn), taking the
scenario's intended plan when each step is due, as a player would click. Reported per
scenario and speed: frames, ticks per frame, the median, 95th percentile and worst
frame in milliseconds, the median of the charts' part, and how often the charts'
static background had to be redrawn. Target: **median frame <= 100 ms** on a 2-core
machine, so play at four frames a second keeps up.

What it does not include: sending the widgets' new values to the browser (a few kB of
text and a ~50 kB PNG per frame, done by ipykernel's I/O thread) and the browser's own
drawing. The real-browser test (tests/test_browser.py) shows the whole path works.

Usage: ``python benchmarks/bench_console.py [--seed 0] [--all-speeds] [scenario ...]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import machine, table, verdict  # noqa: E402

from simkit.commander.console import Console  # noqa: E402
from simkit.commander.console_text import speed_label  # noqa: E402
from simkit.commander.player import frame_plan  # noqa: E402
from simkit.plan import Plan  # noqa: E402
from simkit.scenarios import get, names  # noqa: E402

TARGET_FRAME_MS = 100.0


def play_frames(scenario: str, speed: float | None, seed: int = 0) -> tuple[Console, list[float], list[float]]:
    """Play a whole incident frame by frame at ``speed`` (default: the slowest), taking the
    intended plan's steps when due; return the console, frame ms and chart ms."""
    console = Console(scenario, seed=seed, pause_on_page=False, debrief=False)
    model = console.incident.model
    if speed is not None:
        console.set_speed(speed)
    start = model.world.clock_start_s
    due = sorted(round(step.minutes(start) * 60.0 / model.tick_s) * model.tick_s
                 for step in Plan.coerce(get(scenario).intended_plan, model).steps)
    steps = sorted(Plan.coerce(get(scenario).intended_plan, model).steps, key=lambda s: s.minutes(start))
    frames, charts = [], []
    console.play()
    while True:
        while steps and due[0] <= model.now:
            console.take(steps.pop(0).action)
            due.pop(0)
        began = time.perf_counter()
        going = console.frame()
        frames.append((time.perf_counter() - began) * 1000.0)
        charts.append(console.timings["chart_s"] * 1000.0)
        if not going:
            break
        model = console.incident.model
    return console, frames, charts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", help="scenarios to measure (default: all present)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--all-speeds", action="store_true", help="every play speed, not only the slowest and fastest")
    args = parser.parse_args(argv)
    chosen = args.scenarios or names()

    print("console frames (tick + redraw), a whole incident per row, the intended plan clicked when due")
    print(machine())
    print()
    Console("retry-storm", debrief=False)  # warm-up: imports, fonts, matplotlib caches
    rows, all_ok = [], True
    for name in chosen:
        try:
            model = get(name)()
            speeds = list(model.console_settings().speeds)
            if not args.all_speeds:
                speeds = sorted({speeds[0], speeds[-1]})
            for speed in speeds:
                console, frames, charts = play_frames(name, speed, args.seed)
                ticks, _ = frame_plan(speed, model.tick_s)
                median = statistics.median(frames)
                ok = median <= TARGET_FRAME_MS
                all_ok &= ok
                rows.append([name, speed_label(speed), len(frames), ticks, median, float(np.percentile(frames, 95)),
                             max(frames), statistics.median(charts), console.chart.full_draws, verdict(ok)])
                print(f"  measured {name} at {speed_label(speed)}", file=sys.stderr)
        except Exception as exc:  # a scenario still being ported: report it, measure the others
            all_ok = False
            rows.append([name] + ["-"] * 8 + [f"ERROR {type(exc).__name__}: {exc}"[:60]])
    print(table(["scenario", "speed", "frames", "ticks/frame", "frame ms (median)", "p95 ms", "max ms",
                 "charts ms (median)", "background draws", f"median <= {TARGET_FRAME_MS:g} ms"], rows))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
