"""Grading helpers: plain-words failures, and replays a patched kernel cannot touch."""

import pytest

import simkit.commander.engine as engine
import simkit.scenarios.retry_storm as storm
from simkit import grading


def test_score_plan_runs_in_a_fresh_process_immune_to_patches(monkeypatch):
    honest = grading.score_plan("retry-storm", [], seed=0)
    monkeypatch.setattr(engine, "score", lambda *a, **k: "faked")
    monkeypatch.setattr(storm.Model, "score_card", lambda self: "faked")
    patched = grading.score_plan("retry-storm", [], seed=0)
    assert patched == honest and patched["band"] == "bottom"


def test_check_plan_passes_a_good_plan_and_explains_a_bad_one():
    card = grading.check_plan("retry-storm", storm.Model.intended_plan, at_least="top")
    assert card["band"] == "top"
    with pytest.raises(AssertionError, match=r"your plan scored [\d.]+/100 \(band 'bottom'\).*needs band 'low'"):
        grading.check_plan("retry-storm", [], at_least="low")


def test_check_plan_lists_refused_steps():
    with pytest.raises(AssertionError, match="could not be carried out: minute 1.083 resume_clients: clients are not paused"):
        grading.check_plan("retry-storm", [(1.1, "resume_clients")], at_least="low")


@pytest.mark.parametrize("plan, fragment", [
    ("not json", "not valid JSON"),
    (42, "should be a list"),
    ([(1, 2, 3)], "should be a pair"),
    ([("soon", "shed_load")], "plan time 'soon' is not allowed"),
    ([(1, "reboot")], "plan action 'reboot' is not an action of retry-storm"),
    ([(float("nan"), "shed_load")], "finite number"),
])
def test_bad_plans_get_plain_messages(plan, fragment):
    with pytest.raises(AssertionError, match=fragment):
        grading.score_plan("retry-storm", plan)


def test_run_summary_matches_in_process_run():
    import simkit

    summary = grading.run_summary("retry-storm", {"retry_policy": "none", "horizon_s": 120}, seed=4)
    local = simkit.run("retry-storm", {"retry_policy": "none", "horizon_s": 120}, seed=4).summary
    assert summary["goodput_end_rps"] == pytest.approx(local["goodput_end_rps"])
    with pytest.raises(AssertionError, match="no parameter 'workerz'"):
        grading.run_summary("retry-storm", {"workerz": 3})


def test_value_checks_say_what_is_wrong():
    grading.check_close("x", 10.2, 10)
    with pytest.raises(AssertionError, match=r"x = 12 is too high: expected about 10 \(within 0.5\). Hint: units"):
        grading.check_close("x", 12, 10, hint="units")
    with pytest.raises(AssertionError, match=r"x should be of type int or float, but it is True"):
        grading.check_close("x", True, 1)
    with pytest.raises(AssertionError, match="outside the expected range"):
        grading.check_between("y", 5, 0, 1)
    with pytest.raises(AssertionError, match="not one of the choices"):
        grading.check_choice("z", "c", ["a", "b"])
