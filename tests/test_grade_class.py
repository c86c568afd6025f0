"""``make grade`` (course/grade_class.py) on a handful of submissions of the tiny lab.

Two workers grade a full, a blank, a flagged, a broken and a hanging submission: the
hanging one is stopped at the per-submission limit and reported, the broken one is
reported with its reason, neither holds up the others, feedback is written for the graded
ones, the summary says all of it, and the CSV export reports ungraded submissions as
ungraded rather than 0. Sharding grades the class in two halves that merge into the same
gradebook. The pure parts (shards, reasons, progress) are tested without nbgrader.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest

import tiny_lab

sys.path.insert(0, str(tiny_lab.COURSE))
import grade_class  # noqa: E402
from grade_worker import reason_from_log  # noqa: E402
from progress import Progress  # noqa: E402

SCRIPT = tiny_lab.COURSE / "grade_class.py"
HANG = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"
LIMIT_S = 30


def test_shards_split_the_class_the_same_way_everywhere() -> None:
    students = [f"s{i:02d}" for i in range(7)]
    shards = [grade_class.shard_of(list(reversed(students)), i, 3) for i in (1, 2, 3)]
    assert sorted(sum(shards, [])) == students and shards[0] == ["s00", "s03", "s06"]
    assert grade_class.parse_shard("2/3") == (2, 3) and grade_class.parse_shard(None) == (1, 1)
    for bad in ("3/2", "0/2", "two/3"):
        with pytest.raises(SystemExit):
            grade_class.parse_shard(bad)


def test_reasons_are_one_readable_line() -> None:
    assert "kernel died" in reason_from_log("[ERROR] ...\nnbclient.exceptions.DeadKernelError: Kernel died")
    assert reason_from_log("[WARNING] Attribute 'x' already exists\n[ERROR] KeyError: 'cells'") == (
        "nbgrader could not grade it: KeyError: 'cells'")
    traceback = ("[ERROR] There was an error processing assignment: x\n[ERROR] Traceback ...\n"
                 "    KeyError: 'grade_id'\n[ERROR] Please see the the above traceback\n"
                 "nbgrader.converters.base.NbGraderException: Please see the above traceback\n")
    assert reason_from_log(traceback) == "nbgrader could not grade it: KeyError: 'grade_id'"
    assert "not a readable notebook" in reason_from_log("NotJSONError: Notebook does not appear to be JSON")


def test_the_progress_line_counts_and_estimates() -> None:
    out = io.StringIO()
    progress = Progress(4, "grading tiny", stream=out)
    progress.update(Counter(graded=1, ungraded=1, flagged=1))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("grading tiny [0/4] ....")
    assert "[2/4] ############............  50%  graded 1, ungraded 1, flagged 1" in lines[1]
    assert "left" in lines[1]


def _grade(tiny: tiny_lab.TinyCourse, *args: str):
    done = tiny_lab.run(tiny.course, [sys.executable, str(SCRIPT), "grade", "tiny", "--course",
                                      str(tiny.course), *args], timeout=900)
    assert done.returncode == 0, f"make grade failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _class(tiny: tiny_lab.TinyCourse) -> None:
    release = tiny.release
    tiny.submit("alice", tiny_lab.with_answers(tiny_lab.solved(release), essay="My essay."))
    tiny.submit("bob", release)
    tiny.submit("carol", tiny_lab.with_answers(tiny_lab.solved(release), double=HANG))
    broken = tiny.submit("dave", release)
    broken.write_text('{"cells": [')
    tiny.submit("erin", tiny_lab.with_answers(
        tiny_lab.solved(release), double="exec('def double(x):\\n    return x + x')"))


@pytest.mark.slow
def test_make_grade_grades_a_class_in_parallel_and_reports_every_submission(tmp_path: Path) -> None:
    tiny_lab.require_sandbox()
    tiny = tiny_lab.make(tmp_path / "w")
    _class(tiny)
    done = _grade(tiny, "--workers", "2", "--timeout", str(LIMIT_S))
    course = tiny.course
    summary = json.loads((course / "grading" / "tiny" / "summary.json").read_text())
    rows = {r["student"]: r for r in summary["rows"]}
    why = f"\n{done.stdout[-3000:]}"
    assert (summary["submissions"], summary["graded"], summary["ungraded"], summary["flagged"]) == (
        5, 3, 2, 3), why
    assert summary["workers"] == 2
    assert rows["alice"]["status"] == "graded" and rows["alice"]["score"] == 4, why
    assert rows["alice"]["needs_manual_grade"] is True  # her essay is graded by hand
    assert rows["bob"]["status"] == "graded" and rows["bob"]["score"] == 0, why
    assert rows["erin"]["status"] == "graded" and rows["erin"]["score"] == 4, why
    assert rows["erin"]["flags"][0].startswith("dynamic-code (tiny/double line 1)")
    assert rows["carol"]["status"] == "ungraded" and f"stopped after {LIMIT_S} s" in rows["carol"]["reason"]
    assert rows["carol"]["flags"][0].startswith("process-signal-network (tiny/double line 1)")
    assert rows["dave"]["status"] == "ungraded" and "not a readable notebook" in rows["dave"]["reason"]
    assert rows["dave"]["flags"] == ["unreadable-notebook (tiny/- line 0)"]
    text = (course / "grading" / "tiny" / "summary.txt").read_text()
    assert text.startswith("tiny: 5 submission(s): 3 graded, 2 ungraded, 3 flagged for review")
    assert re.search(r"^alice +graded +4/5\+ +-$", text, re.M), text
    assert re.search(r"^carol +ungraded +- +stopped after", text, re.M), text
    assert text in done.stdout
    for student in ("alice", "bob", "erin"):
        assert (course / "feedback" / student / "tiny" / "tiny.html").exists(), f"no feedback for {student}"
        assert tiny.autograded_score(student) == rows[student]["score"]
    assert not (course / "feedback" / "carol").exists()
    assert (course / "grading" / "tiny" / "logs" / "dave.log").read_text().strip()
    assert not list(Path(tempfile.gettempdir()).glob("cascade-grade-tiny-*")), "worker gradebooks left behind"

    export = tiny.nbgrader("export", "--to=grades.csv")
    assert export.returncode == 0, export.stderr[-2000:]
    exported = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert set(exported) == {"alice", "bob", "carol", "dave", "erin"}
    assert (exported["alice"]["status"], float(exported["alice"]["score"])) == ("graded", 4.0)
    assert (exported["bob"]["status"], float(exported["bob"]["score"])) == ("graded", 0.0)
    for student in ("carol", "dave"):
        assert exported[student]["status"] == "ungraded" and exported[student]["score"] == ""
        assert exported[student]["reason"]
    assert exported["erin"]["flagged"].startswith("dynamic-code")


@pytest.mark.slow
def test_shards_graded_apart_merge_into_one_gradebook(tmp_path: Path) -> None:
    tiny_lab.require_sandbox()
    tiny = tiny_lab.make(tmp_path / "w")
    release = tiny.release
    for student, nb in (("ann", tiny_lab.solved(release)), ("ben", tiny_lab.solved(release, "triple")),
                        ("cat", release), ("dan", tiny_lab.solved(release))):
        tiny.submit(student, nb)
    for shard in ("1/2", "2/2"):
        _grade(tiny, "--workers", "1", "--shard", shard, "--skip-sandbox-check")
    ws = tiny.course / "grading" / "tiny"
    assert [p.name for p in sorted((ws / "shards").glob("*.db"))] == ["shard-1-of-2.db", "shard-2-of-2.db"]
    halves = [json.loads((ws / f"summary-shard-{i}-of-2.json").read_text()) for i in (1, 2)]
    assert [[r["student"] for r in h["rows"]] for h in halves] == [["ann", "cat"], ["ben", "dan"]]
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{tiny.course / 'gradebook.db'}", "cascade") as gb:
        with pytest.raises(MissingEntry):
            gb.find_submission("tiny", "ann")  # shards never write the course gradebook
    merged = tiny_lab.run(tiny.course, [sys.executable, str(SCRIPT), "merge", "tiny", "--course",
                                        str(tiny.course)], timeout=300)
    assert merged.returncode == 0, merged.stderr[-3000:]
    assert {s: tiny.autograded_score(s) for s in ("ann", "ben", "cat", "dan")} == {
        "ann": 4, "ben": 2, "cat": 0, "dan": 4}
    summary = json.loads((tiny.course / "grading" / "tiny" / "summary.json").read_text())
    assert (summary["submissions"], summary["graded"]) == (4, 4)
