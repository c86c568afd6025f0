"""What happened to each submission of a lab: graded, or not and why; flagged or not.

``make grade`` keeps its working files in ``course/grading/<lab>/``::

    status/<student>.json   the outcome of the last grading of that submission
    screen/<student>.json   the screen's report (screen.py): rules matched, cell, line
    logs/<student>.log      nbgrader's log for that submission
    summary.txt, summary.json, and shards/ (gradebooks of shards graded elsewhere)

A status file holds ``{"graded": bool, "reason": str | null, ...}`` (plus timings).
Other grading steps may write a status file of their own per submission: list its path
pattern in :data:`STATUS_FILES`; a submission is graded only if every file that exists
says so, and the reasons of those that do not are joined. The summary and the CSV export
(grade_export.py) read submissions only through :func:`outcome`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: per-submission status files, relative to course/, with {lab} and {student}
STATUS_FILES = (
    "grading/{lab}/status/{student}.json",        # make grade's worker (see write_status)
    "autograded/{student}/{lab}.cascade-grading.json",   # the judge's (cascade_status.py)
)
SCREEN_FILE = "grading/{lab}/screen/{student}.json"
LOG_FILE = "grading/{lab}/logs/{student}.log"


def workspace(course: Path, lab: str) -> Path:
    """``course/grading/<lab>``: make grade's files for one lab."""
    return Path(course) / "grading" / lab


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a reader never sees half a file, even across a crash)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # a broken status file must not pass as "graded"
        return {"graded": False, "reason": f"unreadable status file {path.name}: {exc}"}
    if not isinstance(data, dict):
        return {"graded": False, "reason": f"{path.name} is not an object"}
    if "graded" not in data:  # the judge's file says "status": "graded" | "ungraded"
        data = {**data, "graded": data.get("status") == "graded"}
    return data


def write_status(course: Path, lab: str, student: str, graded: bool, reason: str | None,
                 **details: Any) -> None:
    """Record make grade's outcome for one submission."""
    path = Path(course) / STATUS_FILES[0].format(lab=lab, student=student)
    write_json(path, {"student": student, "lab": lab, "graded": graded, "reason": reason, **details})


@dataclass
class Outcome:
    """One submission as the summary and the export report it."""

    student: str
    #: "graded", "ungraded" (submitted, but no trustworthy score) or "missing"
    status: str
    reason: str | None = None
    #: screen rules matched, as "rule (notebook/cell line n)"; empty: not flagged
    flags: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


def screen_flags(course: Path, lab: str, student: str) -> list[str]:
    """The screen's findings for one submission, one short line each."""
    report = _read_json(Path(course) / SCREEN_FILE.format(lab=lab, student=student))
    if report is None:
        return []
    if "findings" not in report:
        return [f"screen: {report.get('reason', 'no report')}"]
    return [f"{f['rule']} ({f['notebook']}/{f['cell']} line {f['line']})" for f in report["findings"]]


def grader_error_flags(records: list[dict[str, Any]]) -> list[str]:
    """Test cells the judge could not run because of the grader, not the learner (one line
    each): those points need an instructor's look."""
    return [f"grader-error ({notebook}/{error.get('grade_id')}: {error.get('error')})"
            for record in records for notebook, status in (record.get("notebooks") or {}).items()
            for error in status.get("grader_errors") or ()]


def outcome(course: Path, lab: str, student: str) -> Outcome:
    """What is known about ``student``'s submission of ``lab`` (from files on disk)."""
    course = Path(course)
    submitted = (course / "submitted" / student / lab).is_dir()
    autograded = course / "autograded" / student / lab
    records = [r for r in (_read_json(course / p.format(lab=lab, student=student))
                           for p in STATUS_FILES) if r is not None]
    flags = screen_flags(course, lab, student) + grader_error_flags(records)
    details = {k: v for r in records for k, v in r.items() if k not in ("graded", "reason")}
    reasons = list(dict.fromkeys(r.get("reason") or "not graded" for r in records
                                 if not r.get("graded")))
    if reasons:
        return Outcome(student, "ungraded", "; ".join(reasons), flags, details)
    if records or any(autograded.glob("*.ipynb")):
        if not any(autograded.glob("*.ipynb")):
            return Outcome(student, "ungraded", "no autograded notebook", flags, details)
        return Outcome(student, "graded", None, flags, details)
    if submitted:
        return Outcome(student, "ungraded", "submitted, not autograded yet", flags, details)
    return Outcome(student, "missing", "nothing submitted", flags, details)


def submitted_students(course: Path, lab: str) -> list[str]:
    """Students with a folder ``submitted/<student>/<lab>``, sorted."""
    root = Path(course) / "submitted"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / lab).is_dir())
