"""The nbgrader pipeline, end to end, for every lab in solutions/.

For each lab, a throwaway copy of the course generates the assignment, autogrades six
kinds of submission (see :mod:`pipeline_helpers`), generates feedback and collects a
zip file, with the course's own ``nbgrader_config.py``. Grades are read from the
gradebook. The pipeline runs once per lab (a module-scoped fixture); each test checks
one promise of the course: the solution gets full marks, a blank lab gets nothing,
deleted tests come back, an endless loop costs only its own cells, patching the kit
in the kernel earns nothing, feedback keeps the hidden tests secret. (The judge's
defences against each in-kernel trick are tested on a tiny lab in
``test_judge_pipeline.py``.)
"""

from __future__ import annotations

import re

import pytest

import pipeline_helpers as ph

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline(lab_id: str, tmp_path_factory: pytest.TempPathFactory, grading_sandbox) -> ph.PipelineRun:
    run = ph.run_pipeline(lab_id, tmp_path_factory.mktemp(f"pipeline-{lab_id}"))
    print(f"\n{lab_id} pipeline: {run.durations()}")
    return run


def _autograded_ok(run: ph.PipelineRun, student: str, step: str = "autograde") -> None:
    """nbgrader autograded this submission: no error for it, and its graded notebooks exist.

    (One run grades several students; a failure of another one is that test's business.)
    """
    log = run.steps[step]
    failed = f"error processing assignment '{run.lab}' for student '{student}'" in log.stderr
    graded = run.autograded(student)
    assert not failed and set(graded) == set(run.source), (
        f"nbgrader could not autograde the {student!r} submission of {run.lab}:\n{log.tail()}"
    )


def _cell(lab: ph.Lab, gid: str):
    for nb in lab.values():
        for cell in nb.cells:
            if ph.grade_id(cell) == gid:
                return cell
    raise AssertionError(f"no cell with grade_id {gid!r} in the autograded notebook")


def _why(run: ph.PipelineRun, student: str, grades: list[ph.CellGrade]) -> str:
    """Each test cell that lost points, with its error, for a useful failure message."""
    graded = run.autograded(student)
    lines = []
    for g in grades:
        if not g.manual and g.score < g.max_score:
            cell = _cell(graded, g.name)
            lines.append(f"  {g.notebook}/{g.name}: {g.score:g}/{g.max_score:g}  "
                         f"{'; '.join(ph.errors_of(cell)) or ph.text_of(cell)[-300:]}")
    return "\n".join(lines)


def test_generate_assignment_writes_the_release(pipeline: ph.PipelineRun) -> None:
    assert set(pipeline.release) == set(pipeline.source), "a source notebook was not released"
    for name, nb in pipeline.release.items():
        text = "\n".join(cell.source for cell in nb.cells)
        for secret in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME"):
            assert secret not in text, f"{name}: the release still contains {secret!r}"
        assert any(ph.is_test(c) for c in nb.cells), f"{name}: the release has no test cell"
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
            f"{name}: the release kept cell outputs")


def test_solution_gets_full_marks(pipeline: ph.PipelineRun) -> None:
    _autograded_ok(pipeline, "solution")
    grades = pipeline.grades("solution")
    score, maximum = ph.total(grades)
    assert maximum > 0, f"{pipeline.lab} has no autograded points"
    assert score == maximum, (
        f"the solution of {pipeline.lab} autograded to {score:g}/{maximum:g}; cells that lost "
        f"points:\n{_why(pipeline, 'solution', grades)}")
    for g in grades:
        if g.manual:
            assert g.needs_manual_grade, f"{g.name}: a written answer should wait for a grader"


def test_blank_release_scores_zero(pipeline: ph.PipelineRun) -> None:
    _autograded_ok(pipeline, "blank")
    grades = pipeline.grades("blank")
    passing = [g for g in grades if g.score > 0]
    assert not passing, (
        f"the unmodified release of {pipeline.lab} earned points; these test cells pass "
        f"without any answer:\n{ph.describe(passing)}")
    assert not any(g.needs_manual_grade for g in grades), (
        "an untouched written-answer cell should be scored 0 automatically ('No response')")


def test_partly_solved_gets_partial_marks(pipeline: ph.PipelineRun) -> None:
    _autograded_ok(pipeline, "partial")
    grades = pipeline.grades("partial")
    score, maximum = ph.total(grades)
    solved = pipeline.facts["partial_solved"]
    assert 0 < score < maximum, (
        f"solving only {', '.join(solved)} of {pipeline.lab} scored {score:g}/{maximum:g}; "
        f"expected some but not all points:\n{ph.describe(grades)}")


def test_deleted_test_cells_are_restored_and_graded(pipeline: ph.PipelineRun) -> None:
    _autograded_ok(pipeline, "deleted-tests")
    graded = pipeline.autograded("deleted-tests")
    for name, source_nb in pipeline.source.items():
        expected = [ph.grade_id(c) for c in source_nb.cells if ph.grade_id(c)]
        got = [ph.grade_id(c) for c in graded[name].cells if ph.grade_id(c)]
        assert got == expected, (
            f"{name}: restored cells are missing or out of place.\nsource order:   {expected}\n"
            f"autograded order: {got}")
    cells = [c for nb in graded.values() for c in nb.cells]
    assert any(ph.NOISE_MARKER in ph.text_of(c) for c in cells if not ph.is_test(c)), (
        "the stderr-noise hook did not run in the kernel")
    assert not any(ph.NOISE_MARKER in ph.text_of(c) for c in cells if ph.is_test(c)), (
        "a test cell ran in the kernel: test cells must run in the judge, outside it")
    grades = pipeline.grades("deleted-tests")
    score, maximum = ph.total(grades)
    assert score == maximum, (
        f"restored test cells (with warnings on stderr) scored {score:g}/{maximum:g}; "
        f"cells that lost points:\n{_why(pipeline, 'deleted-tests', grades)}")


