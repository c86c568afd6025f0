"""The elb-2012 scenario: calibration against the postmortem, state operations, commander, bad input.

Calibration targets (``incidents.md``, Lab 2): with the default workflow rates,
leaving workflows on from the deletion to 5:02 PM damages a share of load
balancers of the order of 6.8%; disabling workflows stops the growth at once; a
restore without a merge loses the changes made after the snapshot; a
reconciliation against live state repairs every damaged load balancer without
any snapshot.
"""

import math
import statistics

import numpy as np
import pytest

import simkit
from simkit.commander import Incident, Plan, replay, score
from simkit.scenarios import elb_2012 as elb
from simkit.scenarios.elb_2012 import (
    Config,
    Recovery,
    Stage,
    JournalEntry,
    LoadBalancer,
    Workflow,
    apply_workflow,
    blast_radius,
    merge_journal,
    reconcile_lb,
    restore_from_snapshot,
    touch_rate_per_h,
)

AT_17_02_S = 302 * 60.0
DELETION_S = 24 * 60.0

EARLY_RECONCILE = [("13:30", "disable_all_workflows"), ("13:30", "reconcile"),
                   ("15:10", "enable_workflows_gradually")]
HISTORICAL = elb.HISTORICAL_PLAN
NO_MERGE = [step for step in HISTORICAL if step[1] != "merge_changes"]
ALL_AT_ONCE = HISTORICAL[:-1] + [("05:40", "enable_workflows_all")]


@pytest.fixture(scope="module")
def default_runs():
    """The default scenario with nobody at the wheel, seeds 0-4."""
    return [simkit.run("elb-2012", seed=s) for s in range(5)]


@pytest.fixture(scope="module")
def untouched(default_runs):
    return default_runs[0]


@pytest.fixture(scope="module")
def reference():
    """AWS's response as a plan: disable at 5 PM, restore (twice), merge, re-enable slowly."""
    return simkit.run("elb-2012", seed=0, plan=HISTORICAL)


# -- calibration ------------------------------------------------------------------------------

def test_damage_at_5_02_pm_is_of_the_order_of_6_8_percent(default_runs):
    shares = [run.summary["damaged_share_at_17_02"] for run in default_runs]
    assert 0.055 <= statistics.mean(shares) <= 0.08, shares
    assert all(0.045 <= share <= 0.09 for share in shares), shares


def test_nothing_is_damaged_before_the_deletion_and_damage_grows_while_workflows_run(untouched):
    damaged = untouched["damaged_lbs"]
    t = untouched.t_s
    assert damaged[t < DELETION_S].max() == 0
    assert untouched.value_at("missing_share", DELETION_S + 60) == pytest.approx(0.25, abs=0.01)
    # Growth all afternoon and evening: more at 20:00 than at 17:02, more at the end than at 20:00.
    at_8pm = untouched.value_at("damaged_lbs", 480 * 60.0)
    assert untouched.value_at("damaged_lbs", AT_17_02_S) < at_8pm < damaged[-1]
    assert untouched.summary["time_to_normal_h"] is None


def test_disabling_workflows_stops_the_growth_at_once(untouched):
    result = simkit.run("elb-2012", seed=0, plan=[("14:00", "disable_all_workflows")])
    after = result.t_s >= 120 * 60.0
    damaged_after = result["damaged_lbs"][after]
    assert damaged_after.max() == damaged_after[0] > 0          # frozen from the moment of the action
    assert untouched["damaged_lbs"][-1] > 4 * damaged_after[0]  # while the untouched run kept growing


def test_the_odd_pattern_new_load_balancers_work_existing_ones_fail(untouched):
    after = (untouched.t_s > DELETION_S + 600) & (untouched.t_s < AT_17_02_S)
    existing = untouched["api_error_rate_existing"][after]
    new = untouched["api_error_rate_new"][after]
    assert np.nanmin(existing) > 0.2
    assert np.nanmax(new) == 0.0
    latency = untouched["api_latency_s"]
    assert latency[untouched.t_s < DELETION_S].max() == pytest.approx(0.25)
    assert np.nanmean(latency[after]) > 5 * 0.25


