"""Figures for the kit: incident dashboards and parameter sweeps, in one style.

Every figure in the course (notebooks, the commander console, the command line,
the README picture) comes from this module, so they all look alike:

* colours from the Okabe-Ito palette (:data:`COLORS`), which stays distinguishable
  for the common kinds of colour blindness and in greyscale;
* an incident's timeline drawn on every panel as vertical lines, coloured *and*
  dashed by kind (trigger, operator action, failure, recovery), with short labels
  above the top panel;
* time on the x axis as the time of day ("02:19") when the scenario says what
  time its run starts, else as minutes since the start.

The functions return a :class:`matplotlib.figure.Figure` built with matplotlib's
object API rather than :mod:`matplotlib.pyplot`: nothing is registered in a global
list of open figures, so a console that redraws a dashboard every tick leaks
nothing, and the code runs with any backend (or none). A notebook shows the
figure when it is the value of a cell; :func:`png_bytes` renders it for widgets
and files.

Example::

    import simkit
    from simkit.plots import dashboard
    result = simkit.run("retry-storm", seed=1)
    fig = dashboard(result)
    fig.savefig("storm.png")
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

from .result import Result
from .scenarios.base import Panel

__all__ = [
    "COLORS",
    "SERIES_COLORS",
    "KIND_COLORS",
    "KIND_LINESTYLES",
    "STYLE",
    "dashboard",
    "sweep_plot",
    "phase_plot",
    "PHASE_COLORS",
    "png_bytes",
]

#: The Okabe-Ito palette: eight colours that colour-blind readers can tell apart.
COLORS: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: The order in which a panel's series take their colours (yellow last: it is
#: hard to see on white).
SERIES_COLORS: tuple[str, ...] = (
    COLORS["blue"],
    COLORS["orange"],
    COLORS["bluish_green"],
    COLORS["vermillion"],
    COLORS["reddish_purple"],
    COLORS["sky_blue"],
    COLORS["black"],
    COLORS["yellow"],
)

#: Colour of a timeline event by its kind (see :class:`simkit.metrics.TimelineEvent`).
KIND_COLORS: dict[str, str] = {
    "trigger": COLORS["vermillion"],
    "failure": COLORS["reddish_purple"],
    "action": COLORS["blue"],
    "recovery": COLORS["bluish_green"],
    "event": "#666666",
}

#: Line style of a timeline event by kind, so kinds differ even without colour.
KIND_LINESTYLES: dict[str, Any] = {
    "trigger": "-",
    "failure": ":",
    "action": "--",
    "recovery": "-.",
    "event": (0, (1, 3)),
}

#: Matplotlib settings of the house style. Figures from this module apply them
#: themselves; use ``with matplotlib.rc_context(STYLE): ...`` to draw your own
#: figures the same way.
STYLE: dict[str, Any] = {
    "axes.prop_cycle": matplotlib.cycler(color=list(SERIES_COLORS)),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "font.size": 9,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}

# Layout of a dashboard, in inches (the figure is sized to fit its panels).
_WIDTH_IN = 10.0
_PANEL_IN = 1.9
_GAP_IN = 0.45  # room between panels for each panel's title row
_LEFT_IN, _RIGHT_IN, _BOTTOM_IN = 0.85, 0.3, 0.6
_TITLE_IN = 0.3  # the figure title
_LABEL_ROW_IN = 0.2  # one row of timeline labels
_LABEL_FONT_PT = 7.5
_MAX_LABEL_ROWS = 4
_MAX_LABEL_CHARS = 34
_CHAR_EM = 0.6  # average character width of the sans-serif font, in ems
_KEY_LINE_IN = 0.17  # one line of the numbered key under the plot
_KEY_LABEL_CHARS = 56
_PAST_SHADE = "#e9e9e9"  # the part of the horizon not yet played


class _KitFigure(Figure):
    """A Figure that a notebook shows as a PNG even if pyplot was never imported.

    IPython displays objects that have a ``_repr_png_`` method; matplotlib only
    registers its own display hook for figures when pyplot is loaded.
    """

    def _repr_png_(self) -> bytes:
        return png_bytes(self)


#: Colours of a phase map's cells: light blue and dark orange differ in hue *and* in
#: lightness, so the map reads in greyscale too; yellow marks cells where seeds disagree.
PHASE_COLORS: dict[str, str] = {
    "recovered": COLORS["sky_blue"],
    "mixed": COLORS["yellow"],
    "collapsed": COLORS["vermillion"],
}


def png_bytes(fig: Figure, dpi: float = 100) -> bytes:
    """Render ``fig`` to PNG bytes (for an ``ipywidgets.Image`` or a file)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


