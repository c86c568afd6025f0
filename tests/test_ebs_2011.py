"""Tests of the ebs-2011 scenario: calibration against incidents.md, determinism, bad input,
the learner plug-ins, and the commander bands."""

from __future__ import annotations

import functools
import json
import random

import numpy as np
import pytest

import simkit
from simkit.commander.engine import Incident, score
from simkit.scenarios import ebs_2011 as ebs
from simkit.scenarios import names as scenario_names
from simkit.scenarios.ebs_2011.cluster import COPYING, HEALTHY, LOST, SEARCHING, WAITING

HOUR = 3600.0


def clock_s(hhmm: str) -> float:
    """Simulated seconds for a time of day (the run starts at 00:30)."""
    h, m = map(int, hhmm.split(":"))
    return (h * 60 + m) * 60 - ebs.CLOCK_START_S


@functools.lru_cache(maxsize=None)
def _run(params_json: str = "{}", seed: int = 0, plan_json: str = "null"):
    plan = json.loads(plan_json)
    return ebs.run(json.loads(params_json), seed=seed, plan=plan)


def run(params: dict | None = None, seed: int = 0, plan: list | None = None):
    """Cached runs: the same configuration is simulated once per test session."""
    return _run(json.dumps(params or {}, sort_keys=True), seed, json.dumps(plan))


def window(result, name: str, start: str, end: str) -> np.ndarray:
    t = result.t_s
    return result[name][(t >= clock_s(start)) & (t < clock_s(end))]


# -- calibration targets (incidents.md, Lab 3) ---------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_storm_keeps_the_stuck_share_in_the_8_to_20_percent_band(seed):
    stuck = window(run(seed=seed), "stuck_share", "02:00", "12:30")
    assert stuck.min() >= 0.08 and stuck.max() <= 0.20, (stuck.min(), stuck.max())


def test_about_13_percent_of_volumes_are_stuck_once_the_spare_space_is_used():
    stuck = window(run(), "stuck_share", "02:30", "03:00")
    assert 0.11 <= stuck.mean() <= 0.15


@pytest.mark.parametrize("seed", [0, 1])
def test_free_space_stays_at_zero_while_nodes_keep_searching(seed):
    r = run(seed=seed)
    free, searching, t = r["free_slots"], r["searching_share"], r.t_s
    exhausted = np.nonzero((free == 0) & (t >= ebs.Params().trigger_at_s))[0]
    assert exhausted.size and t[exhausted[0]] <= ebs.Params().trigger_at_s + 15 * 60, "space runs out at once"
    after = np.arange(len(t)) >= exhausted[0]
    assert (searching[after] > 0).all(), "nodes keep searching to the end"
    assert (free[after] == 0).all(), "free space stays at zero"
    assert r.summary["searches_total"] > 100_000


def test_a_larger_spare_buffer_leaves_far_fewer_volumes_stuck():
    base = run().summary["stuck_share_mean"]
    roomy = run({"spare_fraction": 0.15})
    assert roomy.summary["stuck_share_mean"] < base / 3
    assert roomy.value_at("stuck_share", clock_s("06:00")) < 0.01


def test_backoff_and_prefer_previous_replica_leave_far_fewer_volumes_stuck():
    base = run()
    fixed = run({"remirror_backoff": "full", "prefer_previous_replica": True})
    assert fixed.summary["stuck_share_mean"] < base.summary["stuck_share_mean"] / 3
    assert fixed.summary["searches_total"] < base.summary["searches_total"] / 10
    assert fixed.summary["nodes_crashed"] == 0


def test_backoff_alone_starves_the_race_condition():
    """Loop 2: crashes grow with requests closed at once; backoff closes them far less often."""
    storm = sum(run(seed=s)["expected_crashes"].sum() for s in (0, 1))
    backoff = sum(run({"remirror_backoff": "full"}, seed=s)["expected_crashes"].sum() for s in (0, 1))
    assert storm > 3 and backoff < storm / 5
    assert sum(run(seed=s).summary["nodes_crashed"] for s in (0, 1, 2)) > 0


