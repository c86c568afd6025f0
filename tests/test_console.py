"""The commander console, driven in plain Python as its controls would drive it.

Buttons are "clicked" with ``ipywidgets.Button.click()``, which runs the same handlers
a click in the browser runs; what the learner would see is read back from the
widgets' values. Time that runs by itself is tested twice: frame by frame (what a
script without an event loop does) and with a real :mod:`asyncio` event loop, the way
the kernel runs it. The browser itself is tested in test_browser.py.

Scenario-agnostic tests run over every scenario in the registry.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys

import pytest

from simkit import scenarios
from simkit.commander.console import Console
from simkit.commander.console_text import meter_html
from simkit.commander.engine import Incident, Plan, score
from simkit.commander.headline import HeadlineChart, nice_ceiling, time_steps
from simkit.commander.plan_table import parse_time
from simkit.commander.player import frame_plan
from simkit.scenarios.base import ScenarioModel

SCENARIOS = scenarios.names()
STAMP = re.compile(r"^(?:[A-Za-z]+(?: \d+)? )?\d\d:\d\d:\d\d$")


def _console(name: str, **kwargs) -> Console:
    kwargs.setdefault("debrief", False)
    return Console(name, **kwargs)


def _paged(console: Console) -> Console:
    """Advance the console tick by tick (clicks on "+1") until the on-call engineer is paged."""
    while not console.incident.model.paged:
        console.view.advance_1.click()
    return console


def _plan_from_line(line: str) -> list:
    namespace: dict = {}
    exec(line, {}, namespace)  # the line a learner pastes into an answer cell
    return namespace["PLAN"]


def _delayed_action(console: Console) -> str:
    """An action that can be taken now and takes effect later (the first one)."""
    model = console.incident.model
    for name, reason in console.incident.available().items():
        if reason is None and model.actions[name].delay_s(model.params) > 0:
            return name
    pytest.fail(f"{console.scenario}: no delayed action can be taken at the page")


def _play(console: Console) -> None:
    """A short game any scenario allows, by clicking: to the page, act, step, act again."""
    _paged(console)
    console.view.advance_1.click()
    for turn in range(2):
        free = [name for name, reason in console.incident.available().items() if reason is None]
        if free:
            console.view.actions[free[turn % len(free)]].click()
        console.view.advance_1.click()


@pytest.fixture(scope="module", params=SCENARIOS)
def played(request) -> Console:
    """One console per scenario, after :func:`_play` and a click on "Run to end"."""
    console = _console(request.param, seed=3)
    _play(console)
    console.view.run_end.click()
    return console


# -- settings ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_declares_usable_console_settings(name):
    model = scenarios.get(name)()
    settings = model.console_settings()
    assert 1 <= len(settings.signals) <= 3
    drawn = {s for panel in model.panels for s, _ in panel.series}
    assert all(len(p.series) == 1 and p.series[0][0] in drawn for p in settings.signals)
    assert 0 < settings.window_s <= model.horizon_s
    assert list(settings.speeds) == sorted(settings.speeds) and all(s > 0 for s in settings.speeds)


def test_console_settings_default_from_panels_and_say_what_is_wrong():
    base = scenarios.get("dynamodb-2015")

    class Plain(base):
        headline_series = ()
        headline_window_s = None
        play_speeds = ()

    settings = Plain().console_settings()
    assert [p.series[0][0] for p in settings.signals] == [p.series[0][0] for p in base.panels[:3]]
    assert settings.speeds == (60.0, 240.0, 960.0)
    assert settings.window_s == max(20 * base.tick_s, Plain().horizon_s / 4)

    class Wrong(base):
        headline_series = ("error_rate", "no_such_series")

    with pytest.raises(ValueError, match="headline series 'no_such_series' is not drawn by any panel"):
        Wrong().console_settings()

    class Backwards(base):
        play_speeds = (240.0, 60.0)

    with pytest.raises(ValueError, match="play_speeds .* slowest first"):
        Backwards().console_settings()
    assert issubclass(base, ScenarioModel)


# -- time --------------------------------------------------------------------------------------
@pytest.mark.parametrize("speed, tick, expected", [
    (60, 60, (1, 1.0)), (240, 60, (1, 0.25)), (960, 60, (4, 0.25)),
    (5, 5, (1, 1.0)), (30, 5, (2, 1 / 3)), (600, 600, (1, 1.0)),
])
def test_a_frame_advances_whole_ticks_at_the_chosen_speed(speed, tick, expected):
    ticks, interval = frame_plan(speed, tick)
    assert ticks == expected[0] and interval == pytest.approx(expected[1])
    assert ticks * tick / interval == pytest.approx(speed)  # simulated s per wall-clock s


def test_bad_speeds_are_refused_by_name():
    console = _console("retry-storm")
    with pytest.raises(ValueError, match=r"speed = 7 is not allowed: choose one of 5, 15, 30"):
        console.set_speed(7)
    with pytest.raises(ValueError, match="speed = 0"):
        frame_plan(0, 5)


@pytest.mark.parametrize("name", SCENARIOS)
def test_steps_move_the_clock_label_in_the_clocks_own_format(name):
    console = _console(name)
    model = console.incident.model
    start = console.view.clock.value
    console.view.advance_1.click()
    assert model.now == pytest.approx(model.tick_s)
    console.view.advance_10.click()
    assert model.now == pytest.approx(11 * model.tick_s)
    assert console.view.clock.value != start
    assert html.escape(model.world.stamp()) in console.view.clock.value
    assert "since the start" in console.view.clock.value


def test_play_without_an_event_loop_runs_frame_by_frame_and_pause_stops_it():
    console = _console("dynamodb-2015", pause_on_page=False)
    console.view.play.click()
    assert console.playing and console.view.play.description == "‖ Pause"
    assert "call console.frame()" in console.status
    console.set_speed(960.0)  # 16 min/s: four one-minute ticks a frame
    assert console.view.speed.value == 960.0
    assert console.frame() and console.incident.model.now == 4 * 60
    console.view.play.click()  # pause
    assert not console.playing and console.view.play.description == "▶ Play"
    assert "paused at 02:04:00" in console.status


def test_play_runs_by_itself_in_an_event_loop_and_pause_stops_it():
    """The kernel's case: an asyncio loop runs; play() starts a task that plays frames."""

    async def game() -> tuple[float, float, float]:
        console = _console("retry-storm", pause_on_page=False)
        console.set_speed(30.0)  # two 5-s ticks every 1/3 s
        console.play()
        await asyncio.sleep(1.2)
        moved = console.incident.model.now
        console.pause()
        stopped = console.incident.model.now
        await asyncio.sleep(0.8)
        return moved, stopped, console.incident.model.now

    moved, stopped, later = asyncio.run(game())
    assert moved >= 10.0, "the clock did not move by itself"
    assert later == stopped, "the clock moved after pause"


