"""Lab 3 graded like a class would be: right in another style, plausibly wrong, copied from the text.

Each submission is the source notebook with some answer cells rewritten, run in a real
kernel with its test cells judged outside it (as ``nbgrader autograde`` does, see
:func:`judge_helpers.run_judged`), hidden tests included:

* **another style** (NumPy numbers and arrays, dict dispatch, ``datetime``, plans in
  NumPy minutes): every test cell passes;
* **plausible mistakes**, one per graded cell: a "jitter" fixed at the middle of its range
  (right on average, never random), zone a's error series read for the healthy zones',
  the spare fraction the old text suggested, Little's law with the old call rate, a
  bulkhead said to shrink the storm, AWS's own plan: each of those cells fails, and the
  policy experiment run with the jitter-less function fails downstream;
* **copied from the text**: correct functions (so the storm runs), but every number and
  the plan taken from the lab's prose: no point of Parts 3 to 5.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from judge_helpers import judged, lab_workdir, solution_with

pytestmark = pytest.mark.slow

LAB = "lab3-ebs-2011"

FUNCTIONS_GRADED = {"test_search_delay_s", "test_choose_remirror", "test_threads_needed", "test_zone_bulkhead",
                    "test_clock_window_mean"}
EXPERIMENTS_GRADED = {"test_reproduce", "test_whatif_spare", "test_whatif_policy", "test_whatif_timeout",
                      "test_whatif_pool"}
COMMANDER_GRADED = {"test_plan_low", "test_plan_middle", "test_plan_top"}

ANOTHER_STYLE = {
    "search_delay_s": '''
def search_delay_s(failures, rng, base_s, cap_s, backoff, previous_delay_s=0.0):
    """Seconds to wait after `failures` failed search rounds in a row (1 = the first)."""
    ceiling = np.minimum(cap_s, math.ldexp(base_s, int(np.clip(failures - 1, 0, 100))))
    waits = {
        "none": lambda: base_s,
        "exponential": lambda: ceiling,
        "full": lambda: ceiling * rng.random(),
        "equal": lambda: ceiling / 2 + rng.uniform(0, ceiling / 2),
        "decorrelated": lambda: np.minimum(cap_s, rng.uniform(base_s, 3 * np.maximum(previous_delay_s, base_s))),
    }
    if backoff not in waits:
        raise ValueError(f"unknown backoff {backoff!r}")
    return waits[backoff]()
''',
    "choose_remirror": '''
def choose_remirror(previous_alive, previous_reachable, prefer_previous):
    if not (prefer_previous and previous_alive):
        return "search"
    return {True: "reconnect", False: "wait"}[bool(previous_reachable)]
''',
    "pool_pieces": '''
def threads_needed(rate_per_s, hold_s):
    return np.multiply(rate_per_s, hold_s)


class ZoneBulkhead:
    def __init__(self, threads, zones):
        self.share = {zone: threads // len(zones) for zone in zones}

    def admit(self, zone, wanted, busy):
        return int(np.clip(self.share[zone] - busy.get(zone, 0), 0, wanted))
''',
    "clock_window_mean": '''
from datetime import datetime


def clock_window_mean(result, name, start, end):
    def second_of_day(text):
        moment = datetime.strptime(text, "%H:%M")
        return moment.hour * 3600 + moment.minute * 60

    clock = result.t_s + result.clock_start_s
    inside = (clock >= second_of_day(start)) & (clock < second_of_day(end))
    return np.asarray(result[name])[inside].mean()
''',
    "reproduce": '''
clock = storm.t_s + storm.clock_start_s
STORM_STUCK_MEAN = np.float64(storm.summary["stuck_share_mean"])
STUCK_0230_0300 = storm["stuck_share"][(clock >= 9000) & (clock < 10800)].mean()
HEALTHY_ERRORS_0050_0240 = storm["api_error_share_healthy"][(clock >= 3000) & (clock < 9600)].mean()
''',
    "whatif_spare": '''
SPARES = [0.03, 0.06, 0.09, 0.12]
SPARE_STUCK_MEAN = np.array([simkit.run("ebs-2011", {"spare_fraction": s}, seed=0).summary["stuck_share_mean"]
                             for s in SPARES])
SMALLEST_SAFE_SPARE = np.array(SPARES)[SPARE_STUCK_MEAN < 0.05].min()
''',
    "whatif_policy": '''
POLICIES = {                       # name: (prefer_previous, backoff)
    "2011": (False, "none"),
    "backoff": (False, "full"),
    "prefer previous": (True, "none"),
    "both": (True, "full"),
}
summaries = {name: ebs.run(seed=0, remirror=LearnerRemirror(prefer_previous=p, backoff=b)).summary
             for name, (p, b) in POLICIES.items()}
POLICY_STUCK_MEAN = {name: s["stuck_share_mean"] for name, s in summaries.items()}
POLICY_SEARCHES = {name: np.int64(s["searches_total"]) for name, s in summaries.items()}
POLICY_CRASHES = {name: np.int64(s["nodes_crashed"]) for name, s in summaries.items()}
''',
    "whatif_timeout": '''
TIMEOUTS = [5, 30, 60, 90, 150, 300]
TIMEOUT_HEALTHY_ERRORS = np.array([ebs.run({"cp_timeout_s": t}, seed=0).summary["healthy_api_error_share"]
                                   for t in TIMEOUTS])
LONGEST_SAFE_TIMEOUT_S = np.array(TIMEOUTS)[TIMEOUT_HEALTHY_ERRORS < 0.01].max()
PREDICTED_MAX_TIMEOUT_S = np.float64(64 - 4 * threads_needed(20, 0.25)) / 0.3
''',
    "whatif_pool": '''
pooled = ebs.run(seed=0, bulkhead=ZoneBulkhead(64, list("abcd"))).summary
BULKHEAD_HEALTHY_ERRORS, BULKHEAD_AFFECTED_ERRORS, BULKHEAD_STUCK_MEAN = (
    np.float64(pooled[key]) for key in ("healthy_api_error_share", "affected_api_error_share", "stuck_share_mean"))
BULKHEAD_SHRINKS_STORM = np.float64(BULKHEAD_STUCK_MEAN) < np.float64(storm.summary["stuck_share_mean"]) - 0.001
''',
    "commander_plan": '''
PLAN = [(np.int64(20), "disable_create_volume"), ("00:50:00", "throttle_remirror"), (np.float64(20.0), "add_capacity")]
''',
}

#: one plausible mistake per graded cell (and a jitter-less search_delay_s)
MISTAKES = {
    "search_delay_s": '''
def search_delay_s(failures, rng, base_s, cap_s, backoff, previous_delay_s=0.0):
    ceiling = min(cap_s, base_s * 2.0 ** min(failures - 1, 60))
    if backoff == "none":
        return base_s
    if backoff == "exponential":
        return ceiling
    if backoff == "full":          # the middle of [0, ceiling]: right on average, never random
        return ceiling / 2
    if backoff == "equal":
        return 0.75 * ceiling
    if backoff == "decorrelated":
        return min(cap_s, 2 * max(previous_delay_s, base_s))
    raise ValueError(backoff)
''',
    "reproduce": '''
STORM_STUCK_MEAN = storm.summary["stuck_share_mean"]
STUCK_0230_0300 = clock_window_mean(storm, "stuck_share", "02:30", "03:00")
HEALTHY_ERRORS_0050_0240 = clock_window_mean(storm, "api_error_share_affected", "00:50", "02:40")
''',
    "whatif_spare": '''
SPARES = [0.03, 0.06, 0.09, 0.12]
SPARE_STUCK_MEAN = [ebs.run({"spare_fraction": s}, seed=0).summary["stuck_share_mean"] for s in SPARES]
SMALLEST_SAFE_SPARE = 0.06   # "three points of spare space more and the storm never starts"
''',
    "whatif_timeout": '''
TIMEOUTS = [5, 30, 60, 90, 150, 300]
TIMEOUT_HEALTHY_ERRORS = [ebs.run({"cp_timeout_s": float(t)}, seed=0).summary["healthy_api_error_share"]
                          for t in TIMEOUTS]
LONGEST_SAFE_TIMEOUT_S = max(t for t, e in zip(TIMEOUTS, TIMEOUT_HEALTHY_ERRORS) if e < 0.01)
PREDICTED_MAX_TIMEOUT_S = (64 - 4 * threads_needed(20, 0.25)) / 0.4   # 0.3 + 0.1 negotiations
''',
    "whatif_pool": '''
pooled = ebs.run(seed=0, bulkhead=ZoneBulkhead(64, ["a", "b", "c", "d"]))
BULKHEAD_HEALTHY_ERRORS = pooled.summary["healthy_api_error_share"]
BULKHEAD_AFFECTED_ERRORS = pooled.summary["affected_api_error_share"]
BULKHEAD_STUCK_MEAN = pooled.summary["stuck_share_mean"]
BULKHEAD_SHRINKS_STORM = True
''',
    "commander_plan": '''
PLAN = [("02:40", "disable_create_volume"), ("08:20", "isolate_control_plane"), ("11:30", "throttle_remirror")]
''',
}

#: every experiment answer and the plan taken from the lab's own prose (the functions are right)
COPIED = {
    "reproduce": '''
STORM_STUCK_MEAN = 0.13           # "AWS reported about 13 % of the zone's volumes stuck"
STUCK_0230_0300 = 0.13            # "between 02:30 and 03:00 the model leaves about 13 to 15 % stuck"
HEALTHY_ERRORS_0050_0240 = 0.40   # "the healthy zones lost about 40 % of their API calls"
''',
    "whatif_spare": '''
SPARES = [0.03, 0.06, 0.09, 0.12]
SPARE_STUCK_MEAN = [0.13, 0.08, 0.03, 0.03]   # "about 8 %", "about 3 %"
SMALLEST_SAFE_SPARE = 0.09                    # "At 9 % almost every node finds space"
''',
    "whatif_policy": '''
POLICIES = {"2011": (False, "none"), "backoff": (False, "full"), "prefer previous": (True, "none"),
            "both": (True, "full")}
POLICY_STUCK_MEAN = {"2011": 0.13, "backoff": 0.95 * 0.13, "prefer previous": 0.0025, "both": 0.0025}
POLICY_SEARCHES = {"2011": 1000 * 690, "backoff": 69_000, "prefer previous": 0, "both": 0}  # "tenfold"
POLICY_CRASHES = {"2011": 1, "backoff": 0, "prefer previous": 0, "both": 0}
''',
    "whatif_timeout": '''
TIMEOUTS = [5, 30, 60, 90, 150, 300]
TIMEOUT_HEALTHY_ERRORS = [0.0, 0.0, 0.0, 0.005, 0.02, 0.40]   # "90 s keeps ... below 1 %, 150 s does not"
LONGEST_SAFE_TIMEOUT_S = 90
PREDICTED_MAX_TIMEOUT_S = 150                                # "Little's law put the edge near 150 s"
''',
    "whatif_pool": '''
BULKHEAD_HEALTHY_ERRORS = 0.0     # "three zones out of four no longer notice"
BULKHEAD_AFFECTED_ERRORS = 0.8    # "about four of its calls in five fail"
BULKHEAD_STUCK_MEAN = 0.13        # "exactly as bad as before"
BULKHEAD_SHRINKS_STORM = False
''',
    "commander_plan": '''
PLAN = [("02:40", "disable_create_volume"), ("08:20", "isolate_control_plane"), ("11:30", "throttle_remirror")]
''',
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return lab_workdir(tmp_path_factory, LAB)


def _graded(answers: dict[str, str], workdir: Path) -> dict[str, tuple[bool, str]]:
    return judged(solution_with(LAB, answers), workdir)


def test_right_answers_in_another_style_get_every_point(workdir: Path) -> None:
    graded = _graded(ANOTHER_STYLE, workdir)
    failed = {gid: message for gid, (passed, message) in graded.items() if not passed}
    assert not failed, f"right answers in another style lost points: {failed}"
    assert set(graded) == FUNCTIONS_GRADED | EXPERIMENTS_GRADED | COMMANDER_GRADED


def test_plausible_mistakes_lose_the_points_of_their_cells(workdir: Path) -> None:
    graded = _graded(MISTAKES, workdir)
    failed = {gid for gid, (passed, _) in graded.items() if not passed}
    # the jitter-less search_delay_s fails its own cell and the policy runs made with it
    expected = {"test_search_delay_s", "test_whatif_policy"} | (EXPERIMENTS_GRADED | COMMANDER_GRADED)
    assert failed == expected, (
        f"should fail: {sorted(expected - failed)}; should pass: {sorted(failed - expected)}; "
        f"messages: { {gid: graded[gid][1] for gid in failed ^ expected} }")
    reproduce = graded["test_reproduce"][1]
    assert "zone a" in reproduce, f"the wrong zone should be named in the feedback: {reproduce}"
    jitter = graded["test_search_delay_s"][1]
    assert "spread" in jitter, f"the missing spread should be named in the feedback: {jitter}"
    plan = graded["test_plan_low"][1]
    assert "AWS's own response" in plan, f"the plan check should say it only matches AWS's response: {plan}"


def test_answers_copied_from_the_text_earn_no_point_of_parts_3_to_5(workdir: Path) -> None:
    graded = _graded(COPIED, workdir)
    earned = {gid for gid, (passed, _) in graded.items() if passed}
    assert earned == FUNCTIONS_GRADED, (
        f"copied numbers earned {sorted(earned - FUNCTIONS_GRADED)}; lost {sorted(FUNCTIONS_GRADED - earned)}")
