"""The dynamodb-2015 scenario: calibration against the postmortem, operators, commander, bad input.

Calibration targets (``incidents.md``, Lab 1):

* post-GSI membership sizes + a short disruption at 02:19 -> customer error rate
  climbs to a plateau in the 40-70% band within about 20 minutes and stays there
  after the disruption has ended;
* pre-GSI sizes (GSI factor 1), same disruption -> recovers by itself;
* adding capacity while the service is overloaded fails (the admin request times
  out); pause renewals, add capacity, resume -> recovers;
* each corrective action widens the region of parameters that recovers.
"""

import numpy as np
import pytest

import simkit
from simkit.commander import Incident, score
from simkit.scenarios import dynamodb_2015 as ddb
from simkit.scenarios.base import ActionRefused

TRIGGER_S = 19 * 60.0
GOOD_PLAN = [("02:40", "pause_renewals"), ("02:43", "add_capacity"), ("02:54", "resume_renewals")]
ADD_WITHOUT_PAUSE = [("02:45", "add_capacity"), ("03:00", "add_capacity"), ("03:30", "add_capacity")]
PAUSE_WITHOUT_CAPACITY = [("02:45", "pause_renewals"), ("03:00", "resume_renewals")]


@pytest.fixture(scope="module")
def default_runs():
    """The default scenario (GSI factor 2.75) with nobody at the wheel, three seeds."""
    return {seed: ddb.run(seed=seed) for seed in (0, 2, 4)}


@pytest.fixture(scope="module")
def pre_gsi():
    return {seed: ddb.run({"gsi_factor": 1.0}, seed=seed) for seed in (0, 2, 4)}


def hourly_means(result, start_s):
    """Mean error rate per hour from ``start_s`` to the end of the run."""
    t, e = result.t_s, result["error_rate"]
    return [float(e[(t >= s) & (t < s + 3600)].mean()) for s in np.arange(start_s, t[-1], 3600.0)
            if ((t >= s) & (t < s + 3600)).sum() >= 30]


# -- calibration ---------------------------------------------------------------------------------

def test_fleet_is_healthy_before_the_trigger(default_runs):
    for result in default_runs.values():
        assert result.summary["error_before"] < 0.005
        assert result.mean_between("in_service", 60.0, TRIGGER_S) > 0.99


@pytest.mark.parametrize("seed", [0, 2, 4])
def test_post_gsi_disruption_gives_a_plateau_in_the_band(default_runs, seed):
    summary = default_runs[seed].summary
    assert 0.40 <= summary["plateau_error"] <= 0.70, summary
    assert summary["minutes_to_plateau"] <= 25, summary


@pytest.mark.parametrize("seed", [0, 2, 4])
def test_the_collapse_outlives_the_disruption(default_runs, seed):
    result = default_runs[seed]
    disruption_end = TRIGGER_S + result.params["disruption_s"]
    assert disruption_end < TRIGGER_S + 300  # the network is back within minutes...
    hours = hourly_means(result, TRIGGER_S + 40 * 60)
    assert len(hours) >= 4
    assert min(hours) >= 0.40, hours  # ...but customers keep failing for hours
    assert not result.summary["recovered"]
    assert result.summary["wasted_work_share"] > 0.5  # the service mostly works for nobody


@pytest.mark.parametrize("seed", [0, 2, 4])
def test_pre_gsi_sizes_recover_by_themselves(pre_gsi, seed):
    summary = pre_gsi[seed].summary
    assert summary["recovered"], summary
    assert summary["minutes_to_recover"] <= 10
    assert summary["error_last_hour"] == 0.0