def test_customer_errors_come_from_damaged_load_balancers_only(untouched):
    errors = untouched["customer_error_rate"]
    assert errors[untouched.t_s < DELETION_S].max() == 0.0
    assert 0.02 < untouched.value_at("customer_error_rate", AT_17_02_S) < 0.12
    assert untouched.summary["customer_error_rate_peak"] == pytest.approx(np.nanmax(errors))


def test_blast_radius_estimate_matches_the_simulation(default_runs):
    params = elb.Params()
    rate = touch_rate_per_h(params, DELETION_S, AT_17_02_S)
    estimate = blast_radius(params.deleted_share, rate, (AT_17_02_S - DELETION_S) / 3600.0)
    simulated = statistics.mean(run.summary["damaged_share_at_17_02"] for run in default_runs)
    assert estimate == pytest.approx(simulated, rel=0.12)
    # and with other rates and another deleted share
    params = elb.Params(deleted_share=0.5, customer_change_rate_per_lb_h=0.05)
    rate = touch_rate_per_h(params, DELETION_S, AT_17_02_S)
    estimate = blast_radius(0.5, rate, (AT_17_02_S - DELETION_S) / 3600.0)
    simulated = statistics.mean(simkit.run("elb-2012", params, seed=s).summary["damaged_share_at_17_02"]
                                for s in range(3))
    assert estimate == pytest.approx(simulated, rel=0.12)


def test_reference_plan_follows_the_real_recovery(reference):
    s = reference.summary
    assert s["damaged_share_peak"] == pytest.approx(s["damaged_share_at_17_02"], abs=0.005)
    assert s["changes_lost"] == 0
    assert s["damaged_lbs_end"] == 0 and s["missing_records_end"] == 0
    # AWS: normal about 23 h 41 min after the deletion; the model's gradual path ends a little sooner.
    assert 19.0 <= s["time_to_normal_h"] <= 24.5
    labels = [e.label for e in reference.timeline]
    assert "Restore state from snapshot failed: attempt 1 yielded no usable snapshot" in labels
    assert any(label.startswith("merge finished") for label in labels)


def test_restore_without_merge_loses_the_changes_made_after_the_snapshot():
    model = elb.Model(seed=0)
    replay(model, Plan.coerce(NO_MERGE, model))
    model.advance_to(model.horizon_s)
    region = model.region
    between = [c for c, _, t in region.accepted if region.snapshot_s <= t < model.recovery.restored_s]
    assert len(between) > 100
    # Exactly the changes accepted between the snapshot and the restore are gone from the records...
    assert model.changes_lost() == len(between)
    # ...and the load balancers created in that window have no record at all.
    assert region.missing and all(i >= region.first_new_id for i in region.missing)
    # With the merge, nothing is lost.
    merged = elb.Model(seed=0)
    replay(merged, Plan.coerce(HISTORICAL, merged))
    merged.advance_to(merged.horizon_s)
    assert merged.changes_lost() == 0 and not merged.region.missing
    assert merged.recovery.stage is Stage.MERGED


def test_reconciliation_repairs_every_damaged_load_balancer_without_a_snapshot():
    model = elb.Model(seed=0)
    replay(model, Plan.coerce([("17:00", "disable_all_workflows"), ("17:00", "reconcile")], model))
    region = model.region
    damaged_before = len(region.damaged)
    assert damaged_before > 100 and len(region.missing) > 400
    model.advance_to(model.now + 2 * 3600.0)
    assert model.recovery.stage is Stage.LOST                # no snapshot involved
    assert not region.damaged and not region.missing
    assert all(lb.stored == lb.live for lb in model.lbs)
    assert model.changes_lost() == 0


# -- the state operations ----------------------------------------------------------------------

def _lb(stored=True):
    config = Config(("i-1", "i-2"), 3)
    return LoadBalancer(7, config, config if stored else None)


