"""Lab 2 graded as a class would hand it in: right in another style, plausibly wrong, copied.

Each submission is the source notebook with some answer cells replaced; its answer and
locked cells run in a real ``python3`` kernel and its test cells (hidden tests
included) in the judge, as during ``nbgrader autograde`` (:mod:`judge_helpers`).

* **Another style** (NumPy numbers and bools, minutes instead of clock times, a plan
  pasted from the console with a refused attempt, an upper-case letter): full marks.
* **Plausible mistakes**, one at a time on an otherwise solved lab: each loses the
  points of the test cell it belongs to, and the failure is the learner's, not a
  grading error.
* **Copied from the lab's own text**: every number and choice the text offers (AWS's
  6.8%, the 23 h 41 min, the burst's range, the longest choice, the choice that
  echoes the lab's wording most) earns none of the points of the value, choice and
  function cells; the one plan literal of the text (4.2's reconciliation from 17:00)
  is a real response and reaches the middle band, no further.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

import pipeline_helpers as ph
from judge_helpers import KernelTransport, judged, lab_workdir
from simkit.grading.judge import Judge

pytestmark = pytest.mark.slow

LAB = "lab2-elb-2012"
RIGHT_CHOICE = "c"

ANOTHER_STYLE = {
    "apply_workflow": '''
def apply_workflow(lb, workflow):
    record = lb.stored
    if record is None:                  # nothing to compute from: the workflow breaks it
        lb.damaged = True
        return np.False_
    lb.stored = lb.live = workflow.apply(record)
    lb.damaged = False
    return np.True_
''',
    "blast_radius": '''
def blast_radius(deleted_share, touch_rate_per_h, hours):
    return deleted_share * -np.expm1(-touch_rate_per_h * np.maximum(hours, 0.0))
''',
    "reconcile": '''
def reconcile_lb(lb):
    rebuilt, repaired = lb.stored != lb.live, lb.damaged
    lb.stored, lb.damaged = lb.live, False
    return bool(rebuilt or repaired)


def reconcile_all(lbs):
    before = np.array([(lb.stored != lb.live, lb.damaged) for lb in lbs], dtype=bool).reshape(-1, 2)
    for lb in lbs:
        reconcile_lb(lb)
    rebuilt, repaired = before.sum(axis=0)
    return {"repaired": repaired, "rebuilt": rebuilt}
''',
    "changes_lost": '''
def changes_lost(lbs_by_id, accepted):
    records = [lbs_by_id[lb_id].stored for _, lb_id in accepted]
    held = np.array([r is not None and c in r.changes for r, (c, _) in zip(records, accepted)], dtype=bool)
    return np.int64(len(held) - held.sum())
''',
    "reproduce_answers": '''
DAMAGED_SHARE_AT_1702 = np.float64(mine["damaged_share"][mine.t_s == DISABLED_S][0])
DAMAGED_SHARE_END = mine["damaged_share"][-1]
_r = elb.touch_rate_per_h(params, DELETION_S, DISABLED_S)
ESTIMATE_AT_1702 = params.deleted_share * (1 - np.exp(-_r * (DISABLED_S - DELETION_S) / 3600))
''',
    "whatif_disable": '''
_peak = lambda minute: elb.run(seed=0, plan=[(np.int64(minute), "disable_all_workflows")]).summary["damaged_share_peak"]
DAMAGED_IF_DISABLED_1300, DAMAGED_IF_DISABLED_1500 = _peak(60), np.float64(_peak(180))
''',
    "whatif_restore": '''
_plan = list(elb.HISTORICAL_PLAN)
HOURS_TO_NORMAL_RESTORE = elb.run(seed=0, plan=_plan).summary["time_to_normal_h"]
LOST_WITHOUT_MERGE = np.int64(elb.run(seed=0, plan=_plan[:3] + _plan[4:]).summary["changes_lost"])
HOURS_TO_NORMAL_RECONCILE = elb.run(seed=0, plan=[(300, "disable_all_workflows"), (300.0, "reconcile"),
                                                  (400, "enable_workflows_gradually")]).summary["time_to_normal_h"]
''',
    "whatif_burst": '''
BROKEN_BY_BURST = np.int64(elb.run(seed=0, plan=list(elb.HISTORICAL_PLAN[:4]) + [(17 * 60 + 40, "enable_workflows_all")])
                           .summary["overload_damaged_lbs"])
''',
    "whatif_approval": '''
DELETED_GATE_BEFORE = elb.Model.run(elb.Params(approval_required=True), seed=0).summary["deleted_lbs"]
DAMAGED_GATE_AT_PAGE = np.float64(elb.run(seed=0, plan=[(40, "require_approval")]).summary["damaged_share_at_17_02"])
''',
    "side_by_side_answer": 'WHY_STOPPING_WORKS = " C "\n',
    "commander_plan": '''
PLAN = [("12:30:00", "disable_all_workflows"), (np.int64(40), "disable_all_workflows"), (np.int64(40), "reconcile"),
        (np.float64(130.0), "enable_workflows_gradually")]
''',
}

#: (answer cell, its wrong source, the test cells that must fail)
MISTAKES = [
    ("apply_workflow", "computes from the live configuration", '''
def apply_workflow(lb, workflow):
    if lb.stored is None:
        lb.damaged = True
        return False
    lb.stored = lb.live = workflow.apply(lb.live)
    lb.damaged = False
    return True
''', ["test_apply_workflow"]),
    ("apply_workflow", "leaves a repaired load balancer marked damaged", '''
def apply_workflow(lb, workflow):
    if lb.stored is None:
        lb.damaged = True
        return False
    lb.stored = lb.live = workflow.apply(lb.stored)
    return True
''', ["test_apply_workflow"]),
    ("apply_workflow", "heals a missing record from the nodes (not what 2012's workflows did)", '''
def apply_workflow(lb, workflow):
    if lb.stored is None:
        lb.stored = lb.live
    lb.stored = lb.live = workflow.apply(lb.stored)
    lb.damaged = False
    return True
''', ["test_apply_workflow"]),
    ("blast_radius", "no guard for negative hours", '''
def blast_radius(deleted_share, touch_rate_per_h, hours):
    return deleted_share * (1 - math.exp(-touch_rate_per_h * hours))
''', ["test_blast_radius"]),
    ("blast_radius", "the linear approximation", '''
def blast_radius(deleted_share, touch_rate_per_h, hours):
    return deleted_share * touch_rate_per_h * max(hours, 0)
''', ["test_blast_radius"]),
    ("reconcile", "repairs only where it rebuilt a record", '''
def reconcile_lb(lb):
    if lb.stored != lb.live:
        lb.stored = lb.live
        lb.damaged = False
        return True
    return False


def reconcile_all(lbs):
    out = {"rebuilt": 0, "repaired": 0}
    for lb in lbs:
        wrong, damaged = lb.stored != lb.live, lb.damaged
        reconcile_lb(lb)
        out["rebuilt"] += wrong
        out["repaired"] += damaged and not lb.damaged
    return out
''', ["test_reconcile_lb"]),
    ("reconcile", "copies the record onto the nodes (the wrong way round)", '''
def reconcile_lb(lb):
    changed = False
    if lb.stored is None:
        lb.stored, changed = lb.live, True
    elif lb.stored != lb.live:
        lb.live, changed = lb.stored, True
    if lb.damaged:
        lb.damaged, changed = False, True
    return changed


def reconcile_all(lbs):
    out = {"rebuilt": 0, "repaired": 0}
    for lb in lbs:
        wrong, damaged = lb.stored != lb.live, lb.damaged
        reconcile_lb(lb)
        out["rebuilt"] += wrong
        out["repaired"] += damaged and not lb.damaged
    return out
''', ["test_reconcile_lb"]),
    ("reconcile", "counts every change reconcile_lb made as a rebuilt record", '''
def reconcile_lb(lb):
    changed = lb.stored != lb.live or lb.damaged
    lb.stored, lb.damaged = lb.live, False
    return bool(changed)


def reconcile_all(lbs):
    rebuilt = repaired = 0
    for lb in lbs:
        damaged = lb.damaged
        rebuilt += reconcile_lb(lb)
        repaired += damaged
    return {"rebuilt": rebuilt, "repaired": repaired}
''', ["test_reconcile_all"]),
    ("changes_lost", "counts only the missing records", '''
def changes_lost(lbs_by_id, accepted):
    return sum(1 for _, lb_id in accepted if lbs_by_id[lb_id].stored is None)
''', ["test_changes_lost"]),
    ("changes_lost", "counts load balancers, not changes", '''
def changes_lost(lbs_by_id, accepted):
    return len({lb_id for change_id, lb_id in accepted
                if lbs_by_id[lb_id].stored is None or change_id not in lbs_by_id[lb_id].stored.changes})
''', ["test_changes_lost"]),
    ("reproduce_answers", "percentages", '''
DAMAGED_SHARE_AT_1702 = 100 * mine.value_at("damaged_share", DISABLED_S)
DAMAGED_SHARE_END = 100 * float(mine["damaged_share"][-1])
ESTIMATE_AT_1702 = 100 * blast_radius(params.deleted_share, elb.touch_rate_per_h(params, DELETION_S, DISABLED_S),
                                      (DISABLED_S - DELETION_S) / 3600)
''', ["test_share_1702", "test_share_end", "test_estimate_1702"]),
    ("reproduce_answers", "read at 17:00 and a rate over the whole run", '''
DAMAGED_SHARE_AT_1702 = mine.value_at("damaged_share", 300 * 60.0)
DAMAGED_SHARE_END = float(mine["damaged_share"][-1])
ESTIMATE_AT_1702 = blast_radius(params.deleted_share, elb.touch_rate_per_h(params, DELETION_S, 25.5 * 3600),
                                (DISABLED_S - DELETION_S) / 3600)
''', ["test_share_1702", "test_estimate_1702"]),
    ("whatif_disable", "the share at 5:02 PM instead of the peak", '''
DAMAGED_IF_DISABLED_1300 = simkit.run("elb-2012", seed=0, plan=[("13:00", "disable_all_workflows")]).summary["damaged_share_at_17_02"]
DAMAGED_IF_DISABLED_1500 = simkit.run("elb-2012", seed=0, plan=[("15:00", "disable_all_workflows")]).summary["damaged_share_at_17_02"]
''', ["test_whatif_disable"]),
    ("whatif_disable", "only the scaling workflows", '''
DAMAGED_IF_DISABLED_1300 = simkit.run("elb-2012", seed=0, plan=[("13:00", "disable_scaling")]).summary["damaged_share_peak"]
DAMAGED_IF_DISABLED_1500 = simkit.run("elb-2012", seed=0, plan=[("15:00", "disable_scaling")]).summary["damaged_share_peak"]
''', ["test_whatif_disable"]),
    ("whatif_restore", "re-enables everything at once after the sweep", '''
HOURS_TO_NORMAL_RESTORE = simkit.run("elb-2012", seed=0, plan=elb.HISTORICAL_PLAN).summary["time_to_normal_h"]
LOST_WITHOUT_MERGE = simkit.run("elb-2012", seed=0, plan=[s for s in elb.HISTORICAL_PLAN if s[1] != "merge_changes"]).summary["changes_lost"]
HOURS_TO_NORMAL_RECONCILE = simkit.run("elb-2012", seed=0, plan=[("17:00", "disable_all_workflows"), ("17:00", "reconcile"),
                                                                 ("18:40", "enable_workflows_all")]).summary["time_to_normal_h"]
''', ["test_whatif_restore"]),
    ("whatif_restore", "the intended plan as the restore", '''
HOURS_TO_NORMAL_RESTORE = simkit.run("elb-2012", seed=0, plan=elb.INTENDED_PLAN).summary["time_to_normal_h"]
LOST_WITHOUT_MERGE = simkit.run("elb-2012", seed=0, plan=[s for s in elb.HISTORICAL_PLAN if s[1] != "merge_changes"]).summary["changes_lost"]
HOURS_TO_NORMAL_RECONCILE = simkit.run("elb-2012", seed=0, plan=[("17:00", "disable_all_workflows"), ("17:00", "reconcile"),
                                                                 ("18:40", "enable_workflows_gradually")]).summary["time_to_normal_h"]
''', ["test_whatif_restore"]),
    ("whatif_burst", "every load balancer damaged at the end", '''
BROKEN_BY_BURST = simkit.run("elb-2012", seed=0, plan=elb.HISTORICAL_PLAN[:-1] + [("05:40", "enable_workflows_all")]).summary["damaged_lbs_end"]
''', ["test_whatif_burst"]),
    ("whatif_approval", "the gate as a plan step at 12:10 (refused: nothing has alerted yet)", '''
DELETED_GATE_BEFORE = simkit.run("elb-2012", seed=0, plan=[("12:10", "require_approval")]).summary["deleted_lbs"]
DAMAGED_GATE_AT_PAGE = simkit.run("elb-2012", seed=0, plan=[("12:40", "require_approval")]).summary["damaged_share_at_17_02"]
''', ["test_whatif_approval"]),
    ("whatif_approval", "the peak instead of the share at 5:02 PM", '''
DELETED_GATE_BEFORE = simkit.run("elb-2012", {"approval_required": True}, seed=0).summary["deleted_lbs"]
DAMAGED_GATE_AT_PAGE = simkit.run("elb-2012", seed=0, plan=[("12:40", "require_approval")]).summary["damaged_share_peak"]
''', ["test_whatif_approval"]),
    *[("side_by_side_answer", f"choice {letter}", f'WHY_STOPPING_WORKS = "{letter}"\n', ["test_side_by_side"])
      for letter in "abd"],
    ("commander_plan", "AWS's night", "PLAN = elb.HISTORICAL_PLAN\n", ["test_plan_middle", "test_plan_top"]),
    ("commander_plan", "every action at the page", 'PLAN = [("12:40", a) for a in elb.Model.actions]\n',
     ["test_plan_low", "test_plan_middle", "test_plan_top"]),
    ("commander_plan", "re-enables before the sweep is done", '''
PLAN = [("12:40", "disable_all_workflows"), ("12:40", "reconcile"), ("13:00", "enable_workflows_gradually")]
''', ["test_plan_low", "test_plan_middle", "test_plan_top"]),
    ("commander_plan", "stops the damage and never comes back", 'PLAN = [("12:40", "disable_all_workflows")]\n',
     ["test_plan_low", "test_plan_middle", "test_plan_top"]),
]

ANSWER_CELLS_WITH_VALUES = ("reproduce_answers", "whatif_disable", "whatif_restore", "whatif_burst",
                            "whatif_approval", "side_by_side_answer", "commander_plan")


# -- the notebooks ---------------------------------------------------------------------------

def _source() -> ph.NotebookNode:
    return ph.read_nb(ph.SOLUTIONS / LAB / f"{LAB}.ipynb")


def _markdown_text() -> str:
    return "\n".join(c.source for c in _source().cells if c.cell_type == "markdown")


def _choices() -> dict[str, str]:
    """The options of question 4.5 as the learner reads them."""
    question = next(c.source for c in _source().cells if ph.grade_id(c) == "side_by_side_q")
    return dict(re.findall(r"^\* \*\*([a-d])\*\*: (.+?)(?=\n\* \*\*|\Z)", question, flags=re.S | re.M))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def _echoes_the_text_most() -> str:
    """The option whose word pairs occur most often in the rest of the lab's text."""
    choices = _choices()
    rest = _markdown_text()
    for option in choices.values():
        rest = rest.replace(option, "")
    words = _words(rest)
    pairs = set(zip(words, words[1:]))

    def overlap(text: str) -> float:
        own = list(zip(_words(text), _words(text)[1:]))
        return sum(pair in pairs for pair in own) / len(own)
    return max(choices, key=lambda letter: overlap(choices[letter]))


