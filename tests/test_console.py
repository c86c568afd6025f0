"""The commander console, driven in plain Python as its buttons would drive it.

Buttons are "clicked" with ``ipywidgets.Button.click()``, which runs the same
handlers a click in the browser runs; what the learner would see is read back
from the widgets' values. The browser itself is tested in test_browser.py.
"""

from __future__ import annotations

import html
import sys

import pytest

from simkit import scenarios
from simkit.commander.console import Console
from simkit.commander.console_view import PENDING_SCORE
from simkit.commander.engine import Plan, score

SCENARIOS = scenarios.names()


def _play(console: Console) -> None:
    """A short game any scenario allows: wait, act, wait, act again, by clicking.

    The wait is 11 ticks, so with ticks shorter than a minute the actions fall
    between round minutes, as they do when a learner clicks "+1 tick" a few times.
    """
    view = console.view
    _paged(console)
    view.advance_1.click()
    for turn in range(2):
        free = [name for name, reason in console.incident.available().items() if reason is None]
        if free:
            view.actions[free[turn % len(free)]].click()
        view.advance_1.click()


@pytest.fixture(scope="module", params=SCENARIOS)
def played(request) -> Console:
    """One console per scenario, after :func:`_play` and a click on "Run to end"."""
    console = Console(request.param, seed=3)
    _play(console)
    console.view.run_end.click()
    return console


def _paged(console: Console) -> Console:
    """Advance the console tick by tick until the on-call engineer is paged."""
    while not console.incident.model.paged:
        console.view.advance_1.click()
    return console


def _plan_from_line(line: str) -> list:
    namespace: dict = {}
    exec(line, {}, namespace)  # the line a learner pastes into an answer cell
    return namespace["PLAN"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_advance_moves_the_clock_label(name):
    console = Console(name)
    model = console.incident.model
    start = console.view.clock.value
    console.view.advance_1.click()
    assert model.now == pytest.approx(model.tick_s)
    after_one = console.view.clock.value
    assert after_one != start
    console.view.advance_10.click()
    assert model.now == pytest.approx(11 * model.tick_s)
    assert console.view.clock.value not in (start, after_one)
    # The label says the time of day to the second and the time since the start.
    seconds = int(model.world.clock_start_s + model.now) % 86400
    assert f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" in console.view.clock.value
    assert "since the start" in console.view.clock.value


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_refused_action_shows_its_reason(name):
    console = Console(name)
    for action, reason in console.incident.available().items():  # every button says why (not)
        button = console.view.actions[action]
        assert button.disabled == (reason is not None)
        if reason is None:
            assert console.incident.model.actions[action].description in button.tooltip
    refused = {a: r for a, r in console.incident.available().items() if r is not None}
    assert all(r.startswith("nothing has alerted yet") for r in refused.values()) and refused
    action, reason = next(iter(refused.items()))
    button = console.view.actions[action]
    assert button.disabled
    assert reason in button.tooltip
    log_before = list(console.incident.log)
    button.click()  # a click that reaches the kernel anyway must be refused, not obeyed
    assert html.escape(reason) in console.status
    assert "cannot" in console.status
    assert len(console.incident.log) == len(log_before) + 1
    assert reason in console.incident.log[-1]
    assert console.incident.plan == Plan([(0, action)])  # tried, so it replays (and costs) the same


def test_retry_storm_refuses_shedding_twice():
    console = _paged(Console("retry-storm"))
    shed = console.view.actions["shed_load"]
    assert not shed.disabled
    shed.click()
    assert shed.disabled
    assert "already" in shed.tooltip
    assert "✔" in console.status
    shed.click()
    assert "cannot shed stale requests" in console.status
    assert console.incident.plan.to_data() == [[1.083, "shed_load"], [1.083, "shed_load"]]


def test_the_plan_line_is_the_incidents_plan(played):
    plan = played.incident.plan
    assert len(plan) >= 1, "the scripted game took no action"
    assert played.view.plan.value == plan.to_python() == played.plan_line
    assert Plan(_plan_from_line(played.view.plan.value)) == plan


def test_the_score_card_appears_at_the_end_and_matches_the_grader(played):
    card = played.score_card()
    assert card is not None
    shown = played.view.score.value
    assert shown != PENDING_SCORE
    assert f"{card.score:g} / 100" in shown
    assert card.band in shown
    assert card.verdict.split(":")[0] in shown
    # The grader replays the pasted line on a fresh model with the same seed:
    graded = score(played.scenario, _plan_from_line(played.view.plan.value), seed=played.seed)
    assert [a["status"] != "refused" for a in graded.actions] == [True] * len(played.incident.plan)
    assert graded.to_dict() == card.to_dict()


def test_after_the_end_only_restart_is_possible(played):
    view = played.view
    assert view.advance_1.disabled and view.advance_10.disabled and view.run_end.disabled
    assert all(button.disabled for button in view.actions.values())
    assert all("the incident is over" in button.tooltip for button in view.actions.values())
    assert not view.restart.disabled


def test_restart_starts_a_fresh_incident():
    console = Console("retry-storm", seed=5)
    console.view.advance_10.click()
    console.take("pause_clients")
    console.view.restart.click()
    assert console.incident.model.now == 0
    assert console.incident.plan == Plan()
    assert console.view.plan.value == "PLAN = []"
    assert console.view.score.value == PENDING_SCORE
    assert console.incident.model.seed == 5


def test_the_log_shows_new_lines_last_and_escapes_html():
    console = _paged(Console("retry-storm"))
    console.take("pause_clients")
    log = console.view.log.value
    assert "operator: Pause clients" in log
    assert log.index("incident begins") < log.index("operator: Pause clients")
    console.take("not_an_action")
    assert "&#x27;not_an_action&#x27;" in console.view.log.value  # quotes escaped, not raw HTML


def test_params_reach_the_model_and_bad_ones_are_rejected():
    console = Console("retry-storm", params={"workers": 14})
    assert console.incident.model.params.workers == 14
    with pytest.raises(TypeError, match="wrkers"):
        Console("retry-storm", params={"wrkers": 14})


def test_insert_plan_asks_ipython_for_a_new_cell(monkeypatch):
    import IPython

    calls = []

    class Shell:
        def set_next_input(self, text, replace=False):
            calls.append((text, replace))

    console = _paged(Console("retry-storm"))
    console.take("shed_load")
    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    assert console.insert_plan() is None  # nothing echoed under the cell
    assert calls == [("PLAN = [(1.083, 'shed_load')]", False)]


def test_insert_plan_prints_the_line_outside_ipython(capsys):
    console = _paged(Console("retry-storm"))
    console.take("pause_clients")
    console.insert_plan()
    assert capsys.readouterr().out.strip() == "PLAN = [(1.083, 'pause_clients')]"


def test_display_gives_a_widget_view_and_a_text_fallback():
    console = Console("retry-storm")
    bundle = console._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == console.widget.model_id
    assert "retry-storm" in bundle["text/plain"]


def test_redraws_leave_no_figure_open():
    console = Console("retry-storm")
    first = console.view.dashboard.value
    console.advance(5)
    console.take("shed_load")
    assert console.view.dashboard.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert console.view.dashboard.value != first
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []
    assert set(console.timings) == {"engine_s", "draw_s"}


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
            "console = Console('retry-storm')\nconsole"
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
    assert "PLAN = [(1.08" in printed and "shed_load" in printed
