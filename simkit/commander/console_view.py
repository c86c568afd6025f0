"""How the commander console looks: its widgets and their layout, in one screen.

This module builds the widgets (:class:`ConsoleView`) and fills them from the engine's
state; the words and HTML come from :mod:`simkit.commander.console_text`. It never
changes the game: what the controls do is :mod:`simkit.commander.console`, which calls
the engine.

The console fits a box of at most 1300 x 620 CSS pixels, so it is whole inside
JupyterLab in a 1366 x 768 window::

    ┌ Incident commander · title ······························ ⚠ PAGED at 02:24:00 ┐
    │ 02:41:00  ▶ Play  [1 min/s|4 min/s|16 min/s]  +1 min  +10 min  Run to end  Undo  Restart │
    │ ✘ Add metadata capacity [add_capacity] FAILED at 02:41:00: ...  (the status line)      │
    │ [War room] [Plan] [Full dashboard] [Score card]                                        │
    │ ┌ headline charts (recent window) ┐  ┌ actions: button + plan id + delay ┐            │
    │ │ + whole-incident strip          │  │ under way: countdowns             │            │
    │ ├ event log ──────────────────────┤  │ score if it ended now, by rubric  │            │
    └──────────────────────────────────────────────────────────────────────────────────┘

Every widget a test or a browser needs to find carries a stable CSS class (:data:`CSS`),
e.g. ``cascade-clock`` or ``cascade-action-shed_load``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Callable, Mapping

import ipywidgets as widgets

from ..scenarios.base import ConsoleSettings, ScenarioModel
from .console_text import action_caption, action_tooltip, log_html, span_text, speed_label, step_status
from .engine import Incident
from .headline import HeadlineChart
from .keys import SpaceToPlay
from .plan_table import PlanTable

__all__ = ["CSS", "ConsoleView", "TABS", "MAX_WIDTH_PX", "MAX_HEIGHT_PX", "CHART_SIZE_PX"]

#: CSS classes of the console's parts (an action button gets ``action_prefix + name``).
CSS = {
    "root": "cascade-console",
    "clock": "cascade-clock",
    "play": "cascade-play",
    "speed": "cascade-speed",
    "advance_1": "cascade-advance-1",
    "advance_10": "cascade-advance-10",
    "run_end": "cascade-run-end",
    "undo": "cascade-undo",
    "restart": "cascade-restart",
    "alarm": "cascade-alarm",
    "status": "cascade-status",
    "tabs": "cascade-tabs",
    "headline": "cascade-headline",
    "log": "cascade-log",
    "action_prefix": "cascade-action-",
    "pending": "cascade-pending",
    "meter": "cascade-score-meter",
    "plan_table": "cascade-plan-table",
    "add_step": "cascade-add-step",
    "replay": "cascade-replay",
    "discard": "cascade-discard",
    "plan": "cascade-plan",
    "dashboard": "cascade-dashboard",
    "score": "cascade-score",
}

#: The tabs, in order.
TABS = ("War room", "Plan", "Full dashboard", "Score card")
#: The console's largest size, CSS pixels.
MAX_WIDTH_PX, MAX_HEIGHT_PX = 1300, 620
#: The headline charts' picture, pixels (shown at most this size, smaller in a narrow notebook).
CHART_SIZE_PX = (700, 284)
#: Heights inside a tab, pixels.
_PANE_PX = 420
_LOG_PX = _PANE_PX - CHART_SIZE_PX[1] - 8
_SIDE_PX = 430

PLAN_HINT = ("Copy this line into the cell that defines <code>PLAN</code>, or run "
             "<code>console.insert_plan()</code> in a new cell (with your console's name) to get it as a "
             "new cell below that one. Times read as the clock does; a plan replays to the same score.")


def _button(description: str, css: str, tooltip: str = "", style: str = "", width: str = "auto") -> widgets.Button:
    button = widgets.Button(description=description, tooltip=tooltip, button_style=style,
                            layout=widgets.Layout(width=width, margin="0 2px"))
    button.add_class(css)
    return button


def _html(css: str | None = None, value: str = "", **layout) -> widgets.HTML:
    widget = widgets.HTML(value=value, layout=widgets.Layout(**layout))
    if css:
        widget.add_class(css)
    return widget


@dataclass
class ConsoleView:
    """The console's widgets, built for one scenario model, and the box that holds them."""

    clock: widgets.HTML
    play: widgets.Button
    speed: widgets.ToggleButtons
    advance_1: widgets.Button
    advance_10: widgets.Button
    run_end: widgets.Button
    undo: widgets.Button
    restart: widgets.Button
    alarm: widgets.HTML
    status: widgets.HTML
    headline: widgets.Image
    log: widgets.HTML
    actions: Mapping[str, widgets.Button]
    pending: widgets.HTML
    meter: widgets.HTML
    plan_table: PlanTable
    add_step: widgets.Button
    replay: widgets.Button
    discard: widgets.Button
    plan_note: widgets.HTML
    plan: widgets.Textarea
    dashboard: widgets.Image
    score: widgets.HTML
    keys: SpaceToPlay
    tabs: widgets.Tab = field(init=False)
    root: widgets.VBox = field(init=False)

    @classmethod
    def build(cls, model: ScenarioModel, seed: int, settings: ConsoleSettings,
              on_plan_edit: Callable[[], None]) -> "ConsoleView":
        """Create the widgets for ``model`` (its actions, tick and console settings) and lay them out."""
        tick = model.tick_s
        view = cls(
            clock=_html(CSS["clock"], width="245px"),
            play=_button("▶ Play", CSS["play"], "Play: time runs by itself (space bar, when the console has focus)",
                         "success", "92px"),
            speed=widgets.ToggleButtons(
                options=[(speed_label(s), s) for s in settings.speeds], value=settings.speeds[0],
                tooltips=[f"{speed_label(s).replace('/s', '')} of the incident per second" for s in settings.speeds],
                style={"button_width": "84px"}, layout=widgets.Layout(margin="0 6px")),
            advance_1=_button(f"+{span_text(tick)}", CSS["advance_1"], f"One tick: advance the clock {span_text(tick)}"),
            advance_10=_button(f"+{span_text(10 * tick)}", CSS["advance_10"],
                               f"Ten ticks: advance the clock {span_text(10 * tick)}"),
            run_end=_button("Run to end", CSS["run_end"], "Play the rest of the incident at once"),
            undo=_button("Undo", CSS["undo"], "Take back your last action: the incident is replayed without it, "
                                             "up to now"),
            restart=_button("Restart", CSS["restart"], "Start the incident again (same seed)"),
            alarm=_html(CSS["alarm"], flex="0 1 auto", max_width="62%", overflow="hidden"),
            status=_html(CSS["status"], "&nbsp;", height="36px", overflow="hidden", margin="0 0 2px 4px"),
            headline=widgets.Image(format=HeadlineChart.FORMAT, layout=widgets.Layout(
                width="100%", max_width=f"{CHART_SIZE_PX[0]}px", height="auto", object_fit="contain")),
            log=_html(CSS["log"]),
            actions={name: _button(spec.label, CSS["action_prefix"] + name, spec.description, "info", "100%")
                     for name, spec in model.actions.items()},
            pending=_html(CSS["pending"], min_height="18px"),
            meter=_html(CSS["meter"]),
            plan_table=PlanTable(model.actions, on_plan_edit),
            add_step=_button("+ Add a step", CSS["add_step"], "A new step at the clock's time"),
            replay=_button("Replay from the start", CSS["replay"],
                           "Play the table's plan again from the start, up to where the clock is", "primary"),
            discard=_button("Discard edits", CSS["discard"], "Show the incident's plan again"),
            plan_note=_html(None, "&nbsp;"),
            plan=widgets.Textarea(rows=2, layout=widgets.Layout(width="100%"),
                                  tooltip="Select all (Ctrl+A) and copy (Ctrl+C) this line"),
            dashboard=widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto")),
            score=_html(CSS["score"]),
            keys=SpaceToPlay(root_class=CSS["root"], button_class=CSS["play"]),
        )
        view.speed.add_class(CSS["speed"])
        view.headline.add_class(CSS["headline"])
        view.plan.add_class(CSS["plan"])
        view.dashboard.add_class(CSS["dashboard"])
        view.root = view._layout(model, seed)
        return view

    # -- layout -----------------------------------------------------------------------------
    def _layout(self, model: ScenarioModel, seed: int) -> widgets.VBox:
        title = widgets.HTML(
            f'<div style="white-space: nowrap; overflow: hidden; text-overflow: ellipsis" '
            f'title="{html.escape(model.name)}, seed {seed}"><b>Incident commander</b> · '
            f"{html.escape(model.title)} <span style='color: #666'>(seed {seed})</span></div>",
            layout=widgets.Layout(flex="1 1 auto", min_width="0", overflow="hidden"))
        header = widgets.HBox([title, self.alarm], layout=widgets.Layout(align_items="center", height="28px"))
        controls = widgets.HBox(
            [self.clock, self.play, self.speed, self.advance_1, self.advance_10, self.run_end, self.undo,
             self.restart],
            layout=widgets.Layout(align_items="center", height="46px", flex_flow="row nowrap", overflow="hidden"))
        self.tabs = widgets.Tab(children=[self._war_room(model), self._plan_pane(), self._dashboard_pane(),
                                          self._score_pane()], titles=TABS)
        self.tabs.add_class(CSS["tabs"])
        root = widgets.VBox(
            [header, controls, self.status, self.tabs, self.keys],
            layout=widgets.Layout(border="1px solid #bbb", padding="4px 6px", width="100%",
                                  max_width=f"{MAX_WIDTH_PX - 10}px", overflow="hidden"))
        root.add_class(CSS["root"])
        return root

    def _war_room(self, model: ScenarioModel) -> widgets.HBox:
        self.log.layout = widgets.Layout(width="100%", max_width=f"{CHART_SIZE_PX[0]}px")
        charts = widgets.VBox([self.headline, self.log],
                              layout=widgets.Layout(flex="1 1 auto", min_width="0", margin="0 8px 0 0"))
        cells = []
        for name, button in self.actions.items():
            caption = widgets.HTML(action_caption(model.actions[name], model.params))
            cells.append(widgets.VBox([button, caption], layout=widgets.Layout(min_width="0")))
        grid = widgets.GridBox(cells, layout=widgets.Layout(grid_template_columns="1fr 1fr", grid_gap="1px 4px"))
        side = widgets.VBox(
            [widgets.HTML("<b>Actions</b> <span style='color: #555; font-size: 11px'>(button · plan identifier "
                          "· delay; hover for details)</span>"),
             grid, self.pending, widgets.HTML("<hr style='margin: 3px 0'>"), self.meter],
            layout=widgets.Layout(flex=f"0 0 {_SIDE_PX}px", width=f"{_SIDE_PX}px", overflow="hidden auto",
                                  height=f"{_PANE_PX}px"))
        return widgets.HBox([charts, side], layout=widgets.Layout(height=f"{_PANE_PX}px", overflow="hidden"))

    def _plan_pane(self) -> widgets.VBox:
        intro = widgets.HTML("<b>Your plan</b>: every action you tried, in order, and what became of it. Change a "
                             "time or an action, add or remove a step, then <b>Replay from the start</b>: the "
                             "incident is played again with the edited plan, up to where the clock is.")
        buttons = widgets.HBox([self.add_step, self.replay, self.discard, self.plan_note],
                               layout=widgets.Layout(align_items="center", margin="4px 0"))
        return widgets.VBox([intro, self.plan_table.rows_box, buttons,
                             widgets.HTML("<b>As a line of Python</b> for your answer cell:"), self.plan,
                             widgets.HTML(f'<span style="color: #555; font-size: 12px">{PLAN_HINT}</span>')],
                            layout=widgets.Layout(height=f"{_PANE_PX}px", overflow="hidden auto"))

    def _dashboard_pane(self) -> widgets.Box:
        return widgets.Box([self.dashboard], layout=widgets.Layout(height=f"{_PANE_PX}px", overflow="hidden auto",
                                                                   display="block"))

    def _score_pane(self) -> widgets.Box:
        return widgets.Box([self.score], layout=widgets.Layout(height=f"{_PANE_PX}px", overflow="hidden auto",
                                                               display="block"))

    # -- filling from the engine's state ---------------------------------------------------------
    def show_controls(self, incident: Incident, playing: bool) -> None:
        """Play/pause, the steps and every action button: enabled or not, and why not."""
        over = incident.finished
        self.play.description = "‖ Pause" if playing else "▶ Play"
        self.play.button_style = "warning" if playing else "success"
        self.play.disabled = over
        for button in (self.advance_1, self.advance_10, self.run_end):
            button.disabled = over
        self.undo.disabled = len(incident.plan) == 0
        model = incident.model
        for name, reason in incident.available().items():
            button = self.actions[name]
            button.disabled = reason is not None
            button.tooltip = action_tooltip(model.actions[name], model.params, reason)

    def show_log(self, incident: Incident) -> None:
        """The event log (redrawn only when it has new lines, or is a new incident's)."""
        entries = incident.entries
        shown = (id(entries), len(entries))
        if shown != getattr(self, "_shown_log", None):
            self.log.value = log_html(entries, incident.model.world.stamp, _LOG_PX)
            self._shown_log = shown

    def show_plan(self, incident: Incident, generation: int, plan_line: str) -> None:
        """The plan table (unless it holds edits not yet replayed), each step's outcome, and
        the plan as a line of Python."""
        table, model = self.plan_table, incident.model
        stamp = model.world.stamp
        statuses = [step_status(record, model.now, stamp) for record in incident.records]
        shown = (generation, len(incident.plan))
        if table.dirty:
            pass
        elif shown != getattr(self, "_shown_plan", None):
            table.show([(stamp(incident.step_time_s(step)), step.action, status)
                        for step, status in zip(incident.plan.steps, statuses)])
            self._shown_plan = shown
        else:
            table.update_status(statuses)
        self.plan_note.value = ('<span style="color: #b8420e">edited: press <b>Replay from the start</b> to play '
                                "it</span>" if table.dirty else "&nbsp;")
        self.discard.disabled = not table.dirty
        self.plan.value = plan_line

    def show_dashboard(self, incident: Incident, dpi: float) -> None:
        """The full dashboard (every panel, the whole horizon) as a picture: slow, so the
        console draws it only while its tab is shown."""
        from ..plots import dashboard, png_bytes

        model = incident.model
        figure = dashboard(incident.result(), panels=model.panels, until_s=model.now)
        self.dashboard.value = png_bytes(figure, dpi=dpi)
        figure.clear()

    def forget_shown(self) -> None:
        """The incident was replaced (restart, replay): redraw the log and the plan afresh."""
        self._shown_log = self._shown_plan = None
        self.plan_table.dirty = False

    def show_tab(self, name: str) -> None:
        self.tabs.selected_index = TABS.index(name)

    @property
    def tab(self) -> str:
        return TABS[self.tabs.selected_index or 0]
