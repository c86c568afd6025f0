"""A pool of grading workers (grade_worker.py) that no submission can stall.

Each worker is a process with its own gradebook copy, fed one student id at a time. A
worker that takes longer than the per-submission limit is killed with everything it
started (its sandboxed kernels die with it: ``bwrap --die-with-parent``), the submission
is reported as not graded, and a fresh worker takes its place; so is a worker that dies.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

WORKER = Path(__file__).resolve().parent / "grade_worker.py"

__all__ = ["Result", "run_pool", "kill_tree"]


@dataclass
class Result:
    """What happened to one submission in the pool."""

    student: str
    autograded: bool
    feedback: bool
    error: str | None
    seconds: float
    worker: int


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, grandchildren...), from /proc."""
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children[parent].append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and all its descendants."""
    for target in [pid, *descendants(pid)]:
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass


class _Worker:
    """One grade_worker.py process and the submission it is grading."""

    def __init__(self, index: int, course: Path, lab: str, db_url: str, log: Path) -> None:
        self.index = index
        self.args = (course, lab, db_url, log)
        self.student: str | None = None
        self.started = 0.0
        self.replies = 0
        self._buffer = b""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, str(WORKER), lab, db_url], cwd=course, env=_env(),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, bufsize=0)

    def send(self, student: str) -> None:
        self.student, self.started = student, time.monotonic()
        self.process.stdin.write(student.encode() + b"\n")
        self.process.stdin.flush()

    def read_replies(self) -> list[dict] | None:
        """The complete reply lines available now; None once the worker has exited."""
        chunk = os.read(self.process.stdout.fileno(), 65536)
        if not chunk:
            return None
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def stop(self, kill: bool = False) -> None:
        if kill:
            kill_tree(self.process.pid)
        else:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            kill_tree(self.process.pid)
            self.process.wait()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _env() -> dict[str, str]:
    """nbgrader needs this environment's executables (alembic) first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_pool(course: Path, lab: str, students: list[str], db_urls: list[str], timeout_s: float,
             on_result: Callable[[Result], None], logs: Path) -> None:
    """Grade ``students`` with one worker per gradebook URL in ``db_urls``; call
    ``on_result`` for each submission as soon as it is done (graded or not)."""
    pending = deque(students)
    selector = selectors.DefaultSelector()
    workers: dict[int, _Worker] = {}

    def start(index: int) -> None:
        worker = _Worker(index, course, lab, db_urls[index], logs / f"worker-{index + 1}.log")
        workers[index] = worker
        selector.register(worker.process.stdout, selectors.EVENT_READ, worker)

    stillborn = 0  # workers in a row that died before grading anything

    def replace(worker: _Worker, error: str, died: bool) -> None:
        nonlocal stillborn
        selector.unregister(worker.process.stdout)
        worker.stop(kill=True)
        stillborn = stillborn + 1 if died and worker.replies == 0 else 0
        if stillborn >= 3:
            raise RuntimeError(f"grading workers keep dying before grading anything; the end of "
                               f"{worker.args[3]}:\n{_tail(worker.args[3])}")
        on_result(Result(worker.student, False, False, error,
                         round(time.monotonic() - worker.started, 2), worker.index + 1))
        worker.student = None
        if pending:
            start(worker.index)
        else:
            del workers[worker.index]

    for index in range(min(len(db_urls), len(students))):
        start(index)
    try:
        while workers:
            for worker in list(workers.values()):
                if worker.student is None and pending:
                    worker.send(pending.popleft())
            busy = [w for w in workers.values() if w.student is not None]
            if not busy:
                break
            deadline = min(w.started for w in busy) + timeout_s
            for key, _ in selector.select(timeout=max(0.0, min(1.0, deadline - time.monotonic()))):
                worker: _Worker = key.data
                replies = worker.read_replies()
                if replies is None:
                    code = worker.process.poll()
                    replace(worker, f"the grading process exited (status {code}) while grading it",
                            died=True)
                    continue
                for reply in replies:
                    on_result(Result(reply["student"], reply["autograded"], reply["feedback"],
                                     reply["error"], reply["seconds"], worker.index + 1))
                    worker.student = None
                    worker.replies += 1
            now = time.monotonic()
            for worker in [w for w in workers.values() if w.student and now - w.started > timeout_s]:
                replace(worker, f"stopped after {timeout_s:.0f} s (hung, or far too slow)", died=False)
    finally:
        for worker in workers.values():
            selector.unregister(worker.process.stdout)
            worker.stop(kill=worker.student is not None)
