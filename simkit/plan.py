"""Plans: the operator's timed actions as plain data, and the one way a plan is played.

A plan is a short list of ``(time, "action")`` steps::

    [(18, "pause_renewals"), ("05:30", "add_capacity"), ("06:55:30", "resume_renewals")]

A step's time is either minutes since the start of the run (any real number,
NumPy numbers included) or a time of day, ``"HH:MM"`` or ``"HH:MM:SS"``, meaning its
first occurrence at or after the start of the run. Plans survive JSON, so a plan
played in the console, pasted into a notebook, sent to the grader or given to the
CLI is the same plan.

:func:`replay` applies a plan to a fresh model and :func:`play_out` runs it to the
end. Both work on any model that follows the scenario contract
(:class:`simkit.scenarios.base.ScenarioModel`); this module imports no scenario,
so scenarios can use it without an import circle.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # pragma: no cover - for type hints only
    from .scenarios.base import ScenarioModel

__all__ = ["PlanStep", "Plan", "replay", "play_out", "MAX_PLAN_STEPS", "parse_time_of_day"]

#: The longest plan accepted. A real incident response is a handful of decisions;
#: a plan of hundreds of steps is a script that presses buttons, not a plan.
MAX_PLAN_STEPS = 50

_HOW = 'use minutes since the start (a number) or a time of day like "02:37" or "02:37:30"'


def parse_time_of_day(text: str) -> float:
    """Seconds after midnight for ``"HH:MM"`` or ``"HH:MM:SS"``; ValueError otherwise."""
    parts = text.strip().split(":")
    try:
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
            raise ValueError
        hours, minutes = int(parts[0]), int(parts[1])
        seconds = int(parts[2]) if len(parts) == 3 else 0
        if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 60):
            raise ValueError
    except ValueError:
        raise ValueError(f"plan time {text!r} is not allowed: {_HOW}") from None
    return hours * 3600.0 + minutes * 60.0 + seconds


@dataclass(frozen=True)
class PlanStep:
    """Take ``action`` at ``at``: minutes since the start (a number) or a time of day."""

    at: float | str
    action: str

    def minutes(self, clock_start_s: float) -> float:
        """This step's time in minutes since the start of the run (checked, finite, >= 0)."""
        if isinstance(self.at, str):
            of_day_s = parse_time_of_day(self.at)
            return ((of_day_s - clock_start_s) % 86400.0) / 60.0
        if isinstance(self.at, bool) or not isinstance(self.at, numbers.Real):
            raise ValueError(f"plan time {self.at!r} is not allowed: {_HOW}")
        value = float(self.at)
        if not math.isfinite(value):
            raise ValueError(f"plan time {self.at!r} is not allowed: it must be a finite number of minutes")
        if value < 0:
            raise ValueError(f"plan time {self.at!r} is not allowed: minutes since the start cannot be negative")
        return value


