"""How long the commander's debrief takes, per scenario (target: under 5 s on 2 cores).

The debrief (``simkit.commander.debrief``) replays up to ten variants of the player's
plan in worker processes. This times it on a deliberately late plan (the intended plan
moved by the scenario's ``debrief_shift_s``, the case a player most needs help with)
and prints the median and worst of ``--repeats`` runs with the machine's load.

    .venv/bin/python benchmarks/bench_debrief.py [--repeats 3] [scenario ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from simkit.commander.debrief import debrief
from simkit.plan import Plan
from simkit.scenarios import get, names


def late_plan(scenario: str) -> list:
    """The intended plan with every step ``debrief_shift_s`` later (minutes since the start)."""
    cls = get(scenario)
    start = cls(None, 0).world.clock_start_s
    shift = cls.debrief_shift_s / 60.0
    return [(round(step.minutes(start) + shift, 3), step.action) for step in Plan(cls.intended_plan)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=names())
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'scenario':<16} {'median s':>9} {'worst s':>8}  first line of the debrief")
    for scenario in args.scenarios:
        plan = late_plan(scenario)
        times, lines = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            lines = debrief(scenario, plan, seed=0)
            times.append(time.perf_counter() - start)
        print(f"{scenario:<16} {statistics.median(times):9.2f} {max(times):8.2f}  {lines[0]}")


if __name__ == "__main__":
    main()