def test_only_one_console_plays_at_a_time():
    first = _console("retry-storm")
    first.play()
    second = _console("retry-storm")  # re-running the cell makes a new console
    assert not first.playing and "paused" in first.status
    second.play()
    first.play()
    assert first.playing and not second.playing


def test_play_pauses_at_the_page_so_the_alarm_is_a_moment_to_decide():
    console = _console("dynamodb-2015")
    console.play()
    frames = 0
    while console.frame():
        frames += 1
    model = console.incident.model
    assert not console.playing and model.paged and model.now == model.page_s
    assert "you are paged" in console.status
    assert "PAGED at 02:27:00" in console.view.alarm.value and "customer error rate at or above 5%" in console.view.alarm.value
    assert frames == 26  # one-minute frames from 02:00 to the page at 02:27


def test_play_stops_at_the_end_and_the_card_appears():
    console = _console("retry-storm", pause_on_page=False)
    console.set_speed(30.0)
    console.play()
    while console.frame():
        pass
    assert console.incident.finished and not console.playing
    assert console.view.play.disabled and console.view.tab == "Score card"
    assert "/ 100" in console.view.score.value


def test_the_space_bar_widget_clicks_the_play_button_of_this_console():
    console = _console("retry-storm")
    keys = console.view.keys
    assert keys in console.widget.children
    assert (keys.root_class, keys.button_class) == ("cascade-console", "cascade-play")
    assert "cascade-play" in console.view.play._dom_classes
    assert "cascade-console" in console.widget._dom_classes