def test_workflow_on_a_missing_record_misconfigures_and_leaves_live_config_alone():
    lb = _lb(stored=False)
    live = lb.live
    assert apply_workflow(lb, Workflow("scale_up")) is False
    assert lb.damaged and lb.live == live and lb.stored is None


def test_workflow_with_a_record_computes_from_it_and_pushes_to_the_nodes():
    lb = _lb()
    lb.damaged = True
    assert apply_workflow(lb, Workflow("customer_change", change_id=5, host="i-9")) is True
    assert lb.stored == lb.live == Config(("i-1", "i-2", "i-9"), 3, frozenset({5}))
    assert not lb.damaged
    # A stale record is pushed as it is: the live change it lacks is overwritten.
    lb.stored = Config(("i-1",), 3)
    apply_workflow(lb, Workflow("scale_down"))
    assert lb.live == Config(("i-1",), 2) and 5 not in lb.live.changes


def test_reconcile_rebuilds_the_record_from_live_state():
    lb = _lb(stored=False)
    lb.damaged = True
    assert reconcile_lb(lb) is True
    assert lb.stored == lb.live and not lb.damaged
    assert reconcile_lb(lb) is False


def test_restore_rewinds_and_merge_replays_the_latest_records():
    a, b, c = (LoadBalancer(i, Config((f"i-{i}",), 2), Config((f"i-{i}",), 2)) for i in range(3))
    snapshot = {0: a.stored, 1: b.stored}
    a.stored = None                                        # deleted
    newer = Config(("i-1", "i-x"), 2, frozenset({1}))
    b.stored = b.live = newer                              # changed after the snapshot
    journal = [JournalEntry(10.0, 1, newer), JournalEntry(20.0, 2, c.stored)]
    counts = restore_from_snapshot([a, b, c], snapshot)
    assert counts == {"restored": 1, "reverted": 1, "dropped": 1}
    assert a.stored == a.live and b.stored != newer and c.stored is None
    assert merge_journal({0: a, 1: b, 2: c}, journal, since_s=5.0) == 2
    assert b.stored == newer and c.stored == c.live
    # only entries written at or after the snapshot time count
    b.stored = None
    assert merge_journal({0: a, 1: b, 2: c}, journal, since_s=15.0) == 0 and b.stored is None


def test_learner_functions_plug_in():
    calls = []

    def cautious(lb, workflow):
        """Refuses to act on a missing record (and so never damages anything)."""
        calls.append(workflow.kind)
        if lb.stored is None:
            return False
        return apply_workflow(lb, workflow)

    result = elb.run(seed=0, apply_workflow=cautious)
    assert calls and result["damaged_lbs"].max() == 0
    assert result.digest() == elb.run(seed=0, apply_workflow=cautious).digest()

    swept = []

    def my_reconcile(lb):
        swept.append(lb.lb_id)
        return reconcile_lb(lb)

    elb.run(seed=0, plan=[("14:00", "disable_all_workflows"), ("14:00", "reconcile")],
            reconcile_lb=my_reconcile)
    assert len(swept) >= 2000


def test_continuous_reconciliation_heals_the_deletion_by_itself():
    s = simkit.run("elb-2012", {"continuous_reconciliation": True}, seed=0).summary
    assert s["missing_records_end"] == 0 and s["damaged_lbs_end"] == 0
    assert s["time_to_normal_h"] is not None and s["time_to_normal_h"] < 2.0


# -- the commander game ------------------------------------------------------------------------

def _actions(card, name):
    return [a for a in card.actions if a["action"] == name]


def test_the_page_is_the_api_alarm_at_12_34_on_every_seed():
    """Nothing alerts at the deletion (12:24); the API monitor for existing load balancers does,
    after ten minutes at or above 1%, long before any customer traffic suffers."""
    for seed in range(5):
        model = elb.Model(seed=seed)
        model.advance_to(40 * 60.0)
        assert model.page_s == 34 * 60.0, seed
        assert model.region.damaged_share < 0.01
        labels = [e.label for e in model.world.timeline if e.kind == "page"]
        assert labels == ["on-call engineer paged: control-plane API errors for existing load balancers "
                          "at or above 1% for 10 min"]
    assert elb.Model(seed=0).rubric is elb.Model.rubric


