"""How values cross between the learner's kernel and the judge: plain JSON, tagged.

The judge (see :mod:`simkit.grading.judge`) never trusts an object from the kernel:
it receives *data* and rebuilds it itself. This module is the one definition of that
data, used on both sides:

* plain JSON values stand for themselves (``None``, ``True``, ``3``, ``0.5``, ``"a"``);
* everything else is a JSON list whose first item is a tag::

      ["float", "nan"]                 NaN and the infinities
      ["list", [...]]  ["tuple", [...]]  ["set", [...]]  ["frozenset", [...]]
      ["dict", [[key, value], ...]]    any keys, in order
      ["np", "<f8", 0.25]              a NumPy scalar, with its dtype
      ["nd", "<f8", [2, 3], [...]]     a NumPy array of numbers or booleans (flat data)
      ["result", {...}]                a :class:`simkit.result.Result`
      ["plan", [[at, action], ...]]    a commander plan
      ["dc", "simkit.x.y", "Name", {field: value}]   a dataclass of the kit
      ["ref", 7, "function", "name"]   an object that stays where it lives (a handle)
      ["import", "module", "qualname"] a function named by where it is defined

Decoding is safe by construction: it builds only the types above, imports only
``simkit`` modules, and never calls a method of a received object. Handles are
turned into objects by a ``resolve`` callback that each side supplies (the kernel
looks them up in its handle table; the judge makes a proxy).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import math
from typing import Any, Callable

import numpy as np

__all__ = ["encode", "decode", "dumps", "loads", "WireError", "importable_name", "NUMERIC_KINDS"]

#: NumPy dtype kinds that travel as data: bool, signed and unsigned ints, floats.
NUMERIC_KINDS = frozenset("biuf")

#: how deep containers may nest before the value is refused (a cycle ends here too)
MAX_DEPTH = 64


class WireError(ValueError):
    """A value could not be encoded or decoded; the message says which and why."""


def importable_name(obj: Any) -> tuple[str, str] | None:
    """``(module, qualname)`` if ``obj`` can be found again by importing, else None."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if inspect.ismethod(obj) and isinstance(obj.__self__, type):  # a classmethod, bound to its class
        module = obj.__self__.__module__
        qualname = f"{obj.__self__.__qualname__}.{obj.__name__}"
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    if module == "__main__" or "<" in qualname:
        return None
    try:
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    same = found is obj or (inspect.ismethod(obj) and found == obj)  # a bound classmethod is new each time
    return (module, qualname) if same else None


def _float(value: float) -> Any:
    if math.isfinite(value):
        return value
    return ["float", "nan" if value != value else ("inf" if value > 0 else "-inf")]


def encode(value: Any, handle: Callable[[Any], list] | None = None, depth: int = 0) -> Any:
    """``value`` as tagged JSON data.

    ``handle(obj)`` is called for objects that are not data (functions, instances of
    the learner's classes) and returns their ``["ref", ...]`` or ``["import", ...]``
    form; without it such objects raise :class:`WireError`.
    """
    if depth > MAX_DEPTH:
        raise WireError(f"the value is nested more than {MAX_DEPTH} levels deep (or contains itself)")
    again = lambda item: encode(item, handle, depth + 1)  # noqa: E731
    if value is None or isinstance(value, (bool, str)) or type(value) is int:
        return value
    if type(value) is float:
        return _float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in NUMERIC_KINDS:
        flat = value.ravel().tolist()
        data = [_float(x) for x in flat] if value.dtype.kind == "f" else flat
        return ["nd", value.dtype.str, list(value.shape), data]
    if isinstance(value, np.generic) and value.dtype.kind in NUMERIC_KINDS:
        item = value.item()
        return ["np", value.dtype.str, _float(item) if isinstance(item, float) else item]
    if type(value) in (list, tuple, set, frozenset):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [type(value).__name__, [again(item) for item in items]]
    if type(value) is dict:
        return ["dict", [[again(k), again(v)] for k, v in value.items()]]
    tagged = _encode_kit_value(value, again)
    if tagged is not None:
        return tagged
    if handle is None:
        raise WireError(f"a value of type {type(value).__name__} cannot be sent as data")
    return handle(value)