def test_membership_size_and_tipping_point():
    p = ddb.Params()
    assert ddb.membership_size(100, 1.0) == 100
    assert ddb.membership_size(100, 2.75) == 275
    assert ddb.membership_size(0, 3.0) == 0
    tip = ddb.tipping_gsi_factor(p)
    # vulnerable, not yet broken: the default sits below the tipping point...
    assert p.gsi_factor < tip < 1.25 * p.gsi_factor
    # ...and at the tipping point the largest membership takes exactly the allowance alone
    largest = max(ddb.fleet.partitions_per_server(p.servers, p.partitions_median, p.partitions_spread))
    alone = ddb.standalone_processing_s(largest * tip, p.base_processing_s, p.per_entry_s)
    assert alone == pytest.approx(p.allowance_s)
    summary = ddb.run(seed=0).summary
    assert summary["tipping_gsi_factor"] == pytest.approx(tip)
    biggest_alone = ddb.standalone_processing_s(summary["largest_membership"], p.base_processing_s, p.per_entry_s)
    assert 0.8 * p.allowance_s < biggest_alone < p.allowance_s


@pytest.mark.parametrize("bad", [(-1, 2.0), (1.5, 2.0), (True, 2.0), (10, 0.5), (10, float("nan")), (10, "2")])
def test_membership_size_rejects_bad_input(bad):
    with pytest.raises(ValueError, match="is not allowed"):
        ddb.membership_size(*bad)


# -- operator actions --------------------------------------------------------------------------

def test_adding_capacity_while_overloaded_fails():
    model = ddb.Model(seed=0)
    model.advance_to(45 * 60)
    model.act("add_capacity")
    model.advance_to(60 * 60)
    assert model.admin_log == [{"minute": 45.0, "ok": False, "cells_answered": 0}]
    assert sum(c.workers for c in model.cells) == model.params.metadata_workers
    assert any("add capacity failed" in e.label and e.kind == "failure" for e in model.world.timeline)


def test_pause_then_add_capacity_then_resume_recovers():
    result = ddb.run(seed=0, plan=GOOD_PLAN)
    assert result.summary["capacity_adds"] == 1
    assert result.summary["admin_requests_failed"] == 0
    assert result.summary["recovered"]
    assert result.summary["minutes_to_recover"] < 60
    assert result.mean_between("error_rate", 4 * 3600.0, 6 * 3600.0) == 0.0


def test_pause_without_capacity_collapses_again_on_resume():
    result = ddb.run(seed=0, plan=PAUSE_WITHOUT_CAPACITY)
    assert not result.summary["recovered"]
    assert result.mean_between("error_rate", 4 * 3600.0, 6 * 3600.0) > 0.4


@pytest.mark.parametrize("gsi_factor, back_in_service", [(1.0, True), (2.75, False)])
def test_pause_drops_servers_out_and_resume_is_a_herd(gsi_factor, back_in_service):
    """No disruption at all: a pause takes every server out; on resume they all ask at
    once. Small memberships come back; post-GSI ones collapse as after the disruption."""
    model = ddb.Model({"disruption_fraction": 0.0, "gsi_factor": gsi_factor}, seed=1)
    model.advance_to(30 * 60)
    model.act("pause_renewals")
    model.advance_to(30 * 60 + model.params.renewal_interval_s + 400)
    assert model.fleet.in_service_fraction < 0.05  # nobody could renew
    model.act("resume_renewals")
    model.advance_to(model.now + 30 * 60)
    assert (model.fleet.in_service_fraction == 1.0) is back_in_service


@pytest.mark.parametrize("action, setting, expected", [
    ("lengthen_allowance", "allowance_s", 180.0),
    ("slow_renewals", "renewal_interval_s", 1200.0),
    ("enable_backoff", "retry_policy", "backoff-jitter"),
    ("enable_retry_budget", "retry_policy", "budget"),
])
def test_config_actions_deploy_after_a_delay(action, setting, expected):
    model = ddb.Model(seed=0)
    model.advance_to(600)
    model.act(action)
    model.advance_to(600 + ddb.model.DEPLOY_DELAY_S - 1)
    assert getattr(model.settings, setting) != expected
    model.advance_to(600 + ddb.model.DEPLOY_DELAY_S + 1)
    assert getattr(model.settings, setting) == expected


