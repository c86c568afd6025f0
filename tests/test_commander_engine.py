"""The commander engine: plans as plain data, the interactive incident, scoring."""

import json

import pytest

from simkit.commander import Incident, Plan, PlanStep, score
from simkit.plan import MAX_PLAN_STEPS
from simkit.rubric import band_for
from simkit.scenarios import get as get_scenario


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


def test_incident_records_every_attempt_so_the_plan_replays_to_the_same_score():
    inc = Incident("retry-storm", seed=0)
    assert inc.clock == "00:00:00" and inc.minute == 0
    inc.tick(12)
    assert inc.minute == 1.0
    ok, reason = inc.act("pause_clients")
    assert not ok and reason.startswith("nothing has alerted yet: you are paged when more than 20%")
    inc.tick(1)
    assert inc.model.paged
    assert inc.act("pause_clients") == (True, "new customer requests are turned away")
    ok, reason = inc.act("pause_clients")
    assert not ok and reason == "clients are already paused"
    inc.tick(2)
    inc.act("resume_clients")
    assert inc.plan.to_data() == [[1, "pause_clients"], [1.083, "pause_clients"], [1.083, "pause_clients"],
                                  [1.25, "resume_clients"]]
    assert "operator: Pause clients" in "\n".join(inc.log)
    assert score("retry-storm", inc.plan, seed=0).to_dict() == inc.score_card().to_dict()


def test_available_explains_every_disabled_action():
    inc = Incident("retry-storm", seed=0)
    assert all(r.startswith("nothing has alerted yet") for r in inc.available().values())
    inc.tick(13)
    available = inc.available()
    assert set(available) == set(inc.model.actions)
    assert available["shed_load"] is None and available["resume_clients"] == "clients are not paused"
    inc.run_to_end()
    assert all(reason == "the incident is over" for reason in inc.available().values())


def test_an_incident_plan_is_capped_at_the_plan_limit():
    inc = Incident("retry-storm", seed=0)
    inc.tick(13)
    for _ in range(MAX_PLAN_STEPS):
        inc.act("resume_clients")
    ok, reason = inc.act("shed_load")
    assert not ok and "already has 50 steps" in reason and len(inc.plan) == MAX_PLAN_STEPS


def test_refused_steps_are_reported_with_their_cost_and_the_replay_goes_on():
    card = score("retry-storm", [(1.1, "resume_clients"), (1.1, "shed_load")], seed=0)
    first, second = card.actions
    assert (first["status"], first["message"], first["cost"]) == ("refused", "clients are not paused", 1.0)
    shed_cost = get_scenario("retry-storm").actions["shed_load"].cost
    assert second["status"] == "done" and second["cost"] == shed_cost
    assert card.component("action_cost").value == 1.0 + shed_cost


def test_a_delayed_action_is_pending_then_done_and_logged_in_causal_order():
    inc = Incident("dynamodb-2015", seed=0)
    inc.tick(28)  # paged at 02:27 on seed 0
    assert inc.act("pause_renewals")[0]
    (pending,) = inc.model.pending()
    delay = inc.model.params.switch_delay_s
    assert pending.status == "pending" and pending.due_s == inc.model.now + delay
    inc.tick(int(delay // 60))
    assert pending.status == "done" and not inc.model.pending()
    inc.act("add_capacity")
    log = "\n".join(inc.log)
    assert log.index("renewal requests paused") < log.index("operator: Add metadata capacity")


def test_score_is_deterministic_and_plain_data():
    a = score("retry-storm", [(2, "shed_load")], seed=1).to_dict()
    b = score("retry-storm", [(2, "shed_load")], seed=1).to_dict()
    assert a == b
    json.dumps(a)
    assert 0 <= a["score"] <= 100 and a["band"] == band_for(a["score"])


@pytest.mark.parametrize("bad, message", [
    ([(float("nan"), "shed_load")], "must be a finite number of minutes"),
    ([(float("inf"), "shed_load")], "must be a finite number of minutes"),
    ([(-1, "shed_load")], "cannot be negative"),
    ([(99, "shed_load")], "is after the end of the incident"),
    ([(2, "reboot_everything")], "is not an action of retry-storm"),
    ([(2, "shed_load")] * 51, "a plan of 51 steps is not allowed: at most 50"),
    ([("7pm", "shed_load")], "plan time '7pm' is not allowed"),
])
def test_bad_plans_get_one_line_messages(bad, message):
    with pytest.raises(ValueError) as error:
        score("retry-storm", bad, seed=0)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_numpy_numbers_are_accepted_as_times():
    np = pytest.importorskip("numpy")
    plan = Plan([(np.int64(2), "shed_load"), (np.float32(2.5), "retry_budget")])
    assert plan.to_data() == [[2, "shed_load"], [2.5, "retry_budget"]]
    assert isinstance(plan.to_data()[0][0], int)
    json.dumps(plan.to_data())
    assert score("retry-storm", plan, seed=0).score == score("retry-storm", [(2, "shed_load"), (2.5, "retry_budget")],
                                                             seed=0).score


def test_a_step_before_the_page_is_refused_and_costs_toil():
    card = score("retry-storm", [(0, "add_capacity")], seed=0)
    (attempt,) = card.actions
    assert attempt["status"] == "refused" and attempt["message"].startswith("nothing has alerted yet")


@pytest.mark.parametrize("score_value, band", [(100, "top"), (80, "top"), (79.9, "middle"), (55, "middle"),
                                               (54, "low"), (30, "low"), (29, "bottom"), (0, "bottom")])
def test_band_thresholds(score_value, band):
    assert band_for(score_value) == band