# -- honest status -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_refused_action_shows_its_reason(name):
    console = _console(name)
    for action, reason in console.incident.available().items():  # every button says why (not)
        button = console.view.actions[action]
        assert button.disabled == (reason is not None)
        assert f"[plan: {action}]" in button.tooltip  # the plan identifier, always
    refused = {a: r for a, r in console.incident.available().items() if r is not None}
    assert all(r.startswith("nothing has alerted yet") for r in refused.values()) and refused
    action, reason = next(iter(refused.items()))
    log_before = len(console.incident.log)
    console.view.actions[action].click()  # a click that reaches the kernel anyway is refused
    assert html.escape(reason) in console.status and "cannot" in console.status and "✘" in console.status
    assert len(console.incident.log) == log_before + 1 and reason in console.incident.log[-1]
    assert console.incident.plan == Plan([(0, action)])  # tried, so it replays (and costs) the same


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_delayed_action_is_pending_with_a_countdown_then_done_or_failed(name):
    console = _paged(_console(name))
    model = console.incident.model
    action = _delayed_action(console)
    console.view.actions[action].click()
    record = console.incident.records[-1]
    stamp = model.world.stamp
    assert record.status == "pending"
    assert "under way" in console.status and f"Takes effect at {stamp(record.due_s)}" in console.status
    assert "✔" not in console.status
    assert stamp(record.due_s) in console.view.pending.value
    while record.status == "pending":
        console.view.advance_1.click()
    if record.status == "failed":
        assert "FAILED" in console.status and html.escape(record.message) in console.status
        assert "✔" not in console.status
    else:
        assert "✔" in console.status and "done at" in console.status
    assert console.view.pending.value == "" or stamp(record.due_s) not in console.view.pending.value


def test_a_failed_capacity_request_shows_as_failed_never_as_a_success():
    console = _paged(_console("dynamodb-2015", seed=0))
    console.view.actions["add_capacity"].click()
    assert "under way since 02:27:00: administrative request sent" in console.status
    assert "Takes effect at 02:28:00 (in 1 min)" in console.status
    console.view.advance_1.click()
    assert "Add metadata capacity [add_capacity] FAILED at 02:28:00" in console.status
    assert "did not answer the admin request" in console.status
    console.view.advance_1.click()
    assert "FAILED" in console.status  # still true a tick later: the line follows the record
    assert "✘ failed" in console.view.plan_table.rows[0].status.value
    console.run_to_end()
    assert "add_capacity at 02:27:00: the metadata service did not answer" in console.view.score.value


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_log_is_in_causal_order_in_one_time_format(name):
    console = _paged(_console(name))
    action = _delayed_action(console)
    console.take(action)
    console.advance(20)
    entries = console.incident.entries
    assert [e.t_s for e in entries] == sorted(e.t_s for e in entries)
    assert all(STAMP.match(line.split("  ")[0]) for line in console.incident.log)
    kinds = [e.kind for e in entries]
    assert "page" in kinds and kinds.index("page") < kinds.index("action")
    assert html.escape(console.incident.model.world.stamp(console.incident.model.page_s)) in console.view.log.value


# -- plan: edit, replay, undo -------------------------------------------------------------------
def test_the_plan_line_reads_times_as_the_clock_does_and_replays_to_the_same_score(played):
    line = played.plan_line
    assert len(played.incident.plan) >= 1, "the scripted game took no action"
    assert played.view.plan.value == line
    assert all(isinstance(at, str) and STAMP.match(at) for at, _ in _plan_from_line(line))
    card = played.score_card()
    graded = score(played.scenario, _plan_from_line(line), seed=played.seed)
    assert graded.to_dict() == {**card.to_dict(), "debrief": []}
    assert score(played.scenario, played.incident.plan, seed=played.seed).score == card.score


def test_the_score_meter_shows_the_card_at_the_end(played):
    card = played.score_card()
    assert played.view.meter.value == meter_html(card, final=True)
    shown = played.view.score.value
    assert f"{card.score:g} / 100" in shown and card.band in shown
    for component in card.components:
        assert html.escape(component.name) in played.view.meter.value
        assert f"<b>{component.earned:g}</b>/{component.points:g}" in played.view.meter.value


def test_the_score_meter_is_the_rubric_so_far_while_playing():
    console = _paged(_console("dynamodb-2015"))
    console.advance(30)
    so_far = console.incident.model.score_card()
    assert console.view.meter.value == meter_html(so_far, final=False)
    assert "Score if it ended now" in console.view.meter.value


