"""A rubric as data: what the commander game scores, and how many points each part is worth.

Each scenario declares one :class:`Rubric`: a few named components, each measuring one
thing (customer error-minutes, time to recover, changes lost...), in one unit, worth a
number of points, with the value that earns them all and the value that earns none.
Between the two, points fall linearly. One component is always the cost of the
operator's actions: every accepted action costs what its declaration says (see
:mod:`simkit.actions`), and every refused attempt costs toil too.

The same rubric object writes the score card (:meth:`Rubric.score`), its own
description for the CLI and the console (:meth:`Rubric.text`, :meth:`Rubric.rows`) and
for the notebooks (:meth:`Rubric.markdown`), so they cannot drift apart.

Bands, from the score out of 100: **top** >= 80, **middle** >= 55, **low** >= 30,
otherwise **bottom**.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

__all__ = ["Component", "ActionCosts", "Cap", "Rubric", "ScoreCard", "ComponentScore", "BANDS", "band_for"]

#: Outcome bands from worst to best.
BANDS: tuple[str, ...] = ("bottom", "low", "middle", "top")
_BAND_FLOOR = {"top": 80.0, "middle": 55.0, "low": 30.0, "bottom": 0.0}
_BAND_WORDS = {
    "top": "Well handled",
    "middle": "Partly handled",
    "low": "Poorly handled",
    "bottom": "Not handled",
}


def band_for(score: float) -> str:
    """The band of a 0-100 score: >= 80 top, >= 55 middle, >= 30 low, else bottom."""
    for band in ("top", "middle", "low"):
        if score >= _BAND_FLOOR[band]:
            return band
    return "bottom"


def _fmt(value: float) -> str:
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


@dataclass(frozen=True)
class Component:
    """One scored part of an outcome.

    ``key`` names the measurement (a key of the scenario's ``measure()``), ``name`` is
    shown to the player, ``measures`` says in words what is measured, ``unit`` is its
    unit. ``full_at`` earns all ``points``, ``zero_at`` earns none, linear between
    (``full_at`` may be above or below ``zero_at``: whichever side is better). A
    measurement of None (e.g. "never recovered") earns ``none_points``.
    """

    key: str
    name: str
    measures: str
    unit: str
    points: float
    full_at: float
    zero_at: float
    none_points: float = 0.0
    none_means: str = "never"

    @classmethod
    def flag(cls, key: str, name: str, measures: str, points: float) -> "Component":
        """A yes/no component: all ``points`` when the measurement is true (1), none when false."""
        return cls(key, name, measures, "yes/no", points, full_at=1, zero_at=0)

    @property
    def is_flag(self) -> bool:
        return self.unit == "yes/no"

    def earn(self, value: float | None) -> float:
        """Points earned for ``value``."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return self.none_points
        span = self.zero_at - self.full_at
        share = 1.0 if span == 0 else (self.zero_at - value) / span
        return self.points * min(1.0, max(0.0, share))

    def rule(self) -> str:
        """How a value maps to points, in words."""
        if self.is_flag:
            return f"{_fmt(self.points)} if yes, 0 if no"
        better = "<=" if self.full_at < self.zero_at else ">="
        worse = ">=" if self.full_at < self.zero_at else "<="
        text = (f"all {_fmt(self.points)} at {better} {_fmt(self.full_at)} {self.unit}, "
                f"none at {worse} {_fmt(self.zero_at)}")
        if self.none_points:
            text += f"; {_fmt(self.none_points)} if {self.none_means}"
        return text

    def why(self, value: float | None, earned: float) -> str:
        """One line: the value, what it earned, and the rule."""
        if value is None:
            shown = self.none_means
        elif self.is_flag:
            shown = "yes" if value >= 1 else "no"
        else:
            shown = f"{_fmt(value)} {self.unit}"
        return f"{shown}: {_fmt(round(earned, 1))} of {_fmt(self.points)} points ({self.rule()})"


@dataclass(frozen=True)
class ActionCosts:
    """The operator's actions as a score component: ``points`` minus each accepted
    action's cost, minus ``refused_cost`` per refused attempt, floored at 0."""

    points: float
    explains: str
    refused_cost: float = 1.0
    key: str = "action_cost"
    name: str = "Cost of actions"
    unit: str = "cost points"

    @property
    def measures(self) -> str:
        return self.explains

    def rule(self) -> str:
        return (f"{_fmt(self.points)} minus each action's cost; a refused attempt costs "
                f"{_fmt(self.refused_cost)}")

    def spent(self, records: Iterable[Any]) -> float:
        """Cost points spent by these action records (see :class:`simkit.actions.ActionRecord`)."""
        return float(sum(r.cost for r in records))

    def earn(self, spent: float) -> float:
        return max(0.0, self.points - spent)

    def why(self, spent: float, earned: float, records: Sequence[Any] = ()) -> str:
        taken = sum(1 for r in records if r.accepted)
        refused = sum(1 for r in records if not r.accepted)
        return (f"{taken} action(s) taken, {refused} refused, costing {_fmt(round(spent, 1))}: "
                f"{_fmt(round(earned, 1))} of {_fmt(self.points)} points")


@dataclass(frozen=True)
class Cap:
    """A ceiling on the whole score when ``applies(measurements)`` holds, e.g. an
    incident still unresolved at the end scores at most 25 (bottom band)."""

    applies: Callable[[dict[str, Any]], bool]
    max_score: float
    reason: str


@dataclass
class ComponentScore:
    """One line of a score card."""

    key: str
    name: str
    value: float | None
    unit: str
    earned: float
    points: float
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "value": self.value, "unit": self.unit,
                "earned": self.earned, "points": self.points, "why": self.why}