# -- dashboards ---------------------------------------------------------------------------
def dashboard(
    result: Result,
    panels: Sequence[Panel | str] | None = None,
    *,
    until_s: float | None = None,
    title: str | None = None,
) -> Figure:
    """An incident dashboard: one panel per :class:`Panel`, stacked on one time axis.

    ``panels`` defaults to the scenario model's ``panels``; a plain series name is
    accepted as a panel of its own. Every panel shows the timeline as vertical lines
    coloured by kind; the top panel carries their labels. ``until_s`` is "now" for a
    run still being played (the commander console): data after it are not drawn and
    the rest of the horizon is shaded. A series the result does not have (yet) is
    listed in the legend as "no data" rather than raising, because counters appear
    only when first recorded.
    """
    panels = _resolve_panels(result, panels)
    t_s = np.asarray(result.t_s, dtype=float)
    bucket_s = float(t_s[1] - t_s[0]) if len(t_s) > 1 else 1.0
    end_s = float(t_s[-1] + bucket_s) if len(t_s) else 1.0
    x_max = end_s / 60.0
    now_min = None if until_s is None else min(max(until_s, 0.0), end_s) / 60.0
    events = [e for e in result.timeline if until_s is None or e.t_s <= until_s]

    with matplotlib.rc_context(STYLE):
        n = len(panels)
        labels = _plan_labels(events, x_max, result.clock_start_s)
        top_in = _TITLE_IN + _GAP_IN + _LABEL_ROW_IN * max(1, max(labels.rows, default=0) + 1)
        bottom_in = _BOTTOM_IN + _key_height_in(labels)
        height_in = bottom_in + n * _PANEL_IN + (n - 1) * _GAP_IN + top_in
        fig = _KitFigure(figsize=(_WIDTH_IN, height_in))
        fig.subplots_adjust(
            left=_LEFT_IN / _WIDTH_IN,
            right=1 - _RIGHT_IN / _WIDTH_IN,
            bottom=bottom_in / height_in,
            top=1 - top_in / height_in,
            hspace=_GAP_IN / _PANEL_IN,
        )
        axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
        x = t_s / 60.0
        for ax, panel in zip(axes, panels):
            _draw_panel(ax, panel, result, x, t_s, until_s)
            _draw_event_lines(ax, events)
            if now_min is not None and now_min < x_max:
                ax.axvspan(now_min, x_max, color=_PAST_SHADE, zorder=0, lw=0)
                ax.axvline(now_min, color=COLORS["black"], lw=1.0, zorder=3)
        axes[0].set_xlim(0.0, x_max)
        _format_time_axis(axes[-1], result.clock_start_s, x_max)
        _draw_event_labels(fig, axes[0], events, labels, height_in)
        if now_min is not None and now_min < x_max:
            axes[-1].annotate(
                f"now {_time_label(now_min, result.clock_start_s)}",
                xy=(now_min, 0), xycoords=("data", "axes fraction"),
                xytext=(3, 3), textcoords="offset points", fontsize=7.5,
            )
        fig.suptitle(
            title if title is not None else _default_title(result),
            x=_LEFT_IN / _WIDTH_IN, y=1 - 0.12 / height_in,
            ha="left", va="top", fontsize=12, fontweight="bold",
        )
    return fig


def _resolve_panels(result: Result, panels: Sequence[Panel | str] | None) -> list[Panel]:
    """The panels to draw: given ones, the scenario's, or one per series."""
    if panels is None:
        model = _model_of(result)
        panels = list(getattr(model, "panels", ()) or ())
        if not panels:
            panels = list(result.series)[:8]
    resolved = []
    for panel in panels:
        if isinstance(panel, str):
            panel = Panel(title=panel, series=[(panel, panel)])
        if not isinstance(panel, Panel):
            raise TypeError(
                f"panels must be Panel objects or series names, got {type(panel).__name__}"
            )
        resolved.append(panel)
    if not resolved:
        raise ValueError("nothing to plot: the result has no series and no panels were given")
    return resolved


def _model_of(result: Result):
    """The scenario Model class of ``result``, or None for a hand-made Result."""
    from .scenarios import get

    try:
        return get(result.scenario)
    except (ValueError, ImportError):
        return None


def _default_title(result: Result) -> str:
    model = _model_of(result)
    name = getattr(model, "title", "") or result.scenario
    return f"{name}  (seed {result.seed})"


