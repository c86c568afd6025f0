"""The debrief finds what would have helped, in words, and is the same every time."""

from __future__ import annotations

import pytest

from simkit.commander.debrief import debrief, variants
from simkit.plan import Plan
from simkit.scenarios import get

pytestmark = pytest.mark.slow


def _late(scenario: str, minutes: float) -> list:
    cls = get(scenario)
    start = cls(None, 0).world.clock_start_s
    return [(step.minutes(start) + minutes, step.action) for step in Plan(cls.intended_plan)]


def test_a_deliberately_late_plan_is_told_to_act_earlier():
    late = _late("dynamodb-2015", 40)
    lines = debrief("dynamodb-2015", late, seed=0, workers=2)
    assert lines[0].startswith("The whole plan 20 min earlier would have scored"), lines
    assert "(+" in lines[0]


def test_the_debrief_is_deterministic_and_says_so_when_nothing_beats_the_plan():
    cls = get("elb-2012")
    first = debrief("elb-2012", cls.intended_plan, seed=0, workers=2)
    assert first == debrief("elb-2012", cls.intended_plan, seed=0, workers=1)
    assert len(first) >= 1 and all(isinstance(line, str) and line for line in first)


def test_variants_move_steps_but_never_before_the_page():
    cls = get("dynamodb-2015")
    model = cls(None, 0)
    model.advance_to(model.horizon_s)
    page_min = model.page_s / 60.0
    options = variants("dynamodb-2015", Plan(cls.intended_plan), model)
    assert options and len({what for what, _ in options}) == len(options)
    for what, plan in options:
        assert all(minute >= page_min - 1e-9 for minute, _ in plan), what
