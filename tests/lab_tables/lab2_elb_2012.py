"""Lab 2 (ELB, Christmas Eve 2012): the numbers its text states and the answers it grades.

See :mod:`lab_tables`. The claims are recomputed from the ``elb-2012`` model (the
text's "in this model" numbers); the facts come from AWS's summary of the event,
paraphrased in ``shared/incidents.md``. A yes/no claim ("the damage is still growing
the next morning") is computed as 1.0 when it holds on every seed the text talks
about, else 0.0, and stated as 1.
"""

from __future__ import annotations

import math

import numpy as np

from simkit.plan import MAX_PLAN_STEPS
from simkit.scenarios import elb_2012 as elb

from . import Claim, Fact, GradedAnswer, run, score, summary

SCENARIO = "elb-2012"
SEEDS = range(10)
P = elb.Params()
MIN = 60.0
DELETION_S = P.deletion_at_min * MIN
DISABLED_S = 302 * MIN                  # 5:02 PM
TUESDAY_0600_S = 18 * 3600.0            # 6:00 AM on the 25th, 18 h after the start
TUESDAY_0540_S = (17 * 60 + 40) * MIN   # 5:40 AM on the 25th

#: the plans the lab runs
DISABLE_AT = {"13:00": [("13:00", "disable_all_workflows")], "15:00": [("15:00", "disable_all_workflows")]}
WITHOUT_MERGE = [step for step in elb.HISTORICAL_PLAN if step[1] != "merge_changes"]
RECONCILE_AT_1700 = [("17:00", "disable_all_workflows"), ("17:00", "reconcile"),
                     ("18:40", "enable_workflows_gradually")]
BURST = list(elb.HISTORICAL_PLAN[:-1]) + [("05:40", "enable_workflows_all")]
GATE_AT_PAGE = [("12:40", "require_approval")]
SIDE_BY_SIDE_DDB = [("03:00", "pause_renewals"), ("03:40", "resume_renewals")]
SIDE_BY_SIDE_ELB = [("14:00", "disable_all_workflows")]
#: the solution's commander plan
SOLUTION_PLAN = [("13:30:00", "disable_all_workflows"), ("13:30:00", "reconcile"),
                 ("15:10:00", "enable_workflows_gradually")]


def _holds(condition: bool) -> float:
    return 1.0 if condition else 0.0


def _every_seed(test) -> float:
    return _holds(all(test(seed) for seed in SEEDS))


def _minute_of(clock: str) -> float:
    """Minutes after 12:00 of "Mon HH:MM"."""
    hh, mm = clock.split()[-1].split(":")
    return (int(hh) - 12) * 60 + int(mm)


def _page_minutes() -> list[float]:
    return [_minute_of(summary(SCENARIO, seed=s)["page_at"]) for s in SEEDS]


def _workflows_per_min(seed: int) -> tuple[float, float]:
    """(mean over the run, highest one-hour mean) of the workflows the control plane runs per minute."""
    runs = np.nan_to_num(run(SCENARIO, seed=seed)["workflow_runs"])
    hourly = np.convolve(runs, np.ones(60) / 60, mode="valid")
    return float(runs.mean()), float(hourly.max())


def _damaged_per_hour(first_h: int, last_h: int) -> float:
    """New damaged load balancers per hour between first_h and last_h hours after noon,
    untouched runs, mean over seeds 0-9."""
    per_seed = []
    for seed in SEEDS:
        r = run(SCENARIO, seed=seed)
        per_seed.append((r.value_at("damaged_lbs", last_h * 3600.0) - r.value_at("damaged_lbs", first_h * 3600.0))
                        / (last_h - first_h))
    return float(np.mean(per_seed))


def _still_growing_next_morning(seed: int) -> bool:
    r = run(SCENARIO, seed=seed)
    return r["damaged_share"][-1] > r.value_at("damaged_share", TUESDAY_0600_S)


def _estimate_at_1702() -> float:
    rate = elb.touch_rate_per_h(P, DELETION_S, DISABLED_S)
    return elb.blast_radius(P.deleted_share, rate, (DISABLED_S - DELETION_S) / 3600)


def _estimate_within_spread() -> float:
    shares = [summary(SCENARIO, seed=s)["damaged_share_at_17_02"] for s in SEEDS]
    return _holds(min(shares) <= _estimate_at_1702() <= max(shares))


