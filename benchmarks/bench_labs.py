"""How long the labs take: Run All of each solution notebook, and autograding one submission.

* **Run All**: each notebook in ``solutions/<lab>/`` executed top to bottom with
  ``nbclient`` on the ``python3`` kernel, in its own folder; median of
  ``--repeats``. Target: < 60 s per notebook (what a learner waits for).
* **autograde**: in a throwaway copy of the course with its own gradebook (made by
  ``tests/pipeline_helpers.py``, as the pipeline tests do), ``nbgrader
  generate_assignment`` then one submission per lab (the solution notebooks, as a
  learner who got everything right would hand in) graded with ``nbgrader
  autograde``; median of ``--repeats``. The score it gave is printed too (it should
  be full marks). This is the
  cost per learner per lab when an instructor grades a class on one machine.
* **ratio**: autograde time / Run All time, i.e. what nbgrader adds around the
  execution of the notebook itself.

Usage: ``python benchmarks/bench_labs.py [--repeats 3] [lab ...]``
Nothing here touches the real course folders or gradebook.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO / "tests"))
from _timing import machine, table, verdict  # noqa: E402

import pipeline_helpers as pipeline  # noqa: E402  (the course-pipeline tests' nbgrader helpers)

SOLUTIONS = REPO / "solutions"
TARGET_RUN_ALL_S = 60.0
STUDENT = "bench-learner"
CELL_TIMEOUT_S = 300


def lab_notebooks(labs: list[str], solutions: Path = SOLUTIONS) -> dict[str, list[Path]]:
    """Each lab id mapped to its source notebooks (checkpoints excluded)."""
    found = {}
    for folder in sorted(p for p in solutions.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        if labs and folder.name not in labs:
            continue
        notebooks = sorted(p for p in folder.glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        if notebooks:
            found[folder.name] = notebooks
    return found


def run_all_s(path: Path) -> float:
    """Seconds to execute every cell of ``path`` in a fresh kernel (like Run All)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def autograde_times_s(labs: dict[str, list[Path]], repeats: int) -> tuple[dict, dict]:
    """Per lab, the seconds ``nbgrader autograde`` takes for one solution-filled submission,
    and the (score, max score) it gave, which should be full marks."""
    times: dict[str, list[float]] = {lab: [] for lab in labs}
    scores: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="cascade-bench-") as tmp:
        course = pipeline.make_course_copy(Path(tmp), list(labs))
        for lab, notebooks in labs.items():
            _check(pipeline.run_nbgrader(course, "generate_assignment", lab, "--force"))
            source = {nb.stem: pipeline.read_nb(nb) for nb in notebooks}
            pipeline.write_submission(course, STUDENT, lab, pipeline.solution_submission(source))
            for _ in range(repeats):
                step = pipeline.run_nbgrader(course, "autograde", lab, "--student", STUDENT, "--force")
                _check(step)
                times[lab].append(step.seconds)
            scores[lab] = pipeline.total(pipeline.read_grades(course, lab, STUDENT))
    return times, scores


def _check(step) -> None:
    if step.returncode != 0:
        raise RuntimeError(f"nbgrader failed:\n{step.tail()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labs", nargs="*", help="lab ids (default: every lab in solutions/)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median reported)")
    args = parser.parse_args(argv)
    labs = lab_notebooks(args.labs)
    if not labs:
        print(f"no solution notebooks found in {SOLUTIONS}", file=sys.stderr)
        return 1

    print(f"labs: Run All per solution notebook and nbgrader autograde per lab, median of {args.repeats}")
    print(machine())
    print()
    rows, lab_run_all, all_ok = [], {}, True
    for lab, notebooks in labs.items():
        for nb in notebooks:
            times = [run_all_s(nb) for _ in range(args.repeats)]
            median = statistics.median(times)
            lab_run_all[lab] = lab_run_all.get(lab, 0.0) + median
            ok = median < TARGET_RUN_ALL_S
            all_ok &= ok
            rows.append([f"{lab}/{nb.name}", median, min(times), max(times), verdict(ok)])
            print(f"  ran {nb.name}", file=sys.stderr)
    print(table(["notebook (Run All)", "median s", "min s", "max s", f"< {TARGET_RUN_ALL_S:g} s"], rows))

    grading, scores = autograde_times_s(labs, args.repeats)
    print()
    print(table(
        ["lab (autograde, 1 submission)", "median s", "Run All s", "autograde / Run All", "class of 30, s",
         "score"],
        [[lab, statistics.median(t), lab_run_all[lab], statistics.median(t) / lab_run_all[lab],
          30 * statistics.median(t), f"{scores[lab][0]:g}/{scores[lab][1]:g}"] for lab, t in grading.items()],
    ))
    all_ok &= all(got == best for got, best in scores.values())
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