def test_crashed_nodes_add_stuck_volumes():
    r = run(seed=1)
    t3 = clock_s("03:00")
    crashes_later = r.summary["nodes_crashed"] - r.value_at("nodes_crashed", t3)
    assert crashes_later > 0
    assert r["searching_share"][-1] > r.value_at("searching_share", t3) + 0.005 * crashes_later


def test_shared_pool_with_long_timeout_fails_api_calls_in_healthy_zones():
    healthy = window(run(), "api_error_share_healthy", "00:50", "02:40")
    assert healthy.mean() > 0.5
    assert run().summary["healthy_api_error_share"] > 0.5


@pytest.mark.parametrize("fix", [{"cp_timeout_s": 5.0}, {"cp_pool": "per-zone"}])
def test_short_timeout_or_per_zone_pools_keep_healthy_zones_healthy(fix):
    r = run(fix)
    assert r.summary["healthy_api_error_share"] < 0.01
    assert r.summary["affected_api_error_share"] > 0.01        # CreateVolume still fails in zone a


def test_disabling_create_volume_at_2_40_brings_other_zones_back_by_2_50():
    r = run(plan=[["02:40", "disable_create_volume"]])
    assert window(r, "api_error_share_healthy", "01:00", "02:40").mean() > 0.9
    assert window(r, "api_error_share_healthy", "02:50", "03:30").max() < 0.01


def test_a_shift_the_secondary_network_can_carry_causes_no_storm():
    r = run({"isolated_fraction": 0.05})   # 10 nodes x 10 Gbit/s onto 100 Gbit/s: not overloaded
    assert r.summary["stuck_share_peak"] == 0.0


# -- determinism ------------------------------------------------------------------------------

def test_same_seed_same_digest_and_different_seeds_differ():
    a = ebs.run(seed=3)
    b = ebs.run(seed=3)
    assert a.digest() == b.digest()
    assert run(seed=0).digest() != run(seed=1).digest()


def test_registry_and_top_level_run():
    assert "ebs-2011" in scenario_names()
    r = simkit.run("ebs-2011", {"horizon_s": 2 * HOUR}, seed=0)
    assert r.scenario == "ebs-2011" and len(r.t_s) == 120
    assert r.clock(0) == "00:30"


# -- the cluster keeps its books straight ---------------------------------------------------------

def test_cluster_invariants_after_a_storm_with_crashes():
    model = ebs.Model(seed=1)
    model.advance_to(model.horizon_s)
    c = model.cluster
    assert sum(c.count) == c.n_volumes
    assert set(c.state) <= {HEALTHY, WAITING, SEARCHING, COPYING, LOST}
    assert all(f >= 0 for f in c.free)
    assert c.free_alive == sum(f for f, up in zip(c.free, c.alive) if up)
    for v in range(c.n_volumes):
        if c.state[v] == HEALTHY:
            assert c.holder[v] != c.other[v]
            assert c.alive[c.holder[v]] and c.alive[c.other[v]]
        elif c.state[v] == SEARCHING:
            assert c.alive[c.holder[v]] and v in c.searching[c.holder[v]]
    assert c.count[SEARCHING] == sum(len(s) for s in c.searching)


# -- the learner's pieces plug in -----------------------------------------------------------------

def test_choose_remirror_truth_table():
    assert ebs.choose_remirror(True, True, False) == "search"
    assert ebs.choose_remirror(True, True, True) == "reconnect"
    assert ebs.choose_remirror(True, False, True) == "wait"
    assert ebs.choose_remirror(False, False, True) == "search"


