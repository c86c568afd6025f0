"""Where a test cell is running: in the notebook's kernel, or in the judge.

The same test cell runs in two places (see :mod:`simkit.grading.judge`):

* **in the kernel** (a learner's JupyterLab, ``nbgrader validate``, the notebook
  tests): everything is local; :func:`in_notebook` just calls its function;
* **in the judge** (``nbgrader autograde``): the cell runs in the grading process, and
  the learner's values arrive as data. :func:`in_notebook` then runs its function in
  the learner's kernel and brings the result back as data.

The judge sets two context variables while it runs a cell: which judge is active,
and whether the statement being run lies between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS``. Checks read :func:`in_hidden_tests` to keep expected
values and hidden inputs out of their failure messages.
"""

from __future__ import annotations

import contextvars
from typing import Any, Callable, TypeVar

__all__ = ["in_notebook", "in_hidden_tests", "active_judge", "NotebookDidNotAnswer"]

T = TypeVar("T")

class NotebookDidNotAnswer(Exception):
    """A test needed the notebook, and the notebook did not answer properly (in the judge)."""


_JUDGE: contextvars.ContextVar[Any] = contextvars.ContextVar("cascade_judge", default=None)
_HIDDEN: contextvars.ContextVar[bool] = contextvars.ContextVar("cascade_hidden", default=False)


def active_judge() -> Any:
    """The judge running the current test cell, or None in a notebook kernel."""
    return _JUDGE.get()


def in_hidden_tests() -> bool:
    """True while the judge runs a statement of a hidden-tests block."""
    return _HIDDEN.get()


def in_notebook(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``function(*args, **kwargs)`` where the notebook's code lives.

    In a notebook kernel this is just the call. In the judge, the call runs in the
    learner's kernel (``function`` is a kit function, found there by its module and
    name, or a function of the notebook) and only its result comes back, as data.
    Use it for what must run next to the learner's code, such as a simulation with
    the learner's plug-in::

        result = in_notebook(ddb.run, seed=3, renewal=renewal_process)
    """
    judge = _JUDGE.get()
    if judge is None:
        return function(*args, **kwargs)
    return judge.link.call(function, args, kwargs)
