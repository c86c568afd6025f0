"""The incident-commander game engine: play an incident in ticks, replay a plan, score it.

The engine knows nothing about any one incident. A scenario's ``Model`` (see
:class:`simkit.scenarios.base.ScenarioModel`) supplies the actions, their
preconditions and delays, and the scoring. The engine supplies:

* :class:`~simkit.plan.Plan` (from :mod:`simkit.plan`): a list of timed actions,
  plain data that survives JSON.
* :class:`Incident`: an interactive session: advance the clock, try actions, read
  the log; every attempt becomes a step of the plan. An edited plan is played again
  from the start (:meth:`Incident.replay`), and the last attempt can be taken back
  (:meth:`Incident.undo`), so a console never needs forty clicks to change one decision.
* :func:`replay` and :func:`score`: apply a plan to a fresh model and score it.
  Same plan, same seed, same score: the interactive game and the grader agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..actions import ActionRecord
from ..params import Params
from ..plan import MAX_PLAN_STEPS, Plan, PlanStep, play_out, replay
from ..rubric import ScoreCard
from ..scenarios import get as get_scenario
from ..scenarios.base import ScenarioModel

__all__ = ["PlanStep", "Plan", "Incident", "LogEntry", "plan_time", "replay", "play_out", "score"]


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


def plan_time(t_s: float, world: Any) -> str | float:
    """How a plan writes simulated time ``t_s`` of ``world`` (a :class:`simkit.world.World`):
    the clock's "HH:MM:SS" when that names the moment unambiguously (whole seconds, within
    a day of the start: a plan's time of day means its first occurrence), else minutes."""
    whole = round(t_s)
    if abs(t_s - whole) < 1e-6 and whole < 86400:
        of_day = int(world.clock_start_s + whole) % 86400
        return f"{of_day // 3600:02d}:{of_day % 3600 // 60:02d}:{of_day % 60:02d}"
    minutes = t_s / 60.0
    return int(minutes) if minutes.is_integer() else round(minutes, 3)


@dataclass(frozen=True)
class LogEntry:
    """One line of an incident's log: when (simulated seconds), what kind, what.

    ``kind`` is a timeline kind (``"trigger"``, ``"page"``, ``"action"``, ``"effect"``,
    ``"failure"``, ``"recovery"``, ``"event"``) or ``"refused"`` for an attempt the
    game turned down. Entries are in the order things happened: everything due at a
    moment comes before an action taken at that moment.
    """

    t_s: float
    kind: str
    text: str


