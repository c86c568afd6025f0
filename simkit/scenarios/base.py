"""What every scenario provides, so the CLI, plots, commander and grading can use it.

A scenario is a module in :mod:`simkit.scenarios` with

* a ``Params`` class (a :class:`simkit.params.Params` with calibrated defaults);
* a ``Model`` class, a subclass of :class:`ScenarioModel` below: it builds the
  world in ``__init__``, can be advanced step by step, and accepts operator
  actions (this is what the incident-commander game drives);
* a ``run(params=None, seed=0, plan=None) -> Result`` function, normally just
  ``run = Model.run``.

A model advances in plain simulated seconds. ``advance_to(t)`` runs the SimPy
clock up to ``t``; ``act(name)`` applies an operator action *now* (its effect may
take time: the model schedules it). Because actions only happen between steps,
replaying the same actions at the same times gives the same result, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

from ..params import Params
from ..result import Result
from ..world import World

__all__ = ["ActionSpec", "Panel", "ScenarioModel", "ActionRefused", "ScoreCard", "BANDS"]

#: Outcome bands from worst to best; :meth:`ScoreCard.band` is one of these.
BANDS: tuple[str, ...] = ("bottom", "low", "middle", "top")


class ActionRefused(Exception):
    """An operator action whose precondition does not hold right now (message says why)."""


@dataclass(frozen=True)
class ActionSpec:
    """One operator action of a scenario, as the commander console shows it.

    ``delay_s`` is how long the action takes to have its effect (0 = at once);
    ``description`` says what it does in one sentence, for the button's tooltip.
    """

    name: str
    label: str
    description: str
    delay_s: float = 0.0


@dataclass(frozen=True)
class Panel:
    """One plot of a dashboard: which series to draw, how to label them.

    ``series`` is a sequence of ``(series_name, legend_label)``; ``scale`` multiplies
    the values (100 turns a fraction into a percentage).
    """

    title: str
    series: Sequence[tuple[str, str]]
    ylabel: str = ""
    scale: float = 1.0
    ylim: tuple[float, float] | None = None


@dataclass
class ScoreCard:
    """How an incident went, as the commander scores it.

    ``error_minutes``: customer-facing error-minutes (share of requests failing,
    integrated over minutes). ``time_to_recover_min``: minutes from the trigger until
    the headline error series is back to normal and stays there (None = never within
    the run). ``work_lost``: the scenario's measure of lost work or data (its unit is
    in ``work_lost_unit``). ``score`` is 0-100 and ``band`` one of :data:`BANDS`.
    ``details`` holds scenario-specific figures; ``verdict`` says in words why.
    """

    error_minutes: float
    time_to_recover_min: float | None
    work_lost: float
    work_lost_unit: str
    score: float
    band: str
    verdict: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "error_minutes": self.error_minutes,
            "time_to_recover_min": self.time_to_recover_min,
            "work_lost": self.work_lost,
            "work_lost_unit": self.work_lost_unit,
            "score": self.score,
            "band": self.band,
            "verdict": self.verdict,
            "details": self.details,
        }

    @staticmethod
    def band_for(score: float) -> str:
        """The band for a 0-100 score: >= 80 top, >= 55 middle, >= 30 low, else bottom."""
        if score >= 80:
            return "top"
        if score >= 55:
            return "middle"
        if score >= 30:
            return "low"
        return "bottom"


class ScenarioModel:
    """Base class of a steppable scenario model. Subclasses set the class attributes
    and implement ``__init__`` (build the world), :meth:`_apply`, :meth:`summary`,
    :meth:`score_card`, and optionally :meth:`precondition`.
    """

    #: scenario name as used by the CLI and the registry, e.g. "retry-storm"
    name: ClassVar[str] = ""
    #: one-line description
    title: ClassVar[str] = ""
    #: the Params class of this scenario
    Params: ClassVar[type[Params]]
    #: length of one commander tick, in simulated seconds
    tick_s: ClassVar[float] = 60.0
    #: the operator actions, by name
    actions: ClassVar[dict[str, ActionSpec]] = {}
    #: the dashboard panels, top to bottom
    panels: ClassVar[Sequence[Panel]] = ()

    world: World

    def __init__(self, params: Params | None = None, seed: int = 0) -> None:
        self.params = self.coerce_params(params)
        self.seed = seed

    # -- construction helpers ---------------------------------------------------------
    @classmethod
    def coerce_params(cls, params: Params | dict | None) -> Params:
        """Accept a Params instance, a dict of overrides, or None (defaults)."""
        if params is None:
            return cls.Params()
        if isinstance(params, dict):
            return cls.Params.from_dict(params)
        if not isinstance(params, cls.Params):
            raise TypeError(
                f"params must be a {cls.Params.__name__} or a dict of its fields, "
                f"got {type(params).__name__}"
            )
        return params

    # -- stepping ---------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.world.now

    @property
    def horizon_s(self) -> float:
        return self.world.horizon_s

    @property
    def finished(self) -> bool:
        return self.world.now >= self.world.horizon_s

    def advance_to(self, t_s: float) -> None:
        """Run the simulation up to simulated time ``t_s`` (capped at the horizon)."""
        self.world.run(t_s)

    # -- operator actions -------------------------------------------------------------
    def precondition(self, action: str) -> str | None:
        """Why ``action`` cannot be taken now, or None if it can. Override per scenario."""
        return None

    def check(self, action: str) -> str | None:
        """Like :meth:`precondition`, but also rejects unknown actions and a finished run."""
        if action not in self.actions:
            return f"unknown action {action!r}; this scenario has: {', '.join(self.actions)}"
        if self.finished:
            return "the incident is over"
        return self.precondition(action)

    def act(self, action: str) -> str:
        """Take ``action`` now; return what happened in words, or raise ActionRefused."""
        reason = self.check(action)
        if reason is not None:
            raise ActionRefused(reason)
        label = self.actions[action].label
        self.world.note(f"operator: {label}", "action")
        return self._apply(action)

    def _apply(self, action: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- results ----------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def score_card(self) -> ScoreCard:  # pragma: no cover - abstract
        raise NotImplementedError

    def extra_series(self) -> dict:
        """Series computed from others at the end (e.g. error rate). Override as needed."""
        return {}

    def result(self) -> Result:
        """The run so far as a :class:`Result` (series cover the whole horizon)."""
        series = self.world.metrics.series()
        series.update(self.extra_series())
        return Result(
            scenario=self.name,
            seed=self.seed,
            params=self.params.to_dict(),
            t_s=self.world.metrics.times(),
            series=series,
            timeline=list(self.world.timeline),
            summary=self.summary(),
            clock_start_s=self.world.clock_start_s,
        )

    @classmethod
    def run(
        cls,
        params: Params | dict | None = None,
        seed: int = 0,
        plan: Any = None,
        **plugins: Any,
    ) -> Result:
        """Run the whole horizon, applying ``plan`` (a :class:`simkit.commander.Plan`,
        or a list of ``(time, action)``) if given, and return the Result.

        ``plugins`` are passed to the model's constructor: scenarios whose pieces a
        learner writes take them as keywords (e.g. ``membership=my_function``).
        """
        from ..commander.engine import play_out

        model = cls(params, seed, **plugins)
        play_out(model, plan)
        return model.result()
