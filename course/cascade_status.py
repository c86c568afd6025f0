"""The grading status of one submission: a small JSON file the class summary reads.

``nbgrader autograde`` gives an ungradable submission no score at all, and its export
shows it as 0, the same as a blank lab. So every autograded submission gets
``autograded/<student>/<lab>/.cascade-grading.json``::

    {
      "format": 1,
      "student": "jdoe42",
      "assignment": "lab0-overload",
      "status": "graded" | "ungraded",       # graded only if every notebook was
      "notebooks": {
        "lab0-overload": {
          "status": "graded" | "ungraded",
          "stage": "sanitized" | "executed",  # how far autograding got
          "reason": null | "why it is ungraded, in one sentence",
          "repairs": ["answer cell 'x' appeared 2 times; the last one was graded", ...],
          "cells_stopped": [{"index": 7, "grade_id": "loop", "why": "..."}],
          "kernel_restarts": 0,
          "test_cells": {"test_x": {"passed": true, "probes": 3, "seconds": 0.1}},
          "grader_errors": [{"grade_id": "test_x", "error": "..."}],
          "seconds": 12.3
        }
      }
    }

The sanitize step writes it first with ``status: "ungraded"`` and the reason
"autograding did not finish"; the executor rewrites it with ``"graded"`` when the
notebook has been run and judged. A submission whose file is missing, or says
"ungraded", was not graded: report it as such, never as 0. ``grader_errors`` lists
test cells that failed because of the grader (not the learner): review those.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from nbgrader.coursedir import CourseDirectory

__all__ = ["STATUS_FILE", "status_path", "update_notebook_status", "read_status"]

STATUS_FILE = ".cascade-grading.json"
FORMAT = 1


def status_path(config: Any, resources: dict) -> Path:
    """Where the status file of the submission being autograded lives."""
    info = resources["nbgrader"]
    coursedir = CourseDirectory(config=config)
    folder = coursedir.format_path(coursedir.autograded_directory, info["student"], info["assignment"])
    return Path(folder) / STATUS_FILE


def read_status(path: Path) -> dict[str, Any]:
    """The status file's content (an empty skeleton if missing or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("format") == FORMAT:
            return data
    except (OSError, ValueError):
        pass
    return {"format": FORMAT, "notebooks": {}}


def update_notebook_status(path: Path, student: str, assignment: str, notebook: str,
                           **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` into ``notebook``'s entry and rewrite the file atomically."""
    data = read_status(path)
    data.update(format=FORMAT, student=student, assignment=assignment)
    entry = data["notebooks"].setdefault(notebook, {})
    entry.update(fields)
    data["status"] = ("graded" if data["notebooks"] and
                      all(nb.get("status") == "graded" for nb in data["notebooks"].values()) else "ungraded")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".status-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=1, sort_keys=True)
    os.replace(temporary, path)
    return data
