"""The judge inside the real nbgrader pipeline, on a tiny lab: tricks, mangled notebooks, feedback.

One throwaway course holds ``lab9-tiny`` (:mod:`tiny_judge_lab`). Honest students are graded
alone first, then again in one ``nbgrader autograde`` run together with submissions
that try every in-kernel trick; then mangled notebooks; then feedback. Each trick
submission is an honest *partial* submission (``double`` solved: 2 points) plus the
trick, so "the trick earned nothing" means: no more than 2 points, and the honest
students' scores do not move.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat
import pytest

import pipeline_helpers as ph
import tiny_judge_lab as tl

pytestmark = pytest.mark.slow

#: short limits, so the looping submissions cost seconds
FAST_LIMITS = ("--Execute.timeout=5", "--ExecutePreprocessor.timeout=5", "--Execute.iopub_timeout=2",
               "--JudgedExecute.interrupt_grace_s=2")

PARTIAL_POINTS = 2.0
FULL_POINTS = 4.0  # autograded points of the tiny lab (the written answer is graded by hand)

TRICKS = {
    # blank every later cell that mentions the grader (test cells in the old days; probes now)
    "input-transformer": (
        "get_ipython().input_transformers_post.append(\n"
        "    lambda lines: [] if any('grading' in line or 'check' in line for line in lines) else lines)\n"),
    # swallow every error, so a failing test cell would look passed
    "exception-handler": (
        "get_ipython().set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)\n"),
    # hand test cells a do-nothing grader when they look it up
    "find-spec": (
        "import importlib.util, importlib.machinery, types\n"
        "class _Fake:\n"
        "    def create_module(self, spec): return types.ModuleType(spec.name)\n"
        "    def exec_module(self, module): module.__getattr__ = lambda name: (lambda *a, **k: None)\n"
        "importlib.util.find_spec = lambda name, package=None: importlib.machinery.ModuleSpec(name, _Fake())\n"),
    # patch the grader and the kit in the kernel
    "patch-kit": (
        "import simkit, simkit.grading, simkit.grading.values as _v, simkit.grading.canonical as _c\n"
        "for _m in (simkit.grading, _v):\n"
        "    for _n in ('check_close', 'check_between', 'check_equal', 'check_type', 'check_number'):\n"
        "        setattr(_m, _n, lambda *a, **k: None)\n"
        "_c.run_summary = simkit.grading.run_summary = lambda *a, **k: {'wasted_share': 0.5}\n"
        "grading = simkit.grading\n"
        "ANSWER = 0.5\n"),
    # print far more than anyone can read
    "huge-output": "for _ in range(150):\n    print('x' * 1_000_000)\n",
    # kill the kernel
    "os-exit": "import os\nos._exit(0)\n",
    # a loop that ignores the interrupt
    "sigint-loop": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n",
    # a loop that swallows KeyboardInterrupt
    "catching-loop": ("while True:\n    try:\n        while True:\n            pass\n"
                      "    except KeyboardInterrupt:\n        pass\n"),
}
#: tricks after which the rest of the notebook must still score exactly what it earns
STILL_GRADED = {"huge-output", "os-exit", "sigint-loop", "catching-loop"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory, grading_sandbox):
    workdir = tmp_path_factory.mktemp("tiny-course")
    course, source, release = tl.make_tiny_course(workdir)
    return course, source, release


def _autograde(course: Path, *students: str) -> ph.Step:
    args = ["autograde", tl.LAB, "--force", *FAST_LIMITS]
    if len(students) == 1:
        args.append(f"--student={students[0]}")
    return ph.run_nbgrader(course, *args)


def _score(course: Path, student: str) -> float:
    return ph.total(ph.read_grades(course, tl.LAB, student))[0]


def _status(course: Path, student: str) -> dict:
    path = course / "autograded" / student / f"{tl.LAB}.cascade-grading.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def graded(tiny):
    """Honest students graded alone, then everyone (tricks included) in one run."""
    course, source, release = tiny
    partial = tl.with_answers(release, source, "double")
    tl.submit(course, "z-honest-full", tl.with_answers(release, source, "double", "answer", "count"))
    tl.submit(course, "z-honest-partial", partial)
    alone = {}
    for student in ("z-honest-full", "z-honest-partial"):
        step = _autograde(course, student)
        assert step.returncode == 0, step.tail()
        alone[student] = _score(course, student)
    for name, code in TRICKS.items():
        tl.submit(course, f"a-{name}", tl.insert_after(partial, "double", code))
    # the learner's function itself hangs when the judge calls it on a hidden input
    hang = copy.deepcopy(partial)
    tl.cell(hang, "double").source = (
        "import signal\n\ndef double(x):\n    if x == 2:\n        return 4\n"
        "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        pass\n")
    tl.submit(course, "a-hanging-function", hang)
    step = _autograde(course)
    assert step.returncode == 0, step.tail()
    return course, alone, step


@pytest.mark.parametrize("trick", sorted(TRICKS) + ["hanging-function"])
def test_a_trick_in_the_kernel_earns_nothing(graded, trick):
    course, _, step = graded
    student = f"a-{trick}"
    status = _status(course, student)
    assert status["status"] == "graded", f"{trick}: not graded: {status}\n{step.tail()}"
    score = _score(course, student)
    expected_max = PARTIAL_POINTS if trick != "hanging-function" else 1.0  # its double fails hidden tests
    assert score <= expected_max, f"the {trick} trick raised the score to {score:g}:\n{status}"
    if trick in STILL_GRADED:
        assert score == PARTIAL_POINTS, (
            f"after the {trick} cell the rest of the notebook should still score {PARTIAL_POINTS:g}, "
            f"got {score:g}:\n{json.dumps(status, indent=1)[:3000]}")


def test_other_students_in_the_same_run_are_unaffected(graded):
    course, alone, _ = graded
    for student, score in alone.items():
        assert _score(course, student) == score, f"{student} scored {score:g} alone but not in the mixed run"
    assert alone == {"z-honest-full": FULL_POINTS, "z-honest-partial": PARTIAL_POINTS}


def test_a_cell_that_will_not_stop_costs_only_itself(graded):
    course, _, _ = graded
    for trick in ("sigint-loop", "catching-loop", "os-exit"):
        notebook = _status(course, f"a-{trick}")["notebooks"][tl.LAB]
        assert notebook["kernel_restarts"] >= 1 and notebook["cells_stopped"], notebook
    nb = ph.read_nb(course / "autograded" / "a-sigint-loop" / tl.LAB / f"{tl.LAB}.ipynb")
    stopped = [c for c in nb.cells if any(o.get("ename") == "CellStopped" for o in c.get("outputs", []))]
    assert len(stopped) == 1 and "while True" in stopped[0].source


def test_huge_output_is_cut(graded):
    course, _, _ = graded
    path = course / "autograded" / "a-huge-output" / tl.LAB / f"{tl.LAB}.ipynb"
    assert path.stat().st_size < 5_000_000, f"the autograded notebook is {path.stat().st_size} bytes"
    assert "output cut" in path.read_text(encoding="utf-8")


# -- mangled notebooks ----------------------------------------------------------------------

def _mangled(source: nbformat.NotebookNode, release: nbformat.NotebookNode) -> dict[str, tuple]:
    """student -> (notebook, expected autograded points, a repair the status must mention)."""
    solved = tl.with_answers(release, source, "double", "answer", "count")
    out = {}

    nb = copy.deepcopy(solved)
    index = nb.cells.index(tl.cell(nb, "double"))
    nb.cells.insert(index + 1, copy.deepcopy(nb.cells[index]))
    out["m-pasted-twice"] = (nb, FULL_POINTS, "appeared 2 times")

    nb = copy.deepcopy(solved)
    index = nb.cells.index(tl.cell(nb, "double"))
    wrong = copy.deepcopy(nb.cells[index])
    wrong.source = "def double(x):\n    return 3 * x\n"
    nb.cells.insert(index, wrong)  # a wrong first copy, the right one last: the last is graded
    out["m-last-copy-wins"] = (nb, FULL_POINTS, "the last one was graded")

    nb = copy.deepcopy(solved)
    for i, c in enumerate(nb.cells):
        c["id"] = f"renamed-{i % 3}"  # renamed, and several cells now share an id
    out["m-renamed-ids"] = (nb, FULL_POINTS, None)

    nb = copy.deepcopy(solved)
    tl.cell(nb, "double").metadata["nbgrader"]["grade_id"] = "my-double"  # relabelled: unknown id
    out["m-relabelled"] = (nb, FULL_POINTS, "grade id the lab does not have")

    nb = copy.deepcopy(solved)
    test = tl.cell(nb, "test_count")
    nb.cells[nb.cells.index(test)] = nbformat.v4.new_markdown_cell(test.source, metadata=test.metadata)
    nb.cells.remove(tl.cell(nb, "setup"))
    answer = tl.cell(nb, "count")
    answer.metadata["nbgrader"].update(locked=True, solution=False)
    answer.metadata["tags"] = ["skip-execution"]
    out["m-retyped-and-deleted"] = (nb, FULL_POINTS, "lab cell 'setup' was missing")

    nb = copy.deepcopy(solved)
    test = tl.cell(nb, "test_double")
    nb.cells.remove(test)
    nb.cells.insert(0, test)  # a test cell moved above its answer
    edited = tl.cell(nb, "test_answer")
    edited.source = "pass"
    nb.cells.append(copy.deepcopy(tl.cell(nb, "test_count")))
    out["m-moved-edited-pasted-tests"] = (nb, FULL_POINTS, "appeared 2 times")

    nb = copy.deepcopy(solved)
    nb.cells.remove(tl.cell(nb, "count"))
    out["m-answer-deleted"] = (nb, FULL_POINTS - 1, "answer cell 'count' was missing")
    return out


@pytest.fixture(scope="module")
def mangled(tiny):
    course, source, release = tiny
    cases = _mangled(source, release)
    for student, (nb, _, _) in cases.items():
        tl.submit(course, student, nb)
    broken = course / "submitted" / "m-not-json" / tl.LAB
    broken.mkdir(parents=True)
    (broken / f"{tl.LAB}.ipynb").write_text('{"cells": [', encoding="utf-8")
    step = ph.run_nbgrader(course, "autograde", tl.LAB, "--force", "--student=m-*", *FAST_LIMITS)
    return course, cases, step


@pytest.mark.parametrize("student", ["m-pasted-twice", "m-last-copy-wins", "m-renamed-ids", "m-relabelled",
                                     "m-retyped-and-deleted", "m-moved-edited-pasted-tests", "m-answer-deleted"])
def test_mangled_notebooks_are_graded_from_the_labs_cells(mangled, student):
    course, cases, step = mangled
    _, points, repair = cases[student]
    status = _status(course, student)
    assert status["status"] == "graded", f"{student}: {status}\n{step.tail()}"
    grades = ph.read_grades(course, tl.LAB, student)
    assert ph.total(grades)[0] == points, f"{student}:\n{ph.describe(grades)}\n{json.dumps(status, indent=1)}"
    repairs = status["notebooks"][tl.LAB]["repairs"]
    if repair:
        assert any(repair in line for line in repairs), repairs
    graded = ph.read_nb(course / "autograded" / student / tl.LAB / f"{tl.LAB}.ipynb")
    order = [ph.grade_id(c) for c in graded.cells if ph.grade_id(c)]
    assert order == [ph.grade_id(c) for c in tl.source_notebook().cells], order


def test_an_ungradable_submission_says_why(mangled):
    course, _, _ = mangled
    status = _status(course, "m-not-json")
    assert status["status"] == "ungraded"
    assert "not valid JSON" in status["reason"], status


# -- feedback -------------------------------------------------------------------------------

def test_feedback_hides_hidden_tests_and_expected_values(tiny):
    import simkit

    course, source, release = tiny
    wrong = tl.with_answers(release, source, "count")
    tl.cell(wrong, "double").source = "def double(x):\n    return 4 if x == 2 else x\n"
    tl.cell(wrong, "answer").source = "ANSWER = 0.5\n"
    # a learner's function that records the hidden inputs, and a later cell that prints them
    tl.cell(wrong, "count").source = (
        "SEEN = []\ndef count_up(n):\n    SEEN.append(n)\n    return list(range(n)) if n == 3 else []\n")
    wrong = tl.insert_after(wrong, "test_count", "print('inputs the judge sent:', SEEN)\n")
    tl.submit(course, "f-wrong", wrong)
    step = _autograde(course, "f-wrong")
    assert step.returncode == 0, step.tail()
    assert _score(course, "f-wrong") == 0
    step = ph.run_nbgrader(course, "generate_feedback", tl.LAB, "--force", "--student=f-wrong")
    assert step.returncode == 0, step.tail()
    autograded = (course / "autograded" / "f-wrong" / tl.LAB / f"{tl.LAB}.ipynb").read_text(encoding="utf-8")
    assert "double(21.5)" in autograded and "[3, 5]" in autograded, "the feedback's input holds the secrets"
    html = (course / "feedback" / "f-wrong" / tl.LAB / f"{tl.LAB}.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", html).replace("&quot;", '"').replace("&#39;", "'")
    for fragment in (tl.HIDDEN_DOUBLE, tl.HIDDEN_ANSWER, tl.HIDDEN_COUNT, "double(21.5)", "run_summary(",
                     "count_up(5)", "BEGIN HIDDEN", "END HIDDEN"):
        assert fragment not in text, f"the feedback shows hidden test source: {fragment!r}"
    expected = simkit.run(tl.ANSWER_RUN[0], tl.ANSWER_RUN[1], seed=tl.ANSWER_RUN[2]).summary["wasted_share"]
    for shown in {f"{expected:.4g}", f"{expected:.3g}", f"{expected:.2%}", f"{expected:.1%}", repr(expected),
                  "21.5", "43.0", "[0, 1, 2, 3, 4]"}:
        assert shown not in text, f"the feedback shows a hidden input or expected value: {shown}"
    assert "[3, 5]" not in text, "outputs of the learner's cells (which saw hidden inputs) must not be in feedback"
    assert "double on other inputs is too low" in text, "the feedback should say which check failed"
    assert "count_up is not right for other lengths" in text
    assert "ANSWER is too high" in text or "ANSWER is too low" in text
