"""Tests of simkit.network: links, routes, shifts, disruptions, partitions, flows, binding."""

from __future__ import annotations

import math

import pytest

from simkit.network import Network
from simkit.world import World


def two_networks(n: int = 10, shifted: int = 3, demand: float = 10.0) -> Network:
    """Ten nodes on a big primary and a small secondary network; the first three in group "a"."""
    net = Network()
    net.add_link("primary", capacity=1000)
    net.add_link("secondary", capacity=25)
    net.add_nodes([f"n{i}" for i in range(n)], route=("primary", "secondary"), demand=demand,
                  group=lambda name: "a" if int(name[1:]) < shifted else "b")
    return net


# -- routes and loads ------------------------------------------------------------------------

def test_traffic_goes_on_the_first_link_of_the_route():
    net = two_networks()
    assert net.load("primary", 0) == pytest.approx(100.0)
    assert net.load("secondary", 0) == 0.0
    assert net.utilisation("primary", 0) == pytest.approx(0.1)
    assert net.carrying_link("n4", 0) == "primary"
    assert net.usable_links("n4", 0) == ("primary", "secondary")
    assert not net.overloaded("primary", 0)


def test_disruption_fails_traffic_over_to_the_next_link_for_its_time_window():
    net = two_networks()
    net.disrupt("primary", start_s=100, duration_s=50, who="n1")
    assert net.carrying_link("n1", 99.9) == "primary"
    assert net.carrying_link("n1", 100) == "secondary"          # start is inclusive
    assert net.load("secondary", 120) == pytest.approx(10.0)
    assert net.carrying_link("n1", 150) == "primary"            # end is exclusive
    assert net.carrying_link("n2", 120) == "primary"            # only n1 was disrupted


def test_disrupting_every_link_of_a_node_isolates_it():
    net = two_networks()
    net.disrupt("primary", start_s=0, who="n1")
    net.disrupt("secondary", start_s=0, who="n1")
    assert net.carrying_link("n1", 5) is None
    assert net.isolated("n1", 5)
    assert not net.can_reach("n1", "n2", 5)
    assert net.can_reach("n1", "n1", 5)


def test_shift_moves_traffic_off_a_link_and_overload_cuts_the_shifted_nodes_off():
    net = two_networks(shifted=3, demand=10.0)   # 30 Gbit/s onto a 25 Gbit/s network
    shift = net.shift("a", from_link="primary", to_link="secondary", start_s=60)
    assert net.usable_links("n0", 59) == ("primary", "secondary")
    state = net.state(60)
    assert state.routes["n0"] == ("secondary",)                 # primary is out of its path
    assert net.load("secondary", 60) == pytest.approx(30.0)
    assert net.load("primary", 60) == pytest.approx(70.0)
    assert net.utilisation("secondary", 60) == pytest.approx(1.2)
    assert net.overloaded("secondary", 60)
    assert net.isolated("n0", 60)
    assert not net.can_reach("n0", "n5", 60)
    assert net.can_reach("n5", "n6", 60)                        # they still have primary
    assert net.usable_links("n5", 60) == ("primary",)           # secondary is overloaded for all
    net.end(shift, at_s=600)                                    # the rollback
    assert net.can_reach("n0", "n5", 600)
    assert net.load("secondary", 600) == 0.0


def test_a_shift_that_fits_does_not_isolate_anyone():
    net = two_networks(shifted=2, demand=10.0)   # 20 Gbit/s on 25: fits
    net.shift("a", to_link="secondary", start_s=0)
    assert not net.overloaded("secondary", 1)
    assert net.can_reach("n0", "n5", 1)
    assert net.delivered_fraction("secondary", 1) == 1.0


def test_overload_limit_lets_a_link_degrade_gracefully():
    net = Network()
    net.add_link("wan", capacity=10, overload_limit=1.5)
    net.add_nodes(["x", "y"], route=["wan"], demand=7.0)
    assert net.utilisation("wan", 0) == pytest.approx(1.4)
    assert not net.overloaded("wan", 0)
    assert net.delivered_fraction("wan", 0) == pytest.approx(10 / 14)
    assert net.can_reach("x", "y", 0)