class Plan:
    """An ordered list of :class:`PlanStep`; build it from tuples, dicts or JSON."""

    def __init__(self, steps: Iterable[PlanStep | tuple | list | dict] = ()) -> None:
        self.steps: list[PlanStep] = [self._step(s) for s in steps]
        if len(self.steps) > MAX_PLAN_STEPS:
            raise ValueError(
                f"a plan of {len(self.steps)} steps is not allowed: at most {MAX_PLAN_STEPS} "
                f"(an incident response is a handful of decisions, not a script)"
            )

    @staticmethod
    def _step(item: Any) -> PlanStep:
        if isinstance(item, PlanStep):
            return item
        if isinstance(item, dict) and set(item) == {"at", "action"}:
            item = (item["at"], item["action"])
        if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], str):
            at = item[0]
            if isinstance(at, numbers.Real) and not isinstance(at, bool):
                at = _plain_number(at)
            return PlanStep(at, item[1])
        raise ValueError(
            f"plan step {item!r} is not allowed: write each step as (time, \"action\"), "
            f"for example (18, \"pause_renewals\") or (\"05:06\", \"pause_renewals\")"
        )

    @classmethod
    def coerce(cls, data: Any, model: "ScenarioModel | None" = None) -> "Plan":
        """Accept a Plan, a list of steps or a JSON string; with ``model``, also check each
        step's action name and time against that scenario (unknown action, after the end)."""
        if isinstance(data, Plan):
            plan = data
        elif isinstance(data, str):
            plan = cls.from_json(data)
        elif isinstance(data, (list, tuple)):
            plan = cls(data)
        else:
            raise TypeError(f"a plan must be a list of (time, \"action\") steps, got {type(data).__name__}")
        if model is not None:
            plan.check_against(model)
        return plan

    def check_against(self, model: "ScenarioModel") -> None:
        """Raise ValueError (one line) for a step this scenario cannot take at all."""
        start = model.world.clock_start_s
        end_min = model.horizon_s / 60.0
        for step in self.steps:
            if step.action not in model.actions:
                raise ValueError(
                    f"plan action {step.action!r} is not an action of {model.name}; "
                    f"allowed: {', '.join(model.actions)}"
                )
            minute = step.minutes(start)
            if minute >= end_min:
                raise ValueError(
                    f"plan step ({step.at!r}, {step.action!r}) is after the end of the incident "
                    f"(the run lasts {end_min:g} minutes, until {model.clock(model.horizon_s)})"
                )

    def to_data(self) -> list[list]:
        """Plain data: ``[[at, action], ...]``."""
        return [[s.at, s.action] for s in self.steps]

    def to_json(self) -> str:
        return json.dumps(self.to_data())

    @classmethod
    def from_json(cls, text: str) -> "Plan":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"plan is not valid JSON: {exc}") from None
        if not isinstance(data, list):
            raise ValueError("plan JSON must be a list of [time, \"action\"] pairs")
        return cls(data)

    def to_python(self, name: str = "PLAN") -> str:
        """One line of Python a learner can paste into an answer cell."""
        items = ", ".join(f"({_literal(s.at)}, {s.action!r})" for s in self.steps)
        return f"{name} = [{items}]"

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plan) and self.to_data() == other.to_data()

    def __repr__(self) -> str:
        return f"Plan({self.to_data()!r})"


def _plain_number(value: numbers.Real) -> float | int:
    """A NumPy or other real number as a plain int or float (so it survives JSON)."""
    as_float = float(value)
    if math.isfinite(as_float) and isinstance(value, numbers.Integral):
        return int(value)
    return as_float


def _literal(at: float | str) -> str:
    if isinstance(at, str):
        return repr(at)
    return str(int(at)) if float(at).is_integer() else f"{at:g}"


def replay(model: "ScenarioModel", plan: Plan) -> list[dict]:
    """Apply ``plan`` to ``model`` (at time 0); return one outcome per step, in time order.

    Each step is taken at the commander tick nearest to its time (the console acts only
    between ticks, so a plan copied from the console replays exactly). A refused step
    is recorded with the reason and the replay goes on. The model is left at the time
    of the last step; :func:`play_out` runs it to the end.
    """
    start = model.world.clock_start_s
    timed = sorted(((step.minutes(start), i, step) for i, step in enumerate(plan.steps)),
                   key=lambda item: (item[0], item[1]))
    outcomes = []
    for minute, _, step in timed:
        model.advance_to(round(minute * 60.0 / model.tick_s) * model.tick_s)
        record = model.try_action(step.action)
        outcomes.append({"minute": minute, "action": step.action, "ok": record.accepted,
                         "message": record.message})
    return outcomes


def play_out(model: "ScenarioModel", plan: Any = None) -> list[dict]:
    """Apply ``plan`` (if any) to a fresh ``model`` and run it to the end of its horizon.

    The one way a whole run is played, for :meth:`ScenarioModel.run`, the commander's
    :func:`~simkit.commander.score` and the grader alike.
    """
    outcomes = replay(model, Plan.coerce(plan, model)) if plan is not None else []
    model.advance_to(model.horizon_s)
    return outcomes
