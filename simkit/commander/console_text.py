"""What the commander console says: engine data (a clock, records, a log, a score card) as HTML.

Plain functions from the engine's data to small HTML strings, so they can be tested
without widgets. They only present: nothing here changes the game.

Time reads the same everywhere: every time of day comes from ``World.stamp``
("02:40:00", with the day for a run that crosses midnight), every duration from
:func:`span_text`. Every state is shown by a symbol *and* a colour (✔ done, ✘ failed
or refused, ◔ under way, ⚠ the page), so it reads without colour vision too.
"""

from __future__ import annotations

import html
from typing import Callable, Iterable, Sequence

from ..actions import Action, ActionRecord, format_duration
from ..plots import COLORS
from ..rubric import Rubric, ScoreCard
from .engine import LogEntry

__all__ = [
    "span_text", "speed_label", "clock_html", "alarm_html", "status_html", "record_html",
    "pending_html", "log_html", "meter_html", "card_html", "rubric_html", "action_caption",
    "action_tooltip", "step_status",
]

Stamp = Callable[[float], str]

OK_COLOUR = "#007a5a"       # dark bluish green: done
BAD_COLOUR = "#b8420e"      # dark vermillion: failed, refused
WAIT_COLOUR = COLORS["blue"]  # under way
MUTED = "#555"
_MONO = "font-family: var(--jp-code-font-family, monospace);"

#: symbol and colour of each log entry kind (timeline kinds, plus "refused")
LOG_STYLE: dict[str, tuple[str, str]] = {
    "trigger": ("⚡", BAD_COLOUR),
    "page": ("⚠", BAD_COLOUR),
    "failure": ("▲", BAD_COLOUR),
    "refused": ("⊘", BAD_COLOUR),
    "action": ("▶", WAIT_COLOUR),
    "effect": ("✔", OK_COLOUR),
    "recovery": ("✔", OK_COLOUR),
    "event": ("·", MUTED),
}


