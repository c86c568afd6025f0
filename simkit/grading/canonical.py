"""Canonical runs for hidden tests: the kit's own answer, computed once.

Hidden tests compare a learner's numbers with what the trusted kit gives
(:func:`run_summary`, :func:`run_result`) and replay commander plans
(:func:`score_plan`, :func:`check_plan`). In the judge these run in the grading
process, never in the learner's kernel.

A class of 200 asks the same canonical questions 200 times, so answers are cached:
in memory always, and on disk when a cache folder is set (the judge sets
``course/.cascade-cache/``, out of the sandbox's sight). A cache entry is keyed by
what was asked (scenario, parameters, seed, plan) *and* a fingerprint of the kit's
source, so changing the kit never serves a stale answer. Writes are atomic (a
temporary file renamed into place) and locked per question, so parallel graders share
the folder and each canonical run is computed once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import numbers
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

try:
    import fcntl
except ImportError:  # not POSIX: parallel graders may compute a run twice, never wrongly
    fcntl = None

from . import wire
from .context import in_hidden_tests

__all__ = ["run_summary", "run_result", "score_plan", "check_plan", "plain_plan", "BAND_ORDER",
           "use_cache_dir", "cache_dir", "kit_fingerprint"]

#: Outcome bands from worst to best (as in :data:`simkit.scenarios.base.BANDS`).
BAND_ORDER = ("bottom", "low", "middle", "top")

_CACHE_DIR: Path | None = None
_MEMORY: dict[str, Any] = {}
_MEMORY_LIMIT = 256


@contextlib.contextmanager
def use_cache_dir(folder: str | os.PathLike | None) -> Iterator[None]:
    """Cache canonical answers in ``folder`` (created if needed) while the block runs."""
    global _CACHE_DIR
    previous = _CACHE_DIR
    _CACHE_DIR = Path(folder) if folder else None
    try:
        yield
    finally:
        _CACHE_DIR = previous


def cache_dir() -> Path | None:
    """The folder canonical answers are cached in now (None: memory only)."""
    return _CACHE_DIR


@lru_cache(maxsize=1)
def kit_fingerprint() -> str:
    """SHA-256 over the kit's Python source: a new kit never reuses old answers."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cached(kind: str, question: dict, compute: Callable[[], Any]) -> Any:
    """The answer to ``question``, from memory, the disk cache, or ``compute()``."""
    key_text = json.dumps({"kind": kind, "kit": kit_fingerprint(), **question}, sort_keys=True)
    key = hashlib.sha256(key_text.encode()).hexdigest()
    if key in _MEMORY:
        return wire.decode(_MEMORY[key])
    path = _CACHE_DIR / f"{kind}-{key[:40]}.json" if _CACHE_DIR else None
    with _exclusive(path):  # parallel graders: one computes, the others wait and read
        encoded = _load(path, key_text)
        if encoded is None:
            encoded = wire.encode(compute())
            if path is not None:
                _store(path, {"key": key_text, "value": encoded})
    if len(_MEMORY) >= _MEMORY_LIMIT:
        _MEMORY.clear()
    _MEMORY[key] = encoded
    return wire.decode(encoded)


@contextlib.contextmanager
def _exclusive(path: Path | None) -> Iterator[None]:
    """Hold a lock on ``path`` (a ``.lock`` file beside it) across processes, where possible."""
    if path is None or fcntl is None:
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_suffix(".lock"), "a")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load(path: Path | None, key_text: str) -> Any:
    """The cached answer stored at ``path`` for exactly this question, or None."""
    if path is None or not path.is_file():
        return None
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        return stored["value"] if stored.get("key") == key_text else None
    except (OSError, ValueError, KeyError):
        return None


