"""The retry-storm scenario: the three textbook outcomes, the degraded equilibrium, its levers."""

import numpy as np
import pytest

import simkit
from simkit.cli import main
from simkit.commander import Incident, score
from simkit.scenarios.retry_storm import Params
from simkit.sweep import run_summaries


@pytest.fixture(scope="module")
def default_run():
    return simkit.run("retry-storm", seed=0)


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
    s = simkit.run("retry-storm", seed=seed).summary
    assert not s["recovered"]
    assert 0 < s["goodput_end_rps"] < 0.5 * s["offered_end_rps"]
    assert 2.0 < s["amplification_end"] < 4.0


@pytest.mark.parametrize("change", [{"retry_policy": "none"}, {"retry_policy": "budget"}, {"base_load_rps": 35.0}],
                         ids=["no retries", "retry budget", "half the base load"])
def test_the_same_spike_passes_with(change):
    s = simkit.run("retry-storm", change, seed=0).summary
    assert s["recovered"] is True
    assert s["goodput_end_rps"] > 0.95 * s["offered_end_rps"]
    assert s["amplification_end"] < 1.1
    assert s["error_rate_end"] < 0.02


@pytest.mark.parametrize("minute", [2, 3])
def test_a_late_retry_budget_ends_the_collapse(minute):
    # Breaking the loop ends the collapse however late: the bounded queue drains in seconds.
    plan = [(minute, "retry_budget")]
    s = simkit.run("retry-storm", seed=0, plan=plan).summary
    assert s["recovered"] is True
    assert minute * 60 < s["recovered_at_s"] < minute * 60 + 40


def test_without_a_queue_limit_the_backlog_runs_away():
    # The old, unbounded queue: what the bounded one prevents.
    s = simkit.run("retry-storm", {"queue_limit": 1_000_000, "horizon_s": 200}, seed=0)
    assert s["queue_length"][-1] > 5000
    assert s.summary["goodput_end_rps"] < 0.15 * s.summary["offered_end_rps"]


def test_backoff_alone_does_not_save_it():
    # Bounded retries with backoff still multiply the load by up to (k + 1).
    s = simkit.run("retry-storm", {"retry_policy": "backoff"}, seed=0).summary
    assert s["recovered"] is False
    assert 2.0 < s["amplification_end"] < 4.0


def test_longer_backoff_moves_the_boundary():
    # Backoff changes when retries come, not how many. Near the boundary (a 6 s spike to 1.6x,
    # which the default backoff of 0.2 s base and 5 s cap rarely survives), a long backoff spreads
    # the spike's retries out and more seeds ride it out. The fluid lens shows the whole boundary
    # moving (test_fluid.py); the collapsed state itself is the same.
    spike = {"retry_policy": "backoff", "spike_factor": 1.6, "spike_duration_s": 6.0}
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
    s = simkit.run("retry-storm", {"queue_deadline_s": 0.5}, seed=0)
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


@pytest.mark.parametrize("plan, band", [
    ([], "bottom"),
    ([(1.1, "shed_load")], "top"),
    ([(2, "shed_load")], "middle"),
    ([(2, "retry_budget")], "middle"),  # late, but it breaks the loop
    ([(1.1, "add_capacity"), (1.1, "add_capacity")], "middle"),  # a bounded queue lets capacity win, slowly
])
def test_commander_bands(plan, band):
    assert score("retry-storm", plan, seed=0).band == band


def test_actions_have_delays_and_preconditions():
    inc = Incident("retry-storm", seed=0)
    inc.tick(13)  # 65 s
    assert inc.available()["resume_clients"] == "clients are not paused"
    ok, message = inc.act("add_capacity")
    assert ok and "60 s" in message
    workers = inc.model.service.workers
    inc.tick(11)  # 55 s later: not there yet
    assert inc.model.service.workers == workers
    inc.tick(2)
    assert inc.model.service.workers == workers + 5
    inc.act("add_capacity")
    ok, reason = inc.act("add_capacity")
    assert not ok and "already added twice" in reason
    assert any("cannot add 5 workers" in line for line in inc.log)