class Incident:
    """An incident being played: advance the clock, take actions, read the log.

    This is everything the commander console does, as plain Python, so tests and
    ``nbgrader`` can do it without widgets. Every action tried is recorded in
    :attr:`plan` at the minute it was tried, so the plan replays to the same score.
    """

    def __init__(self, scenario: str, params: Params | dict | None = None, seed: int = 0) -> None:
        self.scenario = scenario
        self.params = params
        self.seed = seed
        self._start()

    def _start(self) -> None:
        """A fresh model at time 0, an empty plan, a log that says the incident begins."""
        self.model: ScenarioModel = get_scenario(self.scenario)(self.params, self.seed)
        self.plan = Plan()
        self.entries: list[LogEntry] = [LogEntry(0.0, "event", f"incident begins: {self.model.title}")]
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

    def advance_to(self, t_s: float) -> None:
        """Advance the clock to simulated time ``t_s`` (capped at the end; never backwards)."""
        self.model.advance_to(min(self.model.horizon_s, t_s))
        self._collect_events()

    def run_to_end(self) -> None:
        """Advance the clock to the end of the incident."""
        self.advance_to(self.model.horizon_s)

    # -- actions ------------------------------------------------------------------------
    def available(self) -> dict[str, str | None]:
        """Each action mapped to None (can be taken now) or the reason it cannot."""
        return {name: self.model.check(name) for name in self.model.actions}

    def act(self, action: str) -> tuple[bool, str]:
        """Try ``action`` now. Returns ``(accepted, message)``.

        Every attempt joins the plan, refused ones too: a refused attempt costs toil in
        the score, so replaying the plan must try it again to give the same score.
        """
        now = self.model.now
        if action not in self.model.actions:
            message = self.model.check(action) or ""
            self.entries.append(LogEntry(now, "refused", f"cannot {action!r}: {message}"))
            return False, message
        if len(self.plan) >= MAX_PLAN_STEPS:
            message = f"your plan already has {MAX_PLAN_STEPS} steps, the most a plan may have"
            self.entries.append(LogEntry(now, "refused", f"cannot {action}: {message}"))
            return False, message
        record = self.model.try_action(action)
        minute = now / 60.0
        self.plan.steps.append(PlanStep(int(minute) if minute.is_integer() else round(minute, 3), action))
        if not record.accepted:
            self.entries.append(LogEntry(now, "refused", f"cannot {record.label.lower()}: {record.message}"))
            return False, record.message
        self._collect_events()
        return True, record.message

    @property
    def records(self) -> list[ActionRecord]:
        """What became of every attempt so far, in order (refused, pending, done or failed)."""
        return self.model.action_log

    # -- changing the past ----------------------------------------------------------------
    def replay(self, plan: Plan | list | str, *, until_s: float | None = None) -> None:
        """Play the incident again from the start with ``plan``, then run on to ``until_s``.

        Each step is tried at the tick nearest its time, exactly as the grader's
        :func:`simkit.plan.replay` takes it, so the score is the grader's score.
        ``until_s`` defaults to the time of the last step. A plan this scenario cannot
        take at all (an unknown action, a step after the end) raises ValueError, one
        line, and leaves the incident as it was.
        """
        plan = Plan.coerce(plan, self.model)
        timed = sorted(((self.step_time_s(step), i, step) for i, step in enumerate(plan.steps)),
                       key=lambda item: (item[0], item[1]))
        self._start()
        for t_s, _, step in timed:
            self.advance_to(t_s)
            self.act(step.action)
        if until_s is not None:
            self.advance_to(until_s)

    def undo(self) -> PlanStep | None:
        """Take back the last attempt: play the incident again without it, up to now.

        Returns the step taken back (None if the plan is empty)."""
        if not self.plan.steps:
            return None
        last = self.plan.steps[-1]
        self.replay(Plan(self.plan.steps[:-1]), until_s=self.model.now)
        return last

    def clock_plan(self) -> Plan:
        """The plan with each time written as the clock reads it ("02:40:00") where that is
        unambiguous (see :func:`plan_time`), at the tick the step is taken (a replay takes
        each step at the nearest tick). Same steps, same score."""
        world = self.model.world
        return Plan([PlanStep(plan_time(self.step_time_s(step), world), step.action) for step in self.plan.steps])

    def step_time_s(self, step: PlanStep) -> float:
        """When a replay takes ``step``: simulated seconds, at the tick nearest its time."""
        tick = self.model.tick_s
        return round(step.minutes(self.model.world.clock_start_s) * 60.0 / tick) * tick

    # -- reading ------------------------------------------------------------------------
    @property
    def log(self) -> list[str]:
        """The log as lines of text, "HH:MM:SS  what happened", oldest first."""
        stamp = self.model.world.stamp
        return [f"{stamp(entry.t_s)}  {entry.text}" for entry in self.entries]

    def _collect_events(self) -> None:
        events = self.model.world.timeline.events
        for event in events[self._seen_events:]:
            self.entries.append(LogEntry(event.t_s, event.kind, event.label))
        self._seen_events = len(events)

    def result(self):
        """The run so far as a :class:`simkit.result.Result`."""
        return self.model.result()

    def score_card(self) -> ScoreCard:
        """The score card; plays the rest of the incident first if it is not over."""
        self.run_to_end()
        return self.model.score_card()