def test_before_the_page_every_action_is_refused_even_the_approval_gate():
    model = elb.Model(seed=0)
    model.advance_to(10 * 60.0)
    for name in model.actions:
        assert model.check(name).startswith("nothing has alerted yet: you are paged when the control-plane API")
    card = score("elb-2012", [("12:10", "require_approval")], seed=0)
    assert _actions(card, "require_approval")[0]["status"] == "refused"
    assert card.measurements["deleted_lbs"] == 500 and card.band == "bottom"


def test_without_a_deletion_nothing_pages_and_nothing_needs_doing():
    model = elb.Model({"approval_required": True}, seed=0)
    model.advance_to(model.horizon_s)
    assert model.page_s is None and model.recovery.stage is Stage.INTACT
    assert model.measure()["time_to_normal_h"] == 0.0


def test_disable_early_reconcile_and_reenable_gradually_is_top_band():
    card = score("elb-2012", EARLY_RECONCILE, seed=0)
    assert card.band == "top", card.verdict
    assert card.component("changes_lost").value == 0
    assert all(step["status"] == "done" for step in card.actions)


def test_the_intended_plan_is_what_lab_2_teaches_and_wins():
    assert [name for _, name in elb.INTENDED_PLAN] == ["disable_all_workflows", "reconcile",
                                                       "enable_workflows_gradually"]
    intended = score("elb-2012", elb.INTENDED_PLAN, seed=0)
    historical = score("elb-2012", HISTORICAL, seed=0)
    assert intended.band == "top" and intended.measurements["time_to_normal_h"] < 2.0
    assert historical.score < intended.score - 30


def test_playing_the_console_way_gives_the_same_score_as_the_replay():
    inc = Incident("elb-2012", seed=1)
    inc.tick(9)                                # 13:30
    assert inc.act("disable_all_workflows")[0]
    assert inc.act("reconcile")[0]
    inc.tick(10)                               # 15:10
    assert inc.act("enable_workflows_gradually")[0]
    card = inc.score_card()
    assert card.band == "top"
    replayed = score("elb-2012", inc.plan, seed=1)
    assert card.to_dict() == replayed.to_dict()


def test_restore_without_merge_loses_customer_changes_and_is_scored_so():
    with_merge = score("elb-2012", HISTORICAL, seed=0)
    without = score("elb-2012", NO_MERGE, seed=0)
    assert with_merge.component("changes_lost").value == 0
    lost = without.component("changes_lost")
    assert lost.value > 100 and lost.unit == "changes" and lost.earned == 0
    assert "customer changes lost" in without.verdict
    assert without.score < with_merge.score - 25
    assert without.band in ("bottom", "low")


def test_doing_nothing_is_bottom_band():
    card = score("elb-2012", [], seed=0)
    assert card.band == "bottom"
    assert card.measurements["time_to_normal_h"] is None
    assert "workflows kept acting on missing records" in card.verdict


def test_reenabling_all_at_once_rebreaks_healthy_load_balancers():
    gradual = simkit.run("elb-2012", seed=0, plan=HISTORICAL)
    burst = simkit.run("elb-2012", seed=0, plan=ALL_AT_ONCE)
    assert "overload_damage" not in gradual.series               # never recorded: nothing broke
    assert burst["overload_damage"].sum() > 50
    enable_s = 1060 * 60.0
    assert burst.value_at("damaged_lbs", enable_s + 60) > gradual.value_at("damaged_lbs", enable_s + 60) + 50
    assert score("elb-2012", ALL_AT_ONCE, seed=0).score < score("elb-2012", HISTORICAL, seed=0).score


def test_the_burst_is_labelled_a_model_assumption():
    text = elb.Model.actions["enable_workflows_all"].description
    assert "an assumption, not in AWS's record" in text
    for doc in (elb.__doc__, elb.model.__doc__, elb.workload.__doc__):
        assert "assumption" in doc and "not a fact from the record" in " ".join(doc.split())


