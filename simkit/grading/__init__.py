"""What the labs' test cells call: one-line visible checks, value checks, canonical runs.

A test cell uses only these names (the lab's setup cell imports ``check`` and
``grading``):

* ``check("lab0.utilisation", utilisation)``: the visible checks of one exercise
  (:mod:`simkit.grading.checks`);
* ``grading.check_close / check_between / check_number / check_type / check_equal /
  check_choice / check_raises``: value checks whose failures say what is wrong and
  never show a hidden expected value (:mod:`simkit.grading.values`);
* ``grading.run_summary / run_result / score_plan / check_plan``: the trusted kit's
  own answers, computed once and cached (:mod:`simkit.grading.canonical`);
* ``grading.in_notebook(f, *args)``: run ``f`` next to the learner's code (a
  simulation with their plug-in) and get its result back as data
  (:mod:`simkit.grading.context`).

The same cell runs in the learner's kernel (JupyterLab, ``nbgrader validate``) and,
during ``nbgrader autograde``, in the judge outside the kernel, where the learner's
values arrive as data and the verdict cannot be touched from the notebook
(:mod:`simkit.grading.judge`).
"""

from __future__ import annotations

from .canonical import BAND_ORDER, check_plan, plain_plan, run_result, run_summary, score_plan
from .checks import check
from .context import in_hidden_tests, in_notebook
from .values import (check_between, check_choice, check_close, check_equal, check_number,
                     check_raises, check_type, is_number)

__all__ = [
    "check", "in_notebook", "in_hidden_tests",
    "check_close", "check_between", "check_number", "check_type", "check_equal", "check_choice",
    "check_raises", "is_number",
    "run_summary", "run_result", "score_plan", "check_plan", "plain_plan", "BAND_ORDER",
    "GradingError",
]


class GradingError(RuntimeError):
    """The grader itself could not run (not the learner's fault); the message says why."""