def test_flows_add_load_and_are_seen_at_once():
    net = two_networks()
    net.set_flow("copies", "secondary", 20.0)
    assert net.load("secondary", 0) == pytest.approx(20.0)
    net.set_flow("searches", "secondary", 10.0)
    assert net.overloaded("secondary", 0)
    assert net.delivered_fraction("secondary", 0) == pytest.approx(25 / 30)
    net.set_flow("copies", "secondary", 0)
    assert net.load("secondary", 0) == pytest.approx(10.0)


def test_partition_splits_reachability_but_not_loads():
    net = two_networks()
    net.partition("a", start_s=10, duration_s=20)               # side b = everybody else
    assert not net.can_reach("n0", "n7", 15)
    assert not net.can_reach("n7", "n0", 15)
    assert net.can_reach("n0", "n1", 15)                        # same side
    assert net.can_reach("n0", "n7", 30)
    assert net.load("primary", 15) == pytest.approx(100.0)
    net.partition(["n8"], ["n9"], start_s=0)
    assert not net.can_reach("n8", "n9", 1)
    assert net.can_reach("n8", "n7", 1)


def test_ending_a_change_before_it_starts_cancels_it():
    net = two_networks()
    c = net.disrupt("primary", start_s=100)
    net.end(c, at_s=50)
    assert net.carrying_link("n1", 200) == "primary"
    assert net.active_changes(200) == ()


def test_change_times_and_state_caching():
    net = two_networks()
    c = net.shift("a", to_link="secondary", start_s=100, duration_s=60)
    net.disrupt("primary", start_s=10, duration_s=5, who="n9")
    assert net.change_times() == [10.0, 15.0, 100.0, 160.0]
    assert net.state(120) is net.state(130)                     # same changes: cached
    assert net.active_changes(120) == (c,)
    assert "a" in {net.group_of("n0"), net.group_of("n1")}


def test_set_route_and_set_demand_reconfigure_nodes():
    net = two_networks()
    net.set_route("b", ["secondary", "primary"])
    net.set_demand("b", 1.0)
    assert net.load("secondary", 0) == pytest.approx(7.0)
    assert net.load("primary", 0) == pytest.approx(30.0)
    assert net.resolve(["n0", "a"]) == ["n0", "n1", "n2"]
    assert len(net.nodes) == 10
    assert net.summary(0) == {"primary": 0.03, "secondary": 0.28}


# -- inside a simulation ------------------------------------------------------------------------

def test_bind_calls_back_at_every_change_and_records_utilisation():
    world = World(seed=0, horizon_s=1000, bucket_s=10)
    net = two_networks()
    shift = net.shift("a", to_link="secondary", start_s=100, label="the wrong shift")
    seen: list[tuple[float, bool]] = []
    net.bind(world, lambda t: seen.append((t, net.isolated("n0", t))))
    world.at(300, lambda: net.end(shift, world.now))             # a rollback decided during the run
    world.run()
    assert seen == [(0.0, False), (100.0, True), (300.0, False)]
    series = world.metrics.series()
    util = series["net_secondary_utilisation"]
    assert util[5] == 0.0 and util[10] == pytest.approx(1.2) and util[30] == 0.0
    labels = [e.label for e in world.timeline]
    assert labels == ["the wrong shift", "the wrong shift ends"]


def test_record_needs_a_bound_world_and_bind_happens_once():
    net = two_networks()
    with pytest.raises(ValueError, match="bind"):
        net.record()
    world = World(seed=0, horizon_s=10)
    net.bind(world)
    with pytest.raises(ValueError, match="already bound"):
        net.bind(world)


# -- bad input: every argument, with the message fragment it must produce ---------------------

def _net():
    return two_networks()


