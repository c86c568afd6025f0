"""The retry-storm scenario: the three textbook outcomes, and its commander actions."""

import pytest

import simkit
from simkit.commander import Incident, score


@pytest.fixture(scope="module")
def default_run():
    return simkit.run("retry-storm", seed=0)


def test_spike_tips_it_into_a_collapse_that_outlives_the_spike(default_run):
    s = default_run.summary
    # healthy before the spike
    assert s["goodput_before_rps"] == pytest.approx(s["offered_before_rps"], rel=0.02)
    # long after the spike ended (last minute of the run): goodput near zero...
    assert s["goodput_end_rps"] < 0.05 * s["offered_end_rps"]
    # ...while the service is flat out, and attempts are several times the offered load
    assert s["throughput_end_rps"] > 0.9 * 100
    assert s["amplification_end"] > 3.5
    assert s["recovered"] is False
    assert s["error_rate_end"] > 0.95


@pytest.mark.parametrize("change", [{"retry_policy": "none"}, {"retry_policy": "budget"}, {"base_load_rps": 35.0}],
                         ids=["no retries", "retry budget", "half the base load"])
def test_the_same_spike_passes_with(change):
    s = simkit.run("retry-storm", change, seed=0).summary
    assert s["recovered"] is True
    assert s["goodput_end_rps"] > 0.95 * s["offered_end_rps"]
    assert s["amplification_end"] < 1.1
    assert s["error_rate_end"] < 0.02


def test_backoff_alone_does_not_save_it():
    # Bounded retries with backoff still multiply the load by up to (k + 1).
    assert simkit.run("retry-storm", {"retry_policy": "backoff"}, seed=0).summary["recovered"] is False


def test_error_rate_series_is_a_share_and_blank_while_unsettled():
    model = simkit.scenario("retry-storm")(seed=0)
    model.advance_to(100)
    err = model.result()["error_rate"]
    import numpy as np

    assert np.isnan(err[100:]).all()  # the future and the in-flight seconds are blank
    assert np.nanmax(err) <= 1 and np.nanmin(err) >= 0


@pytest.mark.parametrize("plan, band", [
    ([], "bottom"),
    ([(1.1, "shed_load")], "top"),
    ([(2, "shed_load")], "middle"),
    ([(1.1, "add_capacity"), (1.1, "add_capacity")], "bottom"),  # capacity alone is not enough
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