def _store(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` atomically; a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(wire.dumps(data))
        os.replace(temporary, path)
    except OSError:
        pass


def plain_plan(plan: Any) -> list:
    """A plan (Plan, list of pairs, JSON text) as JSON data, or an AssertionError saying why not."""
    if hasattr(plan, "to_data"):
        return plan.to_data()
    if isinstance(plan, str):
        try:
            plan = json.loads(plan)
        except json.JSONDecodeError:
            raise AssertionError(
                "your plan is a string but not valid JSON; write it as a list like "
                "[(18, \"pause_renewals\"), (20, \"add_capacity\")]") from None
    if not isinstance(plan, (list, tuple)):
        raise AssertionError(
            f"your plan should be a list of (time, \"action\") steps, but it is a {type(plan).__name__}")
    steps = []
    for step in plan:
        if not (isinstance(step, (list, tuple)) and len(step) == 2):
            raise AssertionError(
                f"plan step {step!r} should be a pair (time, \"action\"), e.g. (18, \"pause_renewals\")")
        at, action = step
        if isinstance(at, numbers.Real) and not isinstance(at, bool) and type(at).__name__ != "bool_":
            if not math.isfinite(float(at)):
                raise AssertionError(f"the time of plan step {step!r} should be a finite number of minutes")
            at = int(at) if isinstance(at, numbers.Integral) else float(at)
        elif not isinstance(at, str):
            raise AssertionError(f"the time of plan step {step!r} should be minutes (a number) or \"HH:MM\"")
        if not isinstance(action, str):
            raise AssertionError(f"the action of plan step {step!r} should be a string such as \"pause_renewals\"")
        steps.append([at, action])
    return steps


def _question(scenario: str, params: Any, seed: Any, plan: Any) -> dict:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise AssertionError(f"seed should be an integer, got {seed!r}")
    return {"scenario": str(scenario), "params": wire.encode(dict(params or {})), "seed": int(seed),
            "plan": plain_plan(plan) if plan is not None else None}


def _run(question: dict):
    import simkit

    try:
        return simkit.run(question["scenario"], wire.decode(question["params"]),
                          seed=question["seed"], plan=question["plan"])
    except (ValueError, TypeError) as problem:  # bad parameter or plan: say it plainly
        raise AssertionError(str(problem)) from None


def run_result(scenario: str, params: dict | None = None, *, seed: int = 0, plan: Any = None):
    """The kit's :class:`~simkit.result.Result` of ``scenario`` (cached)."""
    question = _question(scenario, params, seed, plan)
    return _cached("result", question, lambda: _run(question))


def run_summary(scenario: str, params: dict | None = None, *, seed: int = 0,
                plan: Any = None) -> dict[str, Any]:
    """The kit's ``Result.summary`` of ``scenario`` (cached)."""
    question = _question(scenario, params, seed, plan)
    return _cached("summary", question, lambda: _run(question).summary)


def score_plan(scenario: str, plan: Any, *, seed: int = 0, params: dict | None = None) -> dict[str, Any]:
    """Replay ``plan`` on ``scenario`` with the kit and return the score card as a dict.

    This is the one place that reads the commander's score card: the keys ``score``,
    ``band``, ``verdict``, ``components`` (the rubric's lines) and ``refused`` (the steps
    that were refused or failed, as sentences) are what the checks use.
    """
    question = _question(scenario, params, seed, plan if plan is not None else [])

    def compute() -> dict[str, Any]:
        from ..commander import score

        try:
            card = score(question["scenario"], question["plan"],
                         params=wire.decode(question["params"]), seed=question["seed"]).to_dict()
        except (ValueError, TypeError) as problem:
            raise AssertionError(str(problem)) from None
        card["refused"] = [f"minute {a['minute']:.4g} {a['action']}: {a['message']}"
                           for a in card["actions"] if a["status"] in ("refused", "failed")]
        return card

    return _cached("score", question, compute)


def check_plan(scenario: str, plan: Any, *, at_least: str = "middle", seed: int = 0,
               params: dict | None = None) -> dict[str, Any]:
    """Assert that ``plan`` reaches band ``at_least`` (or better); return the score card.

    The failure says the score, the band, the verdict and the steps the simulation
    refused (in hidden tests: only the band), so the learner knows what to change.
    """
    if at_least not in BAND_ORDER:
        raise ValueError(f"at_least = {at_least!r} is not allowed: must be one of {', '.join(BAND_ORDER)}")
    card = score_plan(scenario, plan, seed=seed, params=params)
    if BAND_ORDER.index(card["band"]) >= BAND_ORDER.index(at_least):
        return card
    if in_hidden_tests():
        raise AssertionError(
            f"on another run of the incident your plan reaches band '{card['band']}', but this check "
            f"needs band '{at_least}' or better: does it still work when things happen a little differently?")
    message = (f"your plan scored {card['score']:.0f}/100 (band '{card['band']}'), but this check needs "
               f"band '{at_least}' or better. What happened: {card['verdict']}.")
    if card["refused"]:
        message += " Steps that could not be carried out: " + "; ".join(card["refused"]) + "."
    raise AssertionError(message)
