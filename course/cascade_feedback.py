"""Feedback that teaches without giving the hidden tests away.

``nbgrader generate_feedback`` renders the autograded notebook: every test cell's
source (hidden tests restored for grading) and every output. :class:`CleanFeedback`
runs before the HTML is written and removes what a learner must not see:

* the hidden-test blocks of test cells (between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS``), like nbgrader's ``ClearHiddenTests`` but without
  refusing a notebook in which a learner typed the marker into a cell of their own;
* the outputs of every code cell that is not a test cell. They ran in the learner's
  kernel *after* the judge had sent it hidden inputs (a hidden test calls the
  learner's function on them), so a cell could print them; the learner has those
  outputs in their own notebook anyway.

What stays: each test cell's visible lines and the judge's verdict (its printed lines
and the failure message, written not to reveal hidden inputs or expected values), the
learner's own code and written answers, the scores.
"""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["CleanFeedback", "without_hidden_tests"]

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"


def without_hidden_tests(source: str) -> str:
    """``source`` without its hidden-test blocks (an unclosed block runs to the end)."""
    kept, inside = [], False
    for line in source.split("\n"):
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


class CleanFeedback(NbGraderPreprocessor):
    """Remove hidden tests and the learner kernel's outputs before feedback is rendered."""

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if cell.cell_type != "code":
            return cell, resources
        if utils.is_grade(cell) and not utils.is_solution(cell):
            cell.source = without_hidden_tests(cell.source)
        else:
            cell.outputs = []
            cell.execution_count = None
        return cell, resources
