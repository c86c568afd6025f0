"""Kernels for testing the judge without nbgrader: an in-process shell, and a real kernel.

The judge (:mod:`simkit.grading.judge`) talks to a kernel through a *transport*
(``run(code, timeout_s) -> payloads``). Two are here:

* :class:`ShellTransport` runs cells in an in-process IPython shell (fast: for unit
  tests of the probe protocol and the proxies);
* :class:`KernelTransport` runs them in a real ``python3`` kernel started with
  jupyter_client, the way nbgrader does (for the same-verdict tests).

:func:`run_judged` and :func:`run_in_kernel` run a notebook's cells the two ways a
test cell can run (in the judge, or directly in the kernel) and return each test
cell's verdict, so the tests can compare them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from queue import Empty
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from jupyter_client import KernelManager

from simkit.grading.judge import Judge, NoReply, payloads_of
from simkit.grading.probe import MIME

import pipeline_helpers as ph


class ShellTransport:
    """Runs code in the in-process IPython shell (one per test process: reset between uses)."""

    def __init__(self) -> None:
        self.shell = InteractiveShell.instance()
        self.shell.reset(new_session=False)

    def execute(self, code: str) -> tuple[bool, list[dict]]:
        """Run a cell; (did it raise, its display outputs' data)."""
        with capture_output() as captured:
            result = self.shell.run_cell(code, store_history=False)
        outputs = [{"output_type": "display_data", "data": o.data} for o in captured.outputs]
        return not result.success, outputs

    def run(self, code: str, timeout_s: float) -> list[dict]:
        _, outputs = self.execute(code)
        return payloads_of(outputs)


class KernelTransport:
    """A real python3 kernel (jupyter_client), as nbgrader would start it."""

    def __init__(self, cwd: str | None = None) -> None:
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=cwd)
        self.kc = self.km.blocking_client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)

    def execute(self, code: str, timeout_s: float = 300.0) -> tuple[bool, list[dict]]:
        """Run a cell; (did it raise, its outputs as nbformat-like dicts)."""
        msg_id = self.kc.execute(code, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + timeout_s
        outputs, failed = [], False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NoReply(f"no reply within {timeout_s} s")
            try:
                msg = self.kc.get_iopub_msg(timeout=min(remaining, 1.0))
            except Empty:
                if not self.km.is_alive():
                    raise NoReply("the kernel died") from None
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "error":
                failed = True
                outputs.append({"output_type": "error", **content})
            elif kind in ("display_data", "execute_result"):
                outputs.append({"output_type": kind, "data": content.get("data", {})})
            elif kind == "stream":
                outputs.append({"output_type": "stream", "name": content["name"], "text": content["text"]})
            elif kind == "status" and content.get("execution_state") == "idle":
                return failed, outputs

    def run(self, code: str, timeout_s: float) -> list[dict]:
        _, outputs = self.execute(code, timeout_s)
        return payloads_of(outputs)

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


@dataclass
class CellVerdict:
    grade_id: str
    passed: bool
    message: str


def _message(outputs: list[dict]) -> str:
    return "; ".join(f"{o.get('ename')}: {o.get('evalue')}" for o in outputs if o.get("output_type") == "error")


def run_in_kernel(nb: Any, transport: Any) -> list[CellVerdict]:
    """Run every code cell in the kernel, test cells included: each test cell's verdict."""
    verdicts = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        failed, outputs = transport.execute(cell.source)
        if ph.is_test(cell):
            verdicts.append(CellVerdict(ph.grade_id(cell), not failed, _message(outputs)))
    return verdicts


def run_judged(nb: Any, transport: Any, setup_ids: tuple[str, ...] = ("setup",)) -> list[CellVerdict]:
    """Run answer and locked cells in the kernel and test cells in a judge: each test cell's verdict."""
    setup = [c.source for c in nb.cells if ph.grade_id(c) in setup_ids]
    judge = Judge(transport, setup)
    verdicts = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if ph.is_test(cell):
            verdict = judge.run_test_cell(cell.source)
            verdicts.append(CellVerdict(ph.grade_id(cell), verdict.passed, _message(verdict.outputs)))
        else:
            transport.execute(cell.source)
    return verdicts


__all__ = ["ShellTransport", "KernelTransport", "CellVerdict", "run_in_kernel", "run_judged", "MIME"]


# -- graded like a class: a lab's solution with some answer cells rewritten ---------------------

def solution_with(lab: str, answers: dict[str, str]) -> Any:
    """``lab``'s solution notebook with the answer cells named in ``answers`` rewritten.

    A name that is not an answer cell of the lab fails the test (a typo would otherwise
    leave the solution's own answer in place and the test would prove nothing).
    """
    import copy

    nb = copy.deepcopy(ph.read_nb(ph.SOLUTIONS / lab / f"{lab}.ipynb"))
    unknown = set(answers) - {ph.grade_id(c) for c in nb.cells if ph.is_answer(c)}
    assert not unknown, f"no answer cells {unknown}"
    for cell in nb.cells:
        if ph.is_answer(cell) and ph.grade_id(cell) in answers:
            cell.source = answers[ph.grade_id(cell)].strip("\n")
    return nb


def lab_workdir(tmp_path_factory: Any, lab: str) -> Any:
    """A private copy of ``lab``'s solution folder (its data files), to run submissions in."""
    import shutil

    folder = tmp_path_factory.mktemp(f"{lab}-submissions")
    shutil.copytree(ph.SOLUTIONS / lab, folder / lab)
    return folder / lab


def judged(nb: Any, workdir: Any) -> dict[str, tuple[bool, str]]:
    """Each test cell's (passed, message), the notebook run in a fresh kernel in ``workdir``."""
    kernel = KernelTransport(cwd=str(workdir))
    try:
        return {v.grade_id: (v.passed, v.message) for v in run_judged(nb, kernel)}
    finally:
        kernel.close()
