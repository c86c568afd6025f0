"""The judge: test cells run outside the learner's kernel, on values fetched as data.

Code in a notebook kernel can replace any object in it (the grader, the kit, the
exception handler, the input transformers), so a verdict reached *in* the kernel
proves nothing. During ``nbgrader autograde`` a test cell is therefore never sent to
the kernel. The :class:`Judge` runs its (trusted, restored) source in a namespace of
the grading process that holds the lab's setup imports and the check API:

* a name the cell uses that the judge does not have (``utilisation``, ``PLAN``) is
  fetched from the kernel (:mod:`simkit.grading.link`, :mod:`simkit.grading.probe`): plain values come back
  as values, functions as :class:`KernelFunction` proxies (calling one runs the
  learner's function in the kernel on the given arguments and returns the result as
  data), other objects as :class:`KernelObject` proxies (attributes and methods
  proxied);
* what the check compares and the verdict (did the cell raise?) stay in the judge;
* a missing, malformed or late reply fails the check (fail closed).

The kernel may lie in a reply. That is fine: to pass, a lie has to be the right
values, for inputs (hidden ones included) that only arrive with the question.

The judge talks to the kernel through a *transport*: any object with
``run(code: str, timeout_s: float) -> list[dict]`` that executes ``code`` in the
kernel and returns the :data:`~simkit.grading.probe.MIME` payloads it displayed,
or raises :class:`NoReply`. ``course/cascade_judge.py`` provides the nbgrader one.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from . import context
from .context import NotebookDidNotAnswer
from .link import KernelFunction, KernelLink, KernelObject, NoReply, Transport
from .probe import MIME

__all__ = ["Judge", "Verdict", "KernelLink", "KernelFunction", "KernelObject", "NoReply", "Transport",
           "NotebookDidNotAnswer", "hidden_lines", "payloads_of"]

BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"

#: most characters of a test cell's printed output kept in its feedback
MAX_PRINTED_CHARS = 20_000


# -- running a test cell ----------------------------------------------------------------

class JudgeNamespace(dict):
    """The judge's globals: its own names first, then builtins, then the notebook's."""

    def __init__(self, fetch: Callable[[str], Any]) -> None:
        super().__init__()
        self._fetch = fetch
        self.fetched: dict[str, Any] = {}

    def __missing__(self, name: str) -> Any:
        if name in builtins.__dict__:
            return builtins.__dict__[name]
        if name.startswith("__"):
            raise KeyError(name)
        if name not in self.fetched:
            self.fetched[name] = self._fetch(name)  # KeyError if the notebook lacks it
        return self.fetched[name]


def hidden_lines(source: str) -> set[int]:
    """Line numbers (1-based) inside hidden-test blocks, the marker lines included."""
    hidden, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if BEGIN_HIDDEN in line:
            inside = True
        if inside:
            hidden.add(number)
        if END_HIDDEN in line:
            inside = False
    return hidden


@dataclass
class Verdict:
    """What the judge made of one test cell: nbformat outputs, and what went wrong."""

    outputs: list[dict]
    passed: bool
    #: an error that is the grader's problem, not the learner's (for the instructor)
    grader_error: str | None = None
    probes: int = 0
    seconds: float = 0.0


class _Bounded(io.StringIO):
    def write(self, text: str) -> int:
        room = MAX_PRINTED_CHARS - self.tell()
        if room > 0:
            super().write(text[:room])
        return len(text)


_LEARNER_ERRORS = (AssertionError, NameError, NotebookDidNotAnswer)


def _failure_text(exc: BaseException, hidden: bool) -> tuple[str, str]:
    """(ename, evalue) for a failed test, with nothing hidden in it."""
    ename = type(exc).__name__
    message = str(exc)
    if getattr(exc, "from_notebook", False):
        if hidden:
            return ename, f"your code raised {ename} during a hidden test"
        call = getattr(exc, "notebook_call", None)
        if isinstance(exc, NotImplementedError) and not message:
            return ename, f"{call or 'your code'} is not written yet (it raises NotImplementedError)"
        where = f", in {call}" if call else ""
        return ename, f"{message} (raised by your code{where})" if message else f"raised by your code{where}"
    if isinstance(exc, NameError) and not isinstance(exc, UnboundLocalError):
        return ename, message  # names are not secret: the notebook lacks one
    if isinstance(exc, _LEARNER_ERRORS):
        if hidden:
            return ename, f"a hidden test failed: {message}" if message else "a hidden test failed"
        return ename, message
    if hidden:
        return ename, f"{ename} while running a hidden test"
    return ename, message


class Judge:
    """Runs the test cells of one notebook, in order, against one kernel."""

    def __init__(self, transport: Transport, setup_sources: Iterable[str] = (),
                 folder: str | None = None) -> None:
        self.link = KernelLink(transport)
        self.namespace = JudgeNamespace(self.link.get)
        self.namespace["__name__"] = "__judge__"
        #: the notebook's folder: setup and test cells run there, as they do in the kernel
        self.folder = folder
        #: setup statements that failed here (e.g. reading a file the sandbox gave only the
        #: kernel); the names they define are then read from the kernel, as learner values
        self.setup_errors: list[str] = []
        with self._in_folder():
            for source in setup_sources:  # trusted: the lab's own setup, statement by statement
                for statement in ast.parse(source).body:
                    try:
                        exec(compile(ast.Module([statement], type_ignores=[]), "<setup>", "exec"),
                             self.namespace)
                    except Exception as problem:
                        self.setup_errors.append(f"{type(problem).__name__}: {problem}"[:300])

    @contextlib.contextmanager
    def _in_folder(self):
        """Run in the notebook's folder (relative paths mean what they mean in the kernel)."""
        if self.folder is None:
            yield
            return
        before = os.getcwd()
        os.chdir(self.folder)
        try:
            yield
        finally:
            os.chdir(before)

    def run_test_cell(self, source: str, timeout_s: float = 120.0) -> Verdict:
        """Run one test cell's source; the verdict is 'passed' if no statement raised."""
        started = time.monotonic()
        probes_before = self.link.probes
        printed = _Bounded()
        try:
            statements = ast.parse(source).body
        except SyntaxError as problem:
            return Verdict([_error("GradingError", f"the test cell does not compile: {problem}")],
                           False, grader_error=f"test cell does not compile: {problem}")
        hidden = hidden_lines(source)
        self.namespace.fetched = {}
        self.link.start_cell(timeout_s)
        failure: tuple[str, str] | None = None
        grader_error = None
        judge_token = context._JUDGE.set(self)
        try:
            with self._in_folder():
                self._run_statements(statements, hidden, printed)
        except _Failed as failed:
            failure, grader_error = failed.failure, failed.grader_error
        finally:
            context._JUDGE.reset(judge_token)
            self.namespace.fetched = {}
            if self.link.probes > probes_before:
                try:
                    self.link.release()
                except Exception:  # a dead or stuck kernel: the transport has dealt with it
                    pass
        outputs = []
        if printed.getvalue():
            outputs.append({"output_type": "stream", "name": "stdout", "text": printed.getvalue()})
        if failure is not None:
            outputs.append(_error(*failure))
        return Verdict(outputs, failure is None, grader_error=grader_error,
                       probes=self.link.probes - probes_before, seconds=time.monotonic() - started)

    def _run_statements(self, statements: list, hidden: set[int], printed: io.StringIO) -> None:
        """Run a test cell's statements in order; raise :class:`_Failed` at the first failure."""
        for statement in statements:
            lines = set(range(statement.lineno, (statement.end_lineno or statement.lineno) + 1))
            is_hidden = bool(lines & hidden)
            hidden_token = context._HIDDEN.set(is_hidden)
            sink = io.StringIO() if is_hidden else printed
            try:
                code = compile(ast.Module([statement], type_ignores=[]), "<test cell>", "exec")
                with contextlib.redirect_stdout(sink):
                    exec(code, self.namespace)
            except Exception as exc:  # the test failed (or the grader did)
                grader_error = None
                if not (isinstance(exc, _LEARNER_ERRORS) or getattr(exc, "from_notebook", False)):
                    grader_error = f"{type(exc).__name__}: {exc}"[:500]
                raise _Failed(_failure_text(exc, is_hidden), grader_error) from None
            finally:
                context._HIDDEN.reset(hidden_token)


class _Failed(Exception):
    """A test cell stopped at a failing statement (what to show, and whether it was the grader)."""

    def __init__(self, failure: tuple[str, str], grader_error: str | None) -> None:
        super().__init__(failure[1])
        self.failure, self.grader_error = failure, grader_error


def _error(ename: str, evalue: str) -> dict:
    """An nbformat error output with no traceback frames (they would show the test's source)."""
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


def payloads_of(outputs: Iterable[dict]) -> list[dict]:
    """The probe payloads among nbformat-style outputs (display_data of type MIME)."""
    found = []
    for output in outputs:
        data = output.get("data") or {}
        if MIME in data:
            payload = data[MIME]
            if isinstance(payload, str):
                try:
                    payload = json.loads(payload)
                except ValueError:
                    continue
            found.append(payload)
    return found