def _api_pattern(seed: int) -> bool:
    """Existing load balancers' API errors jump at the deletion minute; new ones' stay at zero."""
    r = run(SCENARIO, seed=seed)
    existing, new = np.nan_to_num(r["api_error_rate_existing"]), np.nan_to_num(r["api_error_rate_new"])
    first = int(np.argmax(existing > 0.01))
    return first == int(P.deletion_at_min) and existing[first] > 0.2 and float(new.max()) == 0.0


def _sweep_minutes() -> float:
    """How long a sweep started at 12:40 takes over the region as it is then."""
    m = elb.Model(seed=0)
    m.advance_to(40 * MIN)
    return len(m.lbs) / P.reconcile_lbs_per_h * 60


def _tick_snaps() -> float:
    at_1702 = run(SCENARIO, seed=0, plan=[("17:02", "disable_all_workflows")])
    at_1700 = run(SCENARIO, seed=0, plan=[("17:00", "disable_all_workflows")])
    return _holds(at_1702.digest() == at_1700.digest() and elb.Model.tick_s == 10 * MIN)


def _growth_per_hour_pct() -> float:
    """Mean over seeds of the damage per hour of workflows on missing records, 12:24 to 5:02 PM."""
    hours = (DISABLED_S - DELETION_S) / 3600
    return float(np.mean([100 * summary(SCENARIO, seed=s)["damaged_share_at_17_02"] / hours for s in SEEDS]))


def _peak_is_damage_at_disabling() -> float:
    """The most load balancers ever damaged is the number damaged at the disabling tick (the
    *share* then drifts down a little as customers create new load balancers)."""
    ok = True
    for clock, plan in DISABLE_AT.items():
        r = run(SCENARIO, seed=0, plan=plan)
        at_s = (int(clock[:2]) - 12) * 3600.0
        ok &= r.summary["damaged_lbs_peak"] == r.value_at("damaged_lbs", at_s)
    return _holds(ok)


def _queued_at_0540() -> list[float]:
    return [run(SCENARIO, seed=s, plan=elb.HISTORICAL_PLAN).value_at("pending_workflows", TUESDAY_0540_S)
            for s in SEEDS]


def _burst_broken() -> list[int]:
    return [summary(SCENARIO, seed=s, plan=BURST)["overload_damaged_lbs"] for s in SEEDS]


def _gate_changes_nothing() -> float:
    def same(seed: int) -> bool:
        gated, untouched = run(SCENARIO, seed=seed, plan=GATE_AT_PAGE), run(SCENARIO, seed=seed)
        return bool(np.array_equal(gated["damaged_share"], untouched["damaged_share"], equal_nan=True))
    return _every_seed(same)


def _elb_flat_after_disabling() -> float:
    r = run(SCENARIO, seed=0, plan=SIDE_BY_SIDE_ELB)
    after = r["damaged_lbs"][r.t_s >= 2 * 3600.0]
    return _holds(float(np.nanmax(after)) == float(np.nanmin(after)) and after[-1] < run(SCENARIO, seed=0)["damaged_lbs"][-1])


def _ddb_back_on_its_plateau(seed: int = 0) -> bool:
    """DynamoDB with renewals paused 03:00-03:40 and no capacity added: the error rate does not
    fall during the pause, and an hour after the resume it is back where it was before."""
    r = run("dynamodb-2015", seed=seed, plan=SIDE_BY_SIDE_DDB)
    clock_h = (r.clock_start_s + r.t_s) / 3600
    err = np.nan_to_num(r["error_rate"])
    before = err[(clock_h >= 2.5) & (clock_h < 3.0)].mean()
    paused = err[(clock_h >= 3.0) & (clock_h < 3 + 40 / 60)].mean()
    after = err[(clock_h >= 3 + 100 / 60) & (clock_h < 3 + 160 / 60)].mean()
    return paused >= before and abs(after - before) <= 0.1 and not r.summary["recovered"]


def _band(plan, seed: int) -> str:
    return score(SCENARIO, plan, seed=seed).band


