"""The judge's line to the learner's kernel: probes, proxies and a time budget.

:class:`KernelLink` asks the kernel one question at a time (see
:mod:`simkit.grading.probe` for the kernel's side): the value of a name, a call, an
attribute. Each question is a short synthetic cell, run through a *transport*; the
answer is one display output holding JSON (:mod:`simkit.grading.wire`), matched to the
question by a random nonce. No answer, two answers, an unreadable answer or a late
one raise :class:`~simkit.grading.context.NotebookDidNotAnswer`: the check fails
(fail closed).

What comes back is data, or a proxy for what must stay in the kernel:
:class:`KernelFunction` (calling it runs the function in the kernel on the given
arguments and returns the result as data, or raises the same built-in exception)
and :class:`KernelObject` (attributes and methods proxied). Exceptions the learner's
code raised are marked ``from_notebook`` so that the judge never shows their text
for a hidden test.
"""

from __future__ import annotations

import builtins
import secrets
import time
from typing import Any, Iterable, Protocol

from . import context, wire
from .context import NotebookDidNotAnswer

__all__ = ["KernelLink", "KernelFunction", "KernelObject", "NoReply", "Transport"]

#: longest reply (characters of JSON) the judge reads; a longer one fails the check
MAX_REPLY_CHARS = 64_000_000


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
