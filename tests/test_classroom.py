"""The classroom with nbgrader 0.9.6: its JupyterLab extension, and the exchange flow.

The flow is the one of INSTRUCTORS.md sections 3-7, with nbgrader's filesystem exchange
in a temporary folder: the instructor releases a lab, two students fetch it in their own
home folders, one answers, both submit, the instructor collects, runs ``make grade`` (the
sandboxed, parallel grader) and releases feedback, and each student fetches their own.
The lab is the tiny one of tests/tiny_lab.py (the flow, not the lab, is under test; the
real labs go through nbgrader in tests/test_pipeline.py and the browser test).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import tiny_lab

LAB = tiny_lab.LAB


def _jupyter(*args: str) -> str:
    done = subprocess.run([str(Path(sys.executable).parent / "jupyter"), *args], capture_output=True,
                          text=True, timeout=120, env=tiny_lab.env())
    return re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)


@pytest.mark.slow  # `jupyter labextension list` takes 10-30 s
def test_the_nbgrader_lab_extension_loads_in_this_jupyterlab() -> None:
    listing = _jupyter("labextension", "list")
    assert re.search(r"@jupyter/nbgrader v0\.9\.6 enabled\s+OK", listing), listing
    servers = _jupyter("server", "extension", "list")
    for extension in ("formgrader", "assignment_list", "validate_assignment", "course_list"):
        assert re.search(rf"nbgrader\.server_extensions\.{extension}\s+enabled", servers), servers
    from importlib.metadata import version

    assert version("nbgrader") == "0.9.6" and version("jupyterlab") == "4.4.10"


def _student(home: Path, exchange: Path, *args: str) -> subprocess.CompletedProcess:
    """An nbgrader command run by a student: in their own home folder (where nbgrader keeps
    the student's cache of submissions), without the course config."""
    home.mkdir(parents=True, exist_ok=True)
    return tiny_lab.run(home, [sys.executable, "-m", "nbgrader", *args, "--course=cascade",
                               f"--Exchange.root={exchange}"], timeout=300,
                        HOME=str(home), JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"))


def _answered(fetched: Path) -> None:
    """The student types in every answer, the essay too."""
    nb = nbformat.read(str(fetched), as_version=4)
    nbformat.write(tiny_lab.with_answers(tiny_lab.solved(nb), essay="My essay."), str(fetched))


@pytest.mark.slow
def test_release_fetch_submit_collect_grade_feedback(tmp_path: Path) -> None:
    tiny_lab.require_sandbox()
    course = tiny_lab.make(tmp_path / "w").course
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    instructor = lambda *args: tiny_lab.run(  # noqa: E731
        course, [sys.executable, "-m", "nbgrader", *args, f"--Exchange.root={exchange}"], timeout=600)

    released = instructor("release_assignment", LAB)
    assert released.returncode == 0, released.stderr[-2000:]
    for student in ("ada", "bo"):
        home = tmp_path / "home" / student
        fetched = _student(home, exchange, "fetch_assignment", LAB)
        assert fetched.returncode == 0, fetched.stderr[-2000:]
        notebook = home / LAB / f"{LAB}.ipynb"
        assert notebook.exists(), "fetch_assignment wrote no notebook"
        if student == "ada":
            _answered(notebook)
        submitted = _student(home, exchange, "submit", LAB, f"--student={student}")
        assert submitted.returncode == 0, submitted.stderr[-2000:]

    collected = instructor("collect", LAB)
    assert collected.returncode == 0, collected.stderr[-2000:]
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["ada", "bo"]

    graded = tiny_lab.run(course, [sys.executable, str(course / "grade_class.py"), "grade", LAB,
                                   "--workers", "2", "--course", str(course)], timeout=1200)
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    summary = json.loads((course / "grading" / LAB / "summary.json").read_text())
    rows = {r["student"]: r for r in summary["rows"]}
    assert rows["ada"]["status"] == "graded" and rows["ada"]["score"] == tiny_lab.AUTOGRADED_MAX, (
        f"ada answered everything: full autograded marks (her essay is graded by hand)\n"
        f"{graded.stdout[-3000:]}")
    assert rows["ada"]["needs_manual_grade"] is True
    assert rows["bo"]["status"] == "graded" and rows["bo"]["score"] == 0
    assert rows["ada"]["flags"] == [] and rows["bo"]["flags"] == []

    feedback = instructor("release_feedback", LAB)
    assert feedback.returncode == 0, feedback.stderr[-2000:]
    for student in ("ada", "bo"):
        home = tmp_path / "home" / student
        fetched = _student(home, exchange, "fetch_feedback", LAB, f"--student={student}")
        assert fetched.returncode == 0, fetched.stderr[-2000:]
        pages = list((home / LAB / "feedback").glob(f"*/{LAB}.html"))
        assert len(pages) == 1, f"{student} got no feedback: {fetched.stderr[-1500:]}"
        score = f"{rows[student]['score']:g}"
        assert re.search(rf"Score: {re.escape(score)}(\.0)? / {rows[student]['max_score']:g}",
                         pages[0].read_text()), f"{student}'s feedback does not show their score"
