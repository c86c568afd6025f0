"""The grading subprocess: JSON request on stdin, one JSON line on stdout.

Started by :mod:`simkit.grading` as ``python -I -m simkit.grading.worker``. It
imports the kit fresh, from its installed location, so nothing a learner did in
their notebook kernel can reach it. Requests:

* ``{"verb": "score", "scenario": ..., "plan": [[at, action], ...], "seed": N, "params": {...}}``
  -> the score card of the plan;
* ``{"verb": "summary", "scenario": ..., "params": {...}, "seed": N, "plan": [...] | null}``
  -> the run's ``Result.summary``.

The reply is ``{"value": ...}``, or ``{"error": "..."}`` for a problem with the
request's data (unknown action, bad parameter), worded for the learner.
"""

from __future__ import annotations

import json
import sys


def handle(request: dict) -> dict:
    """Answer one grading request (plain data in, plain data out)."""
    from simkit.commander.engine import Plan, score
    from simkit.result import _plain
    from simkit.scenarios import get

    verb = request.get("verb")
    scenario = request.get("scenario")
    seed = request.get("seed", 0)
    params = request.get("params") or {}
    try:
        if verb == "score":
            card = score(scenario, Plan(request.get("plan") or []), params=params, seed=seed)
            return {"value": _plain(card.to_dict())}
        if verb == "summary":
            plan = request.get("plan")
            result = get(scenario).run(params, seed=seed, plan=Plan(plan) if plan else None)
            return {"value": _plain(result.summary)}
    except (ValueError, TypeError) as problem:
        return {"error": str(problem)}
    return {"error": f"unknown grading request {verb!r}"}


def main() -> None:
    request = json.loads(sys.stdin.read())
    print(json.dumps(handle(request)))


if __name__ == "__main__":
    main()