# -- words -------------------------------------------------------------------------------
def span_text(seconds: float) -> str:
    """A duration a person reads at a glance: "5 s", "1 min 05 s", "2 h 05 min"."""
    total = int(round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min" if secs == 0 else f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" if minutes == 0 and secs == 0 else f"{hours} h {minutes:02d} min"


def speed_label(speed: float) -> str:
    """A play speed (simulated seconds per second) as a button reads it: "4 min/s", "15 s/s"."""
    if speed >= 60 and float(speed / 60).is_integer():
        return f"{speed / 60:g} min/s"
    return f"{speed:g} s/s"


def _esc(text: str) -> str:
    return html.escape(str(text))


# -- clock, alarm, status ----------------------------------------------------------------------
def clock_html(stamp: str, now_s: float, horizon_s: float) -> str:
    """The clock: the time in large type, then the time since the start and the time left."""
    rest = "the incident is over" if now_s >= horizon_s else f"{span_text(horizon_s - now_s)} to go"
    return (f'<div style="line-height: 1.15"><span style="{_MONO} font-size: 21px; font-weight: bold">'
            f'{_esc(stamp)}</span><br><span style="font-size: 11px; color: {MUTED}">'
            f"{span_text(now_s)} since the start · {rest}</span></div>")


def alarm_html(page_s: float | None, page_label: str, page_rule: str, stamp: Stamp) -> str:
    """The page as an alarm once it has come; before it, what will page the engineer
    (no action can be taken before the page)."""
    line = "white-space: nowrap; overflow: hidden; text-overflow: ellipsis; border-radius: 4px; padding: 2px 8px"
    if page_s is None:
        text = f"○ No alarm yet: you are paged when {page_rule}"
        return (f'<div style="{line}; border: 1px dashed #999; color: {MUTED}" '
                f'title="{_esc(text)}; no action can be taken before that">{_esc(text)}</div>')
    text = f"⚠ PAGED at {stamp(page_s)}: {page_label}"
    return (f'<div style="{line}; background: {COLORS["vermillion"]}; color: white; font-weight: bold" '
            f'title="{_esc(text)}">{_esc(text)}</div>')


def status_html(state: str | None, text: str) -> str:
    """The status line: what the last command did. ``state`` is "done", "failed",
    "refused", "pending" or None (information)."""
    if not text:
        return "&nbsp;"
    mark, colour = {"done": ("✔", OK_COLOUR), "failed": ("✘", BAD_COLOUR), "refused": ("✘", BAD_COLOUR),
                    "pending": ("◔", WAIT_COLOUR)}.get(state or "", ("•", "#333"))
    return f'<span style="color: {colour}">{mark} {_esc(text)}</span>'


def record_html(record: ActionRecord, now_s: float, stamp: Stamp) -> str:
    """The status line for an action attempt, as it stands *now*: refused (why), under way
    (with a countdown to its effect), done or failed (with what happened). Rendered
    afresh on every redraw from the engine's record, so it is never stale."""
    who = f"{record.label} [{record.name}]"
    if record.status == "refused":
        return status_html("refused", f"cannot {record.label.lower()} [{record.name}]: {record.message}")
    if record.status == "pending":
        # what the request said when it was sent (an admin request, say); not the kit's
        # generic "under way: takes effect in ..." which the countdown says better
        said = f": {record.message}" if record.message and not record.message.startswith("under way") else ""
        return status_html("pending", f"{who} under way since {stamp(record.requested_s)}{said}. "
                                      f"Takes effect at {stamp(record.due_s)} "
                                      f"(in {span_text(max(0.0, record.due_s - now_s))})")
    if record.status == "failed":
        return status_html("failed", f"{who} FAILED at {stamp(record.due_s)}: {record.message}")
    return status_html("done", f"{who} done at {stamp(record.due_s)}: {record.message}")


def pending_html(records: Iterable[ActionRecord], now_s: float, stamp: Stamp) -> str:
    """Every action still under way, with its countdown (empty when none)."""
    lines = [f"◔ {_esc(r.label)} → {_esc(stamp(r.due_s))} (in {span_text(max(0.0, r.due_s - now_s))})"
             for r in records if r.status == "pending"]
    if not lines:
        return ""
    return (f'<div style="color: {WAIT_COLOUR}; font-size: 12px"><b>Under way:</b> '
            + " &nbsp;·&nbsp; ".join(lines) + "</div>")


# -- log --------------------------------------------------------------------------------------
def log_html(entries: Sequence[LogEntry], stamp: Stamp, height_px: int) -> str:
    """The event log, oldest first, in a box that scrolls and stays pinned to the newest line.

    The outer box lays its single child out with ``flex-direction: column-reverse``;
    browsers then start (and keep) such a box scrolled to its end, so the newest line
    is in view without any JavaScript."""
    rows = []
    for entry in entries:
        mark, colour = LOG_STYLE.get(entry.kind, LOG_STYLE["event"])
        weight = "bold" if entry.kind in ("page", "trigger") else "normal"
        rows.append(f'<div style="color: {colour}; font-weight: {weight}">'
                    f'<span style="{_MONO} color: #333">{_esc(stamp(entry.t_s))}</span> '
                    f"{mark} {_esc(entry.text)}</div>")
    return (f'<div style="display: flex; flex-direction: column-reverse; overflow-y: auto; height: {height_px}px; '
            f'border: 1px solid #ccc; padding: 2px 6px; background: #fafafa; font-size: 12px; line-height: 1.35">'
            f"<div>{''.join(rows)}</div></div>")


# -- score ------------------------------------------------------------------------------------
def _bar(share: float) -> str:
    share = min(1.0, max(0.0, share))
    return (f'<div style="width: 70px; height: 9px; background: #e3e3e3; display: inline-block; '
            f'vertical-align: middle"><div style="width: {share * 100:.0f}%; height: 100%; '
            f'background: {COLORS["blue"]}"></div></div>')


def _value(c) -> str:
    if c.value is None:
        return "–"
    if c.unit == "yes/no":
        return "yes" if c.value >= 1 else "no"
    return f"{c.value:.3g} {c.unit}" if abs(c.value) < 1000 else f"{c.value:,.0f} {c.unit}"


def meter_html(card: ScoreCard, final: bool) -> str:
    """The running score: what the rubric gives the incident if it ended now (or, once
    it is over, the final score), component by component."""
    head = "Final score" if final else "Score if it ended now"
    rows = "".join(
        f'<tr><td style="padding: 1px 6px 1px 0; white-space: nowrap">{_esc(c.name)}</td>'
        f"<td>{_bar(c.earned / c.points if c.points else 1.0)}</td>"
        f'<td style="padding: 0 6px; text-align: right; white-space: nowrap"><b>{c.earned:g}</b>/{c.points:g}</td>'
        f'<td style="color: {MUTED}; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; '
        f'max-width: 120px" title="{_esc(c.why)}">{_esc(_value(c))}</td></tr>'
        for c in card.components)
    cap = (f'<div style="color: {BAD_COLOUR}; font-size: 11px">capped: {_esc(card.capped_by)}</div>'
           if card.capped_by else "")
    return (f'<div style="font-size: 12px"><div><b>{head}: <span style="font-size: 16px">{card.score:g}</span>'
            f" / 100</b> &nbsp;(band: <b>{_esc(card.band)}</b>)</div>"
            f'<table style="border-collapse: collapse; margin-top: 2px">{rows}</table>{cap}</div>')


def card_html(card: ScoreCard, debrief: str, stamp: Stamp) -> str:
    """The final score card: score, band and verdict, one row per rubric component (points
    earned of possible, and why), what was refused or failed (and when, as the clock read),
    then the debrief. ``debrief`` is "waiting", "off" or "done" (the lines are on the card)."""
    rows = [("Score", f"<b>{card.score:g} / 100</b> &nbsp;(band: <b>{_esc(card.band)}</b>)"),
            ("Verdict", _esc(card.verdict))]
    rows += [(_esc(c.name), f"<b>{c.earned:g} / {c.points:g}</b> &nbsp;{_esc(c.why)}") for c in card.components]
    for action in card.actions:
        if action["status"] in ("refused", "failed"):
            rows.append((action["status"], f"{_esc(action['action'])} at {_esc(stamp(action['minute'] * 60.0))}: "
                                           f"{_esc(action['message'])}"))
    if debrief == "waiting":
        rows.append(("Debrief", "<i>replaying a few variants of your plan on the same seed (a few seconds)…</i>"))
    rows += [("Debrief", _esc(line)) for line in card.debrief]
    cells = "".join(
        f'<tr><th style="text-align: left; padding: 2px 12px 2px 0; white-space: nowrap; vertical-align: top">'
        f'{name}</th><td style="text-align: left">{value}</td></tr>' for name, value in rows)
    return (f'<div style="border: 2px solid {COLORS["blue"]}; padding: 4px 10px; font-size: 13px">'
            '<div style="font-weight: bold; margin-bottom: 2px">Score card</div>'
            f"<table>{cells}</table></div>")


def rubric_html(rubric: Rubric) -> str:
    """How the game scores, from the scenario's rubric (shown before the end)."""
    rows = "".join(f"<tr><td><b>{_esc(name)}</b></td><td>{_esc(what)}</td><td style='text-align: right'>"
                   f"{_esc(points)}</td><td>{_esc(rule)}</td></tr>" for name, what, points, rule in rubric.rows())
    caps = "".join(f"<div>Cap: {_esc(line)}.</div>" for line in rubric.caps_text())
    return ('<div style="font-size: 12px"><p>The score card appears here when the incident is over '
            "(play on, or <b>Run to end</b>). How you are scored:</p>"
            '<table style="border-collapse: collapse"><tr><th style="text-align: left">Component</th>'
            '<th style="text-align: left">What is measured</th><th>Points</th>'
            f'<th style="text-align: left">How a value maps to points</th></tr>{rows}</table>{caps}'
            "<div>Bands: top ≥ 80, middle ≥ 55, low ≥ 30, bottom below 30.</div></div>")


# -- actions and plan rows -------------------------------------------------------------------
def action_caption(spec: Action, params) -> str:
    """The small line under an action's button: its plan identifier and its delay."""
    delay = spec.delay_s(params)
    when = "at once" if delay <= 0 else format_duration(delay)
    return (f'<div style="font-size: 11px; color: {MUTED}; line-height: 1.1; margin: -2px 0 0 2px">'
            f'<code style="font-size: 11px">{_esc(spec.name)}</code> · {_esc(when)}</div>')


def action_tooltip(spec: Action, params, reason: str | None) -> str:
    """A button's tooltip: what the action does (delay and cost from the params), or why it
    cannot be taken now."""
    if reason is not None:
        return f"Not now: {reason} [plan: {spec.name}]"
    return spec.tooltip(params)


def step_status(record: ActionRecord | None, now_s: float, stamp: Stamp) -> str:
    """One plan row's outcome in a few words (HTML)."""
    if record is None:
        return f'<span style="color: {MUTED}">not played yet</span>'
    short = _esc(record.message if len(record.message) < 70 else record.message[:68] + "…")
    if record.status == "pending":
        return f'<span style="color: {WAIT_COLOUR}">◔ takes effect at {_esc(stamp(record.due_s))}</span>'
    if record.status == "done":
        return f'<span style="color: {OK_COLOUR}">✔ done at {_esc(stamp(record.due_s))}</span>'
    colour = BAD_COLOUR
    word = "refused" if record.status == "refused" else "failed"
    return f'<span style="color: {colour}" title="{_esc(record.message)}">✘ {word}: {short}</span>'
