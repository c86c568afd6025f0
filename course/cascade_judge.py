"""The autograde executor of the Cascade course: answers run in the kernel, tests in the judge.

:class:`JudgedExecute` is nbgrader's ``Execute`` step with three changes:

1. **Test cells never reach the kernel.** A test cell (grade=True, solution=False,
   whose source the gradebook vouches for) is run by :class:`simkit.grading.judge.Judge`
   in this process, outside the learner's reach; learner values come out of the
   kernel as data through short synthetic probe cells (:mod:`simkit.grading.probe`),
   which never appear in the notebook. The judge namespace starts from the lab's
   setup cell (``setup_cell_ids``), run here. Canonical kit runs are cached in
   ``cache_dir`` (default ``course/.cascade-cache``), which the sandbox cannot see.
2. **A cell that will not stop does not sink the submission.** After the cell
   timeout nbclient interrupts the kernel; if the kernel still does not answer (the
   cell ignores SIGINT, or swallows ``KeyboardInterrupt``), or the kernel died
   (``os._exit``), the kernel is killed and restarted, the cell gets an error output,
   the earlier cells are run again (outputs discarded) to restore the state, and
   grading goes on. A probe that gets no answer fails its check the same way.
3. **Output is bounded.** A cell keeps at most ``max_output_chars`` characters of
   output; the rest is dropped with a note.

Because it subclasses ``Execute``, every ``c.Execute.*`` setting (kernel name, timeout,
the sandbox kernelspec) applies to it. It records what happened in the submission's
status file (:mod:`cascade_status`).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from queue import Empty
from typing import Any

from nbclient.exceptions import CellExecutionError
from nbclient.util import ensure_async, run_sync
from nbformat import NotebookNode, from_dict
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from traitlets import Integer, List, Unicode

from cascade_status import status_path, update_notebook_status
from simkit.grading.canonical import use_cache_dir
from simkit.grading.judge import Judge, NoReply
from simkit.grading.probe import MIME

__all__ = ["JudgedExecute"]


def _is_test_cell(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return from_dict({"output_type": "error", "ename": ename, "evalue": evalue,
                      "traceback": [f"{ename}: {evalue}"]})


class JudgedExecute(Execute):
    """nbgrader's Execute, with test cells judged outside the kernel (module docstring)."""

    setup_cell_ids = List(
        ["setup"], help="Grade ids of the locked cells whose code also initialises the judge."
    ).tag(config=True)
    cache_dir = Unicode(
        "", help="Folder for cached canonical runs; empty: <course root>/.cascade-cache."
    ).tag(config=True)
    interrupt_grace_s = Integer(
        10, help="Seconds to wait for an interrupted probe before the kernel is restarted."
    ).tag(config=True)
    max_restarts = Integer(
        4, help="Kernel restarts allowed per notebook; after that the remaining cells are not run."
    ).tag(config=True)
    max_output_chars = Integer(
        1_000_000, help="Characters of output kept per cell; the rest is dropped with a note."
    ).tag(config=True)

    # -- the notebook -------------------------------------------------------------------

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None):
        from nbclient.client import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._stopped: dict[int, str] = {}
        self._restarts = 0
        self._gave_up = False
        self._index = 0
        self._test_results: dict[str, dict] = {}
        self._grader_errors: list[dict] = []
        started = time.monotonic()
        info = (resources or {}).get("nbgrader", {})
        try:
            self._trusted = self._trusted_sources(info)
            setup = [c.source for c in nb.cells
                     if c.cell_type == "code" and utils.is_locked(c) and not utils.is_grade(c)
                     and c.metadata.get("nbgrader", {}).get("grade_id") in self.setup_cell_ids
                     and self._is_trusted(c)]
            with use_cache_dir(self._cache_folder()), self.setup_kernel():
                assert self.kc is not None
                info_msg = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
                folder = (resources or {}).get("metadata", {}).get("path") or None
                self._judge = Judge(self, setup, folder=folder)
                self._grader_errors += [{"grade_id": "setup", "error": error} for error in self._judge.setup_errors]
                for index, cell in enumerate(self.nb.cells):
                    self._index = index
                    self.preprocess_cell(cell, resources, index)
            self.set_widgets_metadata()
        except Exception as problem:
            self._record(info, started, status="ungraded", reason=f"autograding stopped: {problem}"[:500])
            raise
        self._record(info, started, status="graded", reason=None)
        return self.nb, self.resources

    def preprocess_cell(self, cell: NotebookNode, resources: Any, index: int):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, self.resources
        if _is_test_cell(cell) and self._is_trusted(cell):
            self._judge_cell(cell)
        elif self._gave_up:
            cell.outputs = [_error_output("NotRun", "not run: the kernel had to be restarted too often")]
        else:
            self._kernel_cell(cell, index)
        return cell, self.resources

    # -- test cells: the judge --------------------------------------------------------------

    def _judge_cell(self, cell: NotebookNode) -> None:
        gid = cell.metadata.nbgrader["grade_id"]
        verdict = self._judge.run_test_cell(cell.source, timeout_s=float(self.timeout or 120))
        cell.outputs = [from_dict(o) for o in verdict.outputs]
        cell.execution_count = None
        self._test_results[gid] = {"passed": verdict.passed, "probes": verdict.probes,
                                   "seconds": round(verdict.seconds, 3)}
        if verdict.grader_error:
            self._grader_errors.append({"grade_id": gid, "error": verdict.grader_error})
            self.log.error("grader error in test cell %s: %s", gid, verdict.grader_error)

    def _trusted_sources(self, info: dict) -> dict[str, str] | None:
        """The gradebook's source of each cell that is not an answer (None without a gradebook)."""
        if not info.get("db_url"):
            return None
        with Gradebook(info["db_url"]) as gradebook:
            try:
                notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
            except MissingEntry:
                return {}
            solutions = {c.name for c in notebook.solution_cells}
            return {c.name: c.source for c in notebook.source_cells if c.name not in solutions}

    def _is_trusted(self, cell: NotebookNode) -> bool:
        """Only code whose source is the gradebook's (a test or setup cell) may run in this process."""
        if self._trusted is None:
            return True
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        return gid in self._trusted and self._trusted[gid] == cell.source

    # -- other cells: the kernel, with recovery ----------------------------------------

    def _kernel_cell(self, cell: NotebookNode, index: int) -> None:
        self._output_chars, self._output_noted = 0, False
        try:
            self.execute_cell(cell, index, store_history=True)
            return
        except CellExecutionError:
            raise
        except Exception as problem:  # timeout that the interrupt did not end, dead kernel
            why = self._why(problem)
        self.nb.cells[index] = cell
        cell.outputs = list(cell.get("outputs", []))[:20] + [_error_output("CellStopped", why)]
        self._stopped[index] = why
        self.log.warning("cell %d stopped: %s", index, why)
        self._restart_and_replay(index)

    def _why(self, problem: Exception) -> str:
        text = type(problem).__name__
        if "Dead" in text or "died" in str(problem).lower():
            return ("the kernel stopped while this cell ran (os._exit, a crash, or too much memory); "
                    "it was restarted and the cells before this one were run again")
        return (f"this cell was still running after {self.timeout} s and did not stop when interrupted; "
                "the kernel was restarted and the cells before this one were run again")

    def _restart_and_replay(self, upto: int) -> None:
        """Kill and restart the kernel, then rerun the code cells before ``upto``."""
        while True:
            if self._restarts >= self.max_restarts:
                self._gave_up = True
                return
            self._restarts += 1
            run_sync(self._async_restart)()
            failed_at = self._replay(upto)
            if failed_at is None:
                return
            self._stopped[failed_at] = "stopped again while the state was being restored"

    async def _async_restart(self) -> None:
        assert self.km is not None
        try:
            await ensure_async(self.km.restart_kernel(now=True))
        except Exception:  # the kernel is gone for good: start a new one
            await ensure_async(self.km.shutdown_kernel(now=True))
            await ensure_async(self.km.start_kernel(extra_arguments=self.extra_arguments,
                                                    **getattr(self.km, "_launch_args", {})))
        if self.kc is not None:
            await ensure_async(self.kc.stop_channels())
        self.kc = None
        await self.async_start_new_kernel_client()

    def _replay(self, upto: int) -> int | None:
        """Rerun the kernel cells before ``upto``, outputs discarded; the index of one that failed."""
        for j in range(upto):
            original = self.nb.cells[j]
            if (original.cell_type != "code" or not original.source.strip() or j in self._stopped
                    or (_is_test_cell(original) and self._is_trusted(original))):
                continue
            self._output_chars, self._output_noted = 0, False
            try:
                self.execute_cell(copy.deepcopy(original), j, store_history=False)
            except CellExecutionError:
                raise
            except Exception:
                return j
            finally:
                self.nb.cells[j] = original
        return None

    # -- the probe transport (used by the judge) ---------------------------------------

    def run(self, code: str, timeout_s: float) -> list[dict]:
        """Run a probe cell in the kernel; return its MIME payloads, or raise NoReply."""
        if self._gave_up:
            raise NoReply("the kernel had to be restarted too often")
        outcome, payloads = self._probe(code, max(0.1, timeout_s))
        if outcome == "ok":
            return payloads
        if outcome == "interrupted":
            raise NoReply(f"no reply within {timeout_s:.0f} s; the call was interrupted (an endless loop?)")
        self._restart_and_replay(self._index)
        if outcome == "dead":
            raise NoReply("the kernel stopped while it answered (os._exit, a crash, or too much memory)")
        raise NoReply(f"no reply within {timeout_s:.0f} s, and the kernel did not stop when interrupted")

    async def _async_probe(self, code: str, timeout_s: float) -> tuple[str, list[dict]]:
        assert self.kc is not None and self.km is not None
        msg_id = await ensure_async(self.kc.execute(code, silent=False, store_history=False,
                                                    allow_stdin=False, stop_on_error=False))
        payloads: list[dict] = []
        size = 0
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return await self._async_interrupt_probe(msg_id), []
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=min(remaining, 1.0)))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    return "dead", []
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "display_data":
                data = msg["content"].get("data", {})
                if MIME in data and len(payloads) < 4:
                    size += len(json.dumps(data[MIME]))
                    if size <= 64_000_000:
                        payloads.append(data[MIME])
            elif msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                break
        await self._async_drain_reply(msg_id, deadline)
        return "ok", payloads

    _probe = run_sync(_async_probe)

    async def _async_interrupt_probe(self, msg_id: str) -> str:
        """Interrupt a late probe; 'interrupted' if the kernel then went idle, else 'stuck'."""
        assert self.kc is not None and self.km is not None
        await ensure_async(self.km.interrupt_kernel())
        deadline = time.monotonic() + self.interrupt_grace_s
        while time.monotonic() < deadline:
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=1.0))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    return "dead"
                continue
            if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                    and msg["content"].get("execution_state") == "idle"):
                await self._async_drain_reply(msg_id, time.monotonic() + 5)
                return "interrupted"
        return "stuck"

    async def _async_drain_reply(self, msg_id: str, deadline: float) -> None:
        assert self.kc is not None
        while time.monotonic() < deadline + 5:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=1.0))
            except Empty:
                return
            if msg["parent_header"].get("msg_id") == msg_id:
                return

    # -- bounded output -----------------------------------------------------------------

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int):
        content = msg.get("content", {})
        size = len(content.get("text", "")) + len(json.dumps(content.get("data", {})))
        self._output_chars = getattr(self, "_output_chars", 0) + size
        if self._output_chars > self.max_output_chars:
            if not getattr(self, "_output_noted", False):
                self._output_noted = True
                outs.append(from_dict({"output_type": "stream", "name": "stdout",
                                       "text": f"\n[output cut: the grader keeps {self.max_output_chars} "
                                               "characters per cell]\n"}))
            return None
        return super().output(outs, msg, display_id, cell_index)

    # -- status ---------------------------------------------------------------------------

    def _cache_folder(self) -> str:
        if self.cache_dir:
            return self.cache_dir
        return str(Path(CourseDirectory(config=self.config).root) / ".cascade-cache")

    def _record(self, info: dict, started: float, *, status: str, reason: str | None) -> None:
        if not info.get("student"):
            return
        try:
            path = status_path(self.config, self.resources)
            stopped = [{"index": i, "grade_id": self.nb.cells[i].metadata.get("nbgrader", {}).get("grade_id"),
                        "why": why} for i, why in sorted(self._stopped.items())]
            update_notebook_status(
                path, info["student"], info["assignment"], info["notebook"], status=status,
                stage="executed" if status == "graded" else "executing", reason=reason,
                cells_stopped=stopped, kernel_restarts=self._restarts, gave_up=self._gave_up,
                test_cells=self._test_results, grader_errors=self._grader_errors,
                seconds=round(time.monotonic() - started, 2))
        except Exception as problem:  # the status file must never cost the grade
            self.log.error("could not write the grading status: %s", problem)

