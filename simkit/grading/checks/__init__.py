"""The labs' visible checks, one module per lab, called by one-line test cells.

A visible test cell reads::

    check("lab0.utilisation", utilisation)

which runs the check registered as ``"utilisation"`` in :mod:`simkit.grading.checks.lab0`
on the learner's ``utilisation``. The modules hold only what the release shows anyway
(visible inputs and their expected values); hidden tests stay in the source notebooks.

A check is a function decorated with :meth:`Checks.add`. It takes the learner's
answers as arguments, raises ``AssertionError`` with a helpful sentence when
something is wrong, and may return a line to print when all is well. It must work
in both places a test cell runs (see :mod:`simkit.grading.judge`): the answers may
be the learner's own objects or the judge's proxies of them, so a check only calls
them, reads their attributes, or runs kit code next to them with
:func:`~simkit.grading.context.in_notebook`.
"""

from __future__ import annotations

import importlib
import re
from typing import Any, Callable

__all__ = ["Checks", "check"]

Check = Callable[..., Any]


class Checks:
    """The visible checks of one lab, by name."""

    def __init__(self, lab: str) -> None:
        self.lab = lab
        self._checks: dict[str, tuple[Check, str]] = {}

    def add(self, name: str, passed: str | None = None) -> Callable[[Check], Check]:
        """Register the decorated function as check ``<lab>.<name>``; ``passed`` is printed
        when it passes (default: "<name>: the visible checks pass")."""
        def register(function: Check) -> Check:
            if name in self._checks:
                raise ValueError(f"check {self.lab}.{name} is defined twice")
            self._checks[name] = (function, passed or f"{name}: the visible checks pass")
            return function
        return register

    def names(self) -> list[str]:
        return sorted(self._checks)

    def run(self, name: str, *answers: Any) -> Any:
        try:
            function, passed = self._checks[name]
        except KeyError:
            raise ValueError(f"{self.lab} has no check {name!r}; it has {', '.join(self.names())}") from None
        outcome = function(*answers)
        print(outcome if isinstance(outcome, str) else passed)
        return outcome


def check(name: str, *answers: Any) -> Any:
    """Run the visible check ``name`` ("lab0.utilisation") on the learner's ``answers``."""
    lab, _, item = name.partition(".")
    if not re.fullmatch(r"lab\d+", lab) or not item:
        raise ValueError(f"check name {name!r} should look like 'lab0.utilisation'")
    try:
        module = importlib.import_module(f"{__name__}.{lab}")
    except ModuleNotFoundError:
        raise ValueError(f"there are no checks for {lab}") from None
    return module.CHECKS.run(item, *answers)
