"""Dashboards and sweep plots: structure, timeline annotations, runs in progress, NaN.

Most tests use a Result built by hand, so they do not depend on any scenario's
numbers; the last one draws every real scenario's default run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import simkit
from simkit import plots
from simkit.metrics import TimelineEvent
from simkit.result import Result
from simkit.scenarios import Panel, names

MINUTE = 60.0


def hand_result(clock_start_s: float = 2 * 3600, scenario: str = "hand-made") -> Result:
    """Two hours in one-minute buckets: errors climb after a trigger, fall after an action."""
    t = np.arange(0, 120 * MINUTE, MINUTE)
    errors = np.where((t >= 20 * MINUTE) & (t < 90 * MINUTE), 0.5, 0.01)
    queue = 10 + 5 * np.sin(t / 600.0)
    queue[40:45] = np.nan  # a gap in a gauge
    timeline = [
        TimelineEvent(20 * MINUTE, "network disruption", "trigger"),
        TimelineEvent(30 * MINUTE, "errors at 50%", "failure"),
        TimelineEvent(30 * MINUTE, "operator: add capacity", "action"),
        TimelineEvent(90 * MINUTE, "errors back to normal", "recovery"),
    ]
    return Result(
        scenario=scenario, seed=3, params={}, t_s=t,
        series={"error_rate": errors, "queue": queue},
        timeline=timeline, summary={}, clock_start_s=clock_start_s,
    )


PANELS = [
    Panel("Customer errors", [("error_rate", "error rate")], "% failing", scale=100, ylim=(0, 100)),
    Panel("Queue", [("queue", "queued requests")], "requests"),
]


def texts_of(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def vertical_lines(ax) -> list:
    """Lines drawn at one x over the whole height (axvline): the timeline markers."""
    return [ln for ln in ax.lines if len(set(ln.get_xdata())) == 1 and list(ln.get_ydata()) == [0, 1]]


def test_one_axes_per_panel_sharing_the_time_axis():
    fig = plots.dashboard(hand_result(), PANELS)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == len(PANELS)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["Customer errors", "Queue"]
    top, bottom = fig.axes
    assert top.get_shared_x_axes().joined(top, bottom)
    assert top.get_ylim() == (0, 100)
    # the error rate is scaled to percent
    (line,) = [ln for ln in top.lines if ln.get_label() == "error rate"]
    assert np.nanmax(line.get_ydata()) == pytest.approx(50.0)


def test_figure_is_not_registered_with_pyplot_and_renders_to_png():
    fig = plots.dashboard(hand_result(), PANELS)
    assert fig.canvas.manager is None  # not in pyplot's list of open figures: nothing leaks
    png = fig._repr_png_()
    assert png.startswith(b"\x89PNG")
    assert plots.png_bytes(fig, dpi=50).startswith(b"\x89PNG")


def test_timeline_is_annotated_with_lines_coloured_by_kind_and_labels():
    result = hand_result()
    fig = plots.dashboard(result, PANELS)
    for ax in fig.axes:
        lines = vertical_lines(ax)
        assert len(lines) == len(result.timeline)
        by_x = {}
        for ln in lines:
            by_x.setdefault(ln.get_xdata()[0], set()).add(to_hex(ln.get_color()).upper())
        assert plots.KIND_COLORS["trigger"].upper() in by_x[20.0]
        assert {plots.KIND_COLORS["failure"].upper(), plots.KIND_COLORS["action"].upper()} <= by_x[30.0]
        assert plots.KIND_COLORS["recovery"].upper() in by_x[90.0]
    labels = [t.get_text() for t in fig.axes[0].texts]
    for event in result.timeline:
        assert event.label in labels


def test_labels_at_the_same_time_go_on_different_rows():
    fig = plots.dashboard(hand_result(), PANELS)
    offsets = {t.get_text(): t.xyann[1] for t in fig.axes[0].texts}
    assert offsets["errors at 50%"] != offsets["operator: add capacity"]


def test_a_busy_timeline_gets_numbers_and_a_key_instead_of_overlapping_labels():
    result = hand_result()
    for i in range(8):  # eight actions within ten minutes: their labels cannot all fit
        result.timeline.append(TimelineEvent((50 + i) * MINUTE, f"operator: action number {i}", "action"))
    fig = plots.dashboard(result, PANELS)
    at_lines = [t.get_text() for t in fig.axes[0].texts]
    assert sorted(at_lines, key=int) == [str(i) for i in range(1, len(result.timeline) + 1)]
    key = [t.get_text() for t in fig.texts]
    assert "02:20  network disruption" in key
    assert "02:57  operator: action number 7" in key
    plots.png_bytes(fig, dpi=40)


def test_long_labels_are_shortened():
    result = hand_result()
    result.timeline.append(TimelineEvent(60 * MINUTE, "refused: " + "x" * 100, "failure"))
    fig = plots.dashboard(result, PANELS)
    (long_label,) = [t for t in texts_of(fig) if t.startswith("refused")]
    assert len(long_label) < 40 and long_label.endswith("…")


def test_time_axis_shows_time_of_day_or_minutes():
    fig = plots.dashboard(hand_result(clock_start_s=2 * 3600 + 15 * 60), PANELS)
    fig.canvas.draw()  # tick labels are computed on draw
    bottom = fig.axes[-1]
    labels = [t.get_text() for t in bottom.get_xticklabels() if t.get_text()]
    assert labels and all(len(s) == 5 and s[2] == ":" for s in labels)
    assert "02:30" in labels  # ticks fall on round times of day, not on round minutes of the run
    assert bottom.get_xlabel() == "time of day"

    fig = plots.dashboard(hand_result(clock_start_s=0), PANELS)
    assert fig.axes[-1].get_xlabel() == "minutes since start"


def test_until_cuts_the_series_and_hides_later_events():
    result = hand_result()
    fig = plots.dashboard(result, PANELS, until_s=25 * MINUTE)
    top = fig.axes[0]
    (line,) = [ln for ln in top.lines if ln.get_label() == "error rate"]
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(y[x >= 25]).all() and np.isfinite(y[x < 25]).all()
    labels = [t.get_text() for t in top.texts]
    assert "network disruption" in labels
    assert "errors back to normal" not in labels
    assert any(t.startswith("now 02:25") for t in texts_of(fig))
    assert top.patches, "the part not yet played should be shaded"
    assert top.get_xlim() == (0.0, 120.0)  # the whole horizon stays visible


def test_nan_and_missing_series_do_not_break_the_figure():
    result = hand_result()
    result.series["blank"] = np.full(len(result.t_s), np.nan)
    panels = [Panel("Blank", [("blank", "nothing yet")]), Panel("Later", [("not_recorded_yet", "later")])]
    fig = plots.dashboard(result, panels)
    plots.png_bytes(fig, dpi=40)
    assert fig.axes[0].get_ylim() == (0, 1)
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend == ["later (no data)"]


def test_default_panels_for_a_result_of_no_known_scenario():
    fig = plots.dashboard(hand_result(scenario="not-a-scenario"))
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["error_rate", "queue"]
    assert "not-a-scenario" in fig.get_suptitle()


def test_series_names_are_accepted_as_panels_and_titles_can_be_set():
    fig = plots.dashboard(hand_result(), ["queue"], title="My run")
    assert len(fig.axes) == 1 and fig.get_suptitle() == "My run"
    with pytest.raises(TypeError, match="panels must be Panel objects"):
        plots.dashboard(hand_result(), [42])


def test_default_panels_come_from_the_scenario_model(monkeypatch):
    class FakeModel:
        title = "A fake incident"
        panels = [Panel("Only the queue", [("queue", "queue")])]

    monkeypatch.setattr("simkit.scenarios.get", lambda name: FakeModel)
    fig = plots.dashboard(hand_result(scenario="fake"))
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["Only the queue"]
    assert fig.get_suptitle().startswith("A fake incident")


def test_palette_is_okabe_ito():
    assert set(plots.COLORS.values()) == {
        "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
    }
    assert set(plots.SERIES_COLORS) == set(plots.COLORS.values())
    assert set(plots.KIND_COLORS) >= {"trigger", "action", "failure", "recovery", "event"}


def test_sweep_plot_draws_one_line_per_outcome_with_gaps_for_nan():
    fig = plots.sweep_plot(
        [1, 2, 3], {"recovered": [1.0, math.nan, 0.0], "errors": [0.1, 0.2, 0.3]},
        xlabel="GSI factor", ylabel="outcome", hline=0.5, hline_label="target",
    )
    (ax,) = fig.axes
    assert [ln.get_label() for ln in ax.lines[:2]] == ["recovered", "errors"]
    assert ax.get_xlabel() == "GSI factor"
    assert len(ax.lines) == 3  # two outcomes and the reference line
    plots.png_bytes(fig, dpi=40)
    with pytest.raises(ValueError, match="ys\\['errors'\\] has 2 values but xs has 3"):
        plots.sweep_plot([1, 2, 3], {"errors": [0.1, 0.2]})


def test_every_scenario_dashboard_draws_all_its_panels():
    """Each real scenario's panels name series its default run actually records."""
    assert names(), "no scenario module is present"
    for name in names():
        model = simkit.scenario(name)
        result = model.run(seed=0)
        fig = plots.dashboard(result)
        assert len(fig.axes) == len(model.panels), name
        for ax, panel in zip(fig.axes, model.panels):
            legend = [t.get_text() for t in ax.get_legend().get_texts()]
            missing = [label for label in legend if label.endswith("(no data)")]
            assert not missing, f"{name}: panel {panel.title!r} names series the run lacks: {missing}"