CLAIMS = [
    # Part 1: the model
    Claim("simulates a region of 2,000 load balancers", 2000, lambda: P.load_balancers, 0),
    Claim("12:00 PM on Monday to 1:30 PM on Tuesday", 25.5, lambda: P.horizon_h, 0),
    Claim("At 12:24 PM the records of a quarter of the load balancers are deleted", 0.25,
          lambda: max((summary(SCENARIO, seed=s)["deleted_lbs"] / P.load_balancers for s in SEEDS),
                      key=lambda share: abs(share - 0.25)), 0.005, "deleted records over the fleet, worst seed"),
    Claim("At 12:24 PM the records of a quarter", 24, lambda: P.deletion_at_min, 0),
    Claim("the outcome (6.8% at 5:02 PM); our defaults are one combination that reproduces it", 6.8,
          lambda: 100 * float(np.mean([summary(SCENARIO, seed=s)["damaged_share_at_17_02"] for s in SEEDS])),
          0.3, "mean over seeds 0-9, in percent"),
    # what the first run shows
    Claim("the **event log names the trigger at 12:24**", 24,
          lambda: next(e.t_s for e in run(SCENARIO, seed=0).timeline if e.kind == "trigger") / MIN, 0),
    Claim("the **API error rate jumps at 12:24** for existing load balancers", 1,
          lambda: _every_seed(_api_pattern), 0, "existing jumps at minute 24, new stays at 0, every seed"),
    Claim("pages the on-call engineer ten minutes later, at 12:34 PM", 34, lambda: max(_page_minutes()), 0),
    Claim("pages the on-call engineer ten minutes later", 34, lambda: min(_page_minutes()), 0),
    Claim("at about 30 an hour all afternoon and evening", 30, lambda: _damaged_per_hour(1, 9), 3,
          "13:00 to 21:00, mean over seeds 0-9"),
    Claim("at about 30 an hour all afternoon and evening", 30,
          lambda: max((_damaged_per_hour(h, h + 2) for h in range(1, 9, 2)), key=lambda x: abs(x - 30)), 6,
          "the two-hour window furthest from 30, between 13:00 and 21:00"),
    Claim("it is still growing the next morning", 1, lambda: _every_seed(_still_growing_next_morning), 0,
          "damage at the end above the damage at 6:00 AM on the 25th, every seed"),
    Claim("the control plane runs two to four workflows a minute", 2,
          lambda: min(_workflows_per_min(s)[0] for s in SEEDS), 0.5, "lowest mean over the run"),
    Claim("the control plane runs two to four workflows a minute", 4,
          lambda: max(_workflows_per_min(s)[1] for s in SEEDS), 0.5, "highest one-hour mean"),
    Claim("workflows a minute, and it can run 20", 20, lambda: P.control_plane_workflows_per_min, 0),
    # Part 2
    Claim("so most of its customers' requests fail", 1, lambda: _holds(P.damaged_error_share > 0.5), 0,
          "damaged_error_share"),
    Claim("The estimate lands within the seeds' spread", 1, _estimate_within_spread, 0,
          "the 5:02 PM estimate between the lowest and highest simulated share of seeds 0-9"),
    Claim("here $rT$ is about a third", 1 / 3,
          lambda: elb.touch_rate_per_h(P, DELETION_S, DISABLED_S) * (DISABLED_S - DELETION_S) / 3600, 0.05),
    Claim("$s\\,rT$ is about a fifth too high", 0.2,
          lambda: P.deleted_share * elb.touch_rate_per_h(P, DELETION_S, DISABLED_S)
          * (DISABLED_S - DELETION_S) / 3600 / _estimate_at_1702() - 1, 0.05),
    Claim("The pace is nearly steady", 1,
          lambda: _holds(abs(_damaged_per_hour(1, 3) - _damaged_per_hour(3, 5)) <= 0.25 * _damaged_per_hour(1, 5)), 0,
          "13:00-15:00 and 15:00-17:00 within a quarter of each other"),
    # Part 4: the rules and the actions
    Claim("Plans act at the commander's 10-minute ticks (a step at `\"17:02\"` is taken at 17:00)", 1,
          _tick_snaps, 0),
    Claim("12:34 PM in this model; the first tick after it is 12:40 PM", 40,
          lambda: math.ceil(max(_page_minutes()) * MIN / elb.Model.tick_s) * elb.Model.tick_s / MIN, 0),
    Claim("checks 1500 load balancers an hour", 1500, lambda: P.reconcile_lbs_per_h, 0),
    Claim("covers the region in about 1 h 20 min", 80, _sweep_minutes, 5, "minutes, a sweep started at 12:40"),
    Claim("a gradual re-enable reaches every load balancer after 4.5 h", 4.5, lambda: P.gradual_enable_h, 0),
    Claim("the peak is simply the damage at the moment of disabling", 1, _peak_is_damage_at_disabling, 0),
    Claim("missing records cost another 1.5% of the fleet", 1.5, _growth_per_hour_pct, 0.25,
          "percent per hour, 12:24 to 5:02 PM, mean over seeds 0-9"),
    Claim("about 900 scaling workflows are queued", 900,
          lambda: max(_queued_at_0540(), key=lambda q: abs(q - 900)), 60, "at 5:40 AM, worst seed"),
    Claim("the control plane can run 20 workflows a minute", 20, lambda: P.control_plane_workflows_per_min, 0),
    Claim("is dozens of times that", 1,
          lambda: _holds(all(24 <= q / P.control_plane_workflows_per_min < 100 for q in _queued_at_0540())), 0),
    Claim("fails half-way with probability 0.2", 0.2, lambda: P.overload_damage_prob, 0),
    Claim("breaks between 150 and 190 healthy load", 150, lambda: min(_burst_broken()), 5, "lowest, seeds 0-9"),
    Claim("breaks between 150 and 190 healthy load", 190, lambda: max(_burst_broken()), 5, "highest, seeds 0-9"),
    Claim("a gradual ramp keeps the drain within capacity, so it breaks nothing", 0,
          lambda: max(summary(SCENARIO, seed=s, plan=elb.HISTORICAL_PLAN)["overload_damaged_lbs"] for s in SEEDS), 0),
    Claim("Set at the page, it changes nothing about the afternoon", 1, _gate_changes_nothing, 0,
          "the damaged share with the gate at 12:40 equals the untouched run's, every seed"),
    Claim("ELB's damage stays flat from the minute the workflows stop", 1, _elb_flat_after_disabling, 0),
    Claim("DynamoDB's error rate does not fall while renewals are paused, and within an hour of the resume "
          "it is back on the plateau where it was before the pause", 1,
          lambda: _every_seed(_ddb_back_on_its_plateau), 0, "mean error rate 04:40-05:40 within 0.1 of 02:30-03:00"),
    # Part 5: the game
    Claim("from 12:00 PM in **ticks of 10 minutes**", 10, lambda: elb.Model.tick_s / MIN, 0),
    Claim("The page** comes at 12:34 PM in this model, ten minutes after the deletion", 34,
          lambda: max(_page_minutes()), 0),
    Claim("so your first chance to act is the 12:40 PM tick", 1,
          lambda: _holds(score(SCENARIO, [("12:30", "disable_all_workflows")]).actions[0]["status"] == "refused"
                         and score(SCENARIO, [("12:40", "disable_all_workflows")]).actions[0]["status"]
                         != "refused"), 0),
    Claim("a plan may have at most 50 steps", 50, lambda: MAX_PLAN_STEPS, 0),
    Claim("scores in the **low** band", 1,
          lambda: _every_seed(lambda s: _band(elb.HISTORICAL_PLAN, s) == "low"), 0, "historical plan, every seed"),
    Claim("its night of restoring costs it every time-to-normal point", 0,
          lambda: max(next(c.earned for c in score(SCENARIO, elb.HISTORICAL_PLAN, seed=s).components
                           if c.key == "time_to_normal_h") for s in SEEDS), 0),
    Claim("Doing nothing is in the bottom band", 1, lambda: _every_seed(lambda s: _band([], s) == "bottom"), 0),
    Claim("and each costs a point when the plan is replayed", 1, lambda: elb.Model.rubric.costs.refused_cost, 0),
]

