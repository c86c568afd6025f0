"""Copy autograded submissions from one nbgrader gradebook into another.

nbgrader's gradebook is one SQLite file, and SQLite lets one process write at a time.
``make grade`` therefore gives each parallel worker its own copy of the course's
gradebook and merges the copies at the end; a shard graded on another machine is merged
the same way. Everything is matched by *name* (lab, notebook, cell, student), not by
database id, so a shard's gradebook only needs the same lab, not the same file.

The merge writes only what autograding produces (automatic scores and comments, whether a
cell needs manual grading, the submission's time stamp): a manual score or comment already
in the target is never overwritten, so teaching assistants' work in the formgrader is safe.
"""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

COURSE_ID = "cascade"

__all__ = ["snapshot", "merge_submissions", "LabMismatch", "db_url"]


class LabMismatch(RuntimeError):
    """The two gradebooks hold different versions of the lab (cells added or removed)."""


def db_url(path: Path, timeout_s: int = 120) -> str:
    """A SQLAlchemy URL for ``path`` that waits up to ``timeout_s`` for a lock."""
    return f"sqlite:///{Path(path).resolve()}?timeout={timeout_s}"


def snapshot(source: Path, target: Path) -> None:
    """Copy the gradebook ``source`` to ``target`` consistently (SQLite's backup API),
    even while another process reads or writes it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=120) as src, \
            sqlite3.connect(target) as dst:
        src.backup(dst)


def _cells(gradebook: Gradebook, lab: str) -> set[tuple[str, str]]:
    assignment = gradebook.find_assignment(lab)
    return {(nb.name, cell.name) for nb in assignment.notebooks
            for cell in [*nb.grade_cells, *nb.solution_cells, *nb.task_cells]}


def _copy_submission(src: Gradebook, dst: Gradebook, lab: str, student_id: str) -> None:
    submission = src.find_submission(lab, student_id)
    student = submission.student
    try:
        dst.find_student(student_id)
    except MissingEntry:
        dst.add_student(student_id, first_name=student.first_name, last_name=student.last_name,
                        email=student.email, lms_user_id=student.lms_user_id)
    target = dst.update_or_create_submission(lab, student_id, timestamp=submission.timestamp)
    target.extension = submission.extension
    for notebook in submission.notebooks:
        target_nb = dst.find_submission_notebook(notebook.name, lab, student_id)
        target_nb.flagged = notebook.flagged or target_nb.flagged
        target_nb.late_submission_penalty = notebook.late_submission_penalty
        for grade in notebook.grades:
            into = dst.find_grade(grade.name, notebook.name, lab, student_id)
            into.auto_score = grade.auto_score
            into.needs_manual_grade = grade.needs_manual_grade or into.manual_score is not None
            if into.manual_score is None and grade.manual_score is not None:
                into.manual_score = grade.manual_score
            if into.extra_credit is None and grade.extra_credit is not None:
                into.extra_credit = grade.extra_credit
        for comment in notebook.comments:
            into = dst.find_comment(comment.name, notebook.name, lab, student_id)
            into.auto_comment = comment.auto_comment
            if into.manual_comment is None and comment.manual_comment is not None:
                into.manual_comment = comment.manual_comment
    dst.db.commit()


def merge_submissions(source: Path, target: Path, lab: str,
                      students: list[str] | None = None) -> list[str]:
    """Copy the ``lab`` submissions of ``students`` (default: all) from the gradebook file
    ``source`` into ``target``; return the students copied."""
    copied = []
    with Gradebook(db_url(source), COURSE_ID) as src, Gradebook(db_url(target), COURSE_ID) as dst:
        try:
            theirs, ours = _cells(src, lab), _cells(dst, lab)
        except MissingEntry:
            raise LabMismatch(f"{lab} is not in both {source} and {target}: run "
                              "`make labs` (nbgrader generate_assignment) first") from None
        if theirs != ours:
            raise LabMismatch(
                f"{source} and {target} hold different versions of {lab} (cells only in one: "
                f"{sorted(theirs ^ ours)[:5]}); grade every shard from a copy of the same gradebook")
        available = {s.student.id for s in src.assignment_submissions(lab)}
        for student_id in sorted(available if students is None else set(students) & available):
            with warnings.catch_warnings():
                # nbgrader's add_submission triggers SQLAlchemy autoflush notices about
                # objects it has not added yet; nbgrader's own autograde prints them too
                warnings.simplefilter("ignore", category=SAWarning)
                _copy_submission(src, dst, lab, student_id)
            copied.append(student_id)
    return copied
