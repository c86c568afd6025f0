"""Lab 1 graded like an instructor would try it: right in another style, plausibly wrong, copied.

Each submission is lab 1's source notebook with its answer cells replaced, run in a real
kernel with the test cells judged outside it (as ``nbgrader autograde`` does, hidden tests
included):

* **another style**: every answer right, written differently from the solution (``numbers``
  instead of ``isinstance(x, int)``, a helper generator with ``env.any_of``, NumPy masks and
  NumPy numbers, a plan in NumPy minutes): full marks;
* **wrong**: a typical mistake in every answer (a bool accepted as a count, a rounded
  tipping point, retries that ignore the policy, AWS's 55% typed for both error rates and the
  40% minute counted from its end, one seed instead of five, the 6-hour run instead of the
  3-hour one, the old 10% threshold, swapped cells, the timeouts for the login times, every
  request counted as failed, AWS's own timeline as the plan): each loses its points;
* **copied**: the functions right, every value copied from the lab's own text (AWS's 55%,
  the 18 minutes from 02:19 to 02:37, the tipping factor "about 3.1", the default GSI factor,
  the 40-s and 1-s timeouts, AWS's plan): none of those values earns a point.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pipeline_helpers as ph
from judge_helpers import judged, lab_workdir, solution_with

pytestmark = pytest.mark.slow

LAB = "lab1-dynamodb-2015"

ANOTHER_STYLE = {
    "membership_size": '''
import numbers

def membership_size(table_partitions, gsi_factor):
    def refuse(name, value, rule):
        raise ValueError(f"{name} = {value!r}: {rule}")
    if isinstance(table_partitions, bool) or not isinstance(table_partitions, numbers.Integral):
        refuse("table_partitions", table_partitions, "must be an integer")
    if table_partitions < 0:
        refuse("table_partitions", table_partitions, "must be >= 0")
    if isinstance(gsi_factor, bool) or not isinstance(gsi_factor, numbers.Real) or math.isnan(gsi_factor):
        refuse("gsi_factor", gsi_factor, "must be a number")
    if gsi_factor < 1:
        refuse("gsi_factor", gsi_factor, "must be >= 1")
    return np.int64(math.floor(table_partitions * gsi_factor + 0.5))
''',
    "tipping": '''
def tipping_gsi_factor_for(largest_partitions, allowance_s, base_processing_s, per_entry_s):
    spare_s = allowance_s - base_processing_s
    return spare_s / largest_partitions / per_entry_s

TIPPING_DEFAULT = np.float64(tipping_gsi_factor_for(int(np.max(SIZES)), p.allowance_s, p.base_processing_s,
                                                    p.per_entry_s))
''',
    "renewal": '''
def _ask_once(sim, srv):
    reply = srv.request_membership()
    outcome = yield sim.any_of([reply, sim.timeout(srv.allowance_s)])
    return reply in outcome

def renewal_process(sim, srv):
    attempt = 0
    while True:
        if (yield from _ask_once(sim, srv)):
            srv.back_in_service()
            attempt = 0
            yield srv.renewal_due()
        else:
            srv.out_of_service()
            attempt += 1
            yield sim.timeout(srv.retry_delay_s(attempt))
''',
    "repro_answer": '''
_t, _e = REPRO.t_s, REPRO["error_rate"]
PLATEAU_ERROR = np.mean(_e[(_t >= 2940) & (_t < 6540)])
MINUTES_TO_40 = int((_t[np.argmax((_t >= TRIGGER_S) & (_e >= 0.4))] - TRIGGER_S) // 60)
ERROR_0500_0600 = np.float32(np.mean(_e[(_t >= 5 * 3600 - 7200) & (_t < 6 * 3600 - 7200)]))
''',
    "whatif_gsi": '''
GSI_GRID = [1.5, 1.75, 2.0, 2.25, 2.5, 2.75]
SEEDS = [0, 1, 2, 3, 4]
_ok = np.array([[simkit.run("dynamodb-2015", {"gsi_factor": g, "horizon_s": 10800.0}, seed=s).summary["recovered"]
                 for s in SEEDS] for g in GSI_GRID])
RECOVERED_SHARE = dict(zip(GSI_GRID, _ok.mean(axis=1)))
COLLAPSE_GSI = GSI_GRID[int(np.argmax(_ok.mean(axis=1) < 0.5))]
''',
    "whatif_fix": '''
FIXES = {
    "none": {},
    "more capacity": {"metadata_workers": 20, "metadata_slots": 64},
    "longer allowance": {"allowance_s": 180.0},
    "lower renewal rate": {"renewal_interval_s": 1200.0},
    "backoff with jitter": {"retry_policy": "backoff-jitter"},
    "retry budget": {"retry_policy": "budget"},
    "cells": {"metadata_cells": 4},
}
FIX_ERROR = {}
for name, change in FIXES.items():
    _r = ddb.run({**change, "horizon_s": 10800.0}, seed=0)
    FIX_ERROR[name] = np.float64(_r.mean_between("error_rate", 7200.0, 10800.0))
STILL_FAILING = set(k for k in FIX_ERROR if k != "none" and FIX_ERROR[k] > 0.25)
''',
    "whatif_cells": '''
_common = {"gsi_factor": 6, "horizon_s": 3 * 3600}
ONE_BIG_ERROR = ddb.run({**_common, "metadata_workers": 40, "metadata_slots": 144}).summary["error_last_hour"]
CELLS_ERROR = ddb.run({**_common, "metadata_cells": 4}).summary["error_last_hour"]
''',
    "whatif_console": '''
LOGIN_MAX_40, LOGIN_MAX_1 = (np.max(ddb.run(extra, seed=0, plan=ddb.HISTORICAL_PLAN)["console_login_s"])
                             for extra in ({}, {"console_call_timeout_s": 1}))
''',
    "whatif_admin": '''
ADMIN_PLAN = [("02:45", "add_capacity"), ("02:50", "pause_renewals"), ("03:05", "add_capacity"),
              ("03:30", "add_capacity")]
ADMIN_FAILED = np.int64(ddb.run(seed=0, plan=ADMIN_PLAN).summary["admin_requests_failed"])
''',
    "commander_plan": '''
PLAN = [(np.int64(35), "pause_renewals"), (np.float64(61.5), "add_capacity"), ("03:05", "resume_renewals")]
''',
}

WRONG = {
    "membership_size": '''
import numbers

def membership_size(table_partitions, gsi_factor):
    if not isinstance(table_partitions, numbers.Integral) or table_partitions < 0:
        raise ValueError("table_partitions must be an integer >= 0")
    if not isinstance(gsi_factor, numbers.Real) or not gsi_factor >= 1:
        raise ValueError("gsi_factor must be a number >= 1")
    return round(table_partitions * gsi_factor)
''',
    "tipping": '''
def tipping_gsi_factor_for(largest_partitions, allowance_s, base_processing_s, per_entry_s):
    return (allowance_s - base_processing_s) / (per_entry_s * largest_partitions)

TIPPING_DEFAULT = round(tipping_gsi_factor_for(max(SIZES), p.allowance_s, p.base_processing_s, p.per_entry_s), 1)
''',
    "renewal": '''
def renewal_process(env, server):
    while True:
        reply = server.request_membership()
        outcome = yield reply | env.timeout(server.allowance_s)
        if reply in outcome:
            server.back_in_service()
            yield server.renewal_due()
        else:
            server.out_of_service()     # and asks again at once, whatever the retry policy says
''',
    "repro_answer": '''
PLATEAU_ERROR = 0.55
ERROR_0500_0600 = 0.55
_first = np.nonzero((REPRO.t_s >= TRIGGER_S) & (REPRO["error_rate"] >= 0.40))[0][0]
MINUTES_TO_40 = float((REPRO.t_s[_first] + 60 - TRIGGER_S) / MIN)       # the end of that minute
''',
    "whatif_gsi": '''
GSI_GRID = [1.5, 1.75, 2.0, 2.25, 2.5, 2.75]
SEEDS = [0, 1, 2, 3, 4]
_every = {g: [simkit.run("dynamodb-2015", {"gsi_factor": g, "horizon_s": 10800.0}, seed=s).summary["recovered"]
              for s in SEEDS] for g in GSI_GRID}
RECOVERED_SHARE = {g: float(_every[g][0]) for g in GSI_GRID}                 # one night only
COLLAPSE_GSI = min(g for g in GSI_GRID if not any(_every[g]))               # "never", not "on most nights"
''',
    "whatif_fix": '''
FIXES = {
    "none": {},
    "more capacity": {"metadata_workers": 20, "metadata_slots": 64},
    "longer allowance": {"allowance_s": 180.0},
    "lower renewal rate": {"renewal_interval_s": 1200.0},
    "backoff with jitter": {"retry_policy": "backoff-jitter"},
    "retry budget": {"retry_policy": "budget"},
    "cells": {"metadata_cells": 4},
}
FIX_ERROR = {name: simkit.run("dynamodb-2015", change, seed=0).summary["error_last_hour"]     # the 6-hour run
             for name, change in FIXES.items()}
_three = {name: simkit.run("dynamodb-2015", {**change, "horizon_s": 10800.0}, seed=0).summary["error_last_hour"]
          for name, change in FIXES.items()}
STILL_FAILING = {name for name, error in _three.items() if name != "none" and error > 0.10}   # not 25%
''',
    "whatif_cells": '''
CELLS_ERROR = simkit.run("dynamodb-2015", {"gsi_factor": 6.0, "metadata_workers": 40, "metadata_slots": 144,
                                           "horizon_s": 10800.0}, seed=0).summary["error_last_hour"]
ONE_BIG_ERROR = simkit.run("dynamodb-2015", {"gsi_factor": 6.0, "metadata_cells": 4,
                                             "horizon_s": 10800.0}, seed=0).summary["error_last_hour"]
''',
    "whatif_console": '''
LOGIN_MAX_40 = 40.0
LOGIN_MAX_1 = 1.0
''',
    "whatif_admin": '''
ADMIN_PLAN = [("02:45", "add_capacity"), ("02:50", "pause_renewals"), ("03:05", "add_capacity"),
              ("03:30", "add_capacity")]
ADMIN_FAILED = sum(1 for _, action in ADMIN_PLAN if action == "add_capacity")
''',
    "commander_plan": '''
PLAN = ddb.HISTORICAL_PLAN
''',
}

#: every value the lab's text offers for an answer (the functions stay right)
COPIED = {
    "tipping": '''
def tipping_gsi_factor_for(largest_partitions, allowance_s, base_processing_s, per_entry_s):
    return (allowance_s - base_processing_s) / (per_entry_s * largest_partitions)

TIPPING_DEFAULT = 3.1                  # "a GSI factor of about 3.1"
''',
    "repro_answer": '''
PLATEAU_ERROR = 0.55                   # "settles near 55%"
MINUTES_TO_40 = 18.0                   # 02:19 to 02:37
ERROR_0500_0600 = 0.55
''',
    "whatif_gsi": '''
GSI_GRID = [1.5, 1.75, 2.0, 2.25, 2.5, 2.75]
SEEDS = [0, 1, 2, 3, 4]
RECOVERED_SHARE = {g: 1.0 if g < 2.75 else 0.0 for g in GSI_GRID}
COLLAPSE_GSI = 2.75                    # the default GSI factor, the one that collapses
''',
    "whatif_fix": '''
FIXES = {"none": {}, "more capacity": {}, "longer allowance": {}, "lower renewal rate": {},
         "backoff with jitter": {}, "retry budget": {}, "cells": {}}
FIX_ERROR = {name: 0.55 for name in FIXES}
STILL_FAILING = {"lower renewal rate"}
''',
    "whatif_cells": '''
ONE_BIG_ERROR = 1.0                    # "goes down almost whole"
CELLS_ERROR = 0.5
''',
    "whatif_console": '''
LOGIN_MAX_40 = 40.0                    # the timeouts the text names
LOGIN_MAX_1 = 1.0
''',
    "whatif_admin": '''
ADMIN_FAILED = 3                       # "several attempts ... fail"
''',
    "commander_plan": '''
PLAN = ddb.HISTORICAL_PLAN
''',
}

WRONG_FAILS = {"test_membership_size", "test_tipping", "test_renewal_timeouts", "test_repro", "test_repro_minutes",
               "test_repro_late", "test_recovered_share", "test_whatif_gsi", "test_whatif_fix", "test_still_failing",
               "test_whatif_cells", "test_whatif_console", "test_whatif_admin", "test_plan_beats_aws",
               "test_plan_middle", "test_plan_top"}
COPIED_FAILS = {"test_tipping", "test_repro", "test_repro_minutes", "test_repro_late", "test_recovered_share",
                "test_whatif_gsi", "test_whatif_fix", "test_still_failing", "test_whatif_cells",
                "test_whatif_console", "test_whatif_admin", "test_plan_beats_aws", "test_plan_middle",
                "test_plan_top"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return lab_workdir(tmp_path_factory, LAB)


def _grade(answers: dict[str, str], workdir: Path) -> dict[str, tuple[bool, str]]:
    return judged(solution_with(LAB, answers), workdir)


def _points(verdicts: dict[str, tuple[bool, str]]) -> tuple[float, float]:
    nb = ph.read_nb(ph.SOLUTIONS / LAB / f"{LAB}.ipynb")
    points = {ph.grade_id(c): ph.meta(c)["points"] for c in nb.cells if ph.is_test(c)}
    assert set(points) == set(verdicts)
    return sum(points[g] for g, (ok, _) in verdicts.items() if ok), sum(points.values())


def test_right_answers_in_another_style_get_full_marks(workdir: Path) -> None:
    verdicts = _grade(ANOTHER_STYLE, workdir)
    failed = {g: message for g, (ok, message) in verdicts.items() if not ok}
    assert not failed, f"right answers written another way lost points: {failed}"


def test_a_plausible_mistake_in_every_answer_loses_its_points(workdir: Path) -> None:
    verdicts = _grade(WRONG, workdir)
    failed = {g for g, (ok, _) in verdicts.items() if not ok}
    assert failed == WRONG_FAILS, (f"kept points: {sorted(WRONG_FAILS - failed)}; "
                                   f"lost points it should not: {sorted(failed - WRONG_FAILS)}")
    earned, total = _points(verdicts)
    assert earned == 2, f"only the quiet-night renewal check (2 points) should pass, got {earned}/{total}"
    assert "raise ValueError for True for table_partitions" in verdicts["test_membership_size"][1]


def test_values_copied_from_the_labs_text_earn_nothing(workdir: Path) -> None:
    verdicts = _grade(COPIED, workdir)
    failed = {g for g, (ok, _) in verdicts.items() if not ok}
    assert failed == COPIED_FAILS, (f"copied values kept points: {sorted(COPIED_FAILS - failed)}; "
                                    f"lost points they should not: {sorted(failed - COPIED_FAILS)}")
    earned, total = _points(verdicts)
    assert earned == 2 + 2 + 3, f"only the three function checks should pass, got {earned}/{total}"