def test_after_the_end_only_restart_replay_and_undo_are_possible(played):
    view = played.view
    assert view.advance_1.disabled and view.advance_10.disabled and view.run_end.disabled and view.play.disabled
    assert all(button.disabled for button in view.actions.values())
    assert all("the incident is over" in button.tooltip for button in view.actions.values())
    assert not view.restart.disabled and not view.replay.disabled and not view.undo.disabled


def _edit_time(console: Console, row: int, text: str) -> None:
    console.view.plan_table.rows[row].time.value = text


def test_editing_a_step_and_replaying_changes_the_score_to_the_graders():
    console = _paged(_console("dynamodb-2015"))
    console.take("pause_renewals")
    console.advance(27)
    console.take("add_capacity")
    console.advance(4)
    console.take("resume_renewals")
    console.run_to_end()
    before = console.score_card().score
    assert [row.time.value for row in console.view.plan_table.rows] == ["02:27:00", "02:54:00", "02:58:00"]
    _edit_time(console, 0, "03:30")
    assert console.view.plan_table.dirty and "Replay from the start" in console.view.plan_note.value
    assert not console.playing
    console.view.replay.click()
    assert "replayed your plan from the start up to 08:00:00" in console.status
    edited = [("03:30", "pause_renewals"), ("02:54:00", "add_capacity"), ("02:58:00", "resume_renewals")]
    graded = score("dynamodb-2015", edited, seed=0)
    after = console.score_card()
    assert after.score == graded.score < before - 50  # pausing an hour late: the loop runs on
    assert console.incident.plan.to_data() == [[54, "add_capacity"], [58, "resume_renewals"],
                                               [90, "pause_renewals"]]
    assert not console.view.plan_table.dirty and [r.time.value for r in console.view.plan_table.rows][-1] == "03:30:00"


def test_changing_a_steps_action_adding_and_removing_rows_then_replaying():
    console = _paged(_console("retry-storm"))
    console.take("pause_clients")
    console.advance(2)
    table = console.view.plan_table
    table.rows[0].action.value = "shed_load"
    console.view.add_step.click()
    assert table.rows[1].time.value == console.incident.clock
    table.rows[1].action.value = "retry_budget"
    console.view.add_step.click()
    table.rows[2].remove.click()
    assert len(table.rows) == 2
    assert console.replay()
    assert [s.action for s in console.incident.plan.steps] == ["shed_load", "retry_budget"]
    assert console.incident.model.now == 75.0  # back where the clock was


def test_a_bad_edit_is_refused_with_the_row_and_nothing_changes():
    console = _paged(_console("retry-storm"))
    console.take("shed_load")
    plan, now = console.incident.plan.to_data(), console.incident.model.now
    _edit_time(console, 0, "half past one")
    assert console.replay() is False
    assert "cannot replay: step 1: time &#x27;half past one&#x27; is not allowed" in console.status
    assert console.incident.plan.to_data() == plan and console.incident.model.now == now
    console.view.discard.click()
    assert not console.view.plan_table.dirty and console.view.plan_table.rows[0].time.value == "00:01:05"


def test_undo_takes_back_the_last_action_and_keeps_the_clock():
    console = _paged(_console("retry-storm", seed=2))
    console.take("shed_load")
    console.advance(4)
    console.take("pause_clients")
    console.advance(3)
    now = console.incident.model.now
    console.view.undo.click()
    assert console.incident.model.now == now
    assert [s.action for s in console.incident.plan.steps] == ["shed_load"]
    assert "took back Pause clients [pause_clients]" in console.status
    assert "operator: Pause clients" not in "\n".join(console.incident.log)
    console.run_to_end()
    assert console.score_card().score == score("retry-storm", _plan_from_line(console.plan_line), seed=2).score
    console.view.undo.click()
    console.view.undo.click()
    assert "nothing to undo" in console.status and console.view.undo.disabled


def test_replay_from_the_start_of_a_played_game_equals_the_game():
    """Frames, clicks and a speed change: replaying the resulting plan gives the same run."""
    console = _console("retry-storm", seed=4, pause_on_page=True)
    console.play()
    while console.frame():
        pass
    console.take("shed_load")
    console.set_speed(30.0)
    console.play()
    for _ in range(5):
        console.frame()
    console.take("retry_budget")
    console.play()
    while console.frame():
        pass
    played = console.incident.result().digest()
    card = console.score_card().to_dict()
    console.replay()
    assert console.incident.result().digest() == played
    assert console.score_card().to_dict() == card