_AWS = "AWS's summary of the event, https://aws.amazon.com/message/680587/ (shared/incidents.md, Lab 2)"

FACTS = [
    Fact("On the afternoon of 24 December 2012", _AWS),
    Fact("about one in fifteen of the region's load balancers was affected", _AWS + ": 6.8% at 5:02 PM"),
    Fact("took until noon on Christmas Day", _AWS + ": back to normal at 12:05 PM on 25 December"),
    Fact("Mon 24 Dec, 12:24 PM", _AWS),
    Fact("At that moment **6.8% of the running load balancers** are affected", _AWS),
    Fact("| 5:02 PM |", _AWS),
    Fact("a first attempt to restore the state data to a point just before 12:24 PM", _AWS),
    Fact("Tue 25 Dec, 2:45 AM", _AWS),
    Fact("the merge (about three hours)", _AWS + " (the merge took almost three hours)"),
    Fact("| 5:40 AM |", _AWS),
    Fact("| 8:15 AM |", _AWS),
    Fact("| 10:30 AM |", _AWS),
    Fact("about 23 h 40 min after the deletion", _AWS + ": 12:24 PM to 12:05 PM is 23 h 41 min"),
    Fact("turned a mistaken maintenance run into a 24-hour outage", _AWS + ": 23 h 41 min"),
    Fact("the outcome (6.8% at 5:02 PM)", _AWS),
]


