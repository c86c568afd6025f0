"""Feedback that teaches without giving the hidden tests away.

``nbgrader generate_feedback`` renders the autograded notebook: every test cell's
source (hidden tests restored for grading) and every output. :class:`CleanFeedback`
runs before the HTML is written and removes what a learner must not see:

* the hidden-test blocks of test cells (between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS``): it is nbgrader's ``ClearHiddenTests`` (same configurable
  delimiters), except that it never refuses a notebook (``ClearHiddenTests`` raises on
  a learner's cell that merely contains the marker text, and then no feedback at all is
  written for that learner);
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
from nbgrader.preprocessors import ClearHiddenTests

__all__ = ["CleanFeedback", "without_hidden_tests"]


def without_hidden_tests(source: str, begin: str = "BEGIN HIDDEN TESTS", end: str = "END HIDDEN TESTS") -> str:
    """``source`` without its hidden-test blocks (an unclosed block runs to the end)."""
    kept, inside = [], False
    for line in source.split("\n"):
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


class CleanFeedback(ClearHiddenTests):
    """Remove hidden tests and the learner kernel's outputs before feedback is rendered."""

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int):
        if cell.cell_type != "code":
            return cell, resources
        if utils.is_grade(cell) and not utils.is_solution(cell):
            cell.source = without_hidden_tests(cell.source, self.begin_test_delimeter, self.end_test_delimeter)
        else:
            cell.outputs = []
            cell.execution_count = None
        return cell, resources
