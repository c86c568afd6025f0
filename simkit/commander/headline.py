"""The console's headline charts: the last stretch of an incident, redrawn cheaply every frame.

A scenario names two or three *headline signals* (``ScenarioModel.headline_series``).
:class:`HeadlineChart` draws each in a small chart whose time axis follows the clock:
it shows about the last ``window_s`` of simulated time (so the decisive minutes are
wide) and moves on in steps of its time-label spacing, like a chart recorder's page,
so "now" is always within one step of the right edge. A thin strip beneath shows the
first signal over the whole incident and where the window is in it. Timeline events are vertical lines styled by kind, in colour *and*
dash pattern; the signals take the kit's colour-blind-safe colours (Okabe-Ito).

Why it is fast enough to redraw several times a second: the figure is built once, on
matplotlib's Agg canvas (no pyplot, no GUI). Everything that does not move (frames,
titles, y ticks, horizontal grid, the strip's start and end times) is drawn once into
a background bitmap. Each frame restores that bitmap and draws only what moves (the
lines, the event marks, the "now" marker, the latest values) with ``draw_artist``,
which is matplotlib's *blitting*. Text is the costly part of a matplotlib draw, so the
time labels stay in the background: that is why the window moves in steps. The bitmap
becomes a JPEG for an ``ipywidgets.Image`` (quality 90, no chroma subsampling, so thin
coloured lines stay sharp): encoding a PNG of it costs ten times as long, more than
all the drawing. A background is redrawn only when the window steps on or a y range
has to change (:attr:`HeadlineChart.full_draws` counts them). ``ipympl`` would do the
same work (Agg render, PNG over the widget
channel) plus pan and zoom that a one-screen console does not need, so it is not used.
"""

from __future__ import annotations

import io
import math
from typing import Callable, Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from ..metrics import TimelineEvent
from ..plots import COLORS, KIND_COLORS, KIND_LINESTYLES, SERIES_COLORS, STYLE
from ..scenarios.base import ConsoleSettings, Panel

__all__ = ["HeadlineChart", "EVENT_STYLES", "nice_ceiling", "time_steps"]

#: How each kind of timeline event is drawn: (colour, dash pattern). Kinds differ in
#: dash pattern as well as colour, so they stay apart without colour vision.
EVENT_STYLES: dict[str, tuple[str, object]] = {
    **{kind: (KIND_COLORS[kind], KIND_LINESTYLES[kind]) for kind in KIND_COLORS},
    "page": (COLORS["vermillion"], (0, (6, 2, 1, 2))),
    "effect": (COLORS["blue"], ":"),
}

_FUTURE = "#f0f0f0"
_TEXT = "#333333"

# Layout, in pixels of the rendered picture.
_LEFT, _RIGHT, _TOP = 46, 64, 4
_TITLE = 19          # a chart's title row
_TIME_ROW = 15       # the window's time labels under the last chart
_STRIP_GAP = 8
_STRIP_LABELS = 13   # the strip's start / end times


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is >= ``value`` (> 0)."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * power >= value * (1 - 1e-9):
            return step * power
    return 10.0 * power  # pragma: no cover - the loop always returns


def time_steps(window_s: float) -> float:
    """A round spacing of time labels that puts at most five of them in ``window_s``."""
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200):
        if window_s / step <= 5:
            return float(step)
    return 86400.0


def _format_value(value: float, ylabel: str) -> str:
    if not math.isfinite(value):
        return "–"
    if ylabel == "%":
        return f"{value:.0f}%"
    if abs(value) >= 10000:
        return f"{value / 1000:.0f}k"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


