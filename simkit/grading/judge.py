"""The judge: test cells run outside the learner's kernel, on values fetched as data.

Code in a notebook kernel can replace any object in it (the grader, the kit, the
exception handler, the input transformers), so a verdict reached *in* the kernel
proves nothing. During ``nbgrader autograde`` a test cell is therefore never sent to
the kernel. The :class:`Judge` runs its (trusted, restored) source in a namespace of
the grading process that holds the lab's setup imports and the check API:

* a name the cell uses that the judge does not have (``utilisation``, ``PLAN``) is
  fetched from the kernel through :mod:`simkit.grading.probe`: plain values come back
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
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol

from . import context, wire
from .context import NotebookDidNotAnswer
from .probe import MIME

__all__ = ["Judge", "Verdict", "KernelLink", "KernelFunction", "KernelObject", "NoReply",
           "NotebookDidNotAnswer", "hidden_lines"]

BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"

#: longest reply (characters of JSON) the judge reads; a longer one fails the check
MAX_REPLY_CHARS = 64_000_000
#: most characters of a test cell's printed output kept in its feedback
MAX_PRINTED_CHARS = 20_000


class NoReply(Exception):
    """The kernel gave no usable reply (timeout, crash); raised by transports."""


class Transport(Protocol):
    def run(self, code: str, timeout_s: float) -> list[dict]: ...


# -- proxies ----------------------------------------------------------------------------

class _Proxy:
    __slots__ = ("_link", "_ref", "_name")

    def __init__(self, link: "KernelLink", ref: list, name: str) -> None:
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return self._link.getattr(self, attribute)

    def __setattr__(self, attribute: str, value: Any) -> None:
        raise TypeError("the judge cannot change an object of the notebook; "
                        "use in_notebook(...) to run code next to it")

    def __bool__(self) -> bool:
        raise TypeError(f"the truth value of the notebook's {self._name} is not defined here; "
                        "compare one of its attributes or results instead")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._link.call(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<the notebook's {self._name}>"


class KernelFunction(_Proxy):
    """A function (or class, or bound method) that lives in the learner's kernel."""

    __slots__ = ()


class KernelObject(_Proxy):
    """An object that lives in the learner's kernel, reached by attribute and method."""

    __slots__ = ()


def _describe_call(function: Any, args: Iterable[Any], kwargs: dict[str, Any]) -> str:
    """``name(1, 2.5, key='x')`` for a failure message (short; objects by type only)."""
    def short(value: Any) -> str:
        if value is None or isinstance(value, (bool, int, float, str)):
            text = repr(value)
            return text if len(text) <= 30 else text[:27] + "..."
        return f"<{type(value).__name__}>"
    name = function._name if isinstance(function, _Proxy) else getattr(function, "__name__", "function")
    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _raise_from_notebook(raised: dict, call: str | None = None) -> None:
    """Raise, in the judge, the built-in exception the learner's code raised."""
    cls: type[BaseException] = RuntimeError
    for name in raised.get("types", []):
        candidate = getattr(builtins, str(name), None)
        if (isinstance(candidate, type) and issubclass(candidate, Exception)
                and candidate not in (StopIteration, StopAsyncIteration)):
            cls = candidate
            break
    message = str(raised.get("message", ""))
    try:
        exc = cls(message)
    except TypeError:  # an exception class with another signature
        exc = RuntimeError(message)
    exc.from_notebook = True  # type: ignore[attr-defined]
    exc.notebook_call = call  # type: ignore[attr-defined]
    raise exc


# -- the link to the kernel -------------------------------------------------------------