BAD = [
    ("capacity 0", lambda n: n.add_link("x", 0), ValueError, "capacity of link 'x' = 0"),
    ("capacity negative", lambda n: n.add_link("x", -5), ValueError, "must be a number > 0"),
    ("capacity text", lambda n: n.add_link("x", "fast"), TypeError, "capacity of link 'x' = 'fast'"),
    ("capacity nan", lambda n: n.add_link("x", math.nan), ValueError, "capacity of link 'x'"),
    ("overload limit 0", lambda n: n.add_link("x", 5, overload_limit=0), ValueError, "overload_limit"),
    ("link name empty", lambda n: n.add_link("", 5), ValueError, "link name = ''"),
    ("link twice", lambda n: n.add_link("primary", 5), ValueError, "link 'primary' already exists"),
    ("node twice", lambda n: n.add_node("n1", route=["primary"]), ValueError, "node 'n1' already exists"),
    ("node name empty", lambda n: n.add_node("", route=["primary"]), ValueError, "node name = ''"),
    ("node named like a group", lambda n: n.add_node("a", route=["primary"]), ValueError, "group name"),
    ("group named like a node", lambda n: n.add_node("z", route=["primary"], group="n1"), ValueError,
     "already used as a node name"),
    ("route unknown link", lambda n: n.add_node("z", route=["tertiary"]), ValueError,
     "unknown link 'tertiary'; links: primary, secondary"),
    ("route empty", lambda n: n.add_node("z", route=[]), ValueError, "non-empty list of link names"),
    ("route a string", lambda n: n.add_node("z", route="primary"), ValueError, "non-empty list of link names"),
    ("route repeats", lambda n: n.add_node("z", route=["primary", "primary"]), ValueError, "appears twice"),
    ("demand negative", lambda n: n.add_node("z", route=["primary"], demand=-1), ValueError,
     "demand of node 'z' = -1"),
    ("set_demand negative", lambda n: n.set_demand("a", -2), ValueError, "demand = -2"),
    ("flow negative", lambda n: n.set_flow("f", "primary", -1), ValueError, "load of flow 'f' = -1"),
    ("flow unknown link", lambda n: n.set_flow("f", "wifi", 1), ValueError, "unknown link 'wifi'"),
    ("who unknown", lambda n: n.disrupt("primary", start_s=0, who="c"), ValueError,
     "unknown node or group 'c'"),
    ("who empty", lambda n: n.disrupt("primary", start_s=0, who=[]), ValueError, "who names no node"),
    ("shift unknown link", lambda n: n.shift("a", to_link="wifi", start_s=0), ValueError, "unknown link 'wifi'"),
    ("shift onto itself", lambda n: n.shift("a", from_link="primary", to_link="primary", start_s=0),
     ValueError, "must move traffic"),
    ("start negative", lambda n: n.disrupt("primary", start_s=-1), ValueError, "start_s = -1"),
    ("start text", lambda n: n.disrupt("primary", start_s="now"), TypeError, "start_s = 'now'"),
    ("duration zero", lambda n: n.disrupt("primary", start_s=0, duration_s=0), ValueError,
     "duration_s = 0 is not allowed: must be a number > 0"),
    ("partition overlap", lambda n: n.partition("a", ["n0", "n5"], start_s=0), ValueError, "overlap"),
    ("partition one-sided", lambda n: n.partition(None, start_s=0), ValueError, "at least one node on each side"),
    ("end twice", lambda n: n.end(n.disrupt("primary", start_s=0, duration_s=5), at_s=10), ValueError,
     "already ends at 5"),
    ("end foreign change", lambda n: n.end(two_networks().disrupt("primary", start_s=0), at_s=1), ValueError,
     "is not a change of this network"),
    ("end negative", lambda n: n.end(n.disrupt("primary", start_s=0), at_s=-3), ValueError, "at_s = -3"),
    ("query unknown node", lambda n: n.can_reach("n1", "ghost", 0), ValueError, "unknown node 'ghost'"),
    ("query unknown link", lambda n: n.utilisation("wifi", 0), ValueError, "unknown link 'wifi'"),
]


@pytest.mark.parametrize("case, call, error, fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_rejected_with_a_clear_message(case, call, error, fragment):
    with pytest.raises(error) as info:
        call(_net())
    assert fragment in str(info.value), f"{case}: message was {info.value}"