def test_preconditions_say_why():
    model = ddb.Model(seed=0)
    with pytest.raises(ActionRefused, match="not paused"):
        model.act("resume_renewals")
    model.act("pause_renewals")
    with pytest.raises(ActionRefused, match="already paused"):
        model.act("pause_renewals")
    model.act("add_capacity")
    with pytest.raises(ActionRefused, match="still waiting"):
        model.act("add_capacity")
    model.act("lengthen_allowance")
    model.act("lengthen_allowance")
    with pytest.raises(ActionRefused, match="already changed twice"):
        model.act("lengthen_allowance")
    model.act("enable_backoff")
    model.advance_to(ddb.model.DEPLOY_DELAY_S + 1)
    with pytest.raises(ActionRefused, match="already retry with backoff"):
        model.act("enable_backoff")


# -- corrective actions widen the recovering region ------------------------------------------------

FIXES = {
    "more capacity": {"metadata_workers": 20, "metadata_slots": 64},
    "longer allowance": {"allowance_s": 180.0},
    "lower renewal rate": {"renewal_interval_s": 1200.0},
    "backoff with jitter": {"retry_policy": "backoff-jitter"},
    "retry budget": {"retry_policy": "budget"},
    "cells": {"metadata_cells": 4},
}
GRID = [2.0, 2.5, 2.75, 3.0]


def recovering_region(fix):
    """The GSI factors (of GRID) for which the default disruption is followed by recovery."""
    region = set()
    for gsi in GRID:
        result = ddb.run({**fix, "gsi_factor": gsi, "horizon_s": 3 * 3600.0}, seed=0)
        if result.summary["error_last_hour"] < 0.01:
            region.add(gsi)
    return region


@pytest.fixture(scope="module")
def baseline_region():
    return recovering_region({})


def test_baseline_region(baseline_region):
    assert baseline_region == {2.0}


@pytest.mark.parametrize("fix", list(FIXES))
def test_each_corrective_action_widens_the_region(baseline_region, fix):
    region = recovering_region(FIXES[fix])
    assert region > baseline_region, (fix, sorted(region))


def test_cells_contain_an_overload_that_one_big_service_does_not():
    """Same total capacity: one service of 40 workers, or 4 cells of 10 (GSI factor 6)."""
    one = ddb.run({"gsi_factor": 6.0, "metadata_workers": 40, "metadata_slots": 128, "horizon_s": 3 * 3600.0})
    cells = ddb.run({"gsi_factor": 6.0, "metadata_cells": 4, "horizon_s": 3 * 3600.0})
    assert one.summary["error_last_hour"] > 0.95
    assert cells.summary["error_last_hour"] < 0.6


# -- dependents --------------------------------------------------------------------------------------

def test_dependents_follow_dynamodb():
    reference = ddb.run(seed=0, plan=ddb.REFERENCE_PLAN)
    t = reference.t_s
    plateau = (t >= 3600) & (t < 3 * 3600)
    paused_s = next(e.t_s for e in reference.timeline if e.label == "renewal requests paused")
    resumed_s = next(e.t_s for e in reference.timeline if e.label == "renewal requests flow again")
    paused = (t >= paused_s + 1800) & (t < resumed_s)  # 05:38 to 06:57
    # SQS and the Console barely notice a 50% error rate, but fail when DynamoDB is paused
    assert reference["sqs_error_rate"][plateau].mean() < 0.05
    assert reference["sqs_error_rate"][paused].mean() > 0.5
    assert reference["console_login_s"][plateau].mean() < 15
    assert reference["console_login_s"][paused].mean() > 30
    # Auto Scaling faults as often as DynamoDB fails, and its backlog outlives the outage
    assert np.array_equal(reference["autoscaling_fault_rate"], reference["error_rate"])
    backlog = reference["autoscaling_backlog_jobs"]
    recovered = int(np.nonzero(t >= reference.summary["minutes_to_recover"] * 60 + TRIGGER_S)[0][0])
    assert backlog[recovered] > 1000
    assert backlog[recovered + 30] > 0
    assert backlog[-1] < backlog[recovered]
    # CloudWatch metrics go missing during the outage, and come back
    assert reference["cloudwatch_missing_fraction"][paused].mean() > 0.5
    assert reference["cloudwatch_missing_fraction"][-30:].max() == 0.0