def _summary_at(plan):
    return lambda seed: summary(SCENARIO, seed=seed, plan=plan)


def _share_1702(seed: int) -> float:
    return summary(SCENARIO, seed=seed)["damaged_share_at_17_02"]


ANSWERS = [
    GradedAnswer("DAMAGED_SHARE_AT_1702", lambda s: abs(_share_1702(s) - 0.068) <= 0.01,
                 why_robust="conclusion: within a percentage point of AWS's 6.8%"),
    GradedAnswer("DAMAGED_SHARE_END",
                 lambda s: (summary(SCENARIO, seed=s)["damaged_share_end"] > 2 * _share_1702(s),
                            summary(SCENARIO, seed=s)["damaged_share_end"] < P.deleted_share),
                 why_robust="conclusion: left alone, the damage more than doubles after 5:02 PM, below the deleted share"),
    GradedAnswer("ESTIMATE_AT_1702", lambda s: abs(_estimate_at_1702() - _share_1702(s)) <= 0.25 * _share_1702(s),
                 why_robust="the estimate needs no seed; conclusion: within 25% of the simulated share"),
    GradedAnswer("DAMAGED_IF_DISABLED_1300 and _1500",
                 lambda s: (_summary_at(DISABLE_AT["13:00"])(s)["damaged_share_peak"] < 0.02,
                            0.03 < _summary_at(DISABLE_AT["15:00"])(s)["damaged_share_peak"] < 0.05,
                            _summary_at(DISABLE_AT["15:00"])(s)["damaged_share_peak"] < _share_1702(s)),
                 why_robust="conclusion: about 1% at 13:00, about 4% at 15:00, both below 5:02 PM's"),
    GradedAnswer("HOURS_TO_NORMAL_RESTORE and _RECONCILE",
                 lambda s: (round(_summary_at(elb.HISTORICAL_PLAN)(s)["time_to_normal_h"]),
                            round(_summary_at(RECONCILE_AT_1700)(s)["time_to_normal_h"], 1)),
                 why_robust="conclusion: about 22 h by restoring, 6.3 h by reconciling"),
    GradedAnswer("LOST_WITHOUT_MERGE", lambda s: _summary_at(WITHOUT_MERGE)(s)["changes_lost"] // 100,
                 why_robust="conclusion: a couple of hundred changes lost (every rubric point for them)"),
    GradedAnswer("BROKEN_BY_BURST", lambda s: 100 <= _summary_at(BURST)(s)["overload_damaged_lbs"] <= 250,
                 why_robust="conclusion: the burst breaks well over a hundred healthy load balancers"),
    GradedAnswer("DELETED_GATE_BEFORE",
                 lambda s: summary(SCENARIO, {"approval_required": True}, seed=s)["deleted_lbs"]),
    GradedAnswer("DAMAGED_GATE_AT_PAGE",
                 lambda s: _summary_at(GATE_AT_PAGE)(s)["damaged_share_at_17_02"] == _share_1702(s),
                 why_robust="conclusion: a gate at the page leaves the afternoon's damage exactly as it was"),
    GradedAnswer("WHY_STOPPING_WORKS (the evidence of the side-by-side runs)",
                 lambda s: (_ddb_back_on_its_plateau(s),
                            bool(np.nanmax(run(SCENARIO, seed=s, plan=SIDE_BY_SIDE_ELB)["damaged_lbs"])
                                 == run(SCENARIO, seed=s, plan=SIDE_BY_SIDE_ELB).value_at("damaged_lbs", 2 * 3600.0))),
                 why_robust="DynamoDB falls back into its loop after the resume; ELB's damage stops at 14:00"),
    GradedAnswer("PLAN (the solution's plan)", lambda s: _band(SOLUTION_PLAN, s)),
    GradedAnswer("the intended plan", lambda s: _band(elb.INTENDED_PLAN, s)),
]
