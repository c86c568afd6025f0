"""The retry-storm scenario: the three textbook outcomes, the degraded equilibrium, its levers,
and the commander game's incident (the database maintenance and each lever's side effect).

The physics tests run the storm alone (``horizon_s`` = STORM_HORIZON_S, 300 s, as lab 0's
experiments and the phase maps do); the default run is the game's eight-minute incident."""

import numpy as np
import pytest

import simkit
from simkit.cli import main
from simkit.commander import Incident, score
from simkit.scenarios.retry_storm import MAX_CAPACITY_ADDS, STORM_HORIZON_S, Params
from simkit.sweep import run_summaries

#: The storm alone: what lab 0's experiments run (the default parameters, 300 s).
STORM = {"horizon_s": STORM_HORIZON_S}
Model = simkit.scenario("retry-storm")


@pytest.fixture(scope="module")
def default_run():
    return simkit.run("retry-storm", STORM, seed=0)


def test_spike_tips_it_into_a_collapse_that_outlives_the_spike(default_run):
    s = default_run.summary
    # healthy before the spike
    assert s["goodput_before_rps"] == pytest.approx(s["offered_before_rps"], rel=0.02)
    # long after the spike ended (the last minute of the run) most customers still fail...
    assert s["recovered"] is False
    assert 0.5 < s["error_rate_end"] < 0.95
    # ...while the service is flat out, mostly on work nobody waits for any more
    assert s["throughput_end_rps"] > 0.9 * 100
    assert s["goodput_end_rps"] < 0.5 * s["offered_end_rps"]


def test_the_collapse_is_a_degraded_equilibrium(default_run):
    """Goodput low but not zero, a bounded queue, and attempts amplified 2-4x, holding steady:
    the state the retry loop sustains (Huang et al., OSDI 2022), not a runaway backlog."""
    s = default_run.summary
    assert 0 < s["goodput_end_rps"] < 0.5 * s["offered_end_rps"]
    assert 2.0 < s["amplification_end"] < 4.0
    queue = default_run["queue_length"]
    limit = Params().queue_limit
    assert np.nanmax(queue) <= limit
    assert s["queue_end"] > 0.9 * limit  # the bounded queue stays full...
    t = default_run.t_s
    earlier, later = (t >= 180) & (t < 240), (t >= 240) & (t < 300)
    for name in ("useful", "attempts", "queue_length"):  # ...and nothing drifts: an equilibrium
        assert default_run[name][later].mean() == pytest.approx(default_run[name][earlier].mean(), rel=0.1)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_equilibrium_holds_on_other_seeds(seed):
    s = simkit.run("retry-storm", STORM, seed=seed).summary
    assert not s["recovered"]
    assert 0 < s["goodput_end_rps"] < 0.5 * s["offered_end_rps"]
    assert 2.0 < s["amplification_end"] < 4.0


@pytest.mark.parametrize("change", [{"retry_policy": "none"}, {"retry_policy": "budget"}, {"base_load_rps": 35.0}],
                         ids=["no retries", "retry budget", "half the base load"])
def test_the_same_spike_passes_with(change):
    s = simkit.run("retry-storm", {**STORM, **change}, seed=0).summary
    assert s["recovered"] is True
    assert s["goodput_end_rps"] > 0.95 * s["offered_end_rps"]
    assert s["amplification_end"] < 1.1
    assert s["error_rate_end"] < 0.02


@pytest.mark.parametrize("minute", [2, 3])
def test_a_late_retry_budget_ends_the_collapse(minute):
    # Breaking the loop ends the collapse however late: the bounded queue drains in seconds once
    # the push has reached most callers (it reaches an equal share of them each second for 60 s).
    plan = [(minute, "retry_budget")]
    s = simkit.run("retry-storm", STORM, seed=0, plan=plan).summary
    assert s["recovered"] is True
    assert minute * 60 + 20 < s["recovered_at_s"] < minute * 60 + 75