def test_a_short_console_timeout_fails_fast():
    slow = ddb.run({"console_call_timeout_s": 40.0}, seed=0, plan=PAUSE_WITHOUT_CAPACITY)
    fast = ddb.run({"console_call_timeout_s": 1.0}, seed=0, plan=PAUSE_WITHOUT_CAPACITY)
    assert slow["console_login_s"].max() > 30
    assert fast["console_login_s"].max() < 3.5


# -- the commander ------------------------------------------------------------------------------------

def test_pause_add_resume_scores_top():
    card = score("dynamodb-2015", GOOD_PLAN)
    assert card.band == "top", card.verdict


def test_doing_nothing_scores_bottom():
    card = score("dynamodb-2015", [])
    assert card.band == "bottom"
    assert card.time_to_recover_min is None


def test_adding_capacity_without_pausing_fails_as_in_2015():
    card = score("dynamodb-2015", ADD_WITHOUT_PAUSE)
    assert card.band == "bottom"
    assert [a["ok"] for a in card.details["admin_requests"]] == [False, False, False]
    assert "timed out, as they did in 2015" in card.verdict


def test_the_2015_timeline_recovers_but_is_punished_for_its_length():
    card = score("dynamodb-2015", ddb.REFERENCE_PLAN)
    assert card.time_to_recover_min is not None and card.time_to_recover_min > 150
    assert card.band in ("low", "middle")
    assert card.score < score("dynamodb-2015", GOOD_PLAN).score


def test_interactive_play_matches_replay():
    incident = Incident("dynamodb-2015", seed=3)
    incident.tick(40)
    assert incident.act("pause_renewals")[0]
    incident.tick(3)
    assert incident.act("add_capacity")[0]
    incident.tick(11)
    assert incident.act("resume_renewals")[0]
    card = incident.score_card()
    assert incident.plan.to_data() == [[40, "pause_renewals"], [43, "add_capacity"], [54, "resume_renewals"]]
    replayed = score("dynamodb-2015", incident.plan, seed=3)
    assert replayed.score == card.score and replayed.band == "top"


# -- plugging in a learner's pieces ---------------------------------------------------------------

def test_plugging_the_canonical_pieces_changes_nothing():
    plain = ddb.run(seed=5)
    plugged = ddb.run(seed=5, membership=ddb.membership_size, renewal=ddb.renewal_process)
    assert plugged.digest() == plain.digest()


def test_a_plugged_membership_function_is_used():
    model = ddb.Model(seed=0, membership=lambda partitions, gsi: partitions)
    assert max(s.entries for s in model.fleet.servers) == max(s.table_partitions for s in model.fleet.servers)


def test_a_renewal_process_without_retries_leaves_servers_out():
    def give_up_after_one_try(env, server):
        while True:
            reply = server.request_membership()
            outcome = yield reply | env.timeout(server.allowance_s)
            if reply not in outcome:
                server.out_of_service()
                return  # never retries
            server.back_in_service()
            yield server.renewal_due()

    result = ddb.run({"gsi_factor": 1.0}, seed=0, renewal=give_up_after_one_try)
    assert result.value_at("in_service", 5 * 3600.0) < 0.95  # servers cut off mid-request never come back
    assert ddb.run({"gsi_factor": 1.0}, seed=0).value_at("in_service", 5 * 3600.0) == 1.0


# -- determinism -----------------------------------------------------------------------------------

def test_same_seed_same_digest():
    assert ddb.run(seed=7).digest() == ddb.run(seed=7).digest()
    assert simkit.run("dynamodb-2015", seed=7, plan=GOOD_PLAN).digest() == \
        ddb.run(seed=7, plan=GOOD_PLAN).digest()


def test_different_seeds_differ():
    assert ddb.run(seed=1).digest() != ddb.run(seed=2).digest()


# -- bad input ---------------------------------------------------------------------------------------

