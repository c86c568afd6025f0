"""The grading status of one submission: a small JSON file the class summary reads.

``nbgrader autograde`` gives an ungradable submission no score at all, and its export
shows it as 0, the same as a blank lab; when it fails it even deletes the submission's
autograded folder. So every submission gets a status file *beside* that folder,
``autograded/<student>/<lab>.cascade-grading.json``::

    {
      "format": 1,
      "student": "jdoe42",
      "assignment": "lab0-overload",
      "status": "graded" | "ungraded",       # graded only if every notebook was
      "reason": null | "why not, in one sentence",
      "notebooks": {
        "lab0-overload": {
          "status": "graded" | "ungraded",
          "stage": "submitted" | "sanitized" | "executed",   # how far autograding got
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

nbgrader's pre-convert hook (:func:`start_submission`) writes it first, every notebook
"ungraded" with the reason "autograding did not finish (see the nbgrader log)", or a
sharper one when the file is not a readable notebook. The rebuild step
(:mod:`cascade_rebuild`) adds the repairs, and the executor (:mod:`cascade_judge`) marks
a notebook "graded" once it has been run and judged. A submission whose file says
"ungraded" (or that has no file) was not graded: report it as such, never as 0.
``grader_errors`` lists test cells that failed because of the grader, not the learner.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from nbgrader.coursedir import CourseDirectory

__all__ = ["STATUS_SUFFIX", "status_file", "status_path", "start_submission", "update_notebook_status",
           "read_status", "diagnose_notebook"]

STATUS_SUFFIX = ".cascade-grading.json"
FORMAT = 1
NOT_FINISHED = "autograding did not finish (see the nbgrader log)"


def status_file(autograded_dir: str | Path, student: str, assignment: str) -> Path:
    """``<autograded>/<student>/<assignment>.cascade-grading.json``."""
    return Path(autograded_dir) / student / f"{assignment}{STATUS_SUFFIX}"


def status_path(config: Any, resources: dict) -> Path:
    """Where the status file of the submission being autograded lives."""
    info = resources["nbgrader"]
    coursedir = CourseDirectory(config=config)
    folder = Path(coursedir.format_path(coursedir.autograded_directory, info["student"], info["assignment"]))
    return folder.parent / f"{info['assignment']}{STATUS_SUFFIX}"


def diagnose_notebook(path: str | Path) -> str | None:
    """Why the file at ``path`` cannot be graded as a notebook, or None if it can be read."""
    import nbformat

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        return f"{Path(path).name} cannot be read: {problem}"
    try:
        data = json.loads(text)
    except ValueError as problem:
        return f"{Path(path).name} is not a notebook: it is not valid JSON ({problem})"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return f"{Path(path).name} is not a Jupyter notebook (it has no list of cells)"
    try:
        nbformat.validate(nbformat.reads(text, as_version=4))
    except Exception as problem:  # nbformat raises several kinds
        return f"{Path(path).name} is not a valid Jupyter notebook: {str(problem).splitlines()[0][:200]}"
    return None


def start_submission(*, assignment: str = "", student: str = "", notebooks: list | None = None,
                     autograded_dir: str | Path) -> None:
    """nbgrader's pre-convert hook for autograde: a fresh status file for this submission.

    nbgrader passes the *patterns* it was given as ``assignment`` and ``student``
    (often ``*``); the real ids are read from the submitted notebooks' paths
    (``.../<student>/<assignment>/<notebook>.ipynb``).
    """
    paths = [Path(p) for p in notebooks or []]
    if not paths:
        return
    student, assignment = paths[0].parent.parent.name, paths[0].parent.name
    path = status_file(autograded_dir, student, assignment)
    if path.exists():
        path.unlink()
    for notebook in paths:
        problem = diagnose_notebook(notebook)
        update_notebook_status(path, student, assignment, notebook.stem, status="ungraded", stage="submitted",
                               reason=problem or NOT_FINISHED)


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
    ungraded = [f"{name}: {nb.get('reason') or 'not graded'}" for name, nb in sorted(data["notebooks"].items())
                if nb.get("status") != "graded"]
    data["status"] = "ungraded" if ungraded or not data["notebooks"] else "graded"
    data["reason"] = "; ".join(ungraded) or None
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".status-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=1, sort_keys=True)
    os.replace(temporary, path)
    return data