def test_reenabling_workflows_stops_a_sweep_under_way():
    early = [("12:40", "disable_all_workflows"), ("12:40", "reconcile"), ("13:00", "enable_workflows_gradually")]
    model = elb.Model(seed=0)
    replay(model, Plan.coerce(early, model))
    model.advance_to(model.now + 3600.0)
    assert not model.sweep.running and model.region.missing
    assert any(e.label.startswith("reconciliation sweep stopped after") for e in model.world.timeline)
    assert score("elb-2012", early, seed=0).band == "bottom"


def test_approval_gate_prevents_the_trigger_only_if_in_place_before_it():
    assert simkit.run("elb-2012", {"approval_required": True}, seed=0).summary["deleted_lbs"] == 0
    after = score("elb-2012", [("12:40", "require_approval")], seed=0)
    assert after.measurements["deleted_lbs"] == 500 and after.band == "bottom"
    assert "cannot undo the deletion" in _actions(after, "require_approval")[0]["message"]


def test_snapshot_may_be_usable_on_the_first_attempt():
    result = simkit.run("elb-2012", {"snapshot_usable_prob": 1.0}, seed=0,
                        plan=[("13:00", "disable_all_workflows"), ("13:00", "restore_snapshot")])
    labels = [e.label for e in result.timeline]
    assert any("restored from snapshot by attempt 1" in label for label in labels)


def test_delays_come_from_the_params():
    spec = elb.Model.actions["restore_snapshot"]
    assert spec.delay_s(P()) == 4.5 * 3600
    assert "takes effect after 2 h" in spec.tooltip(P(restore_attempt_h=2))
    assert elb.Model.actions["merge_changes"].delay_s(P(merge_h=1.0)) == 3600.0
    assert elb.Model.actions["restore_alternate"].delay_s(P(alternate_restore_h=3.0)) == 3 * 3600.0
    model = elb.Model({"restore_attempt_h": 1.0}, seed=0)
    replay(model, Plan.coerce([("13:00", "disable_all_workflows"), ("13:00", "restore_snapshot")], model))
    record = model.action_log[-1]
    assert record.due_s - record.requested_s == 3600.0


@pytest.mark.parametrize("plan, refused, reason", [
    ([("13:00", "restore_alternate")], "restore_alternate", "try the usual restore first"),
    ([("13:00", "merge_changes")], "merge_changes", "restore a snapshot first"),
    ([("13:00", "reconcile")], "reconcile", "disable all workflows first"),
    ([("13:00", "enable_workflows_all")], "enable_workflows_all", "already enabled"),
    ([("13:00", "disable_scaling"), ("13:10", "disable_scaling")], "disable_scaling", "already disabled"),
    ([("13:00", "disable_all_workflows"), ("13:00", "restore_snapshot"), ("14:00", "restore_alternate")],
     "restore_alternate", "still running"),
    ([("13:00", "disable_all_workflows"), ("13:00", "reconcile"), ("13:10", "reconcile")],
     "reconcile", "already running"),
    ([("13:00", "disable_all_workflows"), ("13:00", "enable_workflows_gradually"),
      ("13:10", "enable_workflows_gradually")], "enable_workflows_gradually", "already under way"),
    ([("13:00", "require_approval"), ("13:10", "require_approval")], "require_approval", "already"),
])
def test_preconditions_say_why_an_action_cannot_be_taken(plan, refused, reason):
    card = score("elb-2012", plan, seed=0, params={"horizon_h": 3})
    outcome = _actions(card, refused)[-1]
    assert outcome["status"] == "refused" and reason in outcome["message"]


