"""Grading helpers: plain-words failures, canonical runs computed once, one-line checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

import simkit
from simkit import grading
from simkit.grading import canonical, context
from simkit.grading.checks import lab0, lab1, lab2, lab3
from simkit.scenarios import retry_storm as storm


def test_check_plan_passes_a_good_plan_and_explains_a_bad_one():
    card = grading.check_plan("retry-storm", storm.Model.intended_plan, at_least="top")
    assert card["band"] == "top"
    with pytest.raises(AssertionError, match=r"your plan scored [\d.]+/100 \(band 'bottom'\).*needs band 'low'"):
        grading.check_plan("retry-storm", [], at_least="low")


def test_check_plan_lists_refused_steps():
    with pytest.raises(AssertionError, match="could not be carried out: minute 1.083 resume_clients: clients are not paused"):
        grading.check_plan("retry-storm", [(1.1, "resume_clients")], at_least="low")


def test_plans_with_numpy_times_are_accepted():
    plain = grading.score_plan("retry-storm", [(1.1, "shed_load")])
    numpy = grading.score_plan("retry-storm", [(np.float64(1.1), "shed_load")])
    assert numpy["score"] == plain["score"]
    assert grading.plain_plan([(np.int64(3), "shed_load")]) == [[3, "shed_load"]]


@pytest.mark.parametrize("plan, fragment", [
    ("not json", "not valid JSON"),
    (42, "should be a list"),
    ([(1, 2, 3)], "should be a pair"),
    ([(True, "shed_load")], "should be minutes"),
    ([("soon", "shed_load")], "plan time 'soon' is not allowed"),
    ([(1, "reboot")], "plan action 'reboot' is not an action of retry-storm"),
    ([(float("nan"), "shed_load")], "finite number"),
])
def test_bad_plans_get_plain_messages(plan, fragment):
    with pytest.raises(AssertionError, match=fragment):
        grading.score_plan("retry-storm", plan)


def test_run_summary_matches_in_process_run():
    summary = grading.run_summary("retry-storm", {"retry_policy": "none", "horizon_s": 120}, seed=4)
    local = simkit.run("retry-storm", {"retry_policy": "none", "horizon_s": 120}, seed=4).summary
    assert summary["goodput_end_rps"] == pytest.approx(local["goodput_end_rps"])
    result = grading.run_result("retry-storm", {"retry_policy": "none", "horizon_s": 120}, seed=4)
    assert result.digest() == simkit.run("retry-storm", {"retry_policy": "none", "horizon_s": 120}, seed=4).digest()
    with pytest.raises(AssertionError, match="no parameter 'workerz'"):
        grading.run_summary("retry-storm", {"workerz": 3})


def test_canonical_runs_are_computed_once_and_cached_on_disk(tmp_path, monkeypatch):
    calls = []
    real = canonical._run
    monkeypatch.setattr(canonical, "_run", lambda question: calls.append(question) or real(question))
    monkeypatch.setattr(canonical, "_MEMORY", {})
    question = ("retry-storm", {"horizon_s": 120, "base_load_rps": 41}, 3)
    with canonical.use_cache_dir(tmp_path):
        first = grading.run_summary(question[0], question[1], seed=question[2])
    files = list(tmp_path.glob("summary-*.json"))
    assert len(calls) == 1 and len(files) == 1
    stored = json.loads(files[0].read_text())
    assert canonical.kit_fingerprint() in stored["key"], "a new kit must not reuse old answers"
    monkeypatch.setattr(canonical, "_MEMORY", {})  # a new grading process: only the disk remains
    with canonical.use_cache_dir(tmp_path):
        second = grading.run_summary(question[0], question[1], seed=question[2])
    assert second == first and len(calls) == 1
    first["recovered"] = "changed by a caller"
    with canonical.use_cache_dir(tmp_path):
        assert grading.run_summary(question[0], question[1], seed=question[2]) == second


def test_value_checks_say_what_is_wrong():
    grading.check_close("x", 10.2, 10)
    grading.check_close("x", np.float64(10.2), 10)
    grading.check_close("n", np.int64(10), 10)
    with pytest.raises(AssertionError, match=r"^x = 12 is too high. Hint: units$"):
        grading.check_close("x", 12, 10, hint="units")
    with pytest.raises(AssertionError, match=r"x = 12 is too high \(expected about 10\)"):
        grading.check_close("x", 12, 10, show_expected=True)
    with pytest.raises(AssertionError, match=r"x should be a number, but it is True"):
        grading.check_close("x", True, 1)
    with pytest.raises(AssertionError, match=r"x should be a number, but it is np.True_|x should be a number"):
        grading.check_close("x", np.bool_(True), 1)
    with pytest.raises(AssertionError, match="is NaN"):
        grading.check_close("x", float("nan"), 1)
    with pytest.raises(AssertionError, match="should be math.inf"):
        grading.check_close("w", 3.0, float("inf"))
    grading.check_close("w", float("inf"), float("inf"))


def test_an_absolute_tolerance_alone_adds_no_relative_slack():
    # a wasted share of 0.124 where 0.128 is right is 3% off: within the default 5%,
    # but not within the 5e-4 a hidden test asks for
    grading.check_close("share", 0.1284, 0.128, abs_=5e-4)
    with pytest.raises(AssertionError, match="share = 0.124 is too low"):
        grading.check_close("share", 0.124, 0.128, abs_=5e-4)
    with pytest.raises(AssertionError, match="cells = 7 is too high"):
        grading.check_close("cells", 7, 5, abs_=1)
    grading.check_close("share", 0.124, 0.128, abs_=5e-4, rel=0.05)  # both: the wider counts
    with pytest.raises(AssertionError, match="y = 5 is too high: it should lie between 0 and 1"):
        grading.check_between("y", 5, 0, 1)
    with pytest.raises(AssertionError, match="not one of the choices"):
        grading.check_choice("z", "c", ["a", "b"])
    grading.check_type("n", np.int64(3), int)
    with pytest.raises(AssertionError, match="should be an integer"):
        grading.check_type("n", 3.5, int)


def test_in_hidden_tests_values_and_ranges_are_not_shown():
    token = context._HIDDEN.set(True)
    try:
        for check, args in [(grading.check_close, ("x", 12.345, 10.5)),
                            (grading.check_between, ("x", 12.345, 0, 10.5)),
                            (grading.check_equal, ("x", 12.345, 10.5)),
                            (grading.check_choice, ("x", 12.345, [10.5])),
                            (grading.check_type, ("x", 12.345, str))]:
            with pytest.raises(AssertionError) as failure:
                check(*args)
            assert "12" not in str(failure.value) and "10" not in str(failure.value), str(failure.value)
    finally:
        context._HIDDEN.reset(token)


def test_every_lab_has_its_checks_registered():
    assert {"utilisation", "token_bucket_budget", "plan_top"} <= set(lab0.CHECKS.names())
    assert {"membership_size", "renewal_timeouts", "plan_top"} <= set(lab1.CHECKS.names())
    assert {"apply_workflow", "reconcile_all", "side_by_side"} <= set(lab2.CHECKS.names())
    assert {"search_delay_s", "zone_bulkhead", "whatif_pool"} <= set(lab3.CHECKS.names())
    with pytest.raises(ValueError, match="has no check"):
        grading.check("lab0.nothing")
    with pytest.raises(ValueError, match="should look like"):
        grading.check("os.system")


def test_a_one_line_check_passes_the_right_answer_and_explains_a_wrong_one(capsys):
    grading.check("lab0.max_amplification", lambda k, layers=1: (k + 1) ** layers)
    assert "max_amplification: the visible checks pass" in capsys.readouterr().out
    with pytest.raises(AssertionError, match=r"max_amplification\(2, layers=5\) = 15 is too low"):
        grading.check("lab0.max_amplification", lambda k, layers=1: (k + 1) * layers)


def test_parallel_graders_compute_a_canonical_run_once(tmp_path, monkeypatch):
    import threading
    import time

    calls = []

    def slow_run(question):
        calls.append(question)
        time.sleep(0.3)
        return simkit.run("retry-storm", {"horizon_s": 120}, seed=5)

    monkeypatch.setattr(canonical, "_run", slow_run)
    monkeypatch.setattr(canonical, "_MEMORY", {})
    monkeypatch.setattr(canonical, "_CACHE_DIR", tmp_path)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(
        grading.run_summary("retry-storm", {"horizon_s": 120}, seed=5))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(answers) == 3 and answers[0] == answers[1] == answers[2]
