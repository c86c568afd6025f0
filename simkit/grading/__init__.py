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
* ``grading.in_notebook(f, *args, **kwargs)``: run ``f`` next to the learner's code (a
  simulation with their plug-in) and get its result back as data
  (:mod:`simkit.grading.context`).

The same cell runs in the learner's kernel (JupyterLab, ``nbgrader validate``) and,
during ``nbgrader autograde``, in the judge outside the kernel, where the learner's
values arrive as data and the verdict cannot be touched from the notebook
(:mod:`simkit.grading.judge`).

How to write a hidden test
--------------------------
Put it in the test cell, between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN
TESTS``, after the visible ``check(...)`` line. In the judge, names the cell does not
define come from the notebook; everything else runs in the grading process. So:

* call the learner's functions and read their values directly (``utilisation(3.0, 1,
  0.25)``, ``PLAN``): what comes back is data;
* compare with the kit, not with numbers typed in the cell where the kit can give
  them: ``grading.run_summary(scenario, params, seed=...)``, ``grading.run_result(...)``,
  ``grading.check_plan(...)`` (cached, computed here);
* run anything that needs the learner's code *inside* a simulation, or many calls on
  one object (a SimPy process, a policy object, a random generator), with
  ``grading.in_notebook(kit_function, learner_thing, ...)``; the function must be
  defined at module level in the kit (e.g. ``ddb.run``, or a helper in the lab's
  check module), and it gets back data; objects it changes come back only if it
  returns them;
* fail with the value checks or ``assert cond, "a sentence"``: inside the hidden block
  the value checks show neither the learner's value nor the expected one, and an error
  raised by the learner's code is reported by its type only. Do not put values or
  inputs into your own messages, and do not print: hidden output is dropped;
* prefix temporary names with ``_`` and keep each test cell self-contained.
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
]
