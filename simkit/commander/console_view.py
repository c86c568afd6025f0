"""How the commander console looks: its widgets, their layout and the text they show.

This module only *presents*. It builds the ipywidgets of the console (see
:class:`ConsoleView`) and turns engine data (a clock, a log, a score card) into
the HTML those widgets display. It never changes the game: that is what
:mod:`simkit.commander.console` does, by calling the engine.

Every widget a test or a browser needs to find carries a stable CSS class
(:data:`CSS`), e.g. ``cascade-clock`` or ``cascade-action-shed_load``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Mapping

import ipywidgets as widgets

from ..actions import Action
from ..rubric import ScoreCard
from ..scenarios.base import ScenarioModel

__all__ = [
    "CSS",
    "ConsoleView",
    "span_text",
    "clock_html",
    "log_html",
    "status_html",
    "score_html",
    "action_tooltip",
    "PENDING_SCORE",
]

#: CSS classes of the console's parts (an action button gets ``action_prefix + name``).
CSS = {
    "root": "cascade-console",
    "clock": "cascade-clock",
    "advance_1": "cascade-advance-1",
    "advance_10": "cascade-advance-10",
    "run_end": "cascade-run-end",
    "restart": "cascade-restart",
    "action_prefix": "cascade-action-",
    "status": "cascade-status",
    "dashboard": "cascade-dashboard",
    "log": "cascade-log",
    "plan": "cascade-plan",
    "score": "cascade-score",
}

#: What the score pane says before the incident is over.
PENDING_SCORE = "The score card appears here when the incident is over (try <b>Run to end</b>)."

_LOG_HEIGHT_PX = 170
_MONO = "font-family: var(--jp-code-font-family, monospace); font-size: 12px;"


# -- text ---------------------------------------------------------------------------------
def span_text(seconds: float) -> str:
    """A duration in words a person reads at a glance: "5 s", "1 min 05 s", "2 h 05 min"."""
    total = int(round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min" if secs == 0 else f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" if minutes == 0 and secs == 0 else f"{hours} h {minutes:02d} min"


def _time_of_day(t_s: float) -> str:
    """"HH:MM:SS" for ``t_s`` seconds after midnight (wrapping at 24 h)."""
    total = int(t_s) % (24 * 3600)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def clock_html(now_s: float, horizon_s: float, clock_start_s: float) -> str:
    """The clock: the time of day in large type, then time since the start and time left."""
    if now_s >= horizon_s:
        rest = "the incident is over"
    else:
        rest = f"{span_text(horizon_s - now_s)} to go"
    return (
        f'<span style="{_MONO} font-size: 20px; font-weight: bold">'
        f"{_time_of_day(clock_start_s + now_s)}</span>"
        f'<span style="margin-left: 0.8em">{span_text(now_s)} since the start · {rest}</span>'
    )


def log_html(lines: list[str]) -> str:
    """The event log, oldest first, in a box that scrolls and stays pinned to the newest line.

    The outer box lays its single child out with ``flex-direction: column-reverse``;
    browsers then start (and keep) such a box scrolled to its end, so the newest
    line is in view without any JavaScript.
    """
    body = "<br>".join(html.escape(line) for line in lines)
    return (
        f'<div style="display: flex; flex-direction: column-reverse; overflow-y: auto; '
        f"max-height: {_LOG_HEIGHT_PX}px; border: 1px solid #ccc; padding: 4px 6px; "
        f'background: #fafafa; {_MONO} line-height: 1.4; white-space: pre-wrap">'
        f"<div>{body}</div></div>"
    )


def status_html(ok: bool | None, text: str) -> str:
    """The line under the buttons: what the last command did (green), or why not (red)."""
    if not text:
        return "&nbsp;"
    mark, colour = {True: ("✔", "#007a5a"), False: ("✘", "#b8420e"), None: ("•", "#444")}[ok]
    return f'<span style="color: {colour}">{mark} {html.escape(text)}</span>'


def _number(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def score_html(card: ScoreCard) -> str:
    """The score card as a small table: score, band and verdict, then one row per
    rubric component (points earned of possible, and why)."""
    rows = [("Score", f"<b>{card.score:g} / 100</b> &nbsp;(band: <b>{html.escape(card.band)}</b>)"),
            ("Verdict", html.escape(card.verdict))]
    rows += [(html.escape(c.name), f"<b>{c.earned:g} / {c.points:g}</b> &nbsp;{html.escape(c.why)}")
             for c in card.components]
    rows += [("Debrief", html.escape(line)) for line in card.debrief]
    cells = "".join(
        f'<tr><th style="text-align: left; padding: 2px 12px 2px 0; white-space: nowrap">{name}</th>'
        f'<td style="text-align: left">{value}</td></tr>'
        for name, value in rows
    )
    return (
        '<div style="border: 2px solid #0072B2; padding: 4px 10px">'
        '<div style="font-weight: bold; margin-bottom: 2px">Score card</div>'
        f"<table>{cells}</table></div>"
    )


def action_tooltip(spec: Action, params, reason: str | None) -> str:
    """A button's tooltip: what the action does (delay and cost from the params), or why
    it cannot be taken now."""
    if reason is not None:
        return f"Not now: {reason}"
    return spec.tooltip(params)


# -- widgets ------------------------------------------------------------------------------
def _button(description: str, css: str, tooltip: str = "", style: str = "") -> widgets.Button:
    button = widgets.Button(
        description=description,
        tooltip=tooltip,
        button_style=style,
        layout=widgets.Layout(width="auto"),
    )
    button.add_class(css)
    return button


def _html(css: str, value: str = "") -> widgets.HTML:
    widget = widgets.HTML(value=value)
    widget.add_class(css)
    return widget


@dataclass
class ConsoleView:
    """The console's widgets, built for one scenario model, and the box that holds them."""

    header: widgets.HTML
    clock: widgets.HTML
    advance_1: widgets.Button
    advance_10: widgets.Button
    run_end: widgets.Button
    restart: widgets.Button
    actions: Mapping[str, widgets.Button]
    status: widgets.HTML
    dashboard: widgets.Image
    log: widgets.HTML
    plan: widgets.Textarea
    score: widgets.HTML
    root: widgets.VBox = field(init=False)

    @classmethod
    def build(cls, model: ScenarioModel, seed: int, plan_hint: str) -> "ConsoleView":
        """Create the widgets for ``model`` (its actions, its tick length) and lay them out."""
        tick = span_text(model.tick_s)
        view = cls(
            header=widgets.HTML(
                f"<b>Incident commander</b> · {html.escape(model.title)} "
                f'<span style="color: #666">({html.escape(model.name)}, seed {seed})</span>'
            ),
            clock=_html(CSS["clock"]),
            advance_1=_button(f"+1 tick ({tick})", CSS["advance_1"], "Advance the clock by one tick"),
            advance_10=_button(
                f"+10 ticks ({span_text(10 * model.tick_s)})", CSS["advance_10"],
                "Advance the clock by ten ticks",
            ),
            run_end=_button("Run to end", CSS["run_end"], "Play the rest of the incident"),
            restart=_button("Restart", CSS["restart"], "Start the incident again (same seed)"),
            actions={
                name: _button(spec.label, CSS["action_prefix"] + name, spec.description, "info")
                for name, spec in model.actions.items()
            },
            status=_html(CSS["status"], "&nbsp;"),
            dashboard=widgets.Image(
                format="png", layout=widgets.Layout(max_width="100%", height="auto")
            ),
            log=_html(CSS["log"]),
            plan=widgets.Textarea(
                rows=2,
                layout=widgets.Layout(width="100%"),
                tooltip="Select all (Ctrl+A) and copy (Ctrl+C) this line",
            ),
            score=_html(CSS["score"], PENDING_SCORE),
        )
        view.dashboard.add_class(CSS["dashboard"])
        view.plan.add_class(CSS["plan"])
        view.root = view._layout(plan_hint)
        return view

    def _layout(self, plan_hint: str) -> widgets.VBox:
        """Text first, picture last: clock and buttons, then the log beside the score card,
        then the plan line, then the (tall) dashboard, so a click's effect on the clock,
        the log and the score shows without scrolling."""
        wrap = widgets.Layout(flex_flow="row wrap", align_items="center", grid_gap="4px")
        clock_row = widgets.HBox(
            [self.clock, self.advance_1, self.advance_10, self.run_end, self.restart], layout=wrap
        )
        self.clock.layout.margin = "0 1em 0 0"
        action_row = widgets.HBox(
            [widgets.HTML("<b>Actions:</b>&nbsp;"), *self.actions.values()], layout=wrap
        )
        log_box = widgets.VBox(
            [widgets.HTML("<b>Event log</b> (newest last)"), self.log],
            layout=widgets.Layout(flex="3 1 420px", margin="0 8px 0 0"),
        )
        score_box = widgets.VBox(
            [widgets.HTML("<b>Outcome</b>"), self.score], layout=widgets.Layout(flex="2 1 320px")
        )
        panes = widgets.HBox(
            [log_box, score_box],
            layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"),
        )
        plan_box = widgets.VBox(
            [
                widgets.HTML("<b>Your plan so far</b>, as a line of Python for your answer cell:"),
                self.plan,
                widgets.HTML(f'<span style="color: #555">{plan_hint}</span>'),
            ]
        )
        root = widgets.VBox(
            [self.header, clock_row, action_row, self.status, panes, plan_box, self.dashboard],
            layout=widgets.Layout(border="1px solid #bbb", padding="6px", max_width="1100px"),
        )
        root.add_class(CSS["root"])
        return root
