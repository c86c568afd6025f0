"""The ``simkit`` command: parsing by declared kind, one-line errors, run, score, list.

Most tests drive ``main(argv)`` against a tiny scenario defined here (so they are
fast and do not depend on any real scenario's numbers); two run the installed
console script on the real ``retry-storm`` scenario in a subprocess.
"""

from __future__ import annotations

import importlib.machinery
import json
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from simkit import cli, scenarios
from simkit.params import Params, param
from simkit.actions import action
from simkit.outcome import Watch, settled_since
from simkit.rubric import ActionCosts, Component, Rubric
from simkit.scenarios.base import Panel, ScenarioModel
from simkit.world import World


@dataclass(frozen=True)
class TinyParams(Params):
    workers: int = param(4, unit="workers", minimum=1, maximum=100, doc="servers")
    timeout_s: float = param(1.5, unit="s", minimum=0, exclusive_minimum=True, doc="caller timeout")
    jitter: bool = param(False, doc="randomise retries")
    policy: str = param("fifo", choices=("fifo", "lifo"), doc="queue order")


class TinyModel(ScenarioModel):
    """Ten minutes from 02:00; an outage at 02:03 unless someone acts."""

    name = "tiny"
    title = "a tiny test incident"
    Params = TinyParams
    panels = (Panel("Errors", [("errors", "errors")]),)
    page_rule = "the service is down"
    watches = (Watch("service down", lambda m: m.broken, page=True),)
    intended_plan = [(4, "fix")]
    rubric = Rubric(
        components=(Component("down_minutes", "Downtime", "minutes down", "min", 90, full_at=1, zero_at=7),),
        costs=ActionCosts(10, "each fix costs 5"))

    def build(self):
        self.world = World(self.seed, horizon_s=600, bucket_s=60, clock_start_s=2 * 3600)
        self.fixed = False
        self.world.at(180, lambda: self.world.note("outage begins", "trigger"))
        self.world.every(60, self._tick)

    @property
    def broken(self) -> bool:
        return self.world.now >= 180 and not self.fixed

    def _tick(self):
        self.world.metrics.gauge("errors", self.world.now, 1.0 if self.broken else 0.0)

    @action("Fix it", cost=5, description="Repairs the service.")
    def fix(self):
        self.fixed = True
        return "fixed"

    def measure(self):
        errors = self.world.metrics.series()["errors"]
        return {"down_minutes": float(sum(e for e in errors if e == e))}

    def outcome(self, m):
        return "fixed" if self.fixed else "never fixed"

    def summary(self):
        return {"workers": self.params.workers, "jitter": self.params.jitter, "fixed": self.fixed}


@pytest.fixture
def tiny(monkeypatch):
    """Register "tiny" as a scenario, the way the real ones are (a module with a Model)."""
    module = types.ModuleType("simkit.scenarios._tiny_for_tests")
    module.__spec__ = importlib.machinery.ModuleSpec(module.__name__, None)
    module.Params, module.Model, module.run = TinyParams, TinyModel, TinyModel.run
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(scenarios._MODULES, "tiny", "_tiny_for_tests")
    return TinyModel


def run_main(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# -- parsing by declared kind ------------------------------------------------------------------
def test_values_are_parsed_by_declared_kind():
    values = cli.parse_scenario_args(
        TinyParams, ["--workers", "8", "--timeout-s=2.5", "--jitter", "yes", "--policy", "lifo"]
    )
    assert values == {"workers": 8, "timeout_s": 2.5, "jitter": True, "policy": "lifo"}
    assert isinstance(values["workers"], int)


def test_bool_flags_alone_or_negated_and_underscored_names():
    assert cli.parse_scenario_args(TinyParams, ["--jitter"]) == {"jitter": True}
    assert cli.parse_scenario_args(TinyParams, ["--no-jitter", "--timeout_s", "3"]) == {
        "jitter": False, "timeout_s": 3.0}
    assert cli.parse_scenario_args(TinyParams, ["--jitter", "--workers", "2"]) == {"jitter": True, "workers": 2}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--workers", "many"], "workers = 'many' is not allowed: must be an integer"),
        (["--workers", "2.5"], "workers = '2.5' is not allowed"),
        (["--timeout-s", "soon"], "timeout_s = 'soon' is not allowed: must be a number > 0"),
        (["--jitter", "maybe"], "jitter = 'maybe' is not allowed: must be True or False"),
        (["--speed", "3"], "unknown parameter --speed"),
        (["--workers"], "workers needs a value"),
        (["--no-workers"], "only allowed for true/false parameters"),
        (["workers=3"], "unexpected argument 'workers=3'"),
    ],
)
def test_bad_parameter_text_names_the_parameter(args, message):
    with pytest.raises(cli.InputError, match=message.replace("(", r"\(").replace("?", r"\?")):
        cli.parse_scenario_args(TinyParams, args)


# -- run -----------------------------------------------------------------------------------------
def test_run_prints_timeline_summary_and_changed_parameters(tiny, capsys):
    status, out, err = run_main(capsys, "run", "tiny", "--workers", "7", "--seed", "3")
    assert status == 0 and err == ""
    assert "a tiny test incident" in out
    assert "parameters: workers=7" in out
    assert "tiny (seed 3)" in out
    assert "02:03" in out and "outage begins" in out
    assert "workers: 7" in out and "fixed: False" in out


