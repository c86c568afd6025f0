"""The kernel's side of the judge's questions: answer one request, reply as data.

During ``nbgrader autograde`` the judge (:mod:`simkit.grading.judge`) runs test cells
outside the learner's kernel. When a test needs something of the notebook (the value
of ``PLAN``, a call of the learner's ``utilisation``) it runs one short synthetic cell
in the kernel::

    __import__("simkit.grading.probe").grading.probe.answer('{"op": "get", ...}')

and reads the reply: one display output of type :data:`MIME`, holding JSON (see
:mod:`simkit.grading.wire`). Requests:

* ``{"op": "get", "name": n}``: the value of the notebook's name ``n``;
* ``{"op": "call", "fn": ref, "args": [...], "kwargs": [[k, v], ...]}``: call a function
  (a handle, or a kit function named by module and qualname) in the kernel;
* ``{"op": "getattr", "obj": ref, "name": a}``: an attribute of a handled object;
* ``{"op": "release"}``: forget every handle (the judge does it after each test cell).

Replies: ``{"ok": data}``, ``{"missing": true}`` (no such name), or ``{"raised":
{"types": [...], "message": "..."}}`` (the call raised; ``types`` lists the
exception's built-in base classes, most specific first).

Values that are not data (functions, instances of the learner's classes) stay here,
in a table of *handles*; the judge gets a reference it can call or query. Nothing in
this module decides a grade: a kernel that answers falsely can only claim values,
and the judge checks those values itself.
"""

from __future__ import annotations

import builtins
import importlib
import itertools
from typing import Any

from . import wire

__all__ = ["MIME", "answer", "handle"]

#: the MIME type of a probe reply
MIME = "application/vnd.cascade.probe+json"

_HANDLES: dict[int, Any] = {}
_COUNTER = itertools.count(1)


def _keep(obj: Any) -> list:
    """A reference to ``obj``, which stays in this kernel."""
    ident = next(_COUNTER)
    _HANDLES[ident] = obj
    kind = "function" if callable(obj) else "object"
    name = getattr(obj, "__qualname__", None) or type(obj).__name__
    return ["ref", ident, kind, str(name)[:80]]


def _resolve(ref: list) -> Any:
    """The object a reference from the judge stands for."""
    if ref[0] == "ref":
        try:
            return _HANDLES[ref[1]]
        except KeyError:
            raise LookupError("the object this test refers to is gone (handles were released)") from None
    if ref[0] == "import":
        found: Any = importlib.import_module(ref[1])
        for part in str(ref[2]).split("."):
            found = getattr(found, part)
        return found
    raise wire.WireError(f"unknown reference {ref[0]!r}")


def _builtin_types(exc: BaseException) -> list[str]:
    """Names of the built-in exception classes ``exc`` is an instance of, most specific first."""
    return [cls.__name__ for cls in type(exc).__mro__
            if isinstance(cls, type) and issubclass(cls, BaseException)
            and getattr(builtins, cls.__name__, None) is cls]


def handle(request: dict, namespace: dict) -> dict:
    """Answer one decoded request against ``namespace`` (the notebook's variables)."""
    op = request.get("op")
    try:
        if op == "get":
            name = request["name"]
            if name not in namespace:
                return {"missing": True}
            return {"ok": wire.encode(namespace[name], _keep)}
        if op == "call":
            fn = _resolve(request["fn"])
            args = [wire.decode(a, _resolve) for a in request.get("args", [])]
            kwargs = {str(k): wire.decode(v, _resolve) for k, v in request.get("kwargs", [])}
            return {"ok": wire.encode(fn(*args, **kwargs), _keep)}
        if op == "getattr":
            obj = _resolve(request["obj"])
            return {"ok": wire.encode(getattr(obj, str(request["name"])), _keep)}
        if op == "release":
            _HANDLES.clear()
            return {"ok": None}
        return {"raised": {"types": ["ValueError", "Exception"], "message": f"unknown request {op!r}"}}
    except Exception as exc:  # the learner's code raised: report it as data
        return {"raised": {"types": _builtin_types(exc), "message": str(exc)[:2000]}}


def answer(request_text: str) -> None:
    """Answer the judge's request (JSON text) with one display output of type MIME."""
    from IPython import get_ipython
    from IPython.display import display

    request = wire.loads(request_text)
    reply = handle(request, get_ipython().user_ns)
    reply["nonce"] = request.get("nonce")
    display({MIME: {"reply": wire.dumps(reply)}}, raw=True)
