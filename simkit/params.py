"""Validated parameter sets: frozen dataclasses whose fields carry a unit and a range.

Every scenario and every building block of the kit describes its knobs as a
:class:`Params` subclass. Each field is declared with :func:`param`, which records
its unit, the values it allows and a one-line description. On construction every
field is checked, so a learner who writes ``timeout_s=-1`` or ``workers="ten"``
gets a message naming the parameter, the value given and what is allowed, instead
of a traceback from deep inside SimPy.

Example::

    @dataclass(frozen=True)
    class QueueParams(Params):
        workers: int = param(10, unit="workers", minimum=1, doc="parallel workers")
        timeout_s: float = param(1.0, unit="s", minimum=0, exclusive_minimum=True,
                                 doc="client timeout per attempt")
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

__all__ = ["Params", "param", "ParamSpec", "check_number", "check_choice"]


@dataclass(frozen=True)
class ParamSpec:
    """What one parameter allows: its type, unit, range or choices, and meaning."""

    kind: type
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[Any, ...] | None = None
    doc: str = ""

    def allowed(self) -> str:
        """Describe the allowed values in words, for error messages and help."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is bool:
            return "True or False"
        noun = "an integer" if self.kind is int else "a number"
        bounds = []
        if self.minimum is not None:
            op = ">" if self.exclusive_minimum else ">="
            bounds.append(f"{op} {_fmt(self.minimum)}")
        if self.maximum is not None:
            bounds.append(f"<= {_fmt(self.maximum)}")
        text = noun + (" " + " and ".join(bounds) if bounds else "")
        return text + (f" ({self.unit})" if self.unit else "")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def param(
    default: Any,
    *,
    unit: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    choices: Sequence[Any] | None = None,
    doc: str = "",
    kind: type | None = None,
) -> Any:
    """Declare a dataclass field with its unit, allowed range and description.

    ``kind`` is inferred from the default (``bool``, ``int``, ``float`` or ``str``);
    pass it explicitly when the default could be read two ways (``kind=float`` for
    a default of ``1``).
    """
    spec = ParamSpec(
        kind=kind or type(default),
        unit=unit,
        minimum=minimum,
        maximum=maximum,
        exclusive_minimum=exclusive_minimum,
        choices=tuple(choices) if choices is not None else None,
        doc=doc,
    )
    return field(default=default, metadata={"spec": spec})


def check_number(
    name: str,
    value: Any,
    *,
    kind: type = float,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    unit: str = "",
) -> float:
    """Check one numeric argument outside a Params class; return it as ``kind``.

    Raises ``TypeError`` for a non-number (booleans and strings included) and
    ``ValueError`` for a number out of range, both naming ``name`` and the rule.
    """
    spec = ParamSpec(kind=kind, unit=unit, minimum=minimum, maximum=maximum,
                     exclusive_minimum=exclusive_minimum)
    return _check(name, value, spec)


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Check that ``value`` is one of ``choices``; raise ``ValueError`` naming them."""
    spec = ParamSpec(kind=type(choices[0]), choices=tuple(choices))
    return _check(name, value, spec)


def _check(name: str, value: Any, spec: ParamSpec) -> Any:
    """Validate ``value`` against ``spec``; return it normalised (int -> float)."""
    if spec.choices is not None:
        if value not in spec.choices:
            raise ValueError(f"{name} = {value!r} is not allowed: must be {spec.allowed()}")
        return value
    if spec.kind is bool:
        if not isinstance(value, bool):
            raise TypeError(f"{name} = {value!r} is not allowed: must be True or False")
        return value
    if spec.kind in (int, float):
        # numbers.Real and numbers.Integral take NumPy's numbers too (np.int64 is not an int)
        is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if spec.kind is int and not (isinstance(value, numbers.Integral) and not isinstance(value, bool)):
            if is_number and float(value).is_integer():
                value = int(value)
            else:
                raise TypeError(f"{name} = {value!r} is not allowed: must be {spec.allowed()}")
        if not is_number:
            raise TypeError(f"{name} = {value!r} is not allowed: must be {spec.allowed()}")
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"{name} = {value!r} is not allowed: must be {spec.allowed()}")
        too_low = spec.minimum is not None and (
            value <= spec.minimum if spec.exclusive_minimum else value < spec.minimum
        )
        too_high = spec.maximum is not None and value > spec.maximum
        if too_low or too_high:
            raise ValueError(f"{name} = {value!r} is not allowed: must be {spec.allowed()}")
        return float(value) if spec.kind is float else int(value)
    if not isinstance(value, spec.kind):
        raise TypeError(
            f"{name} = {value!r} is not allowed: must be of type {spec.kind.__name__}"
        )
    return value


@dataclass(frozen=True)
class Params:
    """Base class for a frozen, self-validating set of parameters.

    Subclasses are ``@dataclass(frozen=True)`` and declare fields with :func:`param`.
    Use :meth:`from_dict` to build one from plain data (JSON, command line): it
    rejects unknown names with the list of known ones. Use :meth:`replace` to get
    a modified copy, validated again.
    """

    #: Cross-field rules: (predicate on the instance, message). Override in subclasses.
    rules: ClassVar[tuple] = ()

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            spec: ParamSpec | None = f.metadata.get("spec")
            if spec is None:
                continue
            value = _check(f.name, getattr(self, f.name), spec)
            object.__setattr__(self, f.name, value)
        for predicate, message in self.rules:
            if not predicate(self):
                raise ValueError(f"{type(self).__name__}: {message}")

    @classmethod
    def specs(cls) -> dict[str, ParamSpec]:
        """Each parameter's name mapped to its :class:`ParamSpec`, in declaration order."""
        return {f.name: f.metadata["spec"] for f in dataclasses.fields(cls) if "spec" in f.metadata}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None = None, **overrides: Any):
        """Build from a mapping of name -> value; unknown names raise ``TypeError``."""
        values = dict(data or {}, **overrides)
        known = cls.specs()
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise TypeError(
                f"{cls.__name__} has no parameter {', '.join(repr(u) for u in unknown)}; "
                f"known parameters: {', '.join(known)}"
            )
        return cls(**values)

    def replace(self, **changes: Any):
        """Return a validated copy with some parameters changed."""
        return type(self).from_dict(self.to_dict(), **changes)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as plain data (JSON-friendly)."""
        return {name: getattr(self, name) for name in self.specs()}

    @classmethod
    def help_lines(cls) -> list[str]:
        """One readable line per parameter: name, default, unit and meaning."""
        lines = []
        for f in dataclasses.fields(cls):
            spec = f.metadata.get("spec")
            if spec is None:
                continue
            unit = f" [{spec.unit}]" if spec.unit else ""
            lines.append(f"--{f.name.replace('_', '-')} (default {f.default!r}){unit}: {spec.doc}")
        return lines
