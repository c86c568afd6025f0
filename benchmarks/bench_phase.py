"""Phase maps of the retry storm: how fast each lens draws one, and how well they agree.

Reported, each time the median of ``--repeats`` runs after a warm-up:

* the fluid lens (:mod:`simkit.fluid`), a 50 x 50 map. Target: <= 2 s;
* the explorer's redraw (:func:`simkit.explorer.phase_view`, a 30 x 30 fluid map and
  its PNG). Target: < 1 s;
* the discrete-event lens, a 6 x 6 map (one seed), with 1 worker and with 2 worker
  processes (:mod:`simkit.sweep`); the ratio is the speed-up (at most 2 on 2 cores);

and, once, the agreement of the two lenses on the 6 x 6 map over seeds 0 and 1:
the share of (seed, cell) pairs where they agree (target >= 90%) and, where they
disagree, how many grid steps apart the boundaries are (target <= 1). Exits with
status 1 if a target is missed.

Usage: ``python benchmarks/bench_phase.py [--repeats 3] [--grid 6] [--seeds 0,1]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import machine, median_time, table, verdict  # noqa: E402

from simkit.explorer import phase_view  # noqa: E402
from simkit.phase import agreement, phase_map  # noqa: E402
from simkit.plots import png_bytes  # noqa: E402

TARGET_FLUID_S = 2.0
TARGET_EXPLORER_S = 1.0
TARGET_AGREEMENT = 0.9
TARGET_STEPS = 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (median reported)")
    parser.add_argument("--grid", type=int, default=6, help="values per axis of the discrete-event map")
    parser.add_argument("--seeds", default="0,1", help="seeds of the agreement check")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]

    def fluid():
        return phase_map("retry-storm", lens="fluid", grid=50)

    def explorer():
        return png_bytes(phase_view(grid=30).figure, dpi=80)

    def des(workers):
        return lambda: phase_map("retry-storm", lens="des", grid=args.grid, seeds=[seeds[0]],
                                 workers=workers, progress=False)

    fluid_s, fluid_all = median_time(fluid, repeats=args.repeats)
    cpu_start = time.process_time()
    fluid()
    fluid_cpu = time.process_time() - cpu_start
    explorer_s, explorer_all = median_time(explorer, repeats=args.repeats)
    des1_s, des1_all = median_time(des(1), repeats=args.repeats, warmup=0)
    des2_s, des2_all = median_time(des(2), repeats=args.repeats, warmup=0)

    exact = phase_map("retry-storm", lens="des", grid=args.grid, seeds=seeds, workers=2, progress=False)
    sketch = phase_map("retry-storm", lens="fluid", grid=args.grid)
    match = agreement(exact, sketch)

    print(f"phase maps of retry-storm (default parameters); median of {args.repeats} runs")
    print(machine())
    print()
    print(table(
        ["what", "median s", "min s", "max s", "target"],
        [["fluid lens, 50 x 50 map", fluid_s, min(fluid_all), max(fluid_all), f"<= {TARGET_FLUID_S:g} s"],
         ["explorer redraw, 30 x 30 + PNG", explorer_s, min(explorer_all), max(explorer_all),
          f"< {TARGET_EXPLORER_S:g} s"],
         [f"discrete-event {args.grid} x {args.grid}, 1 worker", des1_s, min(des1_all), max(des1_all), ""],
         [f"discrete-event {args.grid} x {args.grid}, 2 workers", des2_s, min(des2_all), max(des2_all), ""]],
    ))
    print()
    print(f"fluid 50 x 50 CPU time:  {fluid_cpu:.2f} s (wall time above includes waiting for a core)")
    print(f"2 workers vs 1:          {des1_s / des2_s:.2f}x faster")
    print(f"fluid vs discrete-event: {des1_s / fluid_s:.0f}x faster for {2500 / args.grid ** 2:.0f}x the cells")
    print()
    print(f"agreement on the {args.grid} x {args.grid} map, seeds {', '.join(map(str, seeds))}: "
          f"{match['share']:.1%} of cells (target >= {TARGET_AGREEMENT:.0%}: "
          f"{verdict(match['share'] >= TARGET_AGREEMENT)}); boundaries at most {match['max_steps']:g} grid "
          f"step(s) apart (target <= {TARGET_STEPS:g}: {verdict(match['max_steps'] <= TARGET_STEPS)})")
    print()
    print("discrete-event map (\"?\" = the seeds disagree):")
    print(exact.text())
    print("fluid map:")
    print(sketch.text())
    ok = (fluid_s <= TARGET_FLUID_S and explorer_s < TARGET_EXPLORER_S
          and match["share"] >= TARGET_AGREEMENT and match["max_steps"] <= TARGET_STEPS)
    print()
    print(f"fluid map:      {verdict(fluid_s <= TARGET_FLUID_S)}")
    print(f"explorer:       {verdict(explorer_s < TARGET_EXPLORER_S)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