@pytest.mark.parametrize("backoff", ebs.BACKOFFS)
def test_search_delay_stays_within_its_bounds(backoff):
    rng = random.Random(5)
    previous = 0.0
    for failures in range(1, 200):
        d = ebs.search_delay_s(failures, rng, 30.0, 600.0, backoff, previous)
        ceiling = min(600.0, 30.0 * 2 ** min(failures - 1, 60))
        if backoff == "none":
            assert d == 30.0
        elif backoff == "exponential":
            assert d == ceiling
        elif backoff == "full":
            assert 0 <= d <= ceiling
        elif backoff == "equal":
            assert ceiling / 2 <= d <= ceiling
        else:
            assert 30.0 <= d <= min(600.0, 3 * max(previous, 30.0))
        previous = d


def test_a_learner_policy_equal_to_the_canonical_one_gives_the_same_run():
    class Mine(ebs.RemirrorPolicy):
        def choose(self, previous_alive, previous_reachable):
            if self.prefer_previous and previous_alive:
                return "reconnect" if previous_reachable else "wait"
            return "search"

        def delay_s(self, failures, rng, previous_delay_s):
            return ebs.search_delay_s(failures, rng, self.base_s, self.cap_s, self.backoff, previous_delay_s)

    params = {"remirror_backoff": "equal", "horizon_s": 3 * HOUR}
    canonical = ebs.run(params, seed=2)
    mine = ebs.run(params, seed=2, remirror=Mine.from_params(ebs.Params.from_dict(params)))
    assert mine.digest() == canonical.digest()


def test_a_learner_bulkhead_plugs_in_and_zone_pools_protect_healthy_zones():
    class Mine:
        def __init__(self, threads, zones):
            self.per_zone = threads // len(zones)

        def admit(self, zone, wanted, busy):
            return max(0, min(wanted, self.per_zone - busy.get(zone, 0)))

    params = {"horizon_s": 3 * HOUR}
    r = ebs.run(params, seed=0, bulkhead=Mine(64, "abcd"))
    assert r.summary["healthy_api_error_share"] == 0.0
    assert ebs.run(params, seed=0, bulkhead=ebs.ZonePools(64, "abcd")).digest() == r.digest()


def test_pools_admit_what_fits():
    shared, zoned = ebs.SharedPool(10), ebs.ZonePools(10, ["a", "b"])
    assert shared.admit("b", 4, {"a": 8, "b": 0}) == 2
    assert zoned.admit("b", 4, {"a": 5, "b": 0}) == 4
    assert zoned.admit("a", 4, {"a": 5, "b": 0}) == 0
    assert ebs.threads_for(20, 0.25) == 5.0


PLUGIN_ERRORS = [
    ("choose returns junk", {"remirror": type("P", (ebs.RemirrorPolicy,), {"choose": lambda s, a, r: "panic"})()},
     ValueError, "choose() returned 'panic'"),
    ("reconnect to an unreachable replica",
     {"remirror": type("P", (ebs.RemirrorPolicy,), {"choose": lambda s, a, r: "reconnect"})()},
     ValueError, "chose 'reconnect' although the previous replica"),
    ("negative delay", {"remirror": type("P", (ebs.RemirrorPolicy,), {"delay_s": lambda s, f, g, p: -1})()},
     ValueError, "delay_s(1, rng, 0) returned -1"),
    ("delay is None", {"remirror": type("P", (ebs.RemirrorPolicy,), {"delay_s": lambda s, f, g, p: None})()},
     ValueError, "must be a number of seconds >= 0"),
    ("bulkhead admits too many", {"bulkhead": type("B", (), {"admit": lambda s, z, w, b: w + 1})()},
     ValueError, "must be an integer between 0 and"),
    ("bulkhead without admit", {"bulkhead": object()}, TypeError, "needs the method(s) admit"),
    ("policy without delay_s", {"remirror": type("P", (), {"choose": lambda s, a, r: "search"})()},
     TypeError, "needs the method(s) delay_s"),
]


@pytest.mark.parametrize("case, kwargs, error, fragment", PLUGIN_ERRORS, ids=[p[0] for p in PLUGIN_ERRORS])
def test_broken_plugins_get_a_clear_error(case, kwargs, error, fragment):
    with pytest.raises(error) as info:
        ebs.run({"horizon_s": 2 * HOUR}, seed=0, **kwargs)
    assert fragment in str(info.value), f"{case}: {info.value}"


