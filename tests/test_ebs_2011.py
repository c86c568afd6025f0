"""The ebs-2011 scenario: calibration against the record (incidents.md, Lab 3), the learner
plug-ins, bad input, and the scenario's own commander rules.

What every scenario must do (contract, page, rubric, determinism) is checked in
``test_scenario_contract.py``, and the balance of the game in ``test_balance.py``.
"""

from __future__ import annotations

import functools
import json
import random
import statistics

import numpy as np
import pytest

import simkit
from simkit.commander.engine import Incident, score
from simkit.policies import ExponentialBackoff
from simkit.scenarios import ebs_2011 as ebs
from simkit.scenarios import names as scenario_names
from simkit.scenarios.base import ActionRefused
from simkit.scenarios.ebs_2011.cluster import COPYING, HEALTHY, LOST, SEARCHING, WAITING

HOUR = 3600.0
SEEDS = range(10)
#: AWS disabled CreateVolume in the affected zone at 02:40 (and did nothing else until 08:20).
CREATE_OFF_AT_0240 = [["02:40", "disable_create_volume"]]


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
    assert healthy.mean() > 0.25
    assert run().summary["healthy_api_error_share"] > 0.25


@pytest.mark.parametrize("fix", [{"cp_timeout_s": 5.0}, {"cp_pool": "per-zone"}])
def test_short_timeout_or_per_zone_pools_keep_healthy_zones_healthy(fix):
    r = run(fix)
    assert r.summary["healthy_api_error_share"] < 0.01
    assert r.summary["affected_api_error_share"] > 0.01        # CreateVolume still fails in zone a


def test_disabling_create_volume_at_2_40_brings_other_zones_back_by_2_50():
    r = run(plan=CREATE_OFF_AT_0240)
    assert window(r, "api_error_share_healthy", "01:00", "02:40").mean() > 0.25
    assert window(r, "api_error_share_healthy", "02:50", "03:30").max() < 0.01


def test_a_shift_the_secondary_network_can_carry_causes_no_storm():
    r = run({"isolated_fraction": 0.05})   # 10 nodes x 10 Gbit/s onto 100 Gbit/s: not overloaded
    assert r.summary["stuck_share_peak"] == 0.0


# -- the record put right (issue 12, part 5) ------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_search_storm_starts_when_connectivity_returns_not_at_the_shift(seed):
    """AWS: the nodes began searching for space when the shift was rolled back and
    connectivity restored. During the shift the volumes that lost their peer wait, stuck."""
    r = run(seed=seed)
    during_shift = window(r, "searches", "00:47", "00:57")
    assert during_shift.sum() == 0, "no node searches while the replication network is flooded"
    assert window(r, "stuck_share", "00:48", "00:57").min() > 0.1, "their volumes are stuck all the same"
    assert window(r, "searching_share", "00:48", "00:57").max() == 0
    assert r.summary["storm_started_at"] == "00:57" and window(r, "searches", "00:57", "00:58").sum() > 100


@pytest.mark.parametrize("when, started", [("00:50", "00:50"), ("00:55", "00:55")])
def test_an_earlier_rollback_starts_the_storm_earlier(when, started):
    assert run(plan=[[when, "rollback_network"]]).summary["storm_started_at"] == started


def test_a_later_rollback_starts_the_storm_later():
    late = run({"auto_rollback_after_s": 1800.0})
    assert late.summary["storm_started_at"] == "01:17"
    assert window(late, "searches", "00:47", "01:17").sum() == 0


@pytest.mark.parametrize("seed", [0, 3])
def test_healthy_zone_api_errors_are_graded_not_all_or_nothing(seed):
    """The record speaks of elevated error rates and latencies, not of a dead API: a
    pool that is nearly full turns away a share of the calls (Erlang's loss formula)."""
    r = run(seed=seed)
    first = window(r, "api_error_share_healthy", "01:00", "02:40")
    assert 0.25 <= first.mean() <= 0.7
    graded = (first > 0.05) & (first < 0.95)
    assert graded.mean() > 0.9, "most minutes of the first brownout have some calls failing, not all"
    levels = np.unique(np.round(r["api_error_share_healthy"], 3))
    assert len(levels) > 10