def _encode_kit_value(value: Any, again: Callable[[Any], Any]) -> list | None:
    """The kit's own value types (Result, Plan, dataclasses), or None."""
    from ..result import Result

    if type(value) is Result:
        return ["result", {
            "scenario": again(value.scenario), "seed": again(value.seed), "params": again(value.params),
            "t_s": again(np.asarray(value.t_s)),
            "series": [[name, again(np.asarray(series))] for name, series in value.series.items()],
            "timeline": [[again(e.t_s), again(e.label), again(e.kind)] for e in value.timeline],
            "summary": again(value.summary), "clock_start_s": again(value.clock_start_s),
        }]
    cls = type(value)
    if cls.__name__ == "Plan" and cls.__module__.startswith("simkit.") and hasattr(value, "to_data"):
        return ["plan", again(value.to_data())]
    if dataclasses.is_dataclass(value) and cls.__module__.startswith("simkit."):
        if importable_name(cls) is None:
            return None
        fields = {f.name: again(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return ["dc", cls.__module__, cls.__qualname__, fields]
    return None


def decode(data: Any, resolve: Callable[[list], Any] | None = None, depth: int = 0) -> Any:
    """Rebuild a value from :func:`encode`'s data; ``resolve`` turns handles into objects."""
    if depth > MAX_DEPTH:
        raise WireError("the data is nested too deeply")
    if data is None or isinstance(data, (bool, str, int, float)):
        return data
    if not isinstance(data, list) or not data or not isinstance(data[0], str):
        raise WireError(f"malformed data: {str(data)[:80]}")
    again = lambda item: decode(item, resolve, depth + 1)  # noqa: E731
    tag, rest = data[0], data[1:]
    try:
        return _DECODERS[tag](rest, again, resolve)
    except KeyError:
        raise WireError(f"unknown tag {tag!r}") from None
    except WireError:
        raise
    except Exception as problem:  # whatever the data makes a constructor raise: not data we accept
        raise WireError(f"malformed {tag!r} data: {type(problem).__name__}: {problem}"[:300]) from None


def _dtype(text: Any) -> np.dtype:
    dtype = np.dtype(str(text))
    if dtype.kind not in NUMERIC_KINDS:
        raise WireError(f"dtype {text!r} is not allowed")
    return dtype


def _number(item: Any) -> Any:
    if isinstance(item, list) and len(item) == 2 and item[0] == "float":
        return float(item[1])
    if isinstance(item, bool) or isinstance(item, (int, float)):
        return item
    raise WireError(f"not a number: {str(item)[:40]}")


def _decode_float(rest, again, resolve):
    if rest[0] not in ("nan", "inf", "-inf"):
        raise WireError(f"bad float {rest[0]!r}")
    return float(rest[0])


def _decode_np(rest, again, resolve):
    dtype = _dtype(rest[0])
    return dtype.type(_number(rest[1]))


def _decode_nd(rest, again, resolve):
    dtype, shape, flat = _dtype(rest[0]), rest[1], rest[2]
    if not (isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape)):
        raise WireError("bad array shape")
    values = [_number(x) for x in flat]
    if math.prod(shape) != len(values):
        raise WireError("array data does not fill its shape")
    return np.array(values, dtype=dtype).reshape(shape)


def _decode_container(kind):
    def build(rest, again, resolve):
        items = [again(item) for item in rest[0]]
        return kind(items)
    return build


def _decode_dict(rest, again, resolve):
    return {again(k): again(v) for k, v in rest[0]}


def _decode_result(rest, again, resolve):
    from ..metrics import TimelineEvent
    from ..result import Result

    d = rest[0]
    return Result(
        scenario=again(d["scenario"]), seed=again(d["seed"]), params=again(d["params"]),
        t_s=again(d["t_s"]), series={str(again(n)): again(s) for n, s in d["series"]},
        timeline=[TimelineEvent(float(again(t)), str(again(label)), str(again(kind)))
                  for t, label, kind in d["timeline"]],
        summary=again(d["summary"]), clock_start_s=float(again(d["clock_start_s"])),
    )


def _decode_plan(rest, again, resolve):
    from ..commander import Plan

    return Plan(again(rest[0]))


def _decode_dataclass(rest, again, resolve):
    module, qualname, fields = rest
    if not (isinstance(module, str) and module.startswith("simkit.")):
        raise WireError(f"dataclasses are only rebuilt from the kit, not from {module!r}")
    cls: Any = importlib.import_module(module)
    for part in str(qualname).split("."):
        cls = getattr(cls, part)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise WireError(f"{module}.{qualname} is not a dataclass")
    values = {name: again(v) for name, v in fields.items()}
    known = {f.name: f for f in dataclasses.fields(cls)}
    if set(values) != set(known):
        raise WireError(f"{qualname} fields do not match")
    obj = cls(**{n: v for n, v in values.items() if known[n].init})
    for name, value in values.items():
        if not known[name].init:
            object.__setattr__(obj, name, value)
    return obj


def _decode_handle(rest, again, resolve):
    if resolve is None:
        raise WireError("a reference to an object arrived where only data is allowed")
    return resolve(rest)


_DECODERS: dict[str, Callable] = {
    "float": _decode_float, "np": _decode_np, "nd": _decode_nd,
    "list": _decode_container(list), "tuple": _decode_container(tuple),
    "set": _decode_container(set), "frozenset": _decode_container(frozenset),
    "dict": _decode_dict, "result": _decode_result, "plan": _decode_plan, "dc": _decode_dataclass,
    "ref": lambda rest, again, resolve: _decode_handle(["ref", *rest], again, resolve),
    "import": lambda rest, again, resolve: _decode_handle(["import", *rest], again, resolve),
}


def dumps(value: Any) -> str:
    """Strict JSON text of already-encoded data (no NaN, which JSON does not have)."""
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def loads(text: str) -> Any:
    """Parse JSON text; NaN and Infinity literals are refused (they are tagged instead)."""
    def refuse(name: str) -> Any:
        raise WireError(f"{name} is not allowed in the data")
    return json.loads(text, parse_constant=refuse)