def _copied_from_the_text() -> dict[str, str]:
    """Answers a learner could lift from the lab's own text without running anything."""
    choices = _choices()
    longest = max(choices, key=lambda letter: len(choices[letter]))
    return {
        "reproduce_answers": "DAMAGED_SHARE_AT_1702 = 0.068\nDAMAGED_SHARE_END = 0.25\nESTIMATE_AT_1702 = 0.068\n",
        # "each hour ... cost another 1.5% of the fleet", from 12:24
        "whatif_disable": "DAMAGED_IF_DISABLED_1300 = 0.015 * 36 / 60\nDAMAGED_IF_DISABLED_1500 = 0.015 * 156 / 60\n",
        # AWS's 23 h 41 min; the rubric's 40 changes; 18:40 minus 12:24
        "whatif_restore": ("HOURS_TO_NORMAL_RESTORE = 23 + 41 / 60\nLOST_WITHOUT_MERGE = 40\n"
                           "HOURS_TO_NORMAL_RECONCILE = (18 * 60 + 40 - (12 * 60 + 24)) / 60\n"),
        "whatif_burst": "BROKEN_BY_BURST = 150\n",
        "whatif_approval": "DELETED_GATE_BEFORE = 0\nDAMAGED_GATE_AT_PAGE = 0.068\n",
        "side_by_side_answer": f'WHY_STOPPING_WORKS = "{longest}"\n',
        "commander_plan": ('PLAN = [("17:00", "disable_all_workflows"), ("17:00", "reconcile"), '
                           '("18:40", "enable_workflows_gradually")]\n'),
    }