class HeadlineChart:
    """Live charts of a scenario's headline signals; :meth:`render` gives JPEG bytes.

    ``settings`` comes from :meth:`ScenarioModel.console_settings`; ``stamp`` turns
    simulated seconds into the clock's text (``World.stamp``), so the charts, the log
    and the plan read time the same way.
    """

    #: the picture format of :meth:`render` (for ``ipywidgets.Image(format=...)``)
    FORMAT = "jpeg"

    def __init__(
        self,
        settings: ConsoleSettings,
        *,
        horizon_s: float,
        clock_start_s: float,
        stamp: Callable[[float], str],
        width_px: int = 700,
        height_px: int = 330,
        dpi: float = 100.0,
    ) -> None:
        self.signals: tuple[Panel, ...] = settings.signals
        self.window_s = float(settings.window_s)
        self.horizon_s = float(horizon_s)
        self.clock_start_s = float(clock_start_s)
        self.stamp = stamp
        self.size = (int(width_px), int(height_px))
        #: how many times the static background was drawn (once, plus each y-range change)
        self.full_draws = 0
        self.step_s = time_steps(self.window_s)
        self._ylims: list[tuple[float, float]] = [self._fixed_ylim(p) or (0.0, 1.0) for p in self.signals]
        self._strip_ylim = self._ylims[0]
        self._shown_window: tuple[float, float] | None = None
        self._background = None
        with matplotlib.rc_context(STYLE):
            self._build(dpi)

    # -- building ------------------------------------------------------------------------------
    def _build(self, dpi: float) -> None:
        width, height = self.size
        self.figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="white")
        self.canvas = FigureCanvasAgg(self.figure)
        n = len(self.signals)
        strip_h = 30
        top_of_strip = _STRIP_LABELS + strip_h
        chart_area = height - _TOP - top_of_strip - _STRIP_GAP - _TIME_ROW
        chart_h = chart_area / n - _TITLE

        def box(left_px, bottom_px, height_px):
            return [left_px / width, bottom_px / height, (width - _LEFT - _RIGHT) / width, height_px / height]

        self.axes = []
        for i, panel in enumerate(self.signals):
            bottom = height - _TOP - (i + 1) * (_TITLE + chart_h)
            ax = self.figure.add_axes(box(_LEFT, bottom, chart_h))
            self._style_axis(ax)
            unit = f" ({panel.ylabel})" if panel.ylabel else ""
            ax.set_title(panel.title + unit, loc="left", fontsize=8.5, pad=3, color=_TEXT)
            self.axes.append(ax)
        self.strip = self.figure.add_axes(box(_LEFT, _STRIP_LABELS, strip_h))
        self._style_axis(self.strip)
        self.strip.set_yticks([])
        self.strip.set_xticks([])
        self.strip.set_xlim(0.0, self.horizon_s)
        self.strip.text(-0.01, 0.5, "whole\nincident", transform=self.strip.transAxes,
                        fontsize=7, color="#555555", ha="right", va="center", linespacing=1.0)
        for x, ha in ((0.0, "left"), (1.0, "right")):
            self.strip.text(x, -0.08, self.stamp(x * self.horizon_s), transform=self.strip.transAxes,
                            fontsize=7, color="#555555", ha=ha, va="top")
        self._build_moving_parts()

    @staticmethod
    def _style_axis(ax) -> None:
        ax.tick_params(axis="y", labelsize=7.5, length=2, pad=2)
        ax.tick_params(axis="x", labelsize=7.5, length=0, pad=3, labelbottom=False)
        ax.margins(x=0)

    def _build_moving_parts(self) -> None:
        """The artists redrawn every frame (all ``animated``, so a full draw skips them)."""
        self.lines, self.values, self.marks, self.nows, self.futures = [], [], [], [], []
        for i, ax in enumerate(self.axes):
            color = SERIES_COLORS[i % len(SERIES_COLORS)]
            self.futures.append(ax.add_patch(Rectangle((0, 0), 0, 1, transform=ax.get_xaxis_transform(),
                                                       color=_FUTURE, lw=0, animated=True)))
            self.marks.append(ax.add_collection(LineCollection([], linewidths=1.1, animated=True)))
            (line,) = ax.plot([], [], color=color, lw=1.8, animated=True, solid_joinstyle="round")
            self.lines.append(line)
            self.nows.append(ax.axvline(0, color=COLORS["black"], lw=0.9, animated=True))
            self.values.append(ax.text(1.02, 0.5, "", transform=ax.transAxes, ha="left", va="center",
                                       fontsize=10, fontweight="bold", color=color, animated=True))
        strip = self.strip
        (self.strip_line,) = strip.plot([], [], color=SERIES_COLORS[0], lw=1.0, animated=True)
        self.strip_window = strip.add_patch(Rectangle((0, 0), 0, 1, transform=strip.get_xaxis_transform(),
                                                      facecolor=COLORS["sky_blue"], alpha=0.25,
                                                      edgecolor=COLORS["blue"], lw=0.8, animated=True))
        self.strip_now = strip.axvline(0, color=COLORS["black"], lw=0.9, animated=True)

    @staticmethod
    def _fixed_ylim(panel: Panel) -> tuple[float, float] | None:
        return tuple(panel.ylim) if panel.ylim is not None else None

    # -- y ranges --------------------------------------------------------------------------------
    def _want_ylim(self, panel: Panel, values: np.ndarray, current: tuple[float, float]) -> tuple[float, float]:
        """The y range for ``values``: the panel's own, or a round top that only changes when
        the data outgrow it or shrink well below it (so the background is rarely redrawn)."""
        fixed = self._fixed_ylim(panel)
        if fixed is not None:
            return fixed
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return current
        high, low = float(finite.max()), float(finite.min())
        bottom = 0.0 if low >= 0 else -nice_ceiling(-low)
        top = current[1]
        if high > top or high < 0.35 * top or bottom != current[0]:
            top = nice_ceiling(high * 1.05) if high > 0 else 1.0
        return (bottom, top)

    def _apply_limits(self) -> None:
        low_x, high_x = self._shown_window
        first = math.ceil((self.clock_start_s + low_x) / self.step_s) * self.step_s - self.clock_start_s
        ticks = np.arange(first, high_x + 1e-9, self.step_s)
        for ax in self.axes:
            ax.set_xlim(low_x, high_x)
            ax.set_xticks(ticks)
        self.axes[-1].tick_params(axis="x", labelbottom=True)
        self.axes[-1].set_xticklabels([self.stamp(x) for x in ticks])
        for ax, (low, high), panel in zip(self.axes, self._ylims, self.signals):
            ax.set_ylim(low, high)
            if panel.ylim is not None and panel.ylabel == "%":
                ax.set_yticks([0, 50, 100])
            else:
                ax.set_yticks([low, (low + high) / 2, high] if low < 0 else [0, high / 2, high])
            ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: f"{v:g}"))
        self.strip.set_ylim(*self._strip_ylim)

    def _draw_background(self) -> None:
        self._apply_limits()
        with matplotlib.rc_context(STYLE):
            self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self.full_draws += 1

    # -- a frame ---------------------------------------------------------------------------------
    def window(self, now_s: float) -> tuple[float, float]:
        """The simulated seconds the charts show at ``now_s``: ``window_s`` ending at the
        first time-label mark at or after now (so now is at most one label step from the
        right edge); the first ``window_s`` of the run until then, the last at the end."""
        step, start = self.step_s, self.clock_start_s
        mark = math.ceil((start + now_s) / step - 1e-9) * step - start
        high = min(self.horizon_s, max(self.window_s, mark))
        return high - self.window_s, high

    def render(
        self,
        now_s: float,
        t_s: np.ndarray,
        series: Mapping[str, np.ndarray],
        events: Sequence[TimelineEvent],
    ) -> bytes:
        """The charts at simulated time ``now_s`` as JPEG bytes (:attr:`FORMAT`).

        ``t_s`` are the start times of the metrics buckets and ``series`` the scenario's
        series over the whole horizon (values at or after ``now_s`` are not drawn);
        ``events`` is the timeline so far."""
        low, high = self.window(now_s)
        t = np.asarray(t_s, dtype=float)
        played = t < now_s
        shown = played & (t >= low - (t[1] - t[0] if len(t) > 1 else 0.0))
        data = []
        for panel in self.signals:
            name, _label = panel.series[0]
            raw = series.get(name)
            values = np.full(len(t), np.nan) if raw is None else np.asarray(raw, dtype=float) * panel.scale
            data.append(values)
        self._update_ranges((low, high), data, shown, played)
        self.canvas.restore_region(self._background)
        self._draw_frame(now_s, low, high, t, data, shown, played, events)
        return self._encode()

    def _update_ranges(self, window, data, shown, played) -> None:
        wanted = [self._want_ylim(p, v[shown], lim) for p, v, lim in zip(self.signals, data, self._ylims)]
        strip = self._want_ylim(self.signals[0], data[0][played], self._strip_ylim)
        if (self._background is None or window != self._shown_window or wanted != self._ylims
                or strip != self._strip_ylim):
            self._ylims, self._strip_ylim, self._shown_window = wanted, strip, window
            self._draw_background()

    def _draw_frame(self, now_s, low, high, t, data, shown, played, events) -> None:
        marks = [e for e in events if low <= e.t_s <= high]
        draw = self.figure.draw_artist
        for i, ax in enumerate(self.axes):
            bottom, top = self._ylims[i]
            self.futures[i].set_bounds(now_s, 0, max(0.0, high - now_s), 1)
            draw(self.futures[i])
            self._set_marks(self.marks[i], marks, bottom, top)
            draw(self.marks[i])
            self.lines[i].set_data(t[shown], data[i][shown])
            draw(self.lines[i])
            self.nows[i].set_xdata([now_s, now_s])
            draw(self.nows[i])
            recent = data[i][played]
            recent = recent[np.isfinite(recent)]
            self.values[i].set_text(_format_value(float(recent[-1]), self.signals[i].ylabel) if recent.size else "")
            draw(self.values[i])
        self.strip_line.set_data(t[played], data[0][played])
        draw(self.strip_line)
        self.strip_window.set_bounds(low, 0, high - low, 1)
        draw(self.strip_window)
        self.strip_now.set_xdata([now_s, now_s])
        draw(self.strip_now)

    @staticmethod
    def _set_marks(collection: LineCollection, events, bottom: float, top: float) -> None:
        styles = [EVENT_STYLES.get(e.kind, EVENT_STYLES["event"]) for e in events]
        collection.set_segments([[(e.t_s, bottom), (e.t_s, top)] for e in events])
        if styles:
            collection.set_color([c for c, _ in styles])
            collection.set_linestyle([s for _, s in styles])

    def _encode(self) -> bytes:
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="jpeg", quality=90, subsampling=0)
        return buffer.getvalue()

    def close(self) -> None:
        """Let go of the figure (the console makes a new chart when it restarts)."""
        self.figure.clear()