def test_endless_loop_is_stopped_and_the_rest_is_graded(pipeline: ph.PipelineRun) -> None:
    _autograded_ok(pipeline, "endless-loop", step="autograde-loop")
    graded = pipeline.autograded("endless-loop")
    loop_cell = _cell(graded, pipeline.facts["loop_cell"])
    assert any("CellTimeoutError" in e for e in ph.errors_of(loop_cell)), (
        f"the looping cell {pipeline.facts['loop_cell']!r} was not stopped by the cell timeout; "
        f"its outputs: {ph.errors_of(loop_cell) or ph.text_of(loop_cell)[-300:]}")
    grades = pipeline.grades("endless-loop")
    score, maximum = ph.total(grades)
    assert 0 < score < maximum, (
        f"with an endless loop in its first answer cell, the otherwise solved {pipeline.lab} "
        f"scored {score:g}/{maximum:g}; the other cells should still earn their points:\n"
        f"{ph.describe(grades)}")


def test_monkeypatched_kit_earns_no_commander_points(pipeline: ph.PipelineRun) -> None:
    _autograded_ok(pipeline, "patched")
    graded = pipeline.autograded("patched")
    for gid in pipeline.facts["patched_cells"]:
        cell = _cell(graded, gid)
        assert not ph.errors_of(cell), (
            f"the monkeypatching answer cell {gid!r} itself failed, so it tested nothing: "
            f"{ph.errors_of(cell)}")
    commander = set(pipeline.facts["commander_tests"])
    grades = [g for g in pipeline.grades("patched") if g.name in commander]
    cheated = [g for g in grades if g.score > 0]
    assert not cheated, (
        f"a do-nothing plan earned commander points in {pipeline.lab} because its answer cell "
        f"monkeypatched the kernel:\n{ph.describe(cheated)}\n{ph.PATCHES_EXPLAINED}")


def test_every_submission_has_a_graded_status(pipeline: ph.PipelineRun) -> None:
    for student in ("solution", "blank", "partial", "deleted-tests", "patched", "endless-loop"):
        status = ph.grading_status(pipeline, student)
        assert status.get("status") == "graded", f"{student}: {status}"
        for notebook in status["notebooks"].values():
            assert not notebook["grader_errors"], f"{student}: the grader failed: {notebook['grader_errors']}"


def test_feedback_shows_no_hidden_tests_and_no_expected_values(pipeline: ph.PipelineRun) -> None:
    step = pipeline.steps["feedback"]
    assert step.returncode == 0, f"generate_feedback failed:\n{step.tail()}"
    secrets = ph.hidden_test_lines(pipeline.source, pipeline.release)
    assert secrets, f"{pipeline.lab} has no hidden tests to keep secret"
    for student in ("blank", "partial"):
        for name in pipeline.source:
            html = pipeline.course / "feedback" / student / pipeline.lab / f"{name}.html"
            text = ph.html_text(html.read_text(encoding="utf-8"))
            shown = [line for line in secrets if line in text]
            assert not shown, f"{student}'s feedback shows hidden test source: {shown[:3]}"
            for message in re.findall(r"a hidden test failed: [^\n]*|during a hidden test[^\n]*", text):
                without_names = re.sub(r"[A-Za-z_][A-Za-z0-9_]*", "", message)
                assert not re.search(r"\d", without_names), (
                    f"{student}'s feedback gives a number in a hidden test's failure: {message!r}")


def test_feedback_reports_the_score(pipeline: ph.PipelineRun) -> None:
    step = pipeline.steps["feedback"]
    assert step.returncode == 0, f"generate_feedback failed:\n{step.tail()}"
    grades = pipeline.grades("partial")
    for name in pipeline.source:
        html = pipeline.course / "feedback" / "partial" / pipeline.lab / f"{name}.html"
        assert html.is_file(), f"no feedback file {html}:\n{step.tail()}"
        score, maximum = ph.total([g for g in grades if g.notebook == name], autograded_only=False)
        expected = f"Score: {score:.1f} / {maximum:.1f}"
        assert expected in html.read_text(encoding="utf-8"), (
            f"the feedback {html.name} does not say {expected!r}")


def test_zip_collect_files_submissions_by_student(pipeline: ph.PipelineRun) -> None:
    step = ph.zip_collect(pipeline, student="zipper42")
    assert step.returncode == 0, f"zip_collect failed:\n{step.tail()}"
    for name in pipeline.release:
        path = pipeline.course / "submitted" / "zipper42" / pipeline.lab / f"{name}.ipynb"
        assert path.is_file(), (
            f"zip_collect did not file zipper42_{name}.ipynb as {path}:\n{step.tail()}")