def _draw_panel(ax, panel: Panel, result: Result, x, t_s, until_s) -> None:
    """Draw one panel's series, its title, y label, limits and legend."""
    for i, (name, label) in enumerate(panel.series):
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        values = result.series.get(name)
        if values is None:
            ax.plot([], [], color=color, label=f"{label} (no data)")
            continue
        y = np.asarray(values, dtype=float) * panel.scale
        if until_s is not None:
            y = np.where(t_s < until_s, y, np.nan)
        ax.plot(x, y, color=color, label=label, zorder=2)
    ax.set_title(panel.title, pad=4)
    if panel.ylabel:
        ax.set_ylabel(panel.ylabel)
    if panel.ylim is not None:
        ax.set_ylim(*panel.ylim)
    elif not _has_finite(ax):
        ax.set_ylim(0, 1)
    elif _data_min(ax) >= 0:
        ax.set_ylim(bottom=0.0)  # counts and rates: keep zero in sight
    ax.legend(
        loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=min(4, len(panel.series)),
        borderaxespad=0.2, handlelength=1.6, columnspacing=1.2,
    )


def _finite_values(ax) -> np.ndarray:
    values = [np.asarray(line.get_ydata(), dtype=float) for line in ax.lines]
    values = np.concatenate(values) if values else np.empty(0)
    return values[np.isfinite(values)]


def _has_finite(ax) -> bool:
    return _finite_values(ax).size > 0


def _data_min(ax) -> float:
    return float(_finite_values(ax).min())


def _draw_event_lines(ax, events) -> None:
    for event in events:
        kind = event.kind if event.kind in KIND_COLORS else "event"
        ax.axvline(
            event.t_s / 60.0, color=KIND_COLORS[kind], linestyle=KIND_LINESTYLES[kind],
            lw=1.1, alpha=0.9, zorder=1,
        )