class KernelLink:
    """Asks the kernel for values and calls, within a time budget, and decodes replies."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.budget_s = float("inf")
        self.probes = 0
        self.failures = 0

    def start_cell(self, budget_s: float) -> None:
        self.budget_s = budget_s

    # requests
    def get(self, name: str) -> Any:
        """The value of the notebook's ``name``; KeyError if it has none."""
        reply = self._ask({"op": "get", "name": name})
        if reply.get("missing"):
            raise KeyError(name)
        return self._value(reply)

    def call(self, function: Any, args: Iterable[Any], kwargs: dict[str, Any]) -> Any:
        """Call ``function`` in the kernel; return its result (or raise its exception)."""
        request = {"op": "call", "fn": self._reference(function),
                   "args": [wire.encode(a, self._reference) for a in args],
                   "kwargs": [[str(k), wire.encode(v, self._reference)] for k, v in kwargs.items()]}
        reply = self._ask(request)
        if "raised" in reply and not context.in_hidden_tests():
            _raise_from_notebook(reply["raised"] if isinstance(reply["raised"], dict) else {},
                                 _describe_call(function, args, kwargs))
        return self._value(reply)

    def getattr(self, proxy: _Proxy, attribute: str) -> Any:
        return self._value(self._ask({"op": "getattr", "obj": proxy._ref, "name": attribute}))

    def release(self) -> None:
        """Let the kernel forget the objects this cell's proxies stood for."""
        self._ask({"op": "release"})

    # plumbing
    def _reference(self, obj: Any) -> list:
        if isinstance(obj, _Proxy):
            if obj._link is not self:
                raise wire.WireError("a proxy of another notebook cannot be sent here")
            return obj._ref
        name = wire.importable_name(obj) if callable(obj) else None
        if name is None:
            raise wire.WireError(
                f"{type(obj).__name__} values cannot be sent to the notebook; send data, "
                f"a function of the notebook, or a kit function defined at module level")
        return ["import", *name]

    def _resolve(self, ref: list) -> _Proxy:
        if ref[0] != "ref" or len(ref) != 4 or type(ref[1]) is not int:
            raise wire.WireError("the notebook sent a malformed reference")
        cls = KernelFunction if ref[2] == "function" else KernelObject
        return cls(self, ["ref", ref[1]], str(ref[3])[:80])

    def _value(self, reply: dict) -> Any:
        if "raised" in reply:
            _raise_from_notebook(reply["raised"] if isinstance(reply["raised"], dict) else {})
        if "ok" not in reply:
            raise NotebookDidNotAnswer("the notebook's reply was malformed")
        try:
            return wire.decode(reply["ok"], self._resolve)
        except wire.WireError as problem:
            raise NotebookDidNotAnswer(f"the notebook's reply could not be read ({problem})") from None

    def _ask(self, request: dict) -> dict:
        nonce = secrets.token_hex(8)
        request = dict(request, nonce=nonce)
        text = wire.dumps(request)
        code = f"__import__('simkit.grading.probe').grading.probe.answer({text!r})"
        if self.budget_s <= 0:
            raise NotebookDidNotAnswer("this test cell's time ran out while it waited for the notebook")
        self.probes += 1
        started = time.monotonic()
        try:
            payloads = self.transport.run(code, self.budget_s)
        except NoReply as why:
            self.failures += 1
            raise NotebookDidNotAnswer(f"the notebook did not answer: {why}") from None
        finally:
            self.budget_s -= time.monotonic() - started
        replies = []
        for payload in payloads:
            raw = payload.get("reply") if isinstance(payload, dict) else None
            if not isinstance(raw, str) or len(raw) > MAX_REPLY_CHARS:
                continue
            try:
                reply = wire.loads(raw)
            except (ValueError, wire.WireError):
                continue
            if isinstance(reply, dict) and reply.get("nonce") == nonce:
                replies.append(reply)
        if len(replies) != 1:
            self.failures += 1
            raise NotebookDidNotAnswer(
                "the notebook gave no reply to the grader's question" if not replies
                else "the notebook gave more than one reply to the grader's question")
        return replies[0]


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
    notes: list[str] = field(default_factory=list)


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

    def __init__(self, transport: Transport, setup_sources: Iterable[str] = ()) -> None:
        self.link = KernelLink(transport)
        self.namespace = JudgeNamespace(self.link.get)
        self.namespace["__name__"] = "__judge__"
        for source in setup_sources:
            exec(compile(source, "<setup>", "exec"), self.namespace)  # trusted: the lab's own setup

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
                    failure = _failure_text(exc, is_hidden)
                    if not (isinstance(exc, _LEARNER_ERRORS) or getattr(exc, "from_notebook", False)):
                        grader_error = f"{type(exc).__name__}: {exc}"[:500]
                    break
                finally:
                    context._HIDDEN.reset(hidden_token)
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
