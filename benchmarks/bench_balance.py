"""Balance of the commander game: the lazy ways to play against the lab's intended plan.

For each scenario (or those named on the command line), over seeds 0-9: doing nothing,
each action alone at the page, every action at the page, every action every tick, the
historical plan, the intended plan, and 200 random plans (1-6 steps after the page).
Prints min / mean / max per strategy. The rules it should satisfy are in
shared/DESIGN.md ("The game's rules") and are tested in tests/test_balance.py.

    .venv/bin/python benchmarks/bench_balance.py [scenario ...] [--random N] [--workers N]
"""

from __future__ import annotations

import argparse
import time

from simkit.commander.balance import balance
from simkit.scenarios import names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=names())
    parser.add_argument("--random", type=int, default=200, help="random plans per scenario")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    for scenario in args.scenarios:
        start = time.perf_counter()
        table = balance(scenario, range(args.seeds), random_count=args.random, workers=args.workers)
        print(f"\n{scenario} (seeds 0-{args.seeds - 1}, {time.perf_counter() - start:.0f} s)")
        print(f"  {'strategy':<58} {'min':>6} {'mean':>6} {'max':>6}")
        for name, low, mean, high in table.rows():
            print(f"  {name:<58} {low:6.1f} {mean:6.1f} {high:6.1f}")


if __name__ == "__main__":
    main()
