"""The scenario contract, checked on every scenario the registry knows.

Per-incident test files hold only calibration against the record; what every
scenario must do (params from their specs, clear errors, determinism, actions
declared once, the page, the rubric, reference plans) is checked here, so a new
scenario is held to it without writing a line of test.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from simkit.actions import Action
from simkit.commander.engine import score
from simkit.plan import Plan, play_out
from simkit.rubric import BANDS
from simkit.scenarios import get, names

SCENARIOS = names()


@pytest.fixture(scope="module", params=SCENARIOS)
def scenario(request):
    return request.param


@pytest.fixture(scope="module")
def played(scenario):
    """A default run of seed 0 with no actions, played to the end."""
    model = get(scenario)(None, 0)
    play_out(model)
    return model


def test_defaults_come_from_the_param_specs(scenario):
    cls = get(scenario)
    params = cls.Params()
    for f in dataclasses.fields(params):
        spec = f.metadata.get("spec")
        if spec is not None:
            assert getattr(params, f.name) == f.default, f"{scenario}.{f.name} default differs from its spec"


def test_a_string_where_a_number_belongs_is_refused_by_name(scenario):
    cls = get(scenario)
    numeric = [f.name for f in dataclasses.fields(cls.Params()) if isinstance(f.default, (int, float))
               and not isinstance(f.default, bool)]
    assert numeric, f"{scenario} has no numeric parameter"
    with pytest.raises((ValueError, TypeError)) as error:
        cls({numeric[0]: "lots"}, 0)
    assert numeric[0] in str(error.value) and "\n" not in str(error.value)


def test_an_unknown_plugin_is_refused_by_name(scenario):
    with pytest.raises(TypeError, match="no plug-in 'gremlin'"):
        get(scenario)(None, 0, gremlin=print)


def test_every_action_is_declared_once_with_what_the_console_needs(scenario):
    cls = get(scenario)
    params = cls.Params()
    assert cls.actions, f"{scenario} has no operator actions"
    for name, spec in cls.actions.items():
        assert isinstance(spec, Action) and spec.name == name
        assert spec.label and spec.description.strip().endswith((".", ")"))
        delay = spec.delay_s(params)
        assert math.isfinite(delay) and delay >= 0
        assert spec.cost >= 0
        assert f"[plan: {name}]" in spec.tooltip(params)


def test_the_page_comes_after_the_start_and_nothing_can_be_done_before_it(scenario, played):
    cls = get(scenario)
    assert played.page_s is not None and played.page_s > 0, f"{scenario} never pages on seed 0"
    assert cls.page_rule
    early = cls(None, 0)
    for name in cls.actions:
        reason = early.check(name)
        assert reason is not None and reason.startswith("nothing has alerted yet"), (name, reason)
    record = early.try_action(next(iter(cls.actions)))
    assert record.status == "refused" and record.cost > 0, "a refused attempt costs toil"


def test_the_rubric_adds_up_and_the_card_lists_every_component(scenario, played):
    cls = get(scenario)
    card = played.score_card()
    keys = [c.key for c in cls.rubric.components] + [cls.rubric.costs.key]
    assert [line.key for line in card.components] == keys
    measured = played.measure()
    for component in cls.rubric.components:
        assert component.key in measured, f"{scenario}.measure() lacks {component.key!r}"
    if card.capped_by is None:
        assert card.score == pytest.approx(card.points_total, abs=0.11)
    else:
        assert card.score < card.points_total
    assert card.band in BANDS and card.verdict
    assert card.band == "bottom" or "Not handled" not in card.verdict


def test_the_reference_plans_are_valid_and_the_intended_one_wins(scenario):
    cls = get(scenario)
    model = cls(None, 0)
    Plan.coerce(cls.intended_plan, model)
    if cls.historical_plan is not None:
        Plan.coerce(cls.historical_plan, model)
    card = score(scenario, cls.intended_plan, seed=0)
    assert card.band == "top", card.text()
    assert all(a["status"] == "done" for a in card.actions), card.text()


def test_the_same_seed_gives_the_same_run(scenario):
    cls = get(scenario)
    plan = cls.intended_plan
    assert cls.run(seed=3, plan=plan).digest() == cls.run(seed=3, plan=plan).digest()
