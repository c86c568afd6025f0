"""Per-lab tables of what a lab's text claims and what it grades, checked against the model.

Each lab has a module here (``lab0_overload.py`` for ``lab0-overload``, ...) with two lists:

* ``CLAIMS``: every quantitative statement of the lab's Markdown, as a :class:`Claim`:
  the text snippet as it appears in the notebook, how to compute the number from the
  model, and the tolerance. Facts from the record (a date, AWS's own figure) are listed
  too, as :class:`Fact` with the source, so the table is the whole list of numbers the
  lab states. ``tests/test_lab_claims.py`` checks that each snippet is in the lab's text
  (solution and release) and that each computed value matches the stated one.
* ``ANSWERS``: every graded numeric or set answer, as a :class:`GradedAnswer` that
  computes the answer for a seed. ``tests/test_lab_answers.py`` checks that the same
  conclusion is reached on at least 9 of seeds 0-9 (or that the lab asks for a seed
  average, in which case the function computes that average and the check is trivial
  by construction: then say so in ``why_robust``).

Runs are shared through :func:`run` (memoised), so a claim and an answer that need the
same simulation run it once per test session.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import simkit

__all__ = ["Claim", "Fact", "GradedAnswer", "run", "summary", "score"]


@dataclass(frozen=True)
class Claim:
    """A number the lab's text states, recomputed from the model.

    ``snippet`` must appear verbatim in one Markdown cell of the lab (whitespace is
    normalised); ``compute()`` returns the model's value; the claim holds when
    ``abs(compute() - stated) <= tolerance``. For a claim about several seeds, let
    ``compute`` return the worst case over the seeds the text talks about.
    """

    snippet: str
    stated: float
    compute: Callable[[], float]
    tolerance: float
    note: str = ""


@dataclass(frozen=True)
class Fact:
    """A number the lab's text takes from the record, not from the model (cite it)."""

    snippet: str
    source: str


@dataclass(frozen=True)
class GradedAnswer:
    """A graded answer as a function of the seed; ``same(a, b)`` says whether two
    answers reach the same conclusion (default: equal)."""

    name: str
    answer: Callable[[int], Any]
    same: Callable[[Any, Any], bool] = field(default=lambda a, b: a == b)
    why_robust: str = ""


def _key(params: dict | None, plan: Any) -> tuple[str, str]:
    return json.dumps(params or {}, sort_keys=True), json.dumps(plan)


@functools.lru_cache(maxsize=None)
def _run(scenario: str, params_json: str, seed: int, plan_json: str):
    plan = json.loads(plan_json)
    return simkit.run(scenario, json.loads(params_json), seed=seed, plan=plan)


def run(scenario: str, params: dict | None = None, seed: int = 0, plan: Any = None):
    """``simkit.run``, memoised for the test session (same arguments, same Result)."""
    params_json, plan_json = _key(params, plan)
    return _run(scenario, params_json, seed, plan_json)


def summary(scenario: str, params: dict | None = None, seed: int = 0, plan: Any = None) -> dict:
    return run(scenario, params, seed, plan).summary


@functools.lru_cache(maxsize=None)
def _score(scenario: str, plan_json: str, seed: int, params_json: str):
    from simkit.commander import score as play

    return play(scenario, json.loads(plan_json), params=json.loads(params_json), seed=seed)


def score(scenario: str, plan: Any, seed: int = 0, params: dict | None = None):
    """The commander's score card of ``plan`` (memoised)."""
    params_json, plan_json = _key(params, plan)
    return _score(scenario, plan_json, seed, params_json)