def test_restart_starts_a_fresh_incident():
    console = _console("retry-storm", seed=5)
    console.view.advance_10.click()
    console.take("pause_clients")
    console.view.restart.click()
    assert console.incident.model.now == 0 and console.incident.plan == Plan()
    assert console.view.plan.value == "PLAN = []" and console.incident.model.seed == 5
    assert "How you are scored" in console.view.score.value


# -- the engine's side ----------------------------------------------------------------------------
def test_incident_replay_and_undo_agree_with_the_grader():
    incident = Incident("dynamodb-2015", seed=1)
    incident.replay([("02:40", "pause_renewals"), ("02:43", "add_capacity")], until_s=3 * 3600)
    assert incident.model.now == 3 * 3600
    assert incident.plan.to_data() == [[40, "pause_renewals"], [43, "add_capacity"]]
    assert incident.clock_plan().to_data() == [["02:40:00", "pause_renewals"], ["02:43:00", "add_capacity"]]
    assert incident.undo() is not None and incident.plan.to_data() == [[40, "pause_renewals"]]
    assert incident.model.now == 3 * 3600
    assert incident.score_card().to_dict() == score("dynamodb-2015", [(40, "pause_renewals")], seed=1).to_dict()
    with pytest.raises(ValueError, match="is not an action of dynamodb-2015"):
        incident.replay([("02:40", "reboot")])


@pytest.mark.parametrize("text, expected", [
    ("02:40:00", 40 * 60.0), ("02:40", 40 * 60.0), ("40", 40 * 60.0), ("40.5", 40.5 * 60), (" 07:59:00 ", 359 * 60.0),
])
def test_plan_table_times_are_read_as_the_clock_writes_them(text, expected):
    world = scenarios.get("dynamodb-2015")().world
    assert parse_time(text, world) == expected


@pytest.mark.parametrize("text, message", [
    ("25:00", "is not allowed: write the time"), ("soon", "is not allowed: write the time"),
    ("09:00", "the incident runs from 02:00:00 to 08:00:00"), ("nan", "is not allowed"),
    ("Tue 02:40:00", "the day must be one of"),
])
def test_bad_plan_table_times_get_one_line_messages(text, message):
    world = scenarios.get("dynamodb-2015")().world
    with pytest.raises(ValueError, match=message):
        parse_time(text, world)


def test_days_are_read_for_runs_that_cross_midnight():
    world = scenarios.get("dynamodb-2015")().world
    world.horizon_s = 30 * 3600.0  # pretend the run is longer than a day
    world.day_names = ("Sun", "Mon")
    assert world.stamp(23 * 3600) == "Mon 01:00:00"
    assert parse_time("Mon 01:00:00", world) == 23 * 3600
    assert parse_time("day 2 01:00:00", world) == 23 * 3600
    assert parse_time("01:00:00", world) == 23 * 3600  # the first 01:00 after the start


# -- pictures -------------------------------------------------------------------------------------
def test_headline_charts_redraw_only_what_moves():
    model = scenarios.get("dynamodb-2015")()
    chart = HeadlineChart(model.console_settings(), horizon_s=model.horizon_s,
                          clock_start_s=model.world.clock_start_s, stamp=model.world.stamp)
    pictures = set()
    for minute in range(5, 365, 5):
        model.advance_to(minute * 60.0)
        series = model.world.metrics.series()
        series.update(model.extra_series())
        picture = chart.render(model.now, model.world.metrics.times(), series, model.world.timeline.events)
        assert picture[:3] == b"\xff\xd8\xff" and chart.FORMAT == "jpeg"
        pictures.add(picture)
    assert len(pictures) == 72  # every frame shows something new
    # the window steps on every 20 minutes (its label spacing): 15 steps in six hours, plus
    # a few y-range changes; never every frame
    assert chart.step_s == 1200 and chart.full_draws <= 24
    assert chart.window(0) == (0, 5400) and chart.window(3 * 3600) == (3 * 3600 - 5400, 3 * 3600)
    assert chart.window(3 * 3600 + 60) == (3 * 3600 + 1200 - 5400, 3 * 3600 + 1200)
    assert chart.window(model.horizon_s) == (model.horizon_s - 5400, model.horizon_s)