def _short(label: str, limit: int = _MAX_LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


@dataclass
class _Labels:
    """How the timeline is labelled: a text per event (time order), its row above the
    top panel, and the lines of a key under the plot (empty when labels fit inline)."""

    texts: list[str]
    rows: list[int]
    key: list[tuple[str, str]] = field(default_factory=list)  # (text, kind)


def _plan_labels(events, x_max: float, clock_start_s: float) -> _Labels:
    """Label each event inline if the labels fit in a few rows without overlapping;
    otherwise (a busy incident) write numbers at the lines and a numbered key below."""
    events = sorted(events, key=lambda e: e.t_s)
    texts = [_short(e.label) for e in events]
    rows = _fit_rows(events, texts, x_max)
    if rows is not None:
        return _Labels(texts, rows)
    numbers = [str(i + 1) for i in range(len(events))]
    key = [
        (f"{_time_label(e.t_s / 60.0, clock_start_s)}  {_short(e.label, _KEY_LABEL_CHARS)}",
         e.kind if e.kind in KIND_COLORS else "event")
        for i, e in enumerate(events)
    ]
    return _Labels(numbers, _fit_rows(events, numbers, x_max, force=True), key)


def _fit_rows(events, texts: list[str], x_max: float, force: bool = False) -> list[int] | None:
    """A row for each label (events in time order) so that no two labels in a row overlap.

    Labels are laid left to right; each takes the lowest row where it clears the
    previous label, judged by an estimate of the text width in minutes of the axis.
    If some label fits in no row, return None, or with ``force`` reuse the row whose
    last label ends earliest.
    """
    ends = [-math.inf] * _MAX_LABEL_ROWS
    rows = []
    for event, text in zip(events, texts):
        start, width = _label_extent(event.t_s / 60.0, text, x_max)
        free = [r for r in range(_MAX_LABEL_ROWS) if ends[r] < start]
        if not free and not force:
            return None
        row = free[0] if free else min(range(_MAX_LABEL_ROWS), key=lambda r: ends[r])
        ends[row] = start + width
        rows.append(row)
    return rows


def _label_extent(x: float, text: str, x_max: float) -> tuple[float, float]:
    """Where a label at ``x`` starts and how wide it is, in minutes of the axis
    (it runs right from its line, or left of it near the right edge)."""
    axis_in = _WIDTH_IN - _LEFT_IN - _RIGHT_IN
    minutes_per_char = x_max * (_LABEL_FONT_PT * _CHAR_EM / 72.0) / axis_in
    width = (len(text) + 1) * minutes_per_char
    start = x if x + width <= x_max else x - width
    return start, width


def _key_height_in(labels: _Labels) -> float:
    return 0.2 + _key_lines(labels) * _KEY_LINE_IN if labels.key else 0.0


def _key_lines(labels: _Labels) -> int:
    columns = 1 if len(labels.key) <= 3 else 2
    return math.ceil(len(labels.key) / columns)


def _draw_event_labels(fig, ax, events, labels: _Labels, height_in: float) -> None:
    """Write each event's label (or number) above the top panel, in its row and colour,
    and the numbered key under the plot if there is one."""
    x_max = ax.get_xlim()[1]
    title_pt = 18  # the panel title row sits between the axes and the labels
    for event, text, row in zip(sorted(events, key=lambda e: e.t_s), labels.texts, labels.rows):
        kind = event.kind if event.kind in KIND_COLORS else "event"
        x = event.t_s / 60.0
        start, _ = _label_extent(x, text, x_max)
        left = start >= x
        ax.annotate(
            text,
            xy=(x, 1.0), xycoords=("data", "axes fraction"),
            xytext=(0, title_pt + row * _LABEL_ROW_IN * 72), textcoords="offset points",
            ha="left" if left else "right", va="bottom",
            fontsize=_LABEL_FONT_PT, color=KIND_COLORS[kind], annotation_clip=False,
            fontweight="bold" if labels.key else "normal",
            # a thin leader continues the event's line straight up to its label
            arrowprops=dict(arrowstyle="-", color=KIND_COLORS[kind], lw=0.6, alpha=0.6,
                            relpos=(0.0 if left else 1.0, 0.0), shrinkA=0, shrinkB=0),
        )
    per_column = _key_lines(labels) if labels.key else 0
    column_in = (_WIDTH_IN - _LEFT_IN - _RIGHT_IN) / 2
    for i, (text, kind) in enumerate(labels.key):
        column, line = divmod(i, per_column)
        x_in = _LEFT_IN + column * column_in
        y = (_key_height_in(labels) - 0.1 - line * _KEY_LINE_IN) / height_in
        style = dict(va="top", fontsize=_LABEL_FONT_PT, color=KIND_COLORS[kind])
        fig.text((x_in + 0.18) / _WIDTH_IN, y, str(i + 1), ha="right", fontweight="bold", **style)
        fig.text((x_in + 0.28) / _WIDTH_IN, y, text, ha="left", **style)


def _time_label(minutes: float, clock_start_s: float) -> str:
    """"HH:MM" of day when the run has a clock, else minutes since the start."""
    if clock_start_s:
        of_day = int(round(clock_start_s / 60.0 + minutes)) % (24 * 60)
        return f"{of_day // 60:02d}:{of_day % 60:02d}"
    return f"{minutes:.1f} min"


def _format_time_axis(ax, clock_start_s: float, x_max: float) -> None:
    """Ticks at round times of day ("02:30") or at round minutes."""
    if not clock_start_s:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=10, steps=[1, 2, 2.5, 5, 10]))
        ax.set_xlabel("minutes since start")
        return
    start_min = clock_start_s / 60.0
    step = next(
        (s for s in (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720) if x_max / s <= 10),
        1440,
    )
    first = math.ceil(start_min / step) * step - start_min
    ax.xaxis.set_major_locator(FixedLocator(np.arange(first, x_max + 1e-9, step)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda m, _pos: _time_label(m, clock_start_s)))
    ax.set_xlabel("time of day")


# -- sweeps ------------------------------------------------------------------------------
def sweep_plot(
    xs: Sequence[float],
    ys: Sequence[float] | Mapping[str, Sequence[float]],
    *,
    xlabel: str = "",
    ylabel: str = "",
    title: str | None = None,
    logx: bool = False,
    hline: float | None = None,
    hline_label: str = "",
) -> Figure:
    """A parameter sweep: one outcome (or several, as a mapping label -> values) against
    one parameter, with markers at the values actually run.

    ``hline`` draws a horizontal reference line (a target, a threshold) labelled
    ``hline_label``. NaN outcomes (a run that never recovered) leave gaps.
    """
    xs = np.asarray(xs, dtype=float)
    lines = dict(ys) if isinstance(ys, Mapping) else {"": ys}
    for label, values in lines.items():
        if len(values) != len(xs):
            name = f"ys[{label!r}]" if label else "ys"
            raise ValueError(f"{name} has {len(values)} values but xs has {len(xs)}")
    with matplotlib.rc_context(STYLE):
        fig = _KitFigure(figsize=(6.4, 3.6), layout="constrained")
        ax = fig.subplots()
        for i, (label, values) in enumerate(lines.items()):
            ax.plot(xs, np.asarray(values, dtype=float), marker="o", ms=4,
                    color=SERIES_COLORS[i % len(SERIES_COLORS)], label=label or None)
        if hline is not None:
            ax.axhline(hline, color=COLORS["black"], lw=1, ls="--", label=hline_label or None)
        if logx:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        if any(lines) or hline_label:
            ax.legend(loc="best")
    return fig



