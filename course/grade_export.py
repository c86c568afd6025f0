"""``nbgrader export`` for the course: a CSV in which "not graded" is not a zero.

nbgrader's own CSV gives a submission it could not grade the same 0 as a blank lab. This
exporter (``c.ExportApp.plugin_class`` in nbgrader_config.py; ``make grades`` runs it)
writes nbgrader's columns plus:

* ``status``: ``graded``, ``ungraded`` (submitted, but no trustworthy score: the
  score columns are left empty) or ``missing`` (nothing submitted: score 0);
* ``reason``: why a submission is ungraded or missing;
* ``needs_manual_grade``: written answers still to grade in the formgrader;
* ``flagged``: what the answer-cell screen found, for a human to read.

Students who submitted but were never autograded (so are not in the gradebook) are listed
too, as ungraded.
"""

from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

from grading_status import outcome, submitted_students

COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
           "email", "raw_score", "late_submission_penalty", "score", "max_score",
           "status", "reason", "needs_manual_grade", "flagged"]


def rows(gradebook: Gradebook, course: Path, assignments: list[str] | None = None,
         students: list[str] | None = None) -> list[dict]:
    """One row per (lab, student) known to the gradebook or found in submitted/."""
    found = []
    for assignment in gradebook.assignments:
        lab = assignment.name
        if assignments and lab not in assignments:
            continue
        known = {s.id: s for s in gradebook.students}
        for student_id in sorted(set(known) | set(submitted_students(course, lab))):
            if students and student_id not in students:
                continue
            student = known.get(student_id)
            row = {"assignment": lab, "duedate": assignment.duedate or "", "student_id": student_id,
                   "last_name": getattr(student, "last_name", None) or "",
                   "first_name": getattr(student, "first_name", None) or "",
                   "email": getattr(student, "email", None) or "",
                   "max_score": assignment.max_score}
            o = outcome(course, lab, student_id)
            try:
                submission = gradebook.find_submission(lab, student_id) if student else None
            except MissingEntry:
                submission = None
            if submission is None and o.status == "missing":
                row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
            elif submission is not None and o.status == "graded":
                penalty = submission.late_submission_penalty or 0.0
                row.update(timestamp=submission.timestamp or "", raw_score=submission.score,
                           late_submission_penalty=penalty,
                           score=max(0.0, submission.score - penalty),
                           needs_manual_grade=bool(submission.needs_manual_grade))
            else:  # submitted but without a score to trust: leave the score empty, say why
                o.status = "ungraded"
                o.reason = o.reason or "no graded submission in the gradebook"
                row.update(timestamp=getattr(submission, "timestamp", "") or "",
                           raw_score="", late_submission_penalty="", score="")
            row.update(status=o.status, reason=o.reason or "", flagged="; ".join(o.flags))
            found.append(row)
    return found


class CascadeCsvExport(ExportPlugin):
    """nbgrader's CSV export, with each submission's status, reason and screen findings."""

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or "grades.csv"
        course = Path(self.parent.coursedir.root)
        found = rows(gradebook, course, [str(a) for a in self.assignment] or None,
                     [str(s) for s in self.student] or None)
        self.log.info("Exporting %d rows to %s", len(found), dest)
        with open(dest, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS, restval="")
            writer.writeheader()
            writer.writerows(found)
