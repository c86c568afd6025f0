"""The commander engine: plans as plain data, the interactive incident, scoring."""

import json

import pytest

from simkit.commander import Incident, Plan, PlanStep, score
from simkit.scenarios.base import ScoreCard


def test_plan_round_trips_through_json_and_python():
    plan = Plan([(18, "pause_renewals"), ("05:06", "add_capacity"), {"at": 1.5, "action": "resume"}])
    assert Plan.from_json(plan.to_json()) == plan
    assert plan.to_python() == "PLAN = [(18, 'pause_renewals'), ('05:06', 'add_capacity'), (1.5, 'resume')]"
    assert json.loads(plan.to_json())[1] == ["05:06", "add_capacity"]


def test_clock_times_resolve_to_minutes_after_the_start():
    assert PlanStep("05:06", "x").minutes(clock_start_s=2 * 3600) == 186
    # a time of day before the start means the next day
    assert PlanStep("01:00", "x").minutes(clock_start_s=12 * 3600) == 13 * 60
    assert PlanStep(7.5, "x").minutes(0) == 7.5


def test_incident_records_accepted_actions_only():
    inc = Incident("retry-storm", seed=0)
    assert inc.clock == "00:00" and inc.minute == 0
    inc.tick(12)
    assert inc.minute == 1.0
    assert inc.act("pause_clients") == (True, "new customer requests are turned away")
    ok, reason = inc.act("pause_clients")
    assert not ok and reason == "clients are already paused"
    inc.tick(2)
    inc.act("resume_clients")
    assert inc.plan.to_data() == [[1, "pause_clients"], [1.167, "resume_clients"]]
    assert "operator: Pause clients" in "\n".join(inc.log)


def test_available_explains_every_disabled_action():
    inc = Incident("retry-storm", seed=0)
    inc.tick(13)
    available = inc.available()
    assert set(available) == set(inc.model.actions)
    assert available["shed_load"] is None and available["resume_clients"] == "clients are not paused"
    inc.run_to_end()
    assert all(reason == "the incident is over" for reason in inc.available().values())


def test_refused_steps_are_reported_and_the_replay_goes_on():
    card = score("retry-storm", [(1, "resume_clients"), (1.1, "shed_load")], seed=0)
    first, second = card.details["actions"]
    assert first == {"minute": 1.0, "action": "resume_clients", "ok": False, "message": "clients are not paused"}
    assert second["ok"] is True
    assert card.band == "top"


def test_score_is_deterministic_and_plain_data():
    a = score("retry-storm", [(2, "shed_load")], seed=1).to_dict()
    b = score("retry-storm", [(2, "shed_load")], seed=1).to_dict()
    assert a == b
    json.dumps(a)
    assert 0 <= a["score"] <= 100 and a["band"] == ScoreCard.band_for(a["score"])


@pytest.mark.parametrize("score_value, band", [(100, "top"), (80, "top"), (79.9, "middle"), (55, "middle"),
                                               (54, "low"), (30, "low"), (29, "bottom"), (0, "bottom")])
def test_band_thresholds(score_value, band):
    assert ScoreCard.band_for(score_value) == band