def test_errors_follow_the_threads_left_free():
    """Erlang's loss formula: fewer free threads, more calls lost; no load, no loss."""
    assert ebs.loss_share(0, 20) == 1.0 and ebs.loss_share(64, 0) == 0.0
    shares = [ebs.loss_share(c, 20.0) for c in (5, 10, 20, 30, 40)]
    assert shares == sorted(shares, reverse=True)
    assert ebs.loss_share(30, 20.0) < 0.01 < ebs.loss_share(20, 20.0) < 0.2
    assert ebs.loss_share(1, 5.0) == pytest.approx(5 / 6)


@functools.lru_cache(maxsize=None)
def _second_brownout():
    """Per seed: healthy-zone API error share in three windows, AWS's CreateVolume switch at 02:40."""
    rows = []
    for seed in SEEDS:
        r = run(seed=seed, plan=CREATE_OFF_AT_0240)
        halves = [window(r, "api_error_share_healthy", a, b).mean()
                  for a, b in (("05:30", "06:55"), ("06:55", "08:20"))]
        rows.append({"quiet": window(r, "api_error_share_healthy", "02:50", "04:30").mean(),
                     "second": window(r, "api_error_share_healthy", "05:30", "08:20").mean(),
                     "peak_half": max(halves),
                     "crashed_by_0820": r.value_at("nodes_crashed", clock_s("08:20"))})
    return rows


def test_a_second_brownout_follows_the_crashes_around_05_30_to_08_20():
    """Record: from about 05:30 the control plane browned out again across the region,
    as more failed nodes meant more negotiations, until 08:20. The crashes are random, so
    the second brownout comes on most seeds, not all, and not at the same minute."""
    rows = _second_brownout()
    assert statistics.median(r["quiet"] for r in rows) < 0.01, "fine again after 02:50 ..."
    assert sum(r["quiet"] < 0.02 for r in rows) >= 7, "... on most seeds"
    brownout = [r for r in rows if r["peak_half"] > 0.05]
    assert len(brownout) >= 5, rows
    for r in brownout:       # elevated (not a dead API) and later than the quiet stretch
        assert 0.05 < r["second"] < 0.5 and r["second"] > r["quiet"], r


def test_the_second_brownout_grows_with_the_nodes_that_crashed():
    rows = _second_brownout()
    many = [r["second"] for r in rows if r["crashed_by_0820"] >= 4]
    few = [r["second"] for r in rows if r["crashed_by_0820"] <= 2]
    assert many and few and min(many) > max(few)


def test_without_the_race_condition_there_is_no_second_brownout():
    for seed in (1, 2):
        r = run({"race_crash_prob": 0.0}, seed=seed, plan=CREATE_OFF_AT_0240)
        assert window(r, "api_error_share_healthy", "02:50", "12:30").max() < 0.01
        assert r.summary["nodes_crashed"] == 0


def test_aws_timeline_contains_the_failure_around_noon():
    """Record: CreateVolume off at 02:40, the cluster cut off at 08:20, futile searching
    stopped at 11:30, contained to the one zone at 12:04."""
    r = run(plan=ebs.HISTORICAL_PLAN)
    assert "11:40" <= r.summary["contained_at"] <= "12:10"
    assert window(r, "api_error_share_healthy", "08:30", "12:30").max() < 0.01
    assert window(r, "api_error_share_affected", "08:30", "12:30").min() == 1.0, "zone a's API is cut off"


# -- the page ----------------------------------------------------------------------------------------

def test_the_page_comes_with_the_first_stuck_volumes_a_minute_after_the_shift():
    for seed in (0, 5, 9):
        model = ebs.Model(seed=seed)
        model.advance_to(clock_s("01:00"))
        assert model.clock(model.page_s) == "00:48"
    labels = [e.label for e in run().timeline]
    assert any(label.startswith("on-call engineer paged: more than 2% of zone a's volumes stuck") for label in labels)


def test_without_a_storm_nobody_is_paged():
    model = ebs.Model({"isolated_fraction": 0.05, "horizon_s": 2 * HOUR})
    model.advance_to(model.horizon_s - model.tick_s)
    assert model.page_s is None
    assert model.check("add_capacity").startswith("nothing has alerted yet")


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
    assert c.nodes_crashed > 0
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
    orphans = [sum(1 for v in s if not c.alive[c.other[v]]) for s in c.searching]
    assert orphans == c.orphans and sum(orphans) > 0


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
    assert ebs.search_delay_s(5000, rng, 30.0, 600.0, "exponential") == 600.0


