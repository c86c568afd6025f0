"""The console's plan as an editable table: one row per step, (time, action), and its outcome.

The table shows the incident's plan (every attempt, in order) with what became of each
step. Edit a time or an action, add or remove a row, then press **Replay from the
start**: the console plays the edited plan again from the start, up to where the clock
was (see :meth:`simkit.commander.engine.Incident.replay`). While the table holds edits
not yet replayed it is *dirty*: it keeps them, and new actions taken meanwhile do not
overwrite them (**Discard edits** goes back to the incident's plan).

Times are written the way the clock reads them ("02:40:00", with the day for a run
that crosses midnight: "Tue 05:40:00"); "02:40" and a number of minutes since the
start are accepted too. :func:`parse_time` reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import ipywidgets as widgets

from ..actions import Action
from ..plan import Plan, PlanStep
from ..world import World
from .engine import plan_time

__all__ = ["PlanTable", "parse_time"]

_CLOCK = re.compile(r"^(?:(?P<day>[A-Za-z]+(?: \d+)?) )?(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?$")
_HOW = 'write the time as the clock shows it, e.g. "02:40:00", or minutes since the start, e.g. 40'


def parse_time(text: str, world: World) -> float:
    """Simulated seconds since the start for a time typed in the plan table.

    Accepts the clock's own form ("02:40:00" or "02:40", the first such moment at or
    after the start; "Tue 05:40:00" or "day 2 05:40:00" for a given day of a run that
    crosses midnight) or a number of minutes since the start. ValueError (one line)
    otherwise, or for a time outside the run."""
    raw = str(text).strip()
    match = _CLOCK.match(raw)
    if match:
        hours, minutes, seconds = int(match["h"]), int(match["m"]), int(match["s"] or 0)
        if not (hours < 24 and minutes < 60 and seconds < 60):
            raise ValueError(f"time {raw!r} is not allowed: {_HOW}")
        of_day = hours * 3600 + minutes * 60 + seconds
        if match["day"] is None:
            t_s = (of_day - world.clock_start_s) % 86400.0
        else:
            t_s = _day_index(match["day"], world, raw) * 86400.0 + of_day - world.clock_start_s
    else:
        try:
            t_s = float(raw) * 60.0
        except ValueError:
            raise ValueError(f"time {raw!r} is not allowed: {_HOW}") from None
        if t_s != t_s or t_s in (float("inf"), float("-inf")):
            raise ValueError(f"time {raw!r} is not allowed: {_HOW}")
    if not 0 <= t_s < world.horizon_s:
        raise ValueError(f"time {raw!r} is not allowed: the incident runs from {world.stamp(0)} "
                         f"to {world.stamp(world.horizon_s)}")
    return t_s


def _day_index(day: str, world: World, raw: str) -> int:
    names = [n.lower() for n in world.day_names]
    if day.lower() in names:
        return names.index(day.lower())
    numbered = re.fullmatch(r"day (\d+)", day.lower())
    if numbered and int(numbered[1]) >= 1:
        return int(numbered[1]) - 1
    known = ", ".join(world.day_names) or "day 1, day 2"
    raise ValueError(f"time {raw!r} is not allowed: the day must be one of {known}")


@dataclass
class _Row:
    box: widgets.HBox
    time: widgets.Text
    action: widgets.Dropdown
    status: widgets.HTML
    remove: widgets.Button


class PlanTable:
    """The editable table. ``rows_box`` holds one row per step; ``on_edit`` is called when
    the learner changes anything (the console marks the table dirty and pauses)."""

    def __init__(self, actions: Mapping[str, Action], on_edit: Callable[[], None]) -> None:
        self._options = [(f"{spec.label} [{name}]", name) for name, spec in actions.items()]
        self._on_edit = on_edit
        self.rows: list[_Row] = []
        self.dirty = False
        self._quiet = False
        self.rows_box = widgets.VBox(layout=widgets.Layout(overflow="hidden auto", height="250px",
                                                           border="1px solid #ddd", padding="2px"))
        self.rows_box.add_class("cascade-plan-table")
        self.empty = widgets.HTML('<i style="color: #555">No steps yet: actions you take appear here.</i>')

    # -- filling ---------------------------------------------------------------------------
    def show(self, steps: Sequence[tuple[str, str, str]]) -> None:
        """Show ``(time text, action, outcome html)`` rows; the table is clean afterwards."""
        self._quiet = True
        try:
            while len(self.rows) > len(steps):
                self.rows.pop()
            while len(self.rows) < len(steps):
                self.rows.append(self._new_row())
            for row, (time_text, action, status) in zip(self.rows, steps):
                row.time.value = str(time_text)
                row.action.value = action
                row.status.value = status
        finally:
            self._quiet = False
        self.dirty = False
        self._relayout()

    def update_status(self, statuses: Sequence[str]) -> None:
        """Refresh the outcome column only (the plan itself has not changed)."""
        for row, status in zip(self.rows, statuses):
            if row.status.value != status:
                row.status.value = status

    def draft(self) -> list[tuple[str, str]]:
        """The rows as typed: ``(time text, action)``."""
        return [(row.time.value, row.action.value) for row in self.rows]

    def plan(self, world: World) -> Plan:
        """The rows as a :class:`~simkit.plan.Plan`, times read by :func:`parse_time`
        (ValueError naming the row for one that does not parse)."""
        steps = []
        for i, (text, action) in enumerate(self.draft(), start=1):
            try:
                steps.append(PlanStep(plan_time(parse_time(text, world), world), action))
            except ValueError as problem:
                raise ValueError(f"step {i}: {problem}") from None
        return Plan(steps)

    # -- editing -----------------------------------------------------------------------------
    def add_row(self, time_text: str, action: str | None = None) -> None:
        """A new row at ``time_text`` (the console passes the clock's time)."""
        row = self._new_row()
        self._quiet = True
        row.time.value = time_text
        row.action.value = action or self._options[0][1]
        row.status.value = '<span style="color: #555">new</span>'
        self._quiet = False
        self.rows.append(row)
        self._relayout()
        self._edited()

    def remove_row(self, index: int) -> None:
        self.rows.pop(index)
        self._relayout()
        self._edited()

    def _new_row(self) -> _Row:
        time = widgets.Text(layout=widgets.Layout(width="130px"), continuous_update=False)
        time.add_class("cascade-plan-time")
        action = widgets.Dropdown(options=self._options, layout=widgets.Layout(width="300px"))
        action.add_class("cascade-plan-action")
        status = widgets.HTML(layout=widgets.Layout(flex="1 1 auto", overflow="hidden"))
        remove = widgets.Button(description="✕", tooltip="Remove this step", layout=widgets.Layout(width="34px"))
        remove.add_class("cascade-plan-remove")
        row = _Row(widgets.HBox([time, action, remove, status], layout=widgets.Layout(align_items="center",
                                                                                    min_height="32px")),
                   time, action, status, remove)
        time.observe(lambda _change: self._edited(), names="value")
        action.observe(lambda _change: self._edited(), names="value")
        remove.on_click(lambda _button, r=row: self.remove_row(self.rows.index(r)))
        return row

    def _edited(self) -> None:
        if self._quiet:
            return
        self.dirty = True
        self._on_edit()

    def _relayout(self) -> None:
        children = [row.box for row in self.rows] or [self.empty]
        if list(self.rows_box.children) != children:
            self.rows_box.children = children
