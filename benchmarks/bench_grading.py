"""Grading a class: ``make grade`` in parallel workers against serial ``nbgrader autograde``.

    .venv/bin/python benchmarks/bench_grading.py [--count 200] [--workers 2] [--lab lab0-overload]
    .venv/bin/python benchmarks/bench_grading.py --kernel-only    # kernel start-up overhead only

1. **Kernel start-up**: time from asking for a kernel to the reply of its first cell, for
   the plain ``python3`` kernel and the sandboxed ``cascade-sandbox`` one (alternating,
   median of several), i.e. what the sandbox adds per notebook.
2. **A class**: ``--count`` synthetic submissions of the lab, a quarter each full (the
   solution's answers), blank (the release), partial (the first half of the answers) and
   mangled (an answer pasted twice, a grade id renamed, a test cell deleted, an answer's
   metadata removed: in turn). Two identical throwaway courses grade the same batch: one
   with ``grade_class.py grade --workers N`` (what ``make grade`` runs: screen, autograde,
   feedback, summary), one with one serial ``nbgrader autograde`` followed by one serial
   ``nbgrader generate_feedback`` (what an instructor ran before). Reported: wall time,
   CPU per submission (every process of the run, sampled from /proc every 0.25 s), the
   speed-up, and how many submissions each graded.

Targets (issue 11): speed-up >= 1.7 with 2 workers; the 200 submissions in < 20 minutes.
Both runs use the course configuration, so both run every submission in the sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import machine, table, verdict  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "course"
TARGET_SPEEDUP = 1.7
TARGET_200_S = 20 * 60
KINDS = ("full", "blank", "partial", "mangled")


# -- CPU of a process tree ----------------------------------------------------------------------

class TreeCpu:
    """CPU seconds used by a process and all its descendants, sampled from /proc.

    A sandboxed kernel's CPU never reaches ``getrusage(RUSAGE_CHILDREN)`` (bwrap's pid-1
    reaper is not waited for), so the tree is read while it runs: each process's last seen
    utime + stime is kept. Processes shorter than the sampling interval may be missed.
    """

    def __init__(self, root_pid: int, interval_s: float = 0.25) -> None:
        self.root = root_pid
        self.interval = interval_s
        self.seen: dict[tuple[int, int], float] = {}
        self._stop = threading.Event()
        self._tick = os.sysconf("SC_CLK_TCK")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        stats = {}
        for path in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = path.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            # after the command: state ppid ... utime(12) stime(13) ... starttime(20)
            stats[int(path.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]),
                                            int(fields[19]))
        tree, todo = set(), [self.root]
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _) in stats.items():
            children.setdefault(ppid, []).append(pid)
        while todo:
            pid = todo.pop()
            if pid in stats and pid not in tree:
                tree.add(pid)
                todo.extend(children.get(pid, []))
        for pid in tree:
            _, ticks, started = stats[pid]
            self.seen[(pid, started)] = ticks / self._tick

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return sum(self.seen.values())


def timed(command: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall s, CPU s of the whole process tree, result) of running ``command``."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    cpu = TreeCpu(process.pid)
    out, err = process.communicate()
    wall = time.perf_counter() - start
    return wall, cpu.stop(), subprocess.CompletedProcess(command, process.returncode, out, err)


# -- kernel start-up ----------------------------------------------------------------------------

async def _first_reply_s(kernel: str) -> float:
    from jupyter_client.manager import AsyncKernelManager
    from sandbox_manager import SandboxKernelManager

    manager_class = SandboxKernelManager if kernel == "cascade-sandbox" else AsyncKernelManager
    with tempfile.TemporaryDirectory() as cwd:
        start = time.perf_counter()
        km = manager_class(kernel_name=kernel)
        await km.start_kernel(cwd=cwd)
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=120)
            reply = await kc._async_execute_interactive("import simkit, numpy", timeout=120,
                                                        output_hook=lambda msg: None)
            assert reply["content"]["status"] == "ok", reply["content"]
            return time.perf_counter() - start
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)


def kernel_startup(repeats: int) -> dict[str, list[float]]:
    sys.path.insert(0, str(COURSE))
    from sandbox_manager import kernel_output_discarded

    times: dict[str, list[float]] = {"python3": [], "cascade-sandbox": []}
    with kernel_output_discarded():  # the kernels' own banners
        for _ in range(repeats + 1):  # the first round warms the disk cache and is dropped
            for kernel in times:
                times[kernel].append(asyncio.run(_first_reply_s(kernel)))
    return {kernel: t[1:] for kernel, t in times.items()}


# -- a synthetic class --------------------------------------------------------------------------

def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _is_answer(cell) -> bool:
    return cell.cell_type == "code" and _meta(cell).get("solution") and not _meta(cell).get("grade")


def submission(kind: str, index: int, source, release):
    """One synthetic submission of ``kind`` (``index`` picks the mangling)."""
    answers = {_meta(c)["grade_id"]: c.source for c in source.cells if _is_answer(c)}
    nb = copy.deepcopy(release)
    answer_cells = [c for c in nb.cells if _is_answer(c)]
    solved = {"full": answer_cells, "blank": [], "partial": answer_cells[: len(answer_cells) // 2],
              "mangled": answer_cells}[kind]
    for cell in solved:
        cell.source = answers[_meta(cell)["grade_id"]]
    if kind == "mangled":
        how = index % 4
        target = answer_cells[index % len(answer_cells)]
        if how == 0:  # pasted twice
            twin = copy.deepcopy(target)
            twin["id"] = f"{target.get('id', 'cell')}-pasted"
            nb.cells.insert(nb.cells.index(target) + 1, twin)
        elif how == 1:  # renamed
            target.metadata["nbgrader"]["grade_id"] += "_renamed"
        elif how == 2:  # a test cell deleted
            tests = [c for c in nb.cells if _meta(c).get("grade") and c.cell_type == "code"]
            nb.cells.remove(tests[index % len(tests)])
        else:  # metadata removed
            del target.metadata["nbgrader"]
    return nb


def make_course(root: Path, lab: str, count: int) -> Path:
    """A throwaway course with ``lab`` generated and ``count`` submissions in submitted/."""
    shutil.copytree(COURSE, root / "course", ignore=shutil.ignore_patterns(
        "submitted", "autograded", "feedback", "grading", "gradebook.db*", "__pycache__", "*.csv"))
    shutil.copytree(REPO / "solutions" / lab, root / "solutions" / lab)
    (root / "labs").mkdir()
    course = root / "course"
    wall, _, done = timed([sys.executable, "-m", "nbgrader", "generate_assignment", lab, "--force"], course)
    if done.returncode:
        raise RuntimeError(f"generate_assignment failed:\n{done.stderr[-3000:]}")
    source = nbformat.read(str(root / "solutions" / lab / f"{lab}.ipynb"), as_version=4)
    release = nbformat.read(str(root / "labs" / lab / f"{lab}.ipynb"), as_version=4)
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        folder = course / "submitted" / f"s{i:03d}-{kind}" / lab
        folder.mkdir(parents=True)
        nbformat.write(submission(kind, i // len(KINDS), source, release), str(folder / f"{lab}.ipynb"))
    return course


def graded_count(course: Path, lab: str) -> int:
    return sum(1 for p in (course / "autograded").glob(f"*/{lab}/{lab}.ipynb"))


def run_class(lab: str, count: int, worker_counts: list[int], keep: Path | None) -> list[list]:
    """Grade identical copies of one synthetic class: with make grade for each worker count,
    then serially; one table row per run."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="cascade-bench-grading-") as tmp:
        base = keep or Path(tmp)
        for workers in worker_counts:
            course = make_course(base / f"parallel-{workers}", lab, count)
            print(f"  grading {count} submissions with {workers} workers ...", file=sys.stderr, flush=True)
            wall, cpu, done = timed([sys.executable, str(course / "grade_class.py"), "grade", lab,
                                     "--workers", str(workers), "--course", str(course)], course)
            if done.returncode:
                raise RuntimeError(f"make grade failed:\n{done.stderr[-3000:]}")
            summary = json.loads((course / "grading" / lab / "summary.json").read_text())
            rows.append([f"make grade, {workers} workers (+ feedback)", wall, cpu / count, cpu / wall,
                         summary["graded"], summary["flagged"]])
        course = make_course(base / "serial", lab, count)
        print(f"  grading the same {count} with serial nbgrader autograde ...", file=sys.stderr, flush=True)
        a_wall, a_cpu, _ = timed([sys.executable, "-m", "nbgrader", "autograde", lab, "--force"], course)
        f_wall, f_cpu, _ = timed([sys.executable, "-m", "nbgrader", "generate_feedback", lab, "--force"],
                                 course)
        graded = graded_count(course, lab)
    rows.append(["serial nbgrader autograde", a_wall, a_cpu / count, a_cpu / a_wall, graded, "-"])
    rows.append(["serial autograde + generate_feedback", a_wall + f_wall, (a_cpu + f_cpu) / count,
                 (a_cpu + f_cpu) / (a_wall + f_wall), graded, "-"])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="submissions (default %(default)s)")
    parser.add_argument("--workers", default="2",
                        help="worker count(s) for make grade, e.g. 2 or 2,3 (default %(default)s)")
    parser.add_argument("--lab", default="lab0-overload")
    parser.add_argument("--repeats", type=int, default=5, help="kernel start-ups per kernel")
    parser.add_argument("--kernel-only", action="store_true", help="only the kernel start-up")
    parser.add_argument("--keep", type=Path, help="keep the two course copies in this folder")
    args = parser.parse_args(argv)
    print(machine())
    startup = kernel_startup(args.repeats)
    plain, boxed = (statistics.median(startup[k]) for k in ("python3", "cascade-sandbox"))
    print(f"\nkernel start-up to the first reply (import simkit, numpy), median of {args.repeats}")
    print(table(["kernel", "median s", "min s", "max s"],
                [[k, statistics.median(t), min(t), max(t)] for k, t in startup.items()]))
    print(f"sandbox overhead per kernel: {boxed - plain:+.2f} s ({boxed / plain:.2f} x)")
    if args.kernel_only:
        return 0

    load_before = os.getloadavg()[0]
    worker_counts = [int(w) for w in args.workers.split(",")]
    rows = run_class(args.lab, args.count, worker_counts, args.keep)
    print(f"\n{args.count} synthetic {args.lab} submissions ({', '.join(KINDS)}, a quarter each); "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(table(["run", "wall s", "CPU s / submission", "cores used", "graded", "flagged"], rows))
    print("(cores used = CPU / wall: well below the worker count means other work had the machine,"
          " and the speed-up says little)")
    serial, serial_feedback = rows[-2][1], rows[-1][1]
    ok = True
    for row, workers in zip(rows, worker_counts):
        speedup = serial_feedback / row[1]
        projected_200 = row[1] * 200 / args.count
        target = TARGET_SPEEDUP if workers == 2 else 0.0
        ok &= speedup >= target and projected_200 < TARGET_200_S
        print(f"{workers} workers: speed-up {serial / row[1]:.2f} x over serial autograde, "
              f"{speedup:.2f} x over serial autograde + feedback"
              + (f" (target >= {TARGET_SPEEDUP}): {verdict(speedup >= TARGET_SPEEDUP)}" if target else "")
              + f"; 200 submissions in {projected_200 / 60:.1f} min"
              + ("" if args.count == 200 else " (projected)")
              + f" (target < 20 min): {verdict(projected_200 < TARGET_200_S)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