def test_without_a_queue_limit_the_backlog_runs_away():
    # The old, unbounded queue: what the bounded one prevents.
    s = simkit.run("retry-storm", {"queue_limit": 1_000_000, "horizon_s": 200}, seed=0)
    assert s["queue_length"][-1] > 5000
    assert s.summary["goodput_end_rps"] < 0.15 * s.summary["offered_end_rps"]


def test_backoff_alone_does_not_save_it():
    # Bounded retries with backoff still multiply the load by up to (k + 1).
    s = simkit.run("retry-storm", {**STORM, "retry_policy": "backoff"}, seed=0).summary
    assert s["recovered"] is False
    assert 2.0 < s["amplification_end"] < 4.0


def test_longer_backoff_moves_the_boundary():
    # Backoff changes when retries come, not how many. Near the boundary (a 6 s spike to 1.6x,
    # which the default backoff of 0.2 s base and 5 s cap rarely survives), a long backoff spreads
    # the spike's retries out and more seeds ride it out. The fluid lens shows the whole boundary
    # moving (test_fluid.py); the collapsed state itself is the same.
    spike = {**STORM, "retry_policy": "backoff", "spike_factor": 1.6, "spike_duration_s": 6.0}
    slow = {**spike, "backoff_base_s": 5.0, "backoff_cap_s": 60.0}
    quick_runs, slow_runs = run_summaries("retry-storm", [spike, slow], seeds=range(6), progress=False)
    collapsed_quick = sum(not s["recovered"] for s in quick_runs)
    collapsed_slow = sum(not s["recovered"] for s in slow_runs)
    assert collapsed_quick >= 4 and collapsed_slow <= collapsed_quick - 2, (collapsed_quick, collapsed_slow)


