"""Grade every submission from the lab's own cells: mangled notebooks, rebuilt.

Learners paste cells twice, delete them, change their type or metadata, rename or
relabel them. nbgrader grades what it finds, so a duplicated answer cell, a test cell
turned into markdown or a deleted locked cell can leave a submission ungraded or
graded wrongly. :class:`RebuildFromSource` runs first when a submission is
sanitised and rebuilds the notebook from the *source* notebook's cells, in the
source's order:

* every cell of the lab (markdown, locked code, test cells) is the lab's own copy,
  whatever the submission did to it (deleted, duplicated, retyped, edited);
* every answer cell takes the learner's text, matched by its grade id. If the
  submission holds the id more than once, the **last** occurrence is graded (what
  Run All would leave in the kernel, and nbgrader's own rule in ``DeduplicateIds``);
  if it holds none, the answer is empty (a markdown answer keeps the release's
  placeholder, so it is scored "no response");
* cells the learner added (and cells whose grade id the lab does not know, e.g. a
  relabelled answer) are kept as plain, ungraded code or markdown, right after the
  nearest lab cell that precedes them in the submission, so helper code still runs.

What was repaired is written to the submission's status file
(:mod:`cascade_status`), with the first stage of its grading status.
"""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from cascade_status import NOT_FINISHED, status_path, update_notebook_status

__all__ = ["RebuildFromSource", "rebuild"]


def _grade_id(cell: dict) -> str | None:
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return gid if isinstance(gid, str) else None


def _fresh_cell(cell_type: str, source: str, metadata: dict, cell_id: str | None) -> NotebookNode:
    if cell_type == "code":
        cell = nbformat.v4.new_code_cell(source, metadata=metadata)
    elif cell_type == "markdown":
        cell = nbformat.v4.new_markdown_cell(source, metadata=metadata)
    else:
        cell = nbformat.v4.new_raw_cell(source, metadata=metadata)
    if cell_id:
        cell["id"] = cell_id
    return cell