def _variant(answers: dict[str, str], blank_others: bool = False) -> ph.NotebookNode:
    nb = copy.deepcopy(_source())
    release = {ph.grade_id(c): c.source for c in ph.read_nb(ph.LABS / LAB / f"{LAB}.ipynb").cells}
    for cell in nb.cells:
        gid = ph.grade_id(cell)
        if gid in answers:
            cell.source = answers[gid].strip("\n")
        elif blank_others and ph.is_answer(cell):
            cell.source = release[gid]
    return nb


def _points() -> dict[str, float]:
    return {ph.grade_id(c): float(c.metadata["nbgrader"]["points"])
            for c in _source().cells if ph.is_test(c) and c.cell_type == "code"}


# -- grading ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return lab_workdir(tmp_path_factory, LAB)


def test_the_choices_are_alike_and_the_right_one_stands_out_by_nothing() -> None:
    choices = _choices()
    assert sorted(choices) == list("abcd")
    chars = {letter: len(text) for letter, text in choices.items()}
    words = {letter: len(_words(text)) for letter, text in choices.items()}
    assert max(chars.values()) <= 1.15 * min(chars.values()), f"options of unlike length: {chars}"
    for measure in (chars, words):
        ranked = sorted(measure, key=measure.get)
        assert ranked[0] != RIGHT_CHOICE and ranked[-1] != RIGHT_CHOICE, (
            f"the right option is the shortest or the longest: {measure}")
    assert _echoes_the_text_most() != RIGHT_CHOICE, "the right option is the one that echoes the lab's text most"