def test_run_with_a_plan_and_a_plot(tiny, capsys, tmp_path):
    png = tmp_path / "tiny.png"
    status, out, _ = run_main(capsys, "run", "tiny", "--plan", '[["02:05", "fix"]]', "--plot", str(png))
    assert status == 0
    assert "operator: Fix it" in out and "02:05" in out
    assert "fixed: True" in out
    assert png.read_bytes().startswith(b"\x89PNG")
    assert f"dashboard written to {png}" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "tiny", "--workers", "0"], "workers = 0 is not allowed: must be an integer >= 1"),
        (["run", "tiny", "--policy", "random"], "policy = 'random' is not allowed: must be one of 'fifo', 'lifo'"),
        (["run", "nosuch"], "unknown scenario 'nosuch'; known scenarios: "),
        (["run", "tiny", "--plan", '[[3, "panic"]]'], "plan action 'panic' is not an action of tiny"),
        (["run", "tiny", "--plan", "[[3, "], "--plan: plan is not valid JSON"),
        (["run", "tiny", "--plan", '[["25:00", "fix"]]'], "plan time '25:00' is not allowed"),
        (["run", "tiny", "--plot", "/no/such/folder/x.png"], "does not exist"),
        (["run", "tiny", "--plot", "out.xyz"], "unknown image type"),
        (["score", "tiny", "--plan", '[[-1, "fix"]]'], "plan time -1 is not allowed"),
        (["score", "tiny", "--plan", '[[11, "fix"]]'], "is after the end of the incident"),
        (["score", "tiny", "--plan", '[["NaN", "fix"]]'], "plan time 'NaN' is not allowed"),
        (["score", "tiny", "--plan", json.dumps([[1, "fix"]] * 51)], "a plan of 51 steps is not allowed"),
    ],
)
def test_bad_input_is_one_line_exit_2(tiny, capsys, argv, message):
    status, out, err = run_main(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"simkit {argv[0]}: error: ")
    assert message in err


def test_usage_errors_exit_2_without_traceback(tiny, capsys):
    for argv in (["run", "tiny", "--seed", "-1"], ["frobnicate"], [], ["list", "extra"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and "error:" in err


def test_run_help_lists_scenarios_with_parameters_units_and_defaults(tiny, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "tiny: a tiny test incident" in out
    assert "--timeout-s (default 1.5) [s]: caller timeout" in out
    assert "--policy (default 'fifo'): queue order (one of: fifo, lifo)" in out
    assert "plan actions: fix" in out


def test_list_names_every_scenario(tiny, capsys):
    status, out, _ = run_main(capsys, "list")
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == len(scenarios.names())
    assert any(line.split()[0] == "tiny" and "a tiny test incident" in line for line in lines)


# -- score ---------------------------------------------------------------------------------------
def test_score_prints_the_card_and_each_action(tiny, capsys):
    status, out, _ = run_main(capsys, "score", "tiny", "--plan", '[[4, "fix"], [5, "fix"]]')
    assert status == 0
    assert "score 79/100, band middle" in out
    assert "Downtime          75.0 / 90   2 min: 75 of 90 points (all 90 at <= 1 min, none at >= 7)" in out
    assert "Cost of actions    4.0 / 10   1 action(s) taken, 1 refused, costing 6: 4 of 10 points" in out
    assert "refused: minute 5 fix: already done" in out


def test_score_without_a_plan_and_as_json(tiny, capsys):
    status, out, _ = run_main(capsys, "score", "tiny", "--json")
    assert status == 0
    card = json.loads(out)
    assert card["score"] == 10.0 and card["band"] == "bottom"
    assert [c["key"] for c in card["components"]] == ["down_minutes", "action_cost"]
    assert card["components"][0]["value"] == 7.0 and card["components"][0]["earned"] == 0.0


def test_score_accepts_the_reference_plans_by_name(tiny, capsys):
    status, out, _ = run_main(capsys, "score", "tiny", "--plan", "intended")
    assert status == 0 and 'plan: [[4, "fix"]]' in out
    status, _, err = run_main(capsys, "score", "tiny", "--plan", "historical")
    assert status == 2 and "tiny has no historical plan" in err


def test_rubric_prints_the_components_the_page_and_the_actions(tiny, capsys):
    status, out, _ = run_main(capsys, "rubric", "tiny")
    assert status == 0
    assert TinyModel.rubric.text() in out
    assert "You are paged when the service is down" in out
    assert "fix: Fix it. Repairs the service. (takes effect at once; can be taken once; cost 5) [plan: fix]" in out


@pytest.mark.parametrize("scenario", ["dynamodb-2015", "retry-storm"])
def test_the_cli_and_the_card_state_the_rubric_in_the_same_words(scenario, capsys):
    """One rubric object: the CLI's rubric and the card's lines quote the same rules."""
    status, out, _ = run_main(capsys, "rubric", scenario)
    assert status == 0
    rubric = scenarios.get(scenario).rubric
    card = scenarios.get(scenario)(None, 0).score_card()
    for component, line in zip(rubric.components, card.components):
        assert f"{component.name} [{component.points:g} points]: {component.measures}" in out
        assert component.rule() in out and component.rule() in line.why


# -- the installed command, on a real scenario ---------------------------------------------------
def simkit_command() -> list[str]:
    """The console script installed beside this Python (``pip install -e .``)."""
    script = Path(sys.executable).with_name("simkit")
    assert script.exists(), f"the simkit console script is not installed at {script}"
    return [str(script)]


def test_console_script_runs_the_retry_storm_and_plots(tmp_path):
    png = tmp_path / "storm.png"
    done = subprocess.run(
        simkit_command() + ["run", "retry-storm", "--seed", "1", "--plot", str(png)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "retry-storm (seed 1)" in done.stdout and "summary:" in done.stdout
    assert png.stat().st_size > 10_000


def test_console_script_bad_value_is_one_line(tmp_path):
    done = subprocess.run(
        simkit_command() + ["run", "retry-storm", "--timeout-s", "-2"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("simkit run: error: timeout_s = -2.0 is not allowed: must be")
