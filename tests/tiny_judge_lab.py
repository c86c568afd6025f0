"""A tiny lab built in the tests, so the judge's pipeline promises can be checked in seconds.

``lab9-tiny`` has a setup cell, three answers with their test cells (visible checks
and hidden tests; one hidden test compares with a canonical kit run) and a written
answer. :func:`make_tiny_course` writes it into a throwaway copy of the course, with
the course's own ``nbgrader_config.py``, and generates its release.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

import pipeline_helpers as ph

LAB = "lab9-tiny"

#: the canonical run the hidden test of ANSWER compares with
ANSWER_RUN = ("retry-storm", {"horizon_s": 120}, 0)

HIDDEN_DOUBLE = 'grading.check_close("double on other inputs", double(21.5), 43.0, rel=1e-9)'
HIDDEN_ANSWER = ('grading.check_close("ANSWER", ANSWER, grading.run_summary("retry-storm", {"horizon_s": 120}, '
                 'seed=0)["wasted_share"], rel=1e-6)')
HIDDEN_COUNT = 'assert count_up(5) == [0, 1, 2, 3, 4], "count_up is not right for other lengths"'


def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
          points: float | None = None) -> dict:
    m = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
         "solution": solution, "task": False}
    if points is not None:
        m["points"] = points
    return {"nbgrader": m}


def source_notebook() -> NotebookNode:
    code, md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    cells = [
        md("# A tiny lab\n\nDouble a number, read a run, count.", metadata=_meta("intro", locked=True)),
        code("import math\n\nimport simkit\nfrom simkit import grading\nfrom simkit.grading import check",
             metadata=_meta("setup", locked=True)),
        code("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
             metadata=_meta("double", solution=True)),
        code('# Checks double (2 points).\ngrading.check_close("double(2)", double(2), 4, show_expected=True)\n'
             f"### BEGIN HIDDEN TESTS\n{HIDDEN_DOUBLE}\n### END HIDDEN TESTS\nprint(\"double: fine\")",
             metadata=_meta("test_double", grade=True, locked=True, points=2)),
        code('### BEGIN SOLUTION\nANSWER = simkit.run("retry-storm", {"horizon_s": 120}, seed=0).summary["wasted_share"]\n'
             "### END SOLUTION", metadata=_meta("answer", solution=True)),
        code('# Checks ANSWER (1 point).\ngrading.check_between("ANSWER", ANSWER, 0.0, 1.0)\n'
             f"### BEGIN HIDDEN TESTS\n{HIDDEN_ANSWER}\n### END HIDDEN TESTS",
             metadata=_meta("test_answer", grade=True, locked=True, points=1)),
        code("def count_up(n):\n    ### BEGIN SOLUTION\n    return list(range(n))\n    ### END SOLUTION",
             metadata=_meta("count", solution=True)),
        code('# Checks count_up (1 point).\nassert count_up(3) == [0, 1, 2], "count_up(3) should be [0, 1, 2]"\n'
             f"### BEGIN HIDDEN TESTS\n{HIDDEN_COUNT}\n### END HIDDEN TESTS",
             metadata=_meta("test_count", grade=True, locked=True, points=1)),
        md("YOUR ANSWER HERE", metadata=_meta("written", grade=True, solution=True, points=1)),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def make_tiny_course(workdir: Path) -> tuple[Path, NotebookNode, NotebookNode]:
    """A course copy holding only the tiny lab, generated; (course, source, release)."""
    course = ph.make_course_copy(workdir, [])
    folder = workdir / "solutions" / LAB
    folder.mkdir(parents=True)
    source = source_notebook()
    nbformat.write(source, str(folder / f"{LAB}.ipynb"))
    step = ph.run_nbgrader(course, "generate_assignment", LAB, "--force")
    assert step.returncode == 0, step.tail()
    release = ph.read_nb(workdir / "labs" / LAB / f"{LAB}.ipynb")
    return course, source, release


def cell(nb: NotebookNode, grade_id: str) -> NotebookNode:
    return next(c for c in nb.cells if ph.grade_id(c) == grade_id)


def with_answers(nb: NotebookNode, source: NotebookNode, *grade_ids: str) -> NotebookNode:
    """A copy of ``nb`` whose answer cells ``grade_ids`` hold the solution."""
    nb = copy.deepcopy(nb)
    for gid in grade_ids:
        cell(nb, gid).source = cell(source, gid).source
    return nb


def insert_after(nb: NotebookNode, grade_id: str, code: str) -> NotebookNode:
    """A copy of ``nb`` with a new (learner-added) code cell right after cell ``grade_id``."""
    nb = copy.deepcopy(nb)
    index = next(i for i, c in enumerate(nb.cells) if ph.grade_id(c) == grade_id)
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(code))
    return nb


def submit(course: Path, student: str, nb: NotebookNode) -> None:
    ph.write_submission(course, student, LAB, {LAB: nb})