# -- bad parameters: every parameter, with the fragment its message must contain ------------------

BAD_PARAMS = [
    ("n_nodes", 5, "n_nodes = 5 is not allowed: must be an integer >= 10 and <= 2000"),
    ("n_nodes", 10.5, "n_nodes = 10.5 is not allowed"),
    ("slots_per_node", 1, "slots_per_node = 1 is not allowed"),
    ("spare_fraction", 0.95, "spare_fraction = 0.95 is not allowed: must be a number >= 0 and <= 0.9"),
    ("spare_fraction", "lots", "spare_fraction = 'lots'"),
    ("volume_gbit", 0, "volume_gbit = 0 is not allowed: must be a number > 0 and <= 100000 (Gbit)"),
    ("resync_gbit", -1, "resync_gbit = -1"),
    ("copy_gbps", 0, "copy_gbps = 0 is not allowed"),
    ("node_demand_gbps", 0, "node_demand_gbps = 0"),
    ("primary_capacity_gbps", -10, "primary_capacity_gbps = -10"),
    ("secondary_capacity_gbps", 0, "secondary_capacity_gbps = 0"),
    ("isolated_fraction", 1.5, "isolated_fraction = 1.5 is not allowed: must be a number >= 0 and <= 1"),
    ("trigger_at_s", -1, "trigger_at_s = -1"),
    ("trigger_at_s", 13 * HOUR, "the trigger (trigger_at_s) must come before horizon_s"),
    ("auto_rollback_after_s", -60, "auto_rollback_after_s = -60"),
    ("remirror_backoff", "exponentialish", "remirror_backoff = 'exponentialish' is not allowed: must be one of"),
    ("search_retry_s", 1, "search_retry_s = 1 is not allowed: must be a number >= 30"),
    ("search_cap_s", 20, "search_cap_s = 20 is not allowed"),
    ("search_retry_s", 900, "search_cap_s must be >= search_retry_s"),
    ("prefer_previous_replica", "yes", "prefer_previous_replica = 'yes' is not allowed: must be True or False"),
    ("search_gbit", -0.5, "search_gbit = -0.5"),
    ("race_crash_prob", 0.5, "race_crash_prob = 0.5 is not allowed: must be a number >= 0 and <= 0.01"),
    ("throttle_interval_s", 0, "throttle_interval_s = 0"),
    ("n_zones", 1, "n_zones = 1 is not allowed: must be an integer >= 2 and <= 8"),
    ("n_zones", 9, "n_zones = 9"),
    ("api_calls_per_s", 0, "api_calls_per_s = 0"),
    ("api_call_s", 0, "api_call_s = 0"),
    ("create_volume_per_s", -1, "create_volume_per_s = -1"),
    ("negotiations_per_search", 2, "negotiations_per_search = 2"),
    ("cp_threads", 1, "cp_threads = 1 is not allowed: must be an integer >= 2"),
    ("cp_threads", 3, "cp_threads must be >= n_zones"),
    ("cp_pool", "pooled", "cp_pool = 'pooled' is not allowed: must be one of 'shared', 'per-zone'"),
    ("cp_timeout_s", 0, "cp_timeout_s = 0 is not allowed: must be a number > 0 and <= 86400 (s)"),
    ("cp_timeout_s", 2, "short_timeout_s must be <= cp_timeout_s"),
    ("short_timeout_s", 0, "short_timeout_s = 0"),
    ("capacity_nodes_added", 0, "capacity_nodes_added = 0"),
    ("capacity_lead_time_s", -1, "capacity_lead_time_s = -1"),
    ("horizon_s", 60, "horizon_s = 60 is not allowed: must be a number >= 3600 and <= 172800 (s)"),
    ("no_such_knob", 1, "Params has no parameter 'no_such_knob'; known parameters: n_nodes"),
]