def rebuild(submitted: NotebookNode, source: NotebookNode, lab_sources: dict[str, str],
            answer_ids: set[str], answer_placeholders: dict[str, str]) -> tuple[NotebookNode, list[str]]:
    """The submission rebuilt on the source's cells; and the repairs made, in words.

    ``lab_sources`` maps the grade id of every non-answer cell the gradebook knows to
    its trusted source; ``answer_ids`` are the answer cells' grade ids;
    ``answer_placeholders`` the release text of answer cells (used for markdown
    answers that are missing).
    """
    repairs: list[str] = []
    answers: dict[str, list[dict]] = defaultdict(list)
    seen_lab_cells: dict[str, list[dict]] = defaultdict(list)
    extras_after: dict[str | None, list[dict]] = defaultdict(list)
    anchor: str | None = None
    for cell in submitted.cells:
        gid = _grade_id(cell)
        if gid in answer_ids:
            answers[gid].append(cell)
            anchor = gid
        elif gid in lab_sources:
            seen_lab_cells[gid].append(cell)
            anchor = gid
        else:
            extras_after[anchor].append(cell)

    cells: list[NotebookNode] = []
    used_ids: set[str] = set()

    def add(cell: NotebookNode) -> None:
        if "id" in cell:
            base = re.sub(r"[^A-Za-z0-9_-]", "-", str(cell["id"]))[:50] or "cell"
            candidate, n = base, 1
            while candidate in used_ids:
                n += 1
                candidate = f"{base}-{n}"
            cell["id"] = candidate
            used_ids.add(candidate)
        cells.append(cell)

    def add_extras(after: str | None) -> None:
        for extra in extras_after.pop(after, []):
            kind = extra.get("cell_type") if extra.get("cell_type") in ("code", "markdown", "raw") else "raw"
            add(_fresh_cell(kind, _text(extra.get("source", "")), {}, extra.get("id") or "added"))

    relabelled = sum(1 for group in extras_after.values() for c in group if _grade_id(c) is not None)
    if relabelled:
        repairs.append(f"{relabelled} cell(s) carried a grade id the lab does not have; kept as ungraded cells")
    added = sum(len(group) for group in extras_after.values()) - relabelled
    if added:
        repairs.append(f"{added} cell(s) added by the learner were kept (not graded)")

    add_extras(None)
    for source_cell in source.cells:
        gid = _grade_id(source_cell)
        metadata = copy.deepcopy(source_cell.get("metadata", {}))
        kind = source_cell.cell_type
        if gid in answer_ids:
            found = answers.get(gid, [])
            if len(found) > 1:
                repairs.append(f"answer cell {gid!r} appeared {len(found)} times; the last one was graded")
            if found:
                text = _text(found[-1].get("source", ""))
                if found[-1].get("cell_type") != kind:
                    repairs.append(f"answer cell {gid!r} had its cell type changed; graded as {kind}")
            else:
                text = answer_placeholders.get(gid, "") if kind == "markdown" else ""
                repairs.append(f"answer cell {gid!r} was missing; graded as empty")
            add(_fresh_cell(kind, text, metadata, source_cell.get("id")))
        elif gid in lab_sources:
            copies = seen_lab_cells.get(gid, [])
            if not copies:
                repairs.append(f"lab cell {gid!r} was missing; restored")
            elif len(copies) > 1:
                repairs.append(f"lab cell {gid!r} appeared {len(copies)} times; the lab's copy was used")
            elif copies[0].get("cell_type") != kind:
                repairs.append(f"lab cell {gid!r} had its cell type changed; restored")
            add(_fresh_cell(kind, lab_sources[gid], metadata, source_cell.get("id")))
        elif gid is None:
            add(_fresh_cell(kind, _text(source_cell.source), metadata, source_cell.get("id")))
        else:
            continue  # in the source notebook but not in the gradebook: not part of this lab's grading
        add_extras(gid)
    for leftover in list(extras_after):
        add_extras(leftover)

    rebuilt = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(submitted.get("metadata", {})))
    rebuilt.nbformat, rebuilt.nbformat_minor = source.nbformat, source.nbformat_minor
    if rebuilt.nbformat_minor < 5:
        for cell in rebuilt.cells:
            cell.pop("id", None)
    return rebuilt, repairs


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


class RebuildFromSource(NbGraderPreprocessor):
    """Sanitize step 0: rebuild the submission on the source notebook's cells."""

    source_notebook = Unicode(
        "",
        help="Path pattern of the source notebook, with {assignment_id} and {notebook_id}.",
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        student, assignment, notebook = info["student"], info["assignment"], info["notebook"]
        status = status_path(self.config, resources)
        try:
            source = self._source(assignment, notebook)
            with Gradebook(info["db_url"]) as gradebook:
                known = gradebook.find_notebook(notebook, assignment)
                answer_ids = {cell.name for cell in known.solution_cells}
                stored = {cell.name: cell.source for cell in known.source_cells}
            lab_sources = {gid: text for gid, text in stored.items() if gid not in answer_ids}
            placeholders = {gid: stored[gid] for gid in answer_ids if gid in stored}
            rebuilt, repairs = rebuild(nb, source, lab_sources, answer_ids, placeholders)
        except Exception as problem:
            update_notebook_status(status, student, assignment, notebook, status="ungraded",
                                   stage="sanitizing", repairs=[],
                                   reason=f"the submission could not be rebuilt on the lab's cells: {problem}")
            raise
        for line in repairs:
            self.log.warning("%s/%s/%s: %s", student, assignment, notebook, line)
        update_notebook_status(status, student, assignment, notebook, status="ungraded", stage="sanitized",
                               repairs=repairs, reason=NOT_FINISHED)
        return rebuilt, resources

    def _source(self, assignment: str, notebook: str) -> NotebookNode:
        if not self.source_notebook:
            raise ValueError("RebuildFromSource.source_notebook is not configured")
        path = Path(self.source_notebook.format(assignment_id=assignment, notebook_id=notebook))
        try:
            return nbformat.read(str(path), as_version=4)
        except (OSError, ValueError, json.JSONDecodeError) as problem:
            raise ValueError(f"cannot read the source notebook {path}: {problem}") from None
