"""What the labs' test cells call: checks with plain-words feedback, and fair replays.

Two rules shape this module:

* **Say what is wrong.** Every check raises ``AssertionError`` with a sentence a
  learner can act on ("membership_size(10, 3) returned 30, expected 40: did you count
  the base table's partitions as well as the indexes'?"), never a bare ``assert``.
* **Grade with the canonical kit.** Scores that come from a simulation (a
  commander plan, a scenario summary) are computed in a *fresh Python subprocess*
  started in isolated mode (``python -I``: no current directory on the path, no
  user site-packages), from plain JSON data. A learner who monkeypatches ``simkit``
  in their kernel, or leaves a ``simkit.py`` beside the notebook, changes nothing
  in that process. The subprocess machinery is taken from a freshly reloaded copy
  of this module and of :mod:`subprocess`, so patching them in the kernel does not
  help either. (Code in the kernel can always patch the interpreter itself; the
  instructor guide says how to spot a notebook that tries.)
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from typing import Any, Sequence

__all__ = [
    "score_plan",
    "check_plan",
    "run_summary",
    "check_close",
    "check_type",
    "check_between",
    "BAND_ORDER",
    "GradingError",
]

#: Outcome bands from worst to best (as in :data:`simkit.scenarios.base.BANDS`).
BAND_ORDER = ("bottom", "low", "middle", "top")

#: Seconds a grading subprocess may take before it is stopped.
SUBPROCESS_TIMEOUT_S = 120


class GradingError(RuntimeError):
    """The grader itself could not run (not the learner's fault); the message says why."""


def _call_worker(request: dict[str, Any]) -> dict[str, Any]:
    """Run ``python -I -m simkit.grading.worker`` with ``request`` as JSON; return its JSON."""
    subprocess = importlib.reload(importlib.import_module("subprocess"))  # undo kernel patches
    try:
        completed = subprocess.run(
            [sys.executable, "-I", "-m", "simkit.grading.worker"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise GradingError(f"the grader took longer than {SUBPROCESS_TIMEOUT_S} s and was stopped") from None
    if completed.returncode != 0 or not completed.stdout.strip():
        raise GradingError(f"the grader failed: {completed.stderr.strip()[-2000:]}")
    reply = json.loads(completed.stdout.strip().splitlines()[-1])
    if "error" in reply:
        # A problem with the learner's data (bad action name, bad time): say it plainly.
        raise AssertionError(reply["error"])
    return reply["value"]


def _plain_plan(plan: Any) -> list:
    """Turn a plan (Plan, list of tuples, JSON string) into JSON data, or explain why not."""
    if hasattr(plan, "to_data"):
        return plan.to_data()
    if isinstance(plan, str):
        try:
            return json.loads(plan)
        except json.JSONDecodeError:
            raise AssertionError(
                "your plan is a string but not valid JSON; write it as a list like "
                "[(18, \"pause_renewals\"), (20, \"add_capacity\")]"
            ) from None
    if not isinstance(plan, (list, tuple)):
        raise AssertionError(
            f"your plan should be a list of (time, \"action\") steps, but it is a {type(plan).__name__}"
        )
    steps = []
    for step in plan:
        if not (isinstance(step, (list, tuple)) and len(step) == 2):
            raise AssertionError(
                f"plan step {step!r} should be a pair (time, \"action\"), e.g. (18, \"pause_renewals\")"
            )
        at, action = step
        if not (isinstance(at, str) or (isinstance(at, (int, float)) and not isinstance(at, bool))):
            raise AssertionError(f"the time of plan step {step!r} should be minutes (a number) or \"HH:MM\"")
        if not isinstance(action, str):
            raise AssertionError(f"the action of plan step {step!r} should be a string such as \"pause_renewals\"")
        if isinstance(at, float) and not math.isfinite(at):
            raise AssertionError(f"the time of plan step {step!r} should be a finite number of minutes")
        steps.append([at, action])
    return steps


def score_plan(scenario: str, plan: Any, *, seed: int = 0, params: dict | None = None) -> dict[str, Any]:
    """Replay ``plan`` on ``scenario`` in a fresh subprocess; return the score card as a dict."""
    return _fresh()._call_worker(
        {"verb": "score", "scenario": scenario, "plan": _plain_plan(plan), "seed": seed, "params": params or {}}
    )


def check_plan(
    scenario: str,
    plan: Any,
    *,
    at_least: str = "middle",
    seed: int = 0,
    params: dict | None = None,
) -> dict[str, Any]:
    """Assert that ``plan`` reaches band ``at_least`` (or better); return the score card.

    The failure message gives the score, the band, the verdict and the steps the
    simulation refused, so the learner knows what to change.
    """
    if at_least not in BAND_ORDER:
        raise ValueError(f"at_least = {at_least!r} is not allowed: must be one of {', '.join(BAND_ORDER)}")
    card = _fresh().score_plan(scenario, plan, seed=seed, params=params)
    if BAND_ORDER.index(card["band"]) < BAND_ORDER.index(at_least):
        refused = [f"minute {a['minute']:.4g} {a['action']}: {a['message']}"
                   for a in card["actions"] if a["status"] in ("refused", "failed")]
        message = (
            f"your plan scored {card['score']:.0f}/100 (band '{card['band']}'), but this check needs "
            f"band '{at_least}' or better. What happened: {card['verdict']}."
        )
        if refused:
            message += " Steps that could not be carried out: " + "; ".join(refused) + "."
        raise AssertionError(message)
    return card


def run_summary(scenario: str, params: dict | None = None, *, seed: int = 0,
                plan: Any = None) -> dict[str, Any]:
    """Run ``scenario`` with ``params`` in a fresh subprocess; return its ``Result.summary``."""
    request = {"verb": "summary", "scenario": scenario, "params": params or {}, "seed": seed,
               "plan": _plain_plan(plan) if plan is not None else None}
    return _fresh()._call_worker(request)


def _fresh():
    """This module, freshly loaded from its file (so kernel-side patches are discarded).

    It is loaded under a private name from the file on disk, not looked up in
    ``sys.modules``, so replacing ``simkit.grading`` there or rebinding its
    attributes changes nothing.
    """
    import importlib.util as _util

    spec = _util.spec_from_file_location("_simkit_grading_fresh", __file__,
                                         submodule_search_locations=None)
    module = _util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- value checks with plain-words messages ----------------------------------------------

def check_type(name: str, got: Any, types: type | tuple[type, ...]) -> None:
    """Assert ``got`` is of ``types`` (booleans are not numbers here)."""
    types_tuple = types if isinstance(types, tuple) else (types,)
    numeric = any(t in (int, float) for t in types_tuple)
    if not isinstance(got, types_tuple) or (numeric and isinstance(got, bool)):
        wanted = " or ".join(t.__name__ for t in types_tuple)
        raise AssertionError(f"{name} should be of type {wanted}, but it is {got!r} (of type {type(got).__name__})")


def check_close(name: str, got: Any, expected: float, *, rel: float = 0.05, abs_: float = 0.0,
                hint: str = "") -> None:
    """Assert ``got`` is within ``rel`` (relative) or ``abs_`` (absolute) of ``expected``."""
    check_type(name, got, (int, float))
    if got != got:
        raise AssertionError(f"{name} is NaN (not a number); {hint}".rstrip("; "))
    tolerance = max(abs_, rel * abs(expected))
    if abs(got - expected) > tolerance:
        direction = "too high" if got > expected else "too low"
        message = f"{name} = {got:.4g} is {direction}: expected about {expected:.4g} (within {tolerance:.3g})"
        raise AssertionError(message + (f". Hint: {hint}" if hint else ""))


def check_between(name: str, got: Any, low: float, high: float, *, hint: str = "") -> None:
    """Assert ``low <= got <= high``."""
    check_type(name, got, (int, float))
    if not (low <= got <= high):
        message = f"{name} = {got!r} is outside the expected range [{low:g}, {high:g}]"
        raise AssertionError(message + (f". Hint: {hint}" if hint else ""))


def check_choice(name: str, got: Any, allowed: Sequence[Any]) -> None:
    """Assert ``got`` is one of ``allowed`` (for multiple-choice answers)."""
    if got not in allowed:
        raise AssertionError(f"{name} = {got!r} is not one of the choices: {', '.join(map(repr, allowed))}")
