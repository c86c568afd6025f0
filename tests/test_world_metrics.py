"""World (clock, seeded streams, scheduling) and Metrics (buckets, gauges, timeline)."""

import math

import numpy as np
import pytest

from simkit.metrics import Metrics
from simkit.world import World, derive_seed


def test_streams_are_independent_of_creation_order():
    a = World(5, horizon_s=10)
    a.rng("one").random()
    x = a.rng("two").random()
    b = World(5, horizon_s=10)
    assert b.rng("two").random() == x  # asking for "one" first changed nothing


def test_streams_differ_by_name_and_seed():
    assert World(1, horizon_s=1).rng("a").random() != World(1, horizon_s=1).rng("b").random()
    assert World(1, horizon_s=1).rng("a").random() != World(2, horizon_s=1).rng("a").random()


def test_derive_seed_is_fixed_across_machines():
    # Literals: if these change, every graded result changes with them.
    assert derive_seed(0, "arrivals") == 0x744347599D9B375B
    assert World(0, horizon_s=1).rng("arrivals").random() == 0.7514102532790938


def test_clock_and_scheduling():
    w = World(0, horizon_s=3600, clock_start_s=2 * 3600)
    fired = []
    w.at(60, lambda: fired.append(("at", w.now)))
    w.every(600, lambda: fired.append(("every", w.now)), start_s=1200)
    w.run(2000)
    assert fired == [("at", 60), ("every", 1200), ("every", 1800)]
    assert w.clock() == "02:33" and w.clock(19 * 60) == "02:19"
    w.note("network disruption", "trigger")
    assert w.timeline.events[-1].t_s == 2000 and w.timeline.events[-1].kind == "trigger"


def test_run_is_capped_at_the_horizon():
    w = World(0, horizon_s=100)
    w.run(500)
    assert w.now == 100


def test_counts_land_in_their_bucket_and_overflow_goes_to_last():
    m = Metrics(bucket_s=10, horizon_s=30)
    m.count("a", 0)
    m.count("a", 9.99, 2)
    m.count("a", 10)
    m.count("a", 45)  # past the horizon: last bucket, not lost
    assert m.series()["a"].tolist() == [3, 1, 1]
    assert m.total("a") == 5


def test_gauges_forward_fill_and_observations_average():
    m = Metrics(bucket_s=1, horizon_s=5)
    m.gauge("q", 1.2, 4)
    m.gauge("q", 3.5, 7)
    m.observe("lat", 0.5, 1.0)
    m.observe("lat", 0.7, 3.0)
    s = m.series()
    assert math.isnan(s["q"][0])
    assert s["q"][1:].tolist() == [4, 4, 7, 7]
    assert s["lat_mean"][0] == 2.0 and math.isnan(s["lat_mean"][1])
    assert s["lat_n"].tolist() == [2, 0, 0, 0, 0]
    np.testing.assert_array_equal(m.observations("lat"), [1.0, 3.0])


def test_sample_every_records_a_gauge_per_bucket():
    w = World(0, horizon_s=5, bucket_s=1)
    level = {"v": 0}
    w.every(1, lambda: level.__setitem__("v", level["v"] + 1))
    w.sample_every("level", lambda: level["v"])
    w.run()
    assert w.metrics.series()["level"].tolist() == [1, 2, 3, 4, 5]


def test_every_rejects_non_positive_period():
    with pytest.raises(ValueError, match="period_s = 0 is not allowed"):
        World(0, horizon_s=5).every(0, lambda: None)


def test_ratio_leaves_empty_buckets_empty():
    from simkit.metrics import ratio

    out = ratio([1, 0, 3], [2, 0, 0])
    assert out[0] == 0.5 and math.isnan(out[1]) and math.isnan(out[2])
    assert ratio([1, 0], [4, 0], empty=0.0).tolist() == [0.25, 0.0]