def test_every_parameter_has_a_bad_value_case():
    assert {name for name, _, _ in BAD_PARAMS} >= set(ebs.Params.specs())


@pytest.mark.parametrize("name, value, fragment", BAD_PARAMS, ids=[f"{n}={v!r}" for n, v, _ in BAD_PARAMS])
def test_bad_parameters_are_rejected_with_a_clear_message(name, value, fragment):
    with pytest.raises((TypeError, ValueError)) as info:
        ebs.Params.from_dict({name: value})
    assert fragment in str(info.value), str(info.value)


def test_bad_remirror_policy_settings():
    with pytest.raises(ValueError, match="backoff = 'sometimes'"):
        ebs.RemirrorPolicy(backoff="sometimes")
    with pytest.raises(ValueError, match="cap_s = 10"):
        ebs.RemirrorPolicy(base_s=30, cap_s=10)
    with pytest.raises(TypeError, match="prefer_previous = 1"):
        ebs.RemirrorPolicy(prefer_previous=1)
    with pytest.raises(ValueError, match="fewer threads than zones"):
        ebs.ZonePools(3, ["a", "b", "c", "d"])


# -- the commander ----------------------------------------------------------------------------------

def test_roll_back_throttle_and_isolate_early_scores_top():
    card = score("ebs-2011", [(20, "rollback_network"), (20, "throttle_remirror"), (20, "isolate_control_plane")])
    assert card.band == "top", card.to_dict()
    assert card.details["nodes_crashed"] == 0


def test_adding_capacity_alone_while_nodes_keep_searching_scores_low():
    card = score("ebs-2011", [("00:50", "add_capacity")])
    assert card.band == "low", card.to_dict()
    assert card.details["points"]["blast_radius"] == 0.0


def test_doing_nothing_scores_bottom():
    card = score("ebs-2011", [])
    assert card.band == "bottom", card.to_dict()
    assert card.time_to_recover_min is None


def test_the_historical_response_contains_the_blast_radius_late():
    card = score("ebs-2011", ebs.HISTORICAL_PLAN)
    assert card.details["healthy_api_error_minutes"] < run().summary["healthy_api_error_minutes"] / 3
    assert card.band in ("bottom", "low")


def test_actions_have_preconditions_and_delays():
    inc = Incident("ebs-2011")
    ok, why = inc.act("rollback_network")
    assert not ok and "00:47" in why                    # nothing to do before the trigger
    inc.tick(4)                                         # 00:50
    assert inc.act("rollback_network")[0]
    ok, why = inc.act("rollback_network")
    assert not ok and "already rolled back" in why
    assert inc.act("isolate_control_plane")[0]
    assert inc.available()["isolate_control_plane"] == "already done (or under way)"
    assert not inc.model.cp.cut_off                     # takes 5 minutes
    inc.tick(2)
    assert inc.model.cp.cut_off and inc.model.cp.held == 0
    assert inc.act("split_pool")[0]
    assert inc.plan.to_data() == [[20, "rollback_network"], [20, "isolate_control_plane"], [30, "split_pool"]]


def test_split_pool_and_shorten_timeout_act_after_their_delay():
    plan = [(20, "split_pool"), (20, "shorten_timeout")]
    r = run(plan=plan)
    assert window(r, "api_error_share_healthy", "01:30", "12:30").max() < 0.01
    per_zone = ebs.Params(cp_pool="per-zone")
    refused = score("ebs-2011", [(20, "split_pool")], params=per_zone)
    assert refused.details["actions"][0]["ok"] is False


def test_a_result_can_be_read_before_the_first_step():
    inc = Incident("ebs-2011")
    r = inc.result()
    assert r.summary["stuck_share_peak"] == 0.0 and r.summary["time_to_contain_min"] is None
    assert r.value_at("free_share", 0) == pytest.approx(0.03, abs=0.001)
    assert inc.model.score_card is not None and len(r["api_error_share_healthy"]) == 720