@dataclass
class ScoreCard:
    """How an incident went, by the scenario's rubric.

    ``components`` are the rubric's lines (value, points earned of possible, why);
    ``score`` (0-100) is their sum, lowered to a cap where one applies (``capped_by``
    says why); ``band`` is one of :data:`BANDS`; ``verdict`` says in words how it went
    (a bottom-band verdict never reads as a success). ``actions`` are the operator's
    attempts with what became of each; ``measurements`` every figure the scenario
    measured; ``debrief`` is filled in by :func:`simkit.commander.debrief` when asked.
    """

    scenario: str
    score: float
    band: str
    verdict: str
    components: list[ComponentScore]
    capped_by: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    debrief: list[str] = field(default_factory=list)

    def component(self, key: str) -> ComponentScore:
        """The line for component ``key``."""
        for line in self.components:
            if line.key == key:
                return line
        raise KeyError(f"no component {key!r}; this card has {', '.join(c.key for c in self.components)}")

    @property
    def points_total(self) -> float:
        """The components' points added up (before any cap)."""
        return round(sum(c.earned for c in self.components), 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "score": self.score,
            "band": self.band,
            "verdict": self.verdict,
            "capped_by": self.capped_by,
            "components": [c.to_dict() for c in self.components],
            "actions": list(self.actions),
            "measurements": dict(self.measurements),
            "debrief": list(self.debrief),
        }

    def text(self) -> str:
        """The card as plain text (the CLI prints this)."""
        width = max(len(c.name) for c in self.components)
        lines = [f"score {self.score:g}/100, band {self.band}", f"verdict: {self.verdict}", ""]
        for c in self.components:
            lines.append(f"  {c.name:<{width}}  {c.earned:5.1f} / {c.points:<4g} {c.why}")
        if self.capped_by:
            lines.append(f"  (capped: {self.capped_by})")
        refused = [a for a in self.actions if a["status"] == "refused"]
        failed = [a for a in self.actions if a["status"] == "failed"]
        for title, group in (("refused", refused), ("failed", failed)):
            for a in group:
                lines.append(f"  {title}: minute {a['minute']:g} {a['action']}: {a['message']}")
        if self.debrief:
            lines.append("")
            lines.extend(f"debrief: {line}" for line in self.debrief)
        return "\n".join(lines)