@pytest.mark.parametrize("jitter", ["full", "equal", "decorrelated"])
def test_the_search_backoff_is_the_kits_backoff_with_jitter(jitter):
    """One backoff with jitter in the kit (simkit.policies), not a second copy here."""
    assert ebs.retry_policy(jitter, 30.0, 600.0) == ExponentialBackoff(
        max_retries=ebs.retry_policy(jitter, 30.0, 600.0).max_retries, base_s=30.0, cap_s=600.0, jitter=jitter)
    mine, kits = random.Random(9), random.Random(9)
    kit = ExponentialBackoff(max_retries=10, base_s=30.0, cap_s=600.0, jitter=jitter)
    previous = 0.0
    for failures in range(1, 10):
        d = ebs.search_delay_s(failures, mine, 30.0, 600.0, jitter, previous)
        assert d == kit.delay_s(failures, kits, previous)
        previous = d


def test_a_learner_policy_equal_to_the_canonical_one_gives_the_same_run():
    class Mine(ebs.RemirrorPolicy):
        def choose(self, previous_alive, previous_reachable):
            if self.prefer_previous and previous_alive:
                return "reconnect" if previous_reachable else "wait"
            return "search"

        def delay_s(self, failures, rng, previous_delay_s):
            return ebs.search_delay_s(failures, rng, self.base_s, self.cap_s, self.backoff, previous_delay_s)

    for backoff in ("equal", "none"):
        params = {"remirror_backoff": backoff, "horizon_s": 3 * HOUR}
        canonical = ebs.run(params, seed=2)
        mine = ebs.run(params, seed=2, remirror=Mine.from_params(ebs.Params.from_dict(params)))
        assert mine.digest() == canonical.digest()


def test_a_learner_policy_that_never_backs_off_is_asked_every_round():
    calls = []

    class Counting(ebs.RemirrorPolicy):
        def delay_s(self, failures, rng, previous_delay_s):
            calls.append(failures)
            return 30.0

    ebs.run({"horizon_s": 2 * HOUR}, seed=0, remirror=Counting())
    assert len(calls) > 1000 and max(calls) > 100


def test_a_learner_bulkhead_plugs_in_and_zone_pools_protect_healthy_zones():
    class Mine:
        def __init__(self, threads, zones):
            self.per_zone = threads // len(zones)

        def admit(self, zone, wanted, busy):
            return max(0, min(wanted, self.per_zone - busy.get(zone, 0)))

    params = {"horizon_s": 3 * HOUR}
    r = ebs.run(params, seed=0, bulkhead=Mine(64, "abcd"))
    assert r.summary["healthy_api_error_share"] < 0.001
    assert r.summary["affected_api_error_share"] > 0.5
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
    ("isolate_delay_s", -1, "isolate_delay_s = -1 is not allowed: must be a number >= 0 and <= 43200 (s)"),
    ("throttle_delay_s", "soon", "throttle_delay_s = 'soon'"),
    ("timeout_deploy_s", -5, "timeout_deploy_s = -5"),
    ("split_pool_deploy_s", float("nan"), "split_pool_deploy_s = nan"),
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
    with pytest.raises(ValueError, match="backoff = 'sometimes'"):
        ebs.search_delay_s(1, random.Random(0), 30.0, 600.0, "sometimes")
    with pytest.raises(ValueError, match="cap_s = 10"):
        ebs.RemirrorPolicy(base_s=30, cap_s=10)
    with pytest.raises(TypeError, match="prefer_previous = 1"):
        ebs.RemirrorPolicy(prefer_previous=1)
    with pytest.raises(ValueError, match="fewer threads than zones"):
        ebs.ZonePools(3, ["a", "b", "c", "d"])


# -- the commander: this scenario's actions and rules ---------------------------------------------------

def test_actions_wait_for_the_page_then_have_preconditions_and_delays():
    inc = Incident("ebs-2011")
    ok, why = inc.act("rollback_network")
    assert not ok and why.startswith("nothing has alerted yet") and "stuck" in why
    inc.tick(4)                                         # 00:50, paged at 00:48
    assert inc.act("rollback_network")[0]
    ok, why = inc.act("rollback_network")
    assert not ok and "already" in why
    assert inc.act("isolate_control_plane")[0]
    assert "already under way" in inc.available()["isolate_control_plane"]
    assert not inc.model.cp.cut_off                     # takes isolate_delay_s (5 min)
    inc.tick(1)
    assert inc.model.cp.cut_off and inc.model.cp.held == 0
    assert inc.available()["isolate_control_plane"] == "already done"
    assert inc.act("split_pool")[0]
    # every attempt joins the plan (refused ones cost toil, so a replay must try them again)
    assert inc.plan.to_data() == [[0, "rollback_network"], [20, "rollback_network"], [20, "rollback_network"],
                                  [20, "isolate_control_plane"], [25, "split_pool"]]


