"""Value checks with plain-words failures, safe to show in feedback.

Every check raises ``AssertionError`` with a sentence a learner can act on. Two
rules keep the feedback clean:

* a failure says *what* is wrong ("too high", "not one of the choices") and gives the
  hint; it shows the expected value only when the caller says it is public
  (``show_expected=True``, for the visible inputs of a visible check);
* inside a hidden-tests block (the judge says so, see
  :func:`simkit.grading.context.in_hidden_tests`) a failure shows neither the value
  nor the expected one, nor the range: they could give the hidden inputs away.

Numbers are any real number (``int``, ``float``, NumPy scalars: :class:`numbers.Real`)
but never a bool, which Python would otherwise count as 0 or 1.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Sequence

import numpy as np

from .context import NotebookDidNotAnswer, in_hidden_tests

__all__ = ["is_number", "check_type", "check_number", "check_close", "check_between",
           "check_equal", "check_choice", "check_raises"]


def is_number(value: Any) -> bool:
    """A real number that is not a bool (NumPy scalars included)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _matches(value: Any, kind: type) -> bool:
    if kind is float:
        return is_number(value)
    if kind is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if kind is bool:
        return isinstance(value, (bool, np.bool_))
    return isinstance(value, kind)


def _show(value: Any) -> str:
    """A short, readable form of a learner's value."""
    if is_number(value):
        return f"{float(value):.4g}" if not isinstance(value, numbers.Integral) else str(int(value))
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fail(message: str, hint: str = "") -> None:
    raise AssertionError(message + (f". Hint: {hint}" if hint else ""))


def check_type(name: str, got: Any, types: type | tuple[type, ...]) -> None:
    """Assert ``got`` is of ``types``; ``float`` means any real number, ``int`` any integer."""
    kinds = types if isinstance(types, tuple) else (types,)
    if any(_matches(got, kind) for kind in kinds):
        return
    words = {float: "a number", int: "an integer", bool: "True or False"}
    wanted = " or ".join(words.get(kind, kind.__name__) for kind in kinds)
    if in_hidden_tests():
        _fail(f"{name} should be {wanted}, but it is of type {type(got).__name__}")
    _fail(f"{name} should be {wanted}, but it is {_show(got)} (of type {type(got).__name__})")


def check_number(name: str, got: Any, *, hint: str = "") -> float:
    """Assert ``got`` is a real number that is not NaN; return it as a float."""
    check_type(name, got, float)
    if math.isnan(float(got)):
        _fail(f"{name} is NaN (not a number)", hint)
    return float(got)


def check_close(name: str, got: Any, expected: float, *, rel: float | None = None, abs_: float = 0.0,
                hint: str = "", show_expected: bool = False) -> None:
    """Assert ``got`` is within ``rel`` (relative) or ``abs_`` (absolute) of ``expected``.

    Give one tolerance or both (then the wider one counts). Without either, 5% relative.
    Giving only ``abs_`` means exactly that: no relative slack is added behind the
    check's back. ``expected`` may be ``math.inf``; then only infinity passes.
    """
    if rel is None:
        rel = 0.0 if abs_ else 0.05
    if math.isinf(expected):
        check_type(name, got, float)
        if float(got) == expected:
            return
        _fail(f"{name} should be {'math.inf' if expected > 0 else '-math.inf'}"
              + ("" if in_hidden_tests() else f", but it is {_show(got)}"), hint)
    value = check_number(name, got, hint=hint)
    tolerance = max(abs_, rel * abs(expected))
    if abs(value - expected) <= tolerance:
        return
    direction = "too high" if value > expected else "too low"
    if in_hidden_tests():
        _fail(f"{name} is {direction}", hint)
    shown = f" (expected about {expected:.4g})" if show_expected else ""
    _fail(f"{name} = {_show(got)} is {direction}{shown}", hint)


def check_between(name: str, got: Any, low: float, high: float, *, hint: str = "") -> None:
    """Assert ``low <= got <= high`` (the range is shown only outside hidden tests)."""
    value = check_number(name, got, hint=hint)
    if low <= value <= high:
        return
    direction = "too high" if value > high else "too low"
    if in_hidden_tests():
        _fail(f"{name} is {direction}", hint)
    _fail(f"{name} = {_show(got)} is {direction}: it should lie between {low:g} and {high:g}", hint)


def check_seed_shares(name: str, got: Any, keys: Sequence[float], *, keys_name: str, key_kind: str,
                      seeds: Sequence[int], what: str) -> None:
    """Assert ``got`` is a sweep's ``{key: share of seeds}``: one entry per key, each a share of ``seeds``.

    ``what`` says which seeds are counted ("recovered", "collapsed"). A share that is no
    multiple of ``1 / len(seeds)`` cannot have been counted over those seeds.
    """
    check_type(name, got, dict)
    if sorted(got) != sorted(keys):
        raise AssertionError(f"{name} needs one entry per {key_kind} of {keys_name} ({list(keys)})")
    n = len(seeds)
    for key in keys:
        share = check_number(f"{name}[{key:g}]", got[key])
        if not 0.0 <= share <= 1.0 or abs(share * n - round(share * n)) > 1e-9:
            raise AssertionError(f"{name}[{key:g}] should be the share of the {n} seeds that {what}: "
                                 f"0, {1 / n:g}, ..., 1")


def check_equal(name: str, got: Any, expected: Any, *, hint: str = "",
                show_expected: bool = False) -> None:
    """Assert ``got == expected`` (for exact answers: counts, sets, words)."""
    if _equal(got, expected):
        return
    if in_hidden_tests():
        _fail(f"{name} is not right", hint)
    shown = f"; expected {_show(expected)}" if show_expected else ""
    _fail(f"{name} = {_show(got)} is not right{shown}", hint)


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # e.g. an array compared with a word
        return False


def check_choice(name: str, got: Any, allowed: Sequence[Any]) -> None:
    """Assert ``got`` is one of ``allowed`` (for multiple-choice answers)."""
    if any(_equal(got, choice) for choice in allowed):
        return
    if in_hidden_tests():
        _fail(f"{name} is not one of the choices")
    _fail(f"{name} = {_show(got)} is not one of the choices: {', '.join(map(repr, allowed))}")


def check_raises(error: type[BaseException], what: str, function: Callable[..., Any],
                 *args: Any, hint: str = "", **kwargs: Any) -> None:
    """Assert that ``function(*args, **kwargs)`` raises ``error`` (``what`` names the call)."""
    try:
        function(*args, **kwargs)
    except error:
        return
    except NotebookDidNotAnswer:
        raise
    except Exception as other:
        _fail(f"{what} should raise {error.__name__}, but it raised {type(other).__name__}", hint)
    _fail(f"{what} should raise {error.__name__}, but it returned normally", hint)