def test_the_recovery_state_machine_moves_only_forward_and_says_why_not():
    recovery = Recovery()
    assert recovery.refusal(Stage.ATTEMPT1) == "no state has been lost: there is nothing to restore"
    with pytest.raises(ValueError, match="cannot move from 'intact' to 'merging'"):
        recovery.move(Stage.MERGING, 0.0)
    for t, stage in enumerate([Stage.LOST, Stage.ATTEMPT1, Stage.ATTEMPT1_FAILED]):
        recovery.move(stage, float(t))
    assert recovery.refusal(Stage.ATTEMPT1) == "attempt 1 yielded no usable snapshot; use the alternate method"
    assert recovery.refusal(Stage.ALTERNATE) is None
    recovery.move(Stage.ALTERNATE, 10.0)
    assert recovery.refusal(Stage.MERGING) == "nothing to merge into: restore a snapshot first"
    recovery.move(Stage.RESTORED, 20.0)
    assert recovery.restored and recovery.restored_s == 20.0
    assert recovery.refusal(Stage.ALTERNATE) == "the state has already been restored"
    recovery.move(Stage.MERGING, 21.0)
    recovery.move(Stage.MERGED, 30.0)
    assert recovery.refusal(Stage.MERGING) == "the changes have already been merged"
    assert [stage for _, stage in recovery.history][-2:] == [Stage.MERGING, Stage.MERGED]


def test_a_gradual_ramp_brings_cohorts_back_in_order():
    from simkit.scenarios.elb_2012.switches import WorkflowSwitches
    switches = WorkflowSwitches(ramp_h=2.0)
    switches.disable(("scaling", "customer"))
    assert switches.all_off and not switches.enabled_for("scaling", 5, 0.0)
    assert switches.start_ramp(3600.0) == ["customer", "scaling"]
    assert switches.ramp_covers_all and switches.none_switched_off and not switches.all_on
    assert switches.share("scaling", 3600.0 + 1800.0) == pytest.approx(0.25)
    assert switches.enabled_cohorts("scaling", 3600.0 + 1800.0) == 25
    assert switches.enabled_for("scaling", 124, 5400.0) and not switches.enabled_for("scaling", 125, 5400.0)
    assert not switches.finish_ramps(3600.0 + 7000.0) and switches.finish_ramps(3600.0 + 7200.0)
    assert switches.all_on


# -- determinism ---------------------------------------------------------------------------------

def test_same_seed_same_digest_different_seed_different_digest():
    assert simkit.run("elb-2012", seed=5).digest() == simkit.run("elb-2012", seed=5).digest()
    assert simkit.run("elb-2012", seed=5).digest() != simkit.run("elb-2012", seed=6).digest()
    a = simkit.run("elb-2012", seed=2, plan=EARLY_RECONCILE)
    b = simkit.run("elb-2012", seed=2, plan=EARLY_RECONCILE)
    assert a.digest() == b.digest()


def test_operator_actions_do_not_change_the_workload():
    a = simkit.run("elb-2012", seed=3)
    b = simkit.run("elb-2012", seed=3, plan=EARLY_RECONCILE)
    assert np.array_equal(a["running_lbs"], b["running_lbs"])
    assert np.array_equal(a["traffic"], b["traffic"])


# -- bad input ---------------------------------------------------------------------------------

