"""The fluid lens: it tells the same story as the discrete-event model, thousands of cells at once."""

import numpy as np
import pytest

import simkit
from simkit.fluid import simulate
from simkit.phase import agreement, phase_map
from simkit.scenarios.retry_storm import STORM_HORIZON_S


@pytest.fixture(scope="module")
def default_fluid():
    return simulate()


def test_default_storm_settles_in_the_same_degraded_equilibrium(default_fluid):
    des = simkit.run("retry-storm", {"horizon_s": STORM_HORIZON_S}, seed=0).summary  # the storm alone
    fluid = default_fluid
    assert not fluid.recovered and not des["recovered"]
    assert float(fluid.goodput_end_rps) == pytest.approx(des["goodput_end_rps"], rel=0.25)
    assert float(fluid.amplification_end) == pytest.approx(des["amplification_end"], rel=0.1)
    assert float(fluid.queue_end) == pytest.approx(des["queue_end"], rel=0.05)


def test_agrees_with_the_discrete_model_on_a_small_grid():
    # The full 6 x 6 check over two seeds is in benchmarks/bench_phase.py.
    grid = dict(sizes=[1.2, 1.6, 2.0, 2.4], durations=[0.0, 3.0, 8.0, 15.0])
    des = phase_map("retry-storm", lens="des", seeds=[0], progress=False, **grid)
    fluid = phase_map("retry-storm", lens="fluid", **grid)
    match = agreement(des, fluid)
    assert match["share"] >= 0.9, (des.text(), fluid.text())
    assert match["max_steps"] <= 1
    assert not fluid.recovered.all() and fluid.recovered.any()  # the grid crosses the boundary


@pytest.mark.parametrize("change", [{"retry_policy": "none"}, {"retry_policy": "budget"},
                                    {"base_load_rps": 20.0}, {"max_retries": 0}],
                         ids=["no retries", "budget", "retries cannot sustain it", "zero retries"])
def test_no_spike_on_the_map_collapses_without_a_sustaining_loop(change):
    result = phase_map("retry-storm", change, lens="fluid", grid=12)
    assert result.recovered.all()


def test_longer_backoff_moves_the_whole_boundary():
    base = {"retry_policy": "backoff"}
    quick = phase_map("retry-storm", base, lens="fluid", grid=25)
    slow = phase_map("retry-storm", {**base, "backoff_base_s": 5.0, "backoff_cap_s": 60.0}, lens="fluid", grid=25)
    # wherever quick backoff recovers, slow backoff does too, and it recovers somewhere quick does not
    assert (slow.recovered >= quick.recovered).all()
    assert (slow.recovered & ~quick.recovered).sum() >= 5


def test_more_load_or_more_retries_widen_the_metastable_region():
    def collapsed(**change):
        return (~phase_map("retry-storm", change, lens="fluid", grid=15).recovered).sum()

    assert collapsed(base_load_rps=55.0) < collapsed() < collapsed(base_load_rps=85.0)
    assert collapsed(max_retries=1) < collapsed(max_retries=3) <= collapsed(max_retries=6)
    assert collapsed(timeout_s=3.0) < collapsed()


def test_cells_are_independent_and_deterministic():
    factors = np.linspace(1.2, 2.4, 7)
    together = simulate({"spike_duration_s": 10.0}, spike_factor=factors)
    alone = [simulate({"spike_duration_s": 10.0, "spike_factor": float(f)}) for f in factors]
    assert together.recovered.tolist() == [bool(r.recovered) for r in alone]
    assert np.allclose(together.goodput_end_rps, [float(r.goodput_end_rps) for r in alone])
    again = simulate({"spike_duration_s": 10.0}, spike_factor=factors)
    assert np.array_equal(again.goodput_end_rps, together.goodput_end_rps)


def test_bad_input_gets_a_message_naming_the_parameter():
    with pytest.raises(ValueError, match="spike_factor = 0.5 is not allowed"):
        simulate(spike_factor=np.array([1.5, 0.5]))
    with pytest.raises(ValueError, match="queue_discipline = 'fifo' is not allowed in the fluid model"):
        simulate({"queue_discipline": "fifo"})
    with pytest.raises(TypeError, match="cannot vary timeout_s"):
        simulate(timeout_s=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="must end within horizon_s"):
        simulate({"horizon_s": 60}, spike_duration_s=np.array([1.0, 30.0]))
    with pytest.raises(ValueError, match="dt_s = 2 is not allowed"):
        simulate(dt_s=2)
    with pytest.raises(ValueError, match="too much memory"):
        simulate({"queue_deadline_s": 3600.0, "horizon_s": 3600, "maintenance_s": 0.0},
                 spike_factor=np.ones(200_000) * 2)


def test_the_fluid_runs_the_storm_alone_and_refuses_the_games_maintenance():
    # The default run of retry-storm is the commander game: 8 minutes with the database
    # maintenance at 05:15. The fluid has no maintenance window: by default it simulates the
    # storm alone (the first 300 s), and it refuses a run that would include the maintenance.
    assert simulate().offered_end_rps == pytest.approx(simulate({"horizon_s": 300}).offered_end_rps)
    with pytest.raises(ValueError, match="horizon_s = 480 is not allowed in the fluid model: the run would "
                                         "include the database maintenance"):
        simulate({"horizon_s": 480})
    longer = simulate({"horizon_s": 480, "maintenance_s": 0.0})
    assert not longer.recovered  # without its second trigger, the storm just goes on