BAD = [
    ("servers", 5, ValueError, "servers = 5 is not allowed: must be an integer >= 10"),
    ("servers", 10.5, TypeError, "servers = 10.5"),
    ("partitions_median", 0, ValueError, "partitions_median = 0"),
    ("partitions_spread", -0.1, ValueError, "partitions_spread = -0.1"),
    ("gsi_factor", 0.5, ValueError, "gsi_factor = 0.5 is not allowed: must be a number >= 1"),
    ("gsi_factor", "3", TypeError, "gsi_factor = '3'"),
    ("replicas", 0, ValueError, "replicas = 0"),
    ("customer_partitions", 10, ValueError, "customer_partitions = 10"),
    ("metadata_workers", 0, ValueError, "metadata_workers = 0"),
    ("metadata_slots", 0, ValueError, "metadata_slots = 0"),
    ("base_processing_s", -1.0, ValueError, "base_processing_s = -1.0"),
    ("per_entry_s", 0.0, ValueError, "per_entry_s = 0.0 is not allowed: must be a number > 0"),
    ("metadata_cells", 0, ValueError, "metadata_cells = 0"),
    ("metadata_cells", 16, ValueError, "metadata_cells must leave at least 10 servers per cell"),
    ("allowance_s", 0, ValueError, "allowance_s = 0"),
    ("allowance_s", float("nan"), ValueError, "allowance_s = nan"),
    ("renewal_interval_s", 0.5, ValueError, "renewal_interval_s = 0.5"),
    ("retry_policy", "forever", ValueError, "retry_policy = 'forever' is not allowed: must be one of 'immediate'"),
    ("backoff_base_s", 0.0, ValueError, "backoff_base_s = 0.0"),
    ("backoff_base_s", 600.0, ValueError, "backoff_base_s must be <= backoff_cap_s"),
    ("backoff_cap_s", -5.0, ValueError, "backoff_cap_s = -5.0"),
    ("budget_ratio", 1.5, ValueError, "budget_ratio = 1.5"),
    ("budget_tokens", 0.5, ValueError, "budget_tokens = 0.5"),
    ("disruption_start_s", -1.0, ValueError, "disruption_start_s = -1.0"),
    ("disruption_start_s", 30000.0, ValueError, "must end before horizon_s"),
    ("disruption_s", 4000.0, ValueError, "disruption_s = 4000.0"),
    ("disruption_fraction", 1.2, ValueError, "disruption_fraction = 1.2"),
    ("capacity_step_workers", 0, ValueError, "capacity_step_workers = 0"),
    ("capacity_delay_s", -1.0, ValueError, "capacity_delay_s = -1.0"),
    ("admin_timeout_s", 0.0, ValueError, "admin_timeout_s = 0.0"),
    ("sqs_cache_ttl_s", 10.0, ValueError, "sqs_cache_ttl_s = 10.0"),
    ("cloudwatch_cache_ttl_s", 10.0, ValueError, "cloudwatch_cache_ttl_s = 10.0"),
    ("autoscaling_jobs_per_min", -1.0, ValueError, "autoscaling_jobs_per_min = -1.0"),
    ("autoscaling_capacity_per_min", 0.0, ValueError, "autoscaling_capacity_per_min = 0.0"),
    ("console_call_timeout_s", 0.0, ValueError, "console_call_timeout_s = 0.0"),
    ("horizon_s", 600.0, ValueError, "horizon_s = 600.0"),
    ("replicas", 6, ValueError, "replicas = 6"),
]


@pytest.mark.parametrize("name, value, error, fragment", BAD, ids=[f"{b[0]}={b[1]!r}" for b in BAD])
def test_bad_parameters_are_named(name, value, error, fragment):
    with pytest.raises(error) as excinfo:
        ddb.Params(**{name: value})
    assert fragment in str(excinfo.value)


def test_every_parameter_has_a_bad_input_case():
    assert {b[0] for b in BAD} == set(ddb.Params.specs())


def test_unknown_parameter_and_bad_plan_are_explained():
    with pytest.raises(TypeError, match="no parameter 'gsi'"):
        ddb.run({"gsi": 2})
    with pytest.raises(ValueError, match="not an action of dynamodb-2015"):
        ddb.run(plan=[("02:30", "reboot_everything")])
