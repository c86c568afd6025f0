"""The incident-commander game engine: play an incident in ticks, replay a plan, score it.

The engine knows nothing about any one incident. A scenario's ``Model`` (see
:class:`simkit.scenarios.base.ScenarioModel`) supplies the actions, their
preconditions and delays, and the scoring. The engine supplies:

* :class:`Plan`: a list of timed actions, plain data that survives JSON. A step's
  time is either minutes since the start of the run (``18``) or a time of day
  (``"02:37"``: its first occurrence at or after the start).
* :class:`Incident`: an interactive session: advance the clock, try actions, read
  the log; what was accepted becomes the plan.
* :func:`replay` and :func:`score`: apply a plan to a fresh model and score it.
  Same plan, same seed, same score: the interactive game and the grader agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

from ..params import Params
from ..scenarios import get as get_scenario
from ..scenarios.base import ActionRefused, ScenarioModel, ScoreCard

__all__ = ["PlanStep", "Plan", "Incident", "replay", "play_out", "score"]


@dataclass(frozen=True)
class PlanStep:
    """Take ``action`` at ``at``: minutes since the start (number) or "HH:MM"."""

    at: float | str
    action: str

    def minutes(self, clock_start_s: float) -> float:
        """This step's time in minutes since the start of the run."""
        if isinstance(self.at, str):
            try:
                hours, minutes = self.at.strip().split(":")
                of_day = int(hours) * 60 + int(minutes)
                if not (0 <= int(hours) < 24 and 0 <= int(minutes) < 60):
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"plan time {self.at!r} is not allowed: use minutes since the start "
                    f"(a number) or a time of day like \"02:37\""
                ) from None
            start_min = clock_start_s / 60
            return (of_day - start_min) % (24 * 60)
        if isinstance(self.at, bool) or not isinstance(self.at, (int, float)) or self.at < 0:
            raise ValueError(
                f"plan time {self.at!r} is not allowed: use minutes since the start "
                f"(a number >= 0) or a time of day like \"02:37\""
            )
        return float(self.at)


class Plan:
    """An ordered list of :class:`PlanStep`; build it from tuples, dicts or JSON."""

    def __init__(self, steps: Iterable[PlanStep | tuple | list | dict] = ()) -> None:
        self.steps: list[PlanStep] = [self._step(s) for s in steps]

    @staticmethod
    def _step(item: Any) -> PlanStep:
        if isinstance(item, PlanStep):
            return item
        if isinstance(item, dict) and set(item) == {"at", "action"}:
            return PlanStep(item["at"], item["action"])
        if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], str):
            return PlanStep(item[0], item[1])
        raise ValueError(
            f"plan step {item!r} is not allowed: write each step as (time, \"action\"), "
            f"for example (18, \"pause_renewals\") or (\"05:06\", \"pause_renewals\")"
        )

    @classmethod
    def coerce(cls, data: Any, model: ScenarioModel | None = None) -> "Plan":
        """Accept a Plan, a list of steps, or a JSON string; check action names."""
        if isinstance(data, Plan):
            plan = data
        elif isinstance(data, str):
            plan = cls.from_json(data)
        elif isinstance(data, (list, tuple)):
            plan = cls(data)
        else:
            raise TypeError(
                f"a plan must be a list of (time, \"action\") steps, got {type(data).__name__}"
            )
        if model is not None:
            for step in plan.steps:
                if step.action not in model.actions:
                    raise ValueError(
                        f"plan action {step.action!r} is not an action of {model.name}; "
                        f"allowed: {', '.join(model.actions)}"
                    )
                step.minutes(model.world.clock_start_s)  # validates the time
        return plan

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
        return cls(data)

    def to_python(self, name: str = "PLAN") -> str:
        """One line of Python a learner can paste into an answer cell."""
        items = ", ".join(f"({_num(s.at)}, {s.action!r})" for s in self.steps)
        return f"{name} = [{items}]"

    def __len__(self) -> int:
        return len(self.steps)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plan) and self.to_data() == other.to_data()

    def __repr__(self) -> str:
        return f"Plan({self.to_data()!r})"


def _num(at: float | str) -> str:
    if isinstance(at, str):
        return repr(at)
    return str(int(at)) if float(at).is_integer() else f"{at:g}"