def test_tooltips_read_their_delays_from_the_params():
    model = ebs.Model({"capacity_lead_time_s": 7200.0, "throttle_delay_s": 120.0})
    assert "after 2 h" in model.actions["add_capacity"].tooltip(model.params)
    assert "after 2 min" in model.actions["throttle_remirror"].tooltip(model.params)
    assert "at once" in model.actions["disable_create_volume"].tooltip(model.params)


def test_every_action_costs_what_the_rubric_explains():
    from simkit.scenarios.ebs_2011.rules import ACTION_COSTS
    assert {name: spec.cost for name, spec in ebs.Model.actions.items()} == \
        {name: cost for name, (cost, _why) in ACTION_COSTS.items()}
    for cost, why in ACTION_COSTS.values():
        assert f"{why} {cost:g}" in ebs.Model.rubric.costs.explains


def test_cutting_the_cluster_off_darkens_zone_a_api_as_in_2011():
    r = run(plan=[["00:50", "isolate_control_plane"]])
    assert window(r, "api_error_share_affected", "01:00", "12:30").min() == 1.0
    assert window(r, "api_error_share_healthy", "01:00", "12:30").max() < 0.01


def test_servers_arrive_after_the_lead_time_and_unstick_the_volumes():
    r = run(plan=[["00:50", "add_capacity"]])
    assert r.value_at("stuck_share", clock_s("04:45")) > 0.1
    assert r.value_at("stuck_share", clock_s("07:30")) < 0.01
    assert any(e.label.startswith("40 storage servers added") and r.clock(e.t_s) == "04:50" for e in r.timeline)


def test_split_pool_and_shorten_timeout_act_after_their_delay():
    r = run(plan=[["00:50", "split_pool"], ["00:50", "shorten_timeout"]])
    assert window(r, "api_error_share_healthy", "00:52", "00:59").mean() > 0.1
    assert window(r, "api_error_share_healthy", "01:30", "12:30").max() < 0.01
    refused = score("ebs-2011", [("00:50", "split_pool")], params={"cp_pool": "per-zone"})
    assert refused.actions[0]["status"] == "refused" and "already has a pool per zone" in refused.actions[0]["message"]


def test_the_intended_plan_is_top_on_several_seeds_and_says_why():
    for seed in (0, 1, 2):
        card = score("ebs-2011", ebs.INTENDED_PLAN, seed=seed)
        assert card.band == "top", card.text()
    assert card.measurements["minutes_to_contain"] <= 30 and card.component("action_cost").earned == 6


def test_doing_nothing_is_capped_because_the_failure_still_spreads():
    card = score("ebs-2011", [])
    assert card.band == "bottom" and card.measurements["contained"] == 0
    assert card.component("minutes_to_contain").value is None
    assert "still spreading" in card.verdict


def test_adding_capacity_alone_fixes_the_volumes_but_not_the_blast_radius():
    card = score("ebs-2011", [("00:50", "add_capacity")])
    assert card.band == "middle", card.text()
    assert card.component("stuck_share_mean_pct").earned > 15
    assert card.component("minutes_to_contain").earned == 0


def test_the_historical_response_contains_the_blast_radius_late():
    card = score("ebs-2011", ebs.HISTORICAL_PLAN)
    nothing = score("ebs-2011", [])
    assert card.measurements["healthy_api_error_minutes"] < nothing.measurements["healthy_api_error_minutes"] / 3
    assert card.band == "low" and card.score >= nothing.score + 15


def test_a_result_can_be_read_before_the_first_step():
    inc = Incident("ebs-2011")
    r = inc.result()
    assert r.summary["stuck_share_peak"] == 0.0 and r.summary["time_to_contain_min"] is None
    assert r.value_at("free_share", 0) == pytest.approx(0.03, abs=0.001)
    assert len(r["api_error_share_healthy"]) == 720
    card = inc.model.score_card()
    assert card.measurements["minutes_to_contain"] is None


def test_refused_actions_raise_with_the_reason():
    model = ebs.Model()
    with pytest.raises(ActionRefused, match="nothing has alerted yet"):
        model.act("throttle_remirror")
