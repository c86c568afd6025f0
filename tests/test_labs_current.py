"""labs/ is what the generator makes from solutions/, and the syllabus states the right points.

The learners' notebooks in labs/ are generated (``python course/generate_labs.py``)
and committed. This test regenerates every lab into a temporary folder with that same
command and compares: first cell by cell (type, source, metadata) for a readable
message, then byte for byte. It fails when a source notebook changed without
regenerating, when labs/ was edited by hand, or when labs/ has a lab with no source.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pipeline_helpers as ph

FIX = f"labs/ is out of date with solutions/. Regenerate it with:  {ph.REGENERATE_COMMAND}"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("regenerated") / "labs"
    completed = subprocess.run(
        [sys.executable, str(ph.COURSE / "generate_labs.py"), "--out", str(out)],
        capture_output=True, text=True, timeout=ph.NBGRADER_TIMEOUT_S,
    )
    assert completed.returncode == 0, (
        f"{ph.REGENERATE_COMMAND} --out ... failed:\n{completed.stdout}\n{completed.stderr[-4000:]}")
    return out


def _cells(path: Path) -> list[tuple[str, str, str]]:
    nb = ph.read_nb(path)
    return [(c.cell_type, c.source, json.dumps(c.get("metadata", {}), sort_keys=True))
            for c in nb.cells]


def test_labs_match_solutions(regenerated: Path) -> None:
    labs = ph.lab_ids()
    orphans = sorted(p.name for p in ph.LABS.glob("*") if p.is_dir() and p.name not in labs)
    assert not orphans, f"labs/ has {', '.join(orphans)} but solutions/ does not. {FIX}"
    for lab in labs:
        expected_dir, actual_dir = regenerated / lab, ph.LABS / lab
        assert actual_dir.is_dir(), f"labs/{lab} is missing. {FIX}"
        expected_files = sorted(p.relative_to(expected_dir) for p in expected_dir.rglob("*") if p.is_file())
        actual_files = sorted(p.relative_to(actual_dir) for p in actual_dir.rglob("*")
                              if p.is_file() and ".ipynb_checkpoints" not in p.parts)
        assert expected_files == actual_files, (
            f"labs/{lab} holds {[str(p) for p in actual_files]}, the generator writes "
            f"{[str(p) for p in expected_files]}. {FIX}")
        for rel in expected_files:
            expected, actual = expected_dir / rel, actual_dir / rel
            if rel.suffix == ".ipynb":
                want, got = _cells(expected), _cells(actual)
                assert len(want) == len(got), (
                    f"labs/{lab}/{rel} has {len(got)} cells, solutions/ gives {len(want)}. {FIX}")
                for index, (w, g) in enumerate(zip(want, got)):
                    assert w == g, (
                        f"labs/{lab}/{rel}, cell {index}: differs from what solutions/ gives "
                        f"(cell type, source or metadata).\n  generated: {w[1][:200]!r}\n"
                        f"  in labs/:  {g[1][:200]!r}\n{FIX}")
            assert expected.read_bytes() == actual.read_bytes(), f"labs/{lab}/{rel} differs. {FIX}"


def _syllabus_rows() -> list[tuple[str, str]]:
    """(first cell, 'Points' cell) of every row of the tables in course/README.md with a
    Points column."""
    rows: list[tuple[str, str]] = []
    header: list[str] | None = None
    for line in (ph.COURSE / "README.md").read_text(encoding="utf-8").splitlines():
        if not line.lstrip().startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
        elif "points" in header and not set(line) <= set("|-: ") and len(cells) == len(header):
            rows.append((cells[0], cells[header.index("points")]))
    return rows


def test_syllabus_states_each_labs_points(lab_id: str) -> None:
    total = 0.0
    for path in sorted((ph.SOLUTIONS / lab_id).glob("*.ipynb")):
        total += sum(float(ph.meta(c).get("points", 0)) for c in ph.read_nb(path).cells
                     if ph.meta(c).get("grade"))
    word = re.compile(rf"(?<![\w-]){re.escape(lab_id)}(?![\w-])")
    stated = [points for first, points in _syllabus_rows() if word.search(first)]
    assert stated, f"course/README.md has no syllabus table row (with a Points column) for {lab_id}"
    assert stated[0] == f"{total:g}", (
        f"course/README.md gives {lab_id} {stated[0]!r} points; its notebooks' grade cells add up "
        f"to {total:g}. Update the syllabus table.")
