"""One fix to nbgrader 0.9.5 for the Cascade course, loaded by ``nbgrader_config.py``.

With ``OverwriteCells.add_missing_cells`` on, nbgrader puts back the test cells a
learner deleted, so they are graded instead of silently needing manual grading. Its
0.9.5 implementation has two faults this module corrects:

* it places a missing cell after the source cell just before it, but looks that cell up
  only among answer and test cells; when the cell before a test cell is a *locked
  read-only* cell (a "run the scenario" code cell with a grade id, which our labs use),
  it raises ``KeyError`` and the whole submission fails to autograde;
* it takes the cells' order from the gradebook's table rows, which carry no position,
  so a cell added to a lab after the first ``generate_assignment`` may be put back in
  the wrong place.

:class:`RestoreMissingCells` keeps everything else of ``OverwriteCells`` (locked cells
and test cells are still reset to their source) and replaces only how missing grade
cells are placed: each goes right after the nearest earlier cell of the source notebook
that the submission still has (answer, test or locked cell), in source order, which is
read from the source notebook itself when it is there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import OverwriteCells
from traitlets import Unicode

__all__ = ["RestoreMissingCells"]


def _grade_id(cell: NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


class RestoreMissingCells(OverwriteCells):
    """``OverwriteCells`` that puts deleted test cells back in the right place."""

    source_notebook = Unicode(
        "",
        help=(
            "Path pattern of the source notebook, with {assignment_id} and {notebook_id}; "
            "used only for the order of cells. Empty: use the gradebook's order."
        ),
    ).tag(config=True)

    def _source_order(self, gradebook_order: list[str]) -> list[str]:
        """Grade ids of the source notebook's cells, in notebook order."""
        if self.source_notebook:
            path = Path(
                self.source_notebook.format(
                    assignment_id=self.assignment_id, notebook_id=self.notebook_id
                )
            )
            try:
                cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            except (OSError, ValueError, KeyError):
                self.log.warning("Cannot read %s; using the gradebook's cell order", path)
            else:
                order = [gid for gid in (_grade_id(c) for c in cells) if gid in gradebook_order]
                # cells only the gradebook knows (should not happen) go last
                return order + [gid for gid in gradebook_order if gid not in order]
        return list(gradebook_order)

    @staticmethod
    def _new_cell_id(nb: NotebookNode, grade_id: str) -> str:
        """A cell id (nbformat 4.5: 1-64 of [A-Za-z0-9-_]) not used in ``nb``."""
        base = re.sub(r"[^A-Za-z0-9_-]", "-", grade_id)[:50] or "cell"
        taken = {cell.get("id") for cell in nb.cells}
        candidate, n = f"{base}-restored", 1
        while candidate in taken:
            n += 1
            candidate = f"{base}-restored-{n}"
        return candidate

    def add_missing_grade_cells(
        self, nb: NotebookNode, resources: dict[str, Any]
    ) -> tuple[NotebookNode, dict[str, Any]]:
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_cells = {cell.name: cell for cell in source_nb.source_cells}
        grade_cells = {cell.name: cell for cell in source_nb.grade_cells}
        solution_ids = {cell.name for cell in source_nb.solution_cells}
        order = self._source_order(list(source_cells))

        for position, grade_id in enumerate(order):
            present = [_grade_id(cell) for cell in nb.cells]
            if grade_id not in grade_cells or grade_id in present:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", grade_id)
            cell = self.missing_cell_transform(
                source_cells[grade_id],
                grade_cells[grade_id].max_score,
                is_solution=grade_id in solution_ids,
            )
            if nb.get("nbformat", 4) == 4 and nb.get("nbformat_minor", 0) >= 5:
                cell["id"] = self._new_cell_id(nb, grade_id)
            insert_at = 0
            for earlier in reversed(order[:position]):
                if earlier in present:
                    insert_at = present.index(earlier) + 1
                    break
            nb.cells.insert(insert_at, cell)
        return nb, resources
