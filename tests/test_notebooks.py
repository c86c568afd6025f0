"""Every solution notebook runs top to bottom, and its test cells grade the way we mean.

Each notebook in ``solutions/<lab>/`` is executed with nbclient on the ``python3``
kernel, in a temporary copy of its folder (so nothing is written into solutions/),
with a per-cell timeout. The hidden tests are in the source notebooks, so this also
proves that the solutions pass them. A failure names the notebook, the cell (index and
grade id) and the error.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import pipeline_helpers as ph

#: seconds a single cell may run (the course's nbgrader config allows the same)
CELL_TIMEOUT_S = 120


def _execute(path: Path, workdir: Path) -> nbformat.NotebookNode:
    """Run the notebook at ``path`` in ``workdir``; keep going after errors to report them all."""
    nb = ph.read_nb(path)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=CELL_TIMEOUT_S, allow_errors=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()
    return nb


def _failures(nb: nbformat.NotebookNode) -> list[str]:
    failures = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                trace = ph.strip_ansi("\n".join(output.get("traceback", [])))
                failures.append(
                    f"cell {index} (grade_id {ph.grade_id(cell)!r}) raised "
                    f"{output.get('ename')}: {output.get('evalue')}\n"
                    f"--- cell source ---\n{cell.source}\n--- traceback (end) ---\n{trace[-2500:]}"
                )
    return failures


@pytest.mark.slow
def test_solution_notebooks_run_top_to_bottom(lab_id: str, tmp_path: Path) -> None:
    lab_dir = ph.SOLUTIONS / lab_id
    workdir = tmp_path / lab_id
    shutil.copytree(lab_dir, workdir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    names = ph.notebook_names(lab_dir)
    assert names, f"solutions/{lab_id} holds no notebook"
    for name in names:
        nb = _execute(workdir / f"{name}.ipynb", workdir)
        failures = _failures(nb)
        assert not failures, (
            f"solutions/{lab_id}/{name}.ipynb does not run top to bottom; "
            f"{len(failures)} cell(s) raised. The first:\n{failures[0]}"
        )
        # nbgrader reads a number printed as a test cell's last value as *partial credit*
        # (nbgrader.utils.get_partial_grade): a test cell must not end in a bare number.
        for cell in nb.cells:
            if not ph.is_test(cell):
                continue
            for output in cell.get("outputs", []):
                if output.get("output_type") != "execute_result":
                    continue
                value = str(output.get("data", {}).get("text/plain", "")).strip()
                try:
                    float(value)
                except ValueError:
                    continue
                raise AssertionError(
                    f"{name}: test cell {ph.grade_id(cell)!r} ends in the value {value}; nbgrader "
                    f"would award that as partial credit. End the cell with a statement "
                    f"(e.g. assign it: `_ = ...`) instead."
                )


def test_notebooks_use_the_python3_kernel(lab_id: str) -> None:
    for path in sorted((ph.SOLUTIONS / lab_id).glob("*.ipynb")):
        spec = ph.read_nb(path).metadata.get("kernelspec", {})
        assert spec.get("name") == "python3", (
            f"{path.name}: kernelspec name is {spec.get('name')!r}; the course runs on 'python3'")