P = elb.Params
BAD_PARAMS = [
    ("load_balancers", 50, ValueError, "load_balancers = 50 is not allowed: must be an integer >= 100 and <= 20000"),
    ("load_balancers", 2000.5, TypeError, "load_balancers = 2000.5 is not allowed"),
    ("new_lbs_per_h", -1, ValueError, "new_lbs_per_h = -1 is not allowed: must be a number >= 0"),
    ("customer_change_rate_per_lb_h", 3, ValueError, "customer_change_rate_per_lb_h = 3 is not allowed"),
    ("customer_change_rate_per_lb_h", "often", TypeError, "customer_change_rate_per_lb_h = 'often' is not allowed"),
    ("scaling_rate_per_lb_h", -0.1, ValueError, "scaling_rate_per_lb_h = -0.1 is not allowed"),
    ("christmas_eve_boost", 5, ValueError, "christmas_eve_boost = 5 is not allowed: must be a number >= 0 and <= 2"),
    ("control_plane_workflows_per_min", 0.5, ValueError, "control_plane_workflows_per_min = 0.5 is not allowed: must be a number >= 1"),
    ("overload_damage_prob", 1.5, ValueError, "overload_damage_prob = 1.5 is not allowed"),
    ("deletion_at_min", -5, ValueError, "deletion_at_min = -5 is not allowed: must be a number >= 0"),
    ("deletion_at_min", math.nan, ValueError, "deletion_at_min = nan is not allowed"),
    ("deleted_share", 1.2, ValueError, "deleted_share = 1.2 is not allowed: must be a number >= 0 and <= 1"),
    ("approval_required", "yes", TypeError, "approval_required = 'yes' is not allowed: must be True or False"),
    ("damaged_error_share", -0.5, ValueError, "damaged_error_share = -0.5 is not allowed"),
    ("api_calls_per_lb_h", math.inf, ValueError, "api_calls_per_lb_h = inf is not allowed"),
    ("api_latency_s", 0, ValueError, "api_latency_s = 0 is not allowed: must be a number > 0"),
    ("missing_state_latency_s", True, TypeError, "missing_state_latency_s = True is not allowed"),
    ("restore_attempt_h", 0, ValueError, "restore_attempt_h = 0 is not allowed: must be a number > 0"),
    ("snapshot_usable_prob", 2, ValueError, "snapshot_usable_prob = 2 is not allowed"),
    ("alternate_restore_h", 100, ValueError, "alternate_restore_h = 100 is not allowed: must be a number > 0 and <= 48"),
    ("merge_h", -3, ValueError, "merge_h = -3 is not allowed"),
    ("reconcile_lbs_per_h", 0, ValueError, "reconcile_lbs_per_h = 0 is not allowed"),
    ("continuous_reconciliation", 1, TypeError, "continuous_reconciliation = 1 is not allowed: must be True or False"),
    ("repair_lbs_per_h", 0, ValueError, "repair_lbs_per_h = 0 is not allowed"),
    ("gradual_enable_h", 0, ValueError, "gradual_enable_h = 0 is not allowed"),
    ("horizon_h", 0.5, ValueError, "horizon_h = 0.5 is not allowed: must be a number >= 1 and <= 72"),
]


def test_the_bad_input_table_covers_every_parameter():
    assert {name for name, *_ in BAD_PARAMS} == set(P.specs())


@pytest.mark.parametrize("name, value, error, fragment", BAD_PARAMS,
                         ids=[f"{row[0]}={row[1]!r}" for row in BAD_PARAMS])
def test_bad_parameter_is_named_in_the_message(name, value, error, fragment):
    with pytest.raises(error) as info:
        P(**{name: value})
    assert fragment in str(info.value)


@pytest.mark.parametrize("build, error, fragment", [
    (lambda: P(deletion_at_min=120, horizon_h=1), ValueError, "deletion_at_min must come before the end of the run"),
    (lambda: simkit.run("elb-2012", {"deleted": 0.5}), TypeError, "no parameter 'deleted'"),
    (lambda: elb.Model(apply_workflow="mine"), TypeError, "apply_workflow = 'mine' is not allowed: must be a function"),
    (lambda: elb.run(reconcile_lb=42), TypeError, "reconcile_lb = 42 is not allowed"),
    (lambda: score("elb-2012", [(10, "restart_everything")]), ValueError, "not an action of elb-2012"),
    (lambda: Workflow("reboot").apply(Config(("i-1",), 2)), ValueError, "kind = 'reboot' is not allowed"),
    (lambda: touch_rate_per_h(P(), 100.0, 50.0), ValueError, "end_s = 50.0 is not allowed: must be > start_s"),
], ids=["deletion after horizon", "unknown parameter", "hook not callable", "reconcile hook not callable",
        "unknown action", "unknown workflow kind", "empty estimate window"])
def test_other_bad_input_is_explained(build, error, fragment):
    with pytest.raises(error) as info:
        build()
    assert fragment in str(info.value)
