"""The scenario contract: what a scenario declares, and what the kit does for it.

A scenario is a module in :mod:`simkit.scenarios` with a ``Params`` class (a
:class:`simkit.params.Params` with calibrated defaults) and a ``Model``, a subclass of
:class:`ScenarioModel`. The model **declares**:

* ``name``, ``title``, ``Params``, ``tick_s`` (one commander tick), ``panels`` (the
  dashboard), ``rubric`` (:mod:`simkit.rubric`: how the game scores), ``watches``
  (:mod:`simkit.outcome`: milestones, one of which pages the on-call engineer),
  ``page_rule`` (when that page comes, in words), ``intended_plan`` (what the lab
  teaches) and ``historical_plan`` (what the operators did, where the record says);
* how the commander console shows it (all optional, with defaults derived from
  ``panels`` and ``tick_s``): ``headline_series`` (the two or three signals it charts),
  ``headline_window_s`` (how much recent history those charts show) and
  ``play_speeds`` (simulated seconds per wall-clock second); see :meth:`console_settings`;
* its operator actions, as methods decorated with :func:`simkit.actions.action`;

and **overrides** three hooks:

* :meth:`build`: make ``self.world`` and everything in it (learner plug-ins arrive
  here as keywords, e.g. ``membership=my_function``);
* :meth:`measure`: the figures the rubric scores, over the part run so far;
* :meth:`outcome`: one factual sentence about how the incident went;

plus :meth:`summary` (the figures the labs and the CLI print) and, optionally,
:meth:`extra_series` (series derived at the end, such as an error rate).

Everything else is the kit's, the same for every scenario: stepping the clock,
watching milestones, the page (no action before it), refusing actions with a reason,
scheduling delayed effects and logging them, limits and costs, the score card, and
running a whole plan (:mod:`simkit.plan`). Because actions only happen between steps,
replaying the same actions at the same times gives the same result, bit for bit.
Adding a fifth incident is described in ``simkit/scenarios/README.md``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

from ..actions import Action, ActionFailed, ActionRecord, ActionRefused, format_duration
from ..outcome import Watch
from ..params import Params
from ..plan import play_out
from ..result import Result
from ..rubric import BANDS, Rubric, ScoreCard, band_for
from ..world import World

__all__ = ["Panel", "ConsoleSettings", "ScenarioModel", "ActionRefused", "ScoreCard", "BANDS", "band_for"]

#: At most this many headline signals: the console has room for three small charts.
MAX_HEADLINE_SERIES = 3


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


@dataclass(frozen=True)
class ConsoleSettings:
    """How the commander console shows a scenario (see :meth:`ScenarioModel.console_settings`).

    ``signals`` holds one single-series :class:`Panel` per headline signal (its title,
    scale and limits taken from the dashboard panel that draws it); ``window_s`` is the
    recent history the headline charts show and ``speeds`` the play speeds offered,
    in simulated seconds per wall-clock second, slowest first.
    """

    signals: tuple[Panel, ...]
    window_s: float
    speeds: tuple[float, ...]


class ScenarioModel:
    """Base class of a steppable scenario model (see the module docstring)."""

    #: scenario name as used by the CLI and the registry, e.g. "retry-storm"
    name: ClassVar[str] = ""
    #: one-line description
    title: ClassVar[str] = ""
    #: the Params class of this scenario
    Params: ClassVar[type[Params]]
    #: length of one commander tick, in simulated seconds
    tick_s: ClassVar[float] = 60.0
    #: the dashboard panels, top to bottom
    panels: ClassVar[Sequence[Panel]] = ()
    #: how the commander game scores a run
    rubric: ClassVar[Rubric]
    #: milestones written to the timeline; exactly one has ``page=True``
    watches: ClassVar[Sequence[Watch]] = ()
    #: when the on-call engineer is paged, in words (shown when an action comes too early)
    page_rule: ClassVar[str] = ""
    #: how often the watches are checked, in simulated seconds (None: min(tick_s, 60))
    watch_period_s: ClassVar[float | None] = None
    #: the plan the lab teaches (top band on every seed)
    intended_plan: ClassVar[list] = []
    #: what the operators did on the day, as a plan (None where the record does not say)
    historical_plan: ClassVar[list | None] = None
    #: how far the debrief moves a step earlier or later, in simulated seconds
    debrief_shift_s: ClassVar[float] = 600.0
    #: the console's headline signals: 1-3 series names drawn by ``panels``
    #: (empty: the first series of each of the first three panels)
    headline_series: ClassVar[Sequence[str]] = ()
    #: how much recent history the console's headline charts show, in simulated seconds
    #: (None: a quarter of the run, at least 20 ticks)
    headline_window_s: ClassVar[float | None] = None
    #: the console's play speeds in simulated seconds per wall-clock second, slowest first
    #: (empty: 1, 4 and 16 ticks per second)
    play_speeds: ClassVar[Sequence[float]] = ()
    #: the operator actions, by plan identifier (collected from the @action methods)
    actions: ClassVar[dict[str, Action]] = {}

    world: World

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, Action] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if isinstance(value, Action):
                    found[attr] = value
        cls.actions = found

    def __init__(self, params: Params | dict | None = None, seed: int = 0, **plugins: Any) -> None:
        self.params = self.coerce_params(params)
        self.seed = seed
        self._check_plugins(plugins)
        self.action_log: list[ActionRecord] = []
        self.page_s: float | None = None
        self._watch_active = [False] * len(self.watches)
        self.build(**plugins)
        period = self.watch_period_s or min(self.tick_s, 60.0)
        if self.watches:
            self.world.every(period, self._check_watches)

    # -- construction -----------------------------------------------------------------------
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

    @classmethod
    def plugin_names(cls) -> list[str]:
        """The keywords :meth:`build` accepts for learner-written pieces."""
        signature = inspect.signature(cls.build)
        return [n for n, p in signature.parameters.items()
                if n != "self" and p.kind is inspect.Parameter.KEYWORD_ONLY]

    def _check_plugins(self, plugins: dict[str, Any]) -> None:
        allowed = self.plugin_names()
        unknown = sorted(set(plugins) - set(allowed))
        if unknown:
            raise TypeError(f"{self.name} has no plug-in {unknown[0]!r}; allowed: "
                            f"{', '.join(allowed) if allowed else 'none'}")

    def build(self) -> None:  # pragma: no cover - abstract
        """Make ``self.world`` and everything in it. Learner plug-ins come as keywords."""
        raise NotImplementedError

    # -- stepping ---------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.world.now

    @property
    def horizon_s(self) -> float:
        return self.world.horizon_s

    @property
    def finished(self) -> bool:
        return self.world.now >= self.world.horizon_s

    def clock(self, t_s: float | None = None) -> str:
        """Time of day of simulated time ``t_s`` (default: now), as "HH:MM"."""
        return self.world.clock(t_s)

    def advance_to(self, t_s: float) -> None:
        """Run the simulation up to simulated time ``t_s`` (capped at the horizon), including
        everything due at exactly ``t_s``, so an action taken then comes after it."""
        self.world.run(t_s, inclusive=True)

    # -- milestones and the page ------------------------------------------------------------
    def _check_watches(self) -> None:
        for i, watch in enumerate(self.watches):
            if not self._watch_active[i]:
                if watch.fires(self):
                    self._watch_active[i] = True
                    self.world.note(watch.label, watch.kind)
                    if watch.page and self.page_s is None:
                        self.page_s = self.world.now
                        self.world.note(f"on-call engineer paged: {watch.label}", "page")
            elif watch.clears is not None and watch.clears(self):
                self._watch_active[i] = False
                if watch.clear_label:
                    self.world.note(watch.clear_label, "recovery")

    @property
    def paged(self) -> bool:
        return self.page_s is not None

    # -- operator actions -------------------------------------------------------------------
    def pending(self) -> list[ActionRecord]:
        """Actions taken whose effect has not come yet."""
        return [r for r in self.action_log if r.status == "pending"]

    def times_taken(self, action: str) -> int:
        """How many times ``action`` was accepted so far."""
        return sum(1 for r in self.action_log if r.name == action and r.accepted)

    def check(self, action: str) -> str | None:
        """Why ``action`` cannot be taken now, or None if it can."""
        spec = self.actions.get(action)
        if spec is None:
            return f"unknown action {action!r}; this scenario has: {', '.join(self.actions)}"
        if self.finished:
            return "the incident is over"
        if self.page_s is None:
            return f"nothing has alerted yet: you are paged when {self.page_rule}"
        for record in self.pending():
            if record.name == action:
                return f"already under way: it takes effect at {self.clock(record.due_s)}"
        if spec.limit is not None and self.times_taken(action) >= spec.limit:
            return "already done" if spec.limit == 1 else f"already taken {spec.limit} times, the most allowed"
        return spec.refusal(self)

    def try_action(self, action: str) -> ActionRecord:
        """Take ``action`` now if it can be taken; record what happened either way."""
        spec = self.actions.get(action)
        label = spec.label if spec else action
        now = self.world.now
        reason = self.check(action)
        if reason is not None:
            record = ActionRecord(action, label, now, now, "refused", reason, self.rubric.costs.refused_cost)
            self.action_log.append(record)
            return record
        delay = spec.delay_s(self.params)
        record = ActionRecord(action, label, now, now + delay, "pending", "", spec.cost)
        self.action_log.append(record)
        self.world.note(f"operator: {label}", "action")
        said = spec.request(self) if spec.request is not None else None
        if delay <= 0:
            self._take_effect(spec, record)
        else:
            record.message = said or f"under way: takes effect in {format_duration(delay)}"
            self.world.at(record.due_s, lambda: self._take_effect(spec, record))
        return record

    def act(self, action: str) -> str:
        """Take ``action`` now; return what happened in words, or raise ActionRefused."""
        record = self.try_action(action)
        if not record.accepted:
            raise ActionRefused(record.message)
        return record.message

    def _take_effect(self, spec: Action, record: ActionRecord) -> None:
        try:
            message = spec.effect(self)
        except ActionFailed as failure:
            record.status, record.message = "failed", str(failure)
            self.world.note(f"{spec.label} failed: {failure}", "failure")
            return
        record.status = "done"
        record.message = message or f"{spec.label}: done"
        self.world.note(record.message, "effect")

    # -- how the console shows it --------------------------------------------------------------
    def console_settings(self) -> ConsoleSettings:
        """The console's headline signals, recent window and play speeds for this run,
        from the class attributes or their defaults (ValueError, one line, if invalid)."""
        names = list(self.headline_series) or [p.series[0][0] for p in self.panels[:MAX_HEADLINE_SERIES] if p.series]
        if not 1 <= len(names) <= MAX_HEADLINE_SERIES:
            raise ValueError(f"{self.name}: headline_series must name 1 to {MAX_HEADLINE_SERIES} series, "
                             f"got {len(names)}")
        signals = tuple(self._headline_panel(name) for name in names)
        window = self.headline_window_s
        if window is None:
            window = max(20 * self.tick_s, self.horizon_s / 4)
        if not window > 0:
            raise ValueError(f"{self.name}: headline_window_s = {window!r} is not allowed: must be > 0")
        speeds = tuple(float(s) for s in self.play_speeds) or tuple(k * self.tick_s for k in (1.0, 4.0, 16.0))
        if not speeds or any(not s > 0 for s in speeds) or list(speeds) != sorted(set(speeds)):
            raise ValueError(f"{self.name}: play_speeds = {speeds!r} is not allowed: "
                             "positive numbers, slowest first, no repeats")
        return ConsoleSettings(signals, float(min(window, self.horizon_s)), speeds)

    def _headline_panel(self, name: str) -> Panel:
        """A one-series Panel for series ``name``, styled like the dashboard panel that draws it."""
        for panel in self.panels:
            for series, label in panel.series:
                if series == name:
                    title = panel.title if len(panel.series) == 1 else f"{panel.title}: {label}"
                    return Panel(title, [(series, label)], panel.ylabel, panel.scale, panel.ylim)
        drawn = ", ".join(s for p in self.panels for s, _ in p.series)
        raise ValueError(f"{self.name}: headline series {name!r} is not drawn by any panel; panels draw: {drawn}")

    # -- results ------------------------------------------------------------------------------
    def measure(self) -> dict[str, Any]:  # pragma: no cover - abstract
        """The figures the rubric scores (keys of its components), over the part run so far."""
        raise NotImplementedError

    def outcome(self, measurements: dict[str, Any]) -> str:  # pragma: no cover - abstract
        """One factual sentence about how the incident went (no praise, no blame)."""
        raise NotImplementedError

    def summary(self) -> dict[str, Any]:
        """The figures labs and the CLI print; by default the rubric's measurements."""
        return self.measure()

    def score_card(self) -> ScoreCard:
        """The score card of the run so far, by the scenario's rubric."""
        measurements = self.measure()
        return self.rubric.score(self.name, measurements, self.action_log, self.outcome(measurements))

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
    def run(cls, params: Params | dict | None = None, seed: int = 0, plan: Any = None,
            **plugins: Any) -> Result:
        """Run the whole horizon, applying ``plan`` (a :class:`simkit.plan.Plan`, or a list
        of ``(time, action)``) if given, and return the Result. ``plugins`` go to
        :meth:`build` (e.g. ``membership=my_function``)."""
        model = cls(params, seed, **plugins)
        play_out(model, plan)
        return model.result()

    @classmethod
    def reference_plan(cls, which: str) -> list:
        """``"intended"`` or ``"historical"``: that reference plan (ValueError if none)."""
        if which == "intended":
            return list(cls.intended_plan)
        if which == "historical":
            if cls.historical_plan is None:
                raise ValueError(f"{cls.name} has no historical plan: the record does not say what was done")
            return list(cls.historical_plan)
        raise ValueError(f"reference plan {which!r} is not allowed: use 'intended' or 'historical'")
