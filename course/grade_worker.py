"""One grading worker of ``make grade``: autogrades submissions, one at a time, in-process.

Started by grade_class.py as ``python course/grade_worker.py LAB DB``, in course/. It
loads nbgrader and the course configuration once, then reads student ids on stdin, one
per line, and for each runs nbgrader's autograde (sandboxed kernel, course config) and,
if that succeeded, generate_feedback, against its *own* gradebook file ``DB`` (a copy of
the course's, merged back by the parent). It answers each id with one JSON line:

    {"student": ..., "autograded": bool, "feedback": bool, "error": str | null,
     "seconds": float}

Its standard output carries only those lines: everything else (nbgrader's log, the
kernels' own output) goes to standard error. nbgrader's log of each submission is
written to ``grading/<lab>/logs/<student>.log``. The parent stops a worker that takes
too long and starts a fresh one, so a hang here costs one submission, not the batch.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

from grading_status import LOG_FILE

__all__ = ["reason_from_log"]

#: known ways a submission fails to autograde -> the reason the summary shows
KNOWN_FAILURES = (
    (r"DeadKernelError|Kernel died", "the kernel died (memory, process or CPU limit, or os._exit)"),
    (r"kernel became unresponsive|UnresponsiveKernelError|could not interrupt",
     "the kernel could not be interrupted"),
    (r"RuntimeError: Kernel didn't respond|Kernel didn't respond in",
     "the kernel did not start"),
    (r"NotJSONError|Notebook does not appear to be JSON|Unreadable Notebook",
     "the notebook file is not a readable notebook"),
    (r"ValidationError|is not valid under any of the given schemas|Notebook is invalid",
     "the notebook is not a valid notebook (nbformat)"),
    (r"[Dd]uplicate|already exists", "a duplicated cell or cell id"),
    (r"SchemaTooOldError|SchemaTooNewError|nbgrader metadata",
     "the cells' nbgrader metadata were changed"),
)


def reason_from_log(text: str) -> str:
    """One line saying why nbgrader could not grade a submission, from its log/traceback
    (only error lines and tracebacks are read: warnings do not make a reason)."""
    text = "\n".join(line for line in text.splitlines()
                     if not line.startswith(("[INFO]", "[WARNING]", "[DEBUG]")))
    for pattern, reason in KNOWN_FAILURES:
        if re.search(pattern, text):
            return reason
    exceptions = [m.group(1).strip() for m in re.finditer(
        r"^\s*((?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*(?:Error|Exception|Exit)\b.*)$", text, re.M)
        if "NbGraderException" not in m.group(1)]
    errors = [line[len("[ERROR]"):].strip() for line in text.splitlines() if line.startswith("[ERROR]")
              and "There was an error processing" not in line and "Please see" not in line]
    last = (exceptions or errors or ["nbgrader reported a failure"])[-1]
    return f"nbgrader could not grade it: {last[:200]}"


def _start_api(db: str):
    """nbgrader's API with this folder's nbgrader_config.py and the worker's gradebook."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.apps.baseapp import NbGrader
    from nbgrader.auth import Authenticator

    app = NbGrader()
    app.initialize([f"--CourseDirectory.db_url={db}"])
    return NbGraderAPI(app.coursedir, Authenticator(parent=app), parent=app)


def grade_one(api, lab: str, student: str, course: Path) -> dict:
    """Autograde (and give feedback to) one submission; never raises."""
    start = time.monotonic()
    result = api.autograde(lab, student, force=True, create=True)
    log = result.get("log", "") + "\n" + (result.get("error") or "")
    graded = any((course / "autograded" / student / lab).glob("*.ipynb"))
    ok = bool(result.get("success")) and graded
    feedback = False
    if ok:
        fb = api.generate_feedback(lab, student, force=True)
        feedback = bool(fb.get("success")) and any((course / "feedback" / student / lab).glob("*.html"))
        log += "\n-- feedback --\n" + fb.get("log", "") + (fb.get("error") or "")
    path = course / LOG_FILE.format(lab=lab, student=student)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(log)
    return {"student": student, "autograded": ok, "feedback": feedback,
            "error": None if ok else reason_from_log(log),
            "seconds": round(time.monotonic() - start, 2)}


def main(argv: list[str]) -> int:
    lab, db = argv
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything printed from here on (kernels included) goes to stderr
    course = Path.cwd()
    api = _start_api(db)
    for line in sys.stdin:
        student = line.strip()
        if not student:
            continue
        try:
            reply = grade_one(api, lab, student, course)
        except Exception as exc:  # noqa: BLE001 -- one submission must not end the worker
            reply = {"student": student, "autograded": False, "feedback": False,
                     "error": reason_from_log(f"{type(exc).__name__}: {exc}"), "seconds": 0.0}
        protocol.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