@dataclass(frozen=True)
class Rubric:
    """A scenario's scoring: components (one of them the action costs) and caps.

    The components' points must add up to 100.
    """

    components: tuple[Component, ...]
    costs: ActionCosts
    caps: tuple[Cap, ...] = ()

    def __post_init__(self) -> None:
        total = sum(c.points for c in self.components) + self.costs.points
        if abs(total - 100.0) > 1e-9:
            raise ValueError(f"a rubric's points must add up to 100, these add up to {total:g}")

    # -- describing ------------------------------------------------------------------------
    def rows(self) -> list[tuple[str, str, str, str]]:
        """One ``(name, what is measured, points, how a value maps to points)`` per part."""
        rows = [(c.name, f"{c.measures} ({c.unit})", _fmt(c.points), c.rule()) for c in self.components]
        rows.append((self.costs.name, self.costs.explains, _fmt(self.costs.points), self.costs.rule()))
        return rows

    def caps_text(self) -> list[str]:
        return [f"at most {_fmt(cap.max_score)} if {cap.reason}" for cap in self.caps]

    def text(self) -> str:
        """The rubric as plain text (CLI)."""
        lines = [f"{name} [{points} points]: {what}; {rule}" for name, what, points, rule in self.rows()]
        lines += [f"Cap: {line}" for line in self.caps_text()]
        lines.append("Bands: top >= 80, middle >= 55, low >= 30, bottom below 30.")
        return "\n".join(lines)

    def markdown(self) -> str:
        """The rubric as a Markdown table (notebooks)."""
        lines = ["| Component | What is measured | Points | How a value maps to points |",
                 "|---|---|---:|---|"]
        lines += [f"| {name} | {what} | {points} | {rule} |" for name, what, points, rule in self.rows()]
        notes = [f"Cap: {line}." for line in self.caps_text()]
        notes.append("Bands: **top** >= 80, **middle** >= 55, **low** >= 30, **bottom** below 30.")
        return "\n".join(lines) + "\n\n" + " ".join(notes)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    # -- scoring -----------------------------------------------------------------------------
    def score(self, scenario: str, measurements: dict[str, Any], records: Sequence[Any],
              outcome: str) -> ScoreCard:
        """The score card for these measurements and action records.

        ``outcome`` is the scenario's one factual sentence about what happened; the
        verdict puts the band's words before it and names the weakest component.
        """
        lines = []
        for c in self.components:
            value = measurements.get(c.key)
            earned = c.earn(value)
            lines.append(ComponentScore(c.key, c.name, None if value is None else float(value), c.unit,
                                        round(earned, 2), c.points, c.why(value, earned)))
        spent = self.costs.spent(records)
        earned = self.costs.earn(spent)
        lines.append(ComponentScore(self.costs.key, self.costs.name, round(spent, 2), self.costs.unit,
                                    round(earned, 2), self.costs.points, self.costs.why(spent, earned, records)))
        total = round(sum(line.earned for line in lines), 1)
        capped_by = None
        for cap in self.caps:
            if cap.applies(measurements) and total > cap.max_score:
                total, capped_by = float(cap.max_score), cap.reason
        band = band_for(total)
        weakest = min(lines, key=lambda line: line.earned / line.points if line.points else 1.0)
        verdict = f"{_BAND_WORDS[band]} ({total:g}/100): {outcome}"
        if capped_by:
            verdict += f"; the score is capped because {capped_by}"
        elif band != "top" and weakest.points and weakest.earned < weakest.points:
            verdict += f". Most points lost on {weakest.name.lower()}: {weakest.why}"
        return ScoreCard(scenario, total, band, verdict, lines, capped_by,
                         [r.to_dict() for r in records], dict(measurements))