# -- phase maps ---------------------------------------------------------------------------
def phase_plot(phase_map: Any, *, envelope: bool = True, title: str | None = None) -> Figure:
    """A phase map (:class:`simkit.phase.PhaseMap`): one coloured cell per trigger size
    (x) and duration (y): recovered, collapsed, or (over several seeds) mixed.

    For retry-storm, ``envelope`` also draws the back-of-envelope boundary
    (:func:`simkit.phase.envelope`) as a dashed line: spikes above and to the right of
    it are predicted to collapse.
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    share = np.asarray(phase_map.share_recovered, dtype=float)
    sizes, durations = np.asarray(phase_map.sizes, float), np.asarray(phase_map.durations, float)
    classes = np.where(share >= 1.0, 2, np.where(share <= 0.0, 0, 1))
    colors = [PHASE_COLORS["collapsed"], PHASE_COLORS["mixed"], PHASE_COLORS["recovered"]]
    with matplotlib.rc_context({**STYLE, "axes.grid": False}):
        fig = _KitFigure(figsize=(6.4, 5.2), layout="constrained")
        ax = fig.subplots()
        small = max(len(sizes), len(durations)) <= 12  # a small grid shows its cells' edges
        ax.pcolormesh(_cell_edges(sizes), _cell_edges(durations), classes, cmap=ListedColormap(colors),
                      norm=BoundaryNorm([-0.5, 0.5, 1.5, 2.5], 3), edgecolors="white" if small else "face",
                      linewidth=0.8 if small else 0.0)
        handles = [Patch(color=PHASE_COLORS["recovered"], label="recovered"),
                   Patch(color=PHASE_COLORS["collapsed"], label="collapsed (outlived the trigger)")]
        if (classes == 1).any():
            handles.insert(1, Patch(color=PHASE_COLORS["mixed"], label="seeds disagree"))
        if envelope and phase_map.scenario == "retry-storm":
            handles += _draw_envelope(ax, phase_map, sizes, durations)
        ax.set_xlim(_cell_edges(sizes)[[0, -1]])
        ax.set_ylim(_cell_edges(durations)[[0, -1]])
        ax.set_xlabel(_axis_label(phase_map.scenario, phase_map.size_name))
        ax.set_ylabel(_axis_label(phase_map.scenario, phase_map.duration_name))
        fig.legend(handles=handles, loc="outside lower center", ncol=2)
        ax.set_title(title if title is not None else _phase_title(phase_map))
    return fig


def _cell_edges(centres: np.ndarray) -> np.ndarray:
    """Edges of the cells around each grid value (halfway to the neighbours)."""
    if len(centres) == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    middle = (centres[1:] + centres[:-1]) / 2
    return np.concatenate(([2 * centres[0] - middle[0]], middle, [2 * centres[-1] - middle[-1]]))


def _draw_envelope(ax, phase_map: Any, sizes: np.ndarray, durations: np.ndarray) -> list:
    """The back-of-envelope boundary; returns its legend entries."""
    from matplotlib.lines import Line2D

    from .phase import envelope

    env = envelope(phase_map.params)
    label = "back of the envelope"
    if not env.sustains:
        ax.text(0.5, 0.5, "back of the envelope: (retries + 1) x load <= capacity,\nno collapse can last",
                transform=ax.transAxes, ha="center", va="center", fontsize=8,
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.8))
        return []
    fine = np.linspace(*_cell_edges(sizes)[[0, -1]], 400)
    ax.plot(fine, env.critical_duration_s(fine), color=COLORS["black"], ls="--", lw=1.4)
    handles = [Line2D([], [], color=COLORS["black"], ls="--", lw=1.4, label=f"{label}: a queue one timeout deep")]
    if sizes[0] < env.critical_size < sizes[-1]:
        ax.axvline(env.critical_size, color=COLORS["black"], ls=":", lw=1.0)
        handles.append(Line2D([], [], color=COLORS["black"], ls=":", lw=1.0, label="spike load = capacity"))
    return handles


def _axis_label(scenario: str, name: str) -> str:
    from .scenarios import get

    spec = get(scenario).Params.specs().get(name)
    unit = f" ({spec.unit})" if spec is not None and spec.unit else ""
    return f"{name}{unit}"


def _phase_title(phase_map: Any) -> str:
    seeds = [s for s in phase_map.seeds if s is not None]
    detail = f", seeds {', '.join(map(str, seeds))}" if seeds else ""
    return f"Phase map: {phase_map.scenario} ({phase_map.lens} lens{detail})"
