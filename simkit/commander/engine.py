"""The incident-commander game engine: play an incident in ticks, replay a plan, score it.

The engine knows nothing about any one incident. A scenario's ``Model`` (see
:class:`simkit.scenarios.base.ScenarioModel`) supplies the actions, their
preconditions and delays, and the scoring. The engine supplies:

* :class:`~simkit.plan.Plan` (from :mod:`simkit.plan`): a list of timed actions,
  plain data that survives JSON.
* :class:`Incident`: an interactive session: advance the clock, try actions, read
  the log; what was accepted becomes the plan.
* :func:`replay` and :func:`score`: apply a plan to a fresh model and score it.
  Same plan, same seed, same score: the interactive game and the grader agree.
"""

from __future__ import annotations

from typing import Any

from ..params import Params
from ..plan import MAX_PLAN_STEPS, Plan, PlanStep, play_out, replay
from ..rubric import ScoreCard
from ..scenarios import get as get_scenario
from ..scenarios.base import ScenarioModel

__all__ = ["PlanStep", "Plan", "Incident", "replay", "play_out", "score"]


def score(
    scenario: str,
    plan: Plan | list | str = (),
    *,
    params: Params | dict | None = None,
    seed: int = 0,
) -> ScoreCard:
    """Replay ``plan`` on a fresh run of ``scenario`` and return its score card."""
    model = get_scenario(scenario)(params, seed)
    play_out(model, plan)
    return model.score_card()


class Incident:
    """An incident being played: advance the clock, take actions, read the log.

    This is everything the commander console does, as plain Python, so tests and
    ``nbgrader`` can do it without widgets. Every action tried is recorded in
    :attr:`plan` at the minute it was tried, so the plan replays to the same score.
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
        return self.model.world.stamp()

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
        """Try ``action`` now. Returns ``(accepted, message)``.

        Every attempt joins the plan, refused ones too: a refused attempt costs toil in
        the score, so replaying the plan must try it again to give the same score.
        """
        if action not in self.model.actions:
            message = self.model.check(action) or ""
            self.log.append(f"{self.clock}  cannot {action!r}: {message}")
            return False, message
        if len(self.plan) >= MAX_PLAN_STEPS:
            message = f"your plan already has {MAX_PLAN_STEPS} steps, the most a plan may have"
            self.log.append(f"{self.clock}  cannot {action}: {message}")
            return False, message
        record = self.model.try_action(action)
        minute = self.model.now / 60.0
        self.plan.steps.append(PlanStep(int(minute) if minute.is_integer() else round(minute, 3), action))
        if not record.accepted:
            self.log.append(f"{self.clock}  cannot {record.label.lower()}: {record.message}")
            return False, record.message
        self._collect_events()
        return True, record.message

    # -- reading ------------------------------------------------------------------------
    def _collect_events(self) -> None:
        events = self.model.world.timeline.events
        for event in events[self._seen_events:]:
            self.log.append(f"{self.model.world.stamp(event.t_s)}  {event.label}")
        self._seen_events = len(events)

    def result(self):
        """The run so far as a :class:`simkit.result.Result`."""
        return self.model.result()

    def score_card(self) -> ScoreCard:
        """The score card; plays the rest of the incident first if it is not over."""
        self.run_to_end()
        return self.model.score_card()