def test_right_in_another_style_gets_full_marks(workdir: Path) -> None:
    verdicts = judged(_variant(ANOTHER_STYLE), workdir)
    assert set(verdicts) == set(_points())
    lost = {gid: message for gid, (passed, message) in verdicts.items() if not passed}
    assert not lost, f"right answers written another way lost points: {lost}"


def test_each_plausible_mistake_loses_its_points(workdir: Path) -> None:
    nb = _source()
    sources = {ph.grade_id(c): c.source for c in nb.cells if ph.grade_id(c)}
    kernel = KernelTransport(cwd=str(workdir))
    try:
        judge = Judge(kernel, [sources["setup"]])
        for cell in nb.cells:  # the solved lab, answer and locked cells only
            if cell.cell_type == "code" and not ph.is_test(cell):
                failed, outputs = kernel.execute(cell.source)
                assert not failed, f"the solution's cell {ph.grade_id(cell)!r} failed: {outputs}"
        kept = []
        for answer_cell, what, wrong, must_fail in MISTAKES:
            failed, outputs = kernel.execute(wrong)
            assert not failed, f"the mistake {what!r} does not even run: {outputs}"
            for test_cell in must_fail:
                verdict = judge.run_test_cell(sources[test_cell])
                if verdict.passed:
                    kept.append(f"{answer_cell} ({what}) keeps {test_cell}")
                assert verdict.grader_error is None, f"{what}: grading error {verdict.grader_error}"
            failed, outputs = kernel.execute(sources[answer_cell])  # back to the solution
            assert not failed, outputs
    finally:
        kernel.close()
    assert not kept, "plausible mistakes keep their points:\n" + "\n".join(kept)


def test_answers_copied_from_the_text_earn_nothing_but_a_real_plan(workdir: Path) -> None:
    copied = _copied_from_the_text()
    text = _markdown_text()
    for number in ("6.8%", "23 h 40 min", "150 and 190", "18:40", "1.5%"):
        assert number in text, f"the copied answers assume the text says {number!r}"
    verdicts = judged(_variant(copied, blank_others=True), workdir)
    points = _points()
    earned = {gid: points[gid] for gid, (passed, _) in verdicts.items() if passed}
    assert set(earned) <= {"test_plan_low", "test_plan_middle"}, (
        f"answers copied from the lab's text earned points: {sorted(set(earned) - {'test_plan_low', 'test_plan_middle'})}")
    assert not verdicts["test_plan_top"][0], "the plan written in the text must not reach the top band"
    assert sum(earned.values()) <= 2