def test_backoff_settings_are_used_by_the_clients():
    model = simkit.scenario("retry-storm")({"retry_policy": "backoff", "backoff_base_s": 0.5,
                                            "backoff_cap_s": 2.0, "backoff_jitter": "none"}, seed=0)
    policy = model.clients.retry
    assert [policy.delay_s(n, None) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    with pytest.raises(ValueError, match="backoff_base_s must be <= backoff_cap_s"):
        Params(backoff_base_s=3.0, backoff_cap_s=2.0)


def test_server_side_deadline_drops_stale_work():
    s = simkit.run("retry-storm", {**STORM, "queue_deadline_s": 0.5}, seed=0)
    assert s.summary["recovered"] is True
    assert s["shed"].sum() > 0


@pytest.mark.parametrize("change", [{"spike_duration_s": 0.0}, {"spike_start_s": 0.0},
                                    {"spike_factor": 1.0}, {"base_load_rps": 0.0}],
                         ids=["no spike", "spike at once", "factor 1", "no load"])
def test_degenerate_triggers_run(change):
    s = simkit.run("retry-storm", {**change, "horizon_s": 120}, seed=0).summary
    if change.get("base_load_rps", 1) and change.get("spike_start_s", 1):
        assert s["recovered"] is True


def test_zero_length_spike_on_the_command_line(capsys):
    assert main(["run", "retry-storm", "--spike-duration-s", "0", "--horizon-s", "60"]) == 0
    assert "summary:" in capsys.readouterr().out


def test_error_rate_series_is_a_share_and_blank_while_unsettled():
    model = simkit.scenario("retry-storm")(seed=0)
    model.advance_to(100)
    err = model.result()["error_rate"]
    assert np.isnan(err[100:]).all()  # the future and the in-flight seconds are blank
    assert np.nanmax(err) <= 1 and np.nanmin(err) >= 0



# -- the game's incident: the second trigger ----------------------------------------------------------
def test_the_storm_alone_is_the_start_of_the_games_incident_bit_for_bit():
    """Lab 0's experiments (300 s) never see the maintenance: the game's eight-minute incident
    begins exactly as they do, and a 300-s run is the same with or without a maintenance."""
    game = simkit.run("retry-storm", seed=0)
    storm = simkit.run("retry-storm", STORM, seed=0)
    without = simkit.run("retry-storm", {**STORM, "maintenance_s": 0.0}, seed=0)
    assert storm.digest() == without.digest()
    assert not any("maintenance" in e.label for e in storm.timeline)
    for name in ("offered", "attempts", "useful", "served", "timeouts", "queue_length", "capacity"):
        assert np.array_equal(game[name][:299], storm[name][:299]), name  # the last bucket holds t >= 300


def test_the_maintenance_is_announced_and_slows_every_request():
    p = Params()
    model = simkit.scenario("retry-storm")(seed=0)
    assert "scheduled: the database's maintenance from 00:05:15 to 00:06:30" in model.world.timeline.events[0].label
    model.advance_to(p.maintenance_start_s)
    assert model.capacity_rps() == pytest.approx(p.workers / (p.mean_service_s * p.maintenance_slowdown)) == 40
    model.advance_to(p.maintenance_start_s + p.maintenance_s)
    assert model.capacity_rps() == pytest.approx(100)
    labels = [e.label for e in model.world.timeline]
    assert any(label.startswith("database maintenance begins") for label in labels)
    assert any(label.startswith("database maintenance ends") for label in labels)


def test_a_service_without_headroom_fails_customers_during_the_maintenance():
    """Shedding ends the storm; without more workers the maintenance (40 requests/s of
    capacity for 70 arriving) fails a share of customers, and only while it lasts."""
    shed = simkit.run("retry-storm", seed=0, plan=[("00:01:10", "shed_load")])
    t, err = shed.t_s, shed["error_rate"]
    during = (t >= 320) & (t < 390)
    assert 0.2 < np.nanmean(err[during]) < 0.6
    assert np.nanmax(err[(t >= 120) & (t < 315)]) < 0.05 and np.nanmax(err[(t >= 400) & (t < 470)]) < 0.05


def test_two_steps_of_workers_ride_out_the_maintenance():
    card = score("retry-storm", Model.intended_plan, seed=0)
    assert card.measurements["workers_at_end"] == 20 and card.band == "top"
    assert card.measurements["maintenance_error_minutes"] < 0.05


def test_pausing_treats_the_symptom_and_the_next_trigger_tips_it_over_again():
    """Pause, drain, resume: healthy again, but the loop is still there; the maintenance
    starts a new storm that outlives it (metastable, once more)."""
    r = simkit.run("retry-storm", seed=0, plan=[("00:01:10", "pause_clients"), ("00:01:30", "resume_clients")])
    t, err = r.t_s, r["error_rate"]
    assert np.nanmax(err[(t >= 160) & (t < 315)]) < 0.05  # healthy once the ramp is over
    assert np.nanmean(err[(t >= 420) & (t < 470)]) > 0.5  # the maintenance ended at 390: still failing
    assert r.summary["recovered"] is False


# -- the game's incident: each lever's side effect --------------------------------------------------------
def _paged(seed: int = 0):
    model = Model(seed=seed)
    model.advance_to(70)
    assert model.paged
    return model


def test_the_retry_budget_reaches_the_callers_gradually():
    model = _paged()
    record = model.try_action("retry_budget")
    assert record.status == "pending" and "reaches all callers in 60 s" in record.message
    rolling = model.clients.budget
    assert rolling.share() == 0
    model.advance_to(100)
    assert rolling.share() == pytest.approx(0.5)
    assert model.try_action("retry_budget").status == "refused"  # already under way
    model.advance_to(130)
    assert record.status == "done" and model.clients.budget is rolling.bucket
    assert model.try_action("retry_budget").message == "already done"
    budgeted = Model({"retry_policy": "budget"}, seed=0)  # callers that have a budget from the start
    assert budgeted.actions["retry_budget"].refusal(budgeted) == "the clients already use a retry budget"


def test_new_workers_crash_in_a_full_queue_and_work_once_the_loop_is_broken():
    model = _paged()
    first = model.try_action("add_capacity")
    model.advance_to(70 + 60)
    assert first.status == "failed" and "came up into a full queue" in first.message and "crashed" in first.message
    assert model.service.workers == 10 and model.capacity_adds == 0  # the spares went back to the pool
    model.try_action("shed_load")
    model.advance_to(140)
    for _ in range(MAX_CAPACITY_ADDS):
        record = model.try_action("add_capacity")
        model.advance_to(model.now + 60)
        assert record.status == "done", record.message
    assert model.service.workers == 20 and model.capacity_rps() == 200
    assert model.try_action("add_capacity").message == "no spare workers left: capacity was already added 2 times"


def test_resuming_lets_customers_back_in_over_a_minute_and_a_pause_stops_the_ramp():
    model = _paged()
    model.try_action("pause_clients")
    model.advance_to(80)
    assert model.try_action("pause_clients").message == "clients are already paused"
    model.try_action("resume_clients")
    assert model.clients.admit_share == 0 and not model.clients.paused
    model.advance_to(110)
    assert model.clients.admit_share == pytest.approx(0.5)
    turned_away = model.world.metrics.counter("paused")[100:110]
    offered = model.world.metrics.counter("offered")[100:110]
    assert 0.3 < sum(turned_away) / sum(offered) < 0.7
    model.try_action("pause_clients")
    model.advance_to(150)
    assert model.clients.paused and model.clients.admit_share == pytest.approx(0.5)  # the ramp stopped
    model.try_action("resume_clients")
    model.advance_to(211)
    assert model.clients.admit_share == 1.0
    assert any(e.label == "every customer is let through again" for e in model.world.timeline)


def test_shedding_bounds_queue_time_and_drops_customers_requests():
    model = _paged()
    assert model.try_action("shed_load").status == "done"
    assert model.service.max_queue_wait_s == 0.5
    model.advance_to(90)
    assert sum(model.world.metrics.counter("shed")[70:90]) > 100  # the storm's stale requests
    assert model.try_action("shed_load").message == "already done"


@pytest.mark.parametrize("plan, band", [
    ([], "bottom"),
    (Model.intended_plan, "top"),
    ([("00:01:10", "shed_load")], "middle"),  # the storm ends, the maintenance hurts
    ([("00:01:10", "retry_budget")], "low"),  # a minute to reach the callers; no bound on queue time
    ([("00:02:00", "shed_load"), ("00:02:00", "add_capacity"), ("00:03:05", "add_capacity")], "top"),  # late
    ([("00:03:00", "shed_load"), ("00:03:00", "add_capacity"), ("00:04:05", "add_capacity")], "middle"),
    ([("00:01:10", "add_capacity"), ("00:02:15", "add_capacity")], "bottom"),  # they crash in the storm
])
def test_commander_bands(plan, band):
    assert score("retry-storm", plan, seed=0).band == band


def test_the_rubric_scores_the_storm_and_the_maintenance_apart():
    card = score("retry-storm", [("00:01:10", "shed_load")], seed=0)
    assert card.component("minutes_to_recover").earned == 25  # the storm ended at once...
    assert card.component("maintenance_error_minutes").earned == 0  # ...but nobody prepared for the maintenance
    assert "during the maintenance" in card.verdict and sum(c.earned for c in card.components) == pytest.approx(
        card.score, abs=0.1)


def test_actions_have_delays_and_preconditions():
    inc = Incident("retry-storm", seed=0)
    inc.tick(13)  # 65 s: paged
    assert inc.available()["resume_clients"] == "clients are not paused"
    ok, message = inc.act("add_capacity")
    assert ok and "1 min" in message
    inc.act("shed_load")  # the queue drains before the new workers come up
    workers = inc.model.service.workers
    inc.tick(11)  # 55 s later: not there yet
    assert inc.model.service.workers == workers
    inc.tick(2)
    assert inc.model.service.workers == workers + 5
    ok, reason = inc.act("add_capacity")
    ok, reason = inc.act("add_capacity")
    assert not ok and "already under way" in reason
