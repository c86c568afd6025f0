"""Rebuilding a mangled submission on the lab's own cells, and its status file (no nbgrader run).

The whole path through nbgrader is tested on a tiny lab in ``test_judge_pipeline.py``;
here :func:`cascade_rebuild.rebuild` is checked case by case, quickly.
"""

from __future__ import annotations

import copy
import json
import sys

import nbformat
import pytest

import pipeline_helpers as ph
import tiny_judge_lab as tl

sys.path.insert(0, str(ph.COURSE))
from cascade_rebuild import rebuild  # noqa: E402
from cascade_status import diagnose_notebook, start_submission, status_file, update_notebook_status  # noqa: E402


@pytest.fixture()
def lab():
    source = tl.source_notebook()
    answers = {ph.grade_id(c) for c in source.cells if ph.meta(c).get("solution")}
    lab_sources = {ph.grade_id(c): c.source for c in source.cells if ph.grade_id(c) not in answers}
    placeholders = {gid: "YOUR ANSWER HERE" for gid in answers}
    submission = copy.deepcopy(source)
    for c in submission.cells:
        if ph.grade_id(c) == "double":
            c.source = "def double(x):\n    return x + x\n"
    return source, submission, lab_sources, answers, placeholders


def _rebuilt(lab, submission):
    source, _, lab_sources, answers, placeholders = lab
    return rebuild(submission, source, lab_sources, answers, placeholders)


def _ids(nb):
    return [ph.grade_id(c) for c in nb.cells]


def test_an_intact_submission_is_unchanged_in_substance(lab):
    source, submission = lab[0], lab[1]
    rebuilt, repairs = _rebuilt(lab, submission)
    assert repairs == []
    assert _ids(rebuilt) == _ids(source)
    assert tl.cell(rebuilt, "double").source == "def double(x):\n    return x + x\n"
    nbformat.validate(rebuilt)


def test_the_last_copy_of_a_duplicated_answer_is_graded(lab):
    submission = lab[1]
    first = copy.deepcopy(tl.cell(submission, "double"))
    first.source = "def double(x):\n    return 0\n"
    submission.cells.insert(2, first)
    rebuilt, repairs = _rebuilt(lab, submission)
    assert _ids(rebuilt) == _ids(lab[0])
    assert "return x + x" in tl.cell(rebuilt, "double").source
    assert repairs == ["answer cell 'double' appeared 2 times; the last one was graded"]


def test_lab_cells_are_the_labs_whatever_the_submission_did(lab):
    source, submission = lab[0], lab[1]
    tl.cell(submission, "test_double").source = "pass"
    submission.cells.remove(tl.cell(submission, "setup"))
    test = tl.cell(submission, "test_count")
    submission.cells[submission.cells.index(test)] = nbformat.v4.new_markdown_cell("gone", metadata=test.metadata)
    submission.cells.append(copy.deepcopy(tl.cell(submission, "test_answer")))
    rebuilt, repairs = _rebuilt(lab, submission)
    for gid in ("setup", "test_double", "test_count", "test_answer"):
        assert tl.cell(rebuilt, gid).source == tl.cell(source, gid).source
        assert tl.cell(rebuilt, gid).cell_type == "code"
    assert _ids(rebuilt) == _ids(source)
    assert set(repairs) == {"lab cell 'setup' was missing; restored",
                            "lab cell 'test_count' had its cell type changed; restored",
                            "lab cell 'test_answer' appeared 2 times; the lab's copy was used"}


def test_added_and_relabelled_cells_are_kept_ungraded_where_they_were(lab):
    submission = lab[1]
    helper = nbformat.v4.new_code_cell("def helper():\n    return 1\n",
                                       metadata={"nbgrader": {"grade": True, "solution": False,
                                                              "grade_id": "test_fake", "points": 99}})
    index = submission.cells.index(tl.cell(submission, "double"))
    submission.cells.insert(index + 1, helper)
    tl.cell(submission, "count").metadata["nbgrader"]["grade_id"] = "count-copy"
    rebuilt, repairs = _rebuilt(lab, submission)
    graded = [ph.grade_id(c) for c in rebuilt.cells if ph.grade_id(c)]
    assert graded == _ids(lab[0])
    kept = [c for c in rebuilt.cells if not c.metadata.get("nbgrader")]
    assert [c.source.split("\n")[0] for c in kept] == ["def helper():", "def count_up(n):"]
    assert rebuilt.cells.index(kept[0]) == rebuilt.cells.index(tl.cell(rebuilt, "double")) + 1
    assert tl.cell(rebuilt, "count").source == "", "the relabelled answer's own cell is empty"
    assert "2 cell(s) carried a grade id the lab does not have; kept as ungraded cells" in repairs


def test_missing_answers_are_empty_and_written_answers_keep_their_placeholder(lab):
    submission = lab[1]
    submission.cells.remove(tl.cell(submission, "count"))
    submission.cells.remove(tl.cell(submission, "written"))
    rebuilt, repairs = _rebuilt(lab, submission)
    assert tl.cell(rebuilt, "count").source == ""
    assert tl.cell(rebuilt, "written").source == "YOUR ANSWER HERE"
    assert "answer cell 'count' was missing; graded as empty" in repairs


def test_cell_ids_are_made_unique(lab):
    submission = lab[1]
    for c in submission.cells:
        c["id"] = "same"
    rebuilt, _ = _rebuilt(lab, submission)
    ids = [c["id"] for c in rebuilt.cells]
    assert len(set(ids)) == len(ids)
    nbformat.validate(rebuilt)


def test_an_unreadable_notebook_is_diagnosed(tmp_path):
    bad = tmp_path / "submitted" / "ann" / "lab9-tiny" / "lab9-tiny.ipynb"
    bad.parent.mkdir(parents=True)
    bad.write_text("{not json", encoding="utf-8")
    assert "not valid JSON" in diagnose_notebook(bad)
    good = tmp_path / "good.ipynb"
    nbformat.write(tl.source_notebook(), str(good))
    assert diagnose_notebook(good) is None
    start_submission(assignment="*", student="*", notebooks=[str(bad)], autograded_dir=tmp_path / "autograded")
    status = json.loads(status_file(tmp_path / "autograded", "ann", "lab9-tiny").read_text())
    assert status["status"] == "ungraded" and "not valid JSON" in status["reason"]
    update_notebook_status(status_file(tmp_path / "autograded", "ann", "lab9-tiny"), "ann", "lab9-tiny",
                           "lab9-tiny", status="graded", reason=None)
    status = json.loads(status_file(tmp_path / "autograded", "ann", "lab9-tiny").read_text())
    assert status["status"] == "graded" and status["reason"] is None