def replay(model: ScenarioModel, plan: Plan) -> list[dict]:
    """Apply ``plan`` to ``model`` (which must be at time 0) and return one outcome per step.

    Steps are taken in time order, each at the commander tick nearest to its time
    (the console can only act between ticks, so a replay does the same: a plan
    copied from the console replays exactly). A step whose precondition fails is
    recorded as refused, with the reason, and the replay goes on. The model is left at the time
    of the last step; the caller advances it to the end.
    """
    start = model.world.clock_start_s
    timed = sorted(
        ((step.minutes(start), i, step) for i, step in enumerate(plan.steps)),
        key=lambda item: (item[0], item[1]),
    )
    outcomes = []
    for minute, _, step in timed:
        model.advance_to(round(minute * 60.0 / model.tick_s) * model.tick_s)
        try:
            message = model.act(step.action)
            outcomes.append({"minute": minute, "action": step.action, "ok": True, "message": message})
        except ActionRefused as refused:
            model.world.note(f"refused: {model.actions[step.action].label} ({refused})", "failure")
            outcomes.append({"minute": minute, "action": step.action, "ok": False, "message": str(refused)})
    return outcomes


def play_out(model: ScenarioModel, plan: Any = None) -> list[dict]:
    """Apply ``plan`` (if any) to a fresh ``model`` and run it to the end of its horizon.

    Returns the per-step outcomes of :func:`replay`. This is the one way a whole run
    is played, for :meth:`ScenarioModel.run` and for :func:`score` alike.
    """
    outcomes = replay(model, Plan.coerce(plan, model)) if plan is not None else []
    model.advance_to(model.horizon_s)
    return outcomes


def score(
    scenario: str,
    plan: Plan | list | str = (),
    *,
    params: Params | dict | None = None,
    seed: int = 0,
) -> ScoreCard:
    """Replay ``plan`` on a fresh run of ``scenario`` and return its score card."""
    model = get_scenario(scenario)(params, seed)
    outcomes = play_out(model, plan)
    card = model.score_card()
    card.details["actions"] = outcomes
    return card


class Incident:
    """An incident being played: advance the clock, take actions, read the log.

    This is everything the commander console does, as plain Python, so tests and
    ``nbgrader`` can do it without widgets. Accepted actions are recorded in
    :attr:`plan` at the minute they were taken.
    """

    def __init__(self, scenario: str, params: Params | dict | None = None, seed: int = 0) -> None:
        self.scenario = scenario
        self.model: ScenarioModel = get_scenario(scenario)(params, seed)
        self.plan = Plan()
        self.log: list[str] = [f"{self.clock}  incident begins: {self.model.title}"]
        self._seen_events = 0
        self._collect_events()

    # -- the clock ----------------------------------------------------------------------
    @property
    def minute(self) -> float:
        return self.model.now / 60.0

    @property
    def clock(self) -> str:
        return self.model.world.clock()

    @property
    def finished(self) -> bool:
        return self.model.finished

    def tick(self, n: int = 1) -> None:
        """Advance the clock by ``n`` ticks (the scenario's ``tick_s`` each)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n = {n!r} is not allowed: must be an integer >= 1")
        target = min(self.model.horizon_s, self.model.now + n * self.model.tick_s)
        self.model.advance_to(target)
        self._collect_events()

    def run_to_end(self) -> None:
        """Advance the clock to the end of the incident."""
        self.model.advance_to(self.model.horizon_s)
        self._collect_events()

    # -- actions ------------------------------------------------------------------------
    def available(self) -> dict[str, str | None]:
        """Each action mapped to None (can be taken now) or the reason it cannot."""
        return {name: self.model.check(name) for name in self.model.actions}

    def act(self, action: str) -> tuple[bool, str]:
        """Try ``action`` now. Returns ``(accepted, message)``; accepted ones join the plan."""
        try:
            message = self.model.act(action)
        except ActionRefused as refused:
            spec = self.model.actions.get(action)
            what = spec.label.lower() if spec else repr(action)
            self.log.append(f"{self.clock}  cannot {what}: {refused}")
            return False, str(refused)
        minute = self.model.now / 60.0
        self.plan.steps.append(PlanStep(int(minute) if minute.is_integer() else round(minute, 3), action))
        self._collect_events()
        return True, message

    # -- reading ------------------------------------------------------------------------
    def _collect_events(self) -> None:
        events = self.model.world.timeline.events
        for event in events[self._seen_events:]:
            self.log.append(f"{self.model.world.clock(event.t_s)}  {event.label}")
        self._seen_events = len(events)

    def result(self):
        """The run so far as a :class:`simkit.result.Result`."""
        return self.model.result()

    def score_card(self) -> ScoreCard:
        """The score card; plays the rest of the incident first if it is not over."""
        self.run_to_end()
        return self.model.score_card()