@pytest.mark.parametrize("value, ceiling", [(0.7, 1), (1, 1), (13, 20), (21, 25), (4800, 5000), (0, 1)])
def test_y_ranges_and_time_labels_are_round(value, ceiling):
    assert nice_ceiling(value) == ceiling
    assert time_steps(5400) == 1200 and time_steps(120) == 30


def test_redraws_leave_no_figure_open_and_time_their_parts():
    console = _console("retry-storm")
    first = console.view.headline.value
    console.advance(15)
    console.take("shed_load")
    assert console.view.headline.value[:3] == b"\xff\xd8\xff" and console.view.headline.value != first
    console.view.tabs.selected_index = 2  # the full dashboard, drawn when shown
    assert console.view.dashboard.value[:8] == b"\x89PNG\r\n\x1a\n"
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []
    assert {"engine_s", "chart_s", "refresh_s"} <= set(console.timings)


# -- the end: card and debrief ----------------------------------------------------------------------
@pytest.mark.slow
def test_the_debrief_joins_the_card_without_an_event_loop():
    console = Console("retry-storm", seed=0)
    _paged(console)
    console.advance(6)  # a late shed: the debrief should find an earlier one better
    console.take("shed_load")
    console.run_to_end()
    card = console.score_card()
    assert card.debrief and "Debrief" in console.view.score.value
    assert html.escape(card.debrief[0]) in console.view.score.value


@pytest.mark.slow
def test_the_debrief_runs_in_the_background_when_an_event_loop_runs():
    async def game():
        console = Console("retry-storm", seed=0)
        _paged(console)
        console.take("shed_load")
        console.run_to_end()
        waiting = console.view.score.value
        for _ in range(600):  # up to a minute on a busy machine
            if console.score_card().debrief:
                break
            await asyncio.sleep(0.1)
        return waiting, console

    waiting, console = asyncio.run(game())
    assert "replaying a few variants of your plan" in waiting
    assert console.score_card().debrief and "replaying a few variants" not in console.view.score.value


# -- reading it -----------------------------------------------------------------------------------------
def test_params_reach_the_model_and_bad_ones_are_rejected():
    console = _console("retry-storm", params={"workers": 14})
    assert console.incident.model.params.workers == 14
    with pytest.raises(TypeError, match="wrkers"):
        Console("retry-storm", params={"wrkers": 14})


def test_insert_plan_asks_ipython_for_a_new_cell(monkeypatch):
    import IPython

    calls = []

    class Shell:
        def set_next_input(self, text, replace=False):
            calls.append((text, replace))

    console = _paged(_console("retry-storm"))
    console.take("shed_load")
    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    assert console.insert_plan() is None  # nothing echoed under the cell
    assert calls == [("PLAN = [('00:01:05', 'shed_load')]", False)]


def test_insert_plan_prints_the_line_outside_ipython(capsys):
    console = _paged(_console("retry-storm"))
    console.take("pause_clients")
    console.insert_plan()
    assert capsys.readouterr().out.strip() == "PLAN = [('00:01:05', 'pause_clients')]"


def test_display_gives_a_widget_view_and_a_text_fallback():
    console = _console("retry-storm")
    bundle = console._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == console.widget.model_id
    assert "retry-storm" in bundle["text/plain"]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_console_builds_and_plays_in_a_headless_kernel(tmp_path):
    """What autograding does: run a notebook with a console in it, no frontend at all."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from simkit.commander.console import Console\n"
            "console = Console('retry-storm', seed=0)\nconsole"
        ),
        nbformat.v4.new_code_cell(
            "console.advance(13)\nconsole.take('shed_load')\nconsole.run_to_end()\n"
            "print(console.plan_line)\nprint(console.score_card().band)"
        ),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = [o for o in nb.cells[0].outputs if o["output_type"] == "execute_result"]
    assert len(shown) == 1 and "application/vnd.jupyter.widget-view+json" in shown[0]["data"]
    printed = "".join(o.get("text", "") for o in nb.cells[1].outputs if o["output_type"] == "stream")
    assert "PLAN = [('00:01:05', 'shed_load')]" in printed
