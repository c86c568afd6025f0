"""The answer-cell screen: which submissions an instructor should read before releasing grades.

    python course/screen.py LAB                  # every submission in course/submitted/*/LAB
    python course/screen.py LAB jdoe42 asmith    # some students
    python course/screen.py LAB --json           # the reports as JSON
    python course/screen.py LAB --notebook some.ipynb    # one notebook file

Every code cell of a submission that is not, word for word, a cell of the released lab
(answer cells, added cells, cells whose type or metadata were changed) is checked against
the rules of :mod:`screen_rules`. A finding names the notebook, the cell (its grade id, or
its position), the rule and the line. The screen is static and fail-closed: it never runs
the code, and a notebook it cannot read is itself a finding. ``make grade`` runs it on every
submission and lists the flagged ones in its summary; the reports are kept in
``course/grading/<lab>/screen/<student>.json``. The screen replaces the grep of older
instructor guides, which matched every untouched release 22-32 times.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from grading_status import SCREEN_FILE, submitted_students, write_json
from screen_rules import RULES, Context, context_from_cells, screen_source

COURSE = Path(__file__).resolve().parent
RULES_AND_READING = {**RULES, "unreadable-notebook": "the notebook file could not be read"}


@dataclass(frozen=True)
class Finding:
    notebook: str
    cell: str
    rule: str
    line: int
    text: str
    detail: str


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _normal(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.replace("\r\n", "\n").split("\n")).strip()


def _meta(cell: dict) -> dict:
    metadata = cell.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return nbgrader if isinstance(nbgrader, dict) else {}


@dataclass
class Release:
    """What the screen needs of the released lab."""

    cells: set[str]
    context: Context
    #: grade ids of locked and test cells: autograde puts their released source back
    reset_ids: set[str]

    @classmethod
    def read(cls, folder: Path) -> "Release":
        locked, stubs, everything, reset = [], [], set(), set()
        for path in sorted(folder.glob("*.ipynb")):
            for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
                meta = _meta(cell)
                if meta.get("grade_id") and not meta.get("solution"):
                    reset.add(meta["grade_id"])
                if cell.get("cell_type") != "code":
                    continue
                source = _source(cell)
                everything.add(_normal(source))
                (stubs if meta.get("solution") else locked).append(source)
        if not everything:
            raise FileNotFoundError(f"no released notebooks in {folder} (run `make labs`)")
        return cls(everything, context_from_cells(locked, stubs), reset)


def screen_notebook(path: Path, release: Release) -> list[Finding]:
    """The findings of one submitted notebook (an unreadable file is one finding)."""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
        if not isinstance(cells, list):
            raise TypeError("'cells' is not a list")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [Finding(path.stem, "-", "unreadable-notebook", 0, "", f"{type(exc).__name__}: {exc}")]
    aliases = dict(release.context.lab_imports)
    ids = Counter(_meta(c).get("grade_id") for c in cells if isinstance(c, dict))
    findings = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        grade_id = _meta(cell).get("grade_id")
        if _normal(source) in release.cells or (
                grade_id in release.reset_ids and ids[grade_id] == 1 and not _meta(cell).get("solution")):
            continue  # the released code, or a cell autograde resets to it
        label = str(grade_id or f"cell {index + 1}")
        lines = source.splitlines()
        for match in screen_source(source, release.context, aliases):
            text = lines[match.line - 1].strip()[:160] if 0 < match.line <= len(lines) else ""
            findings.append(Finding(path.stem, label, match.rule, match.line, text, match.detail))
    return findings


def screen_submission(course: Path, lab: str, student: str, release: Release) -> dict:
    """Screen ``submitted/<student>/<lab>/*.ipynb``; write and return the report."""
    folder = Path(course) / "submitted" / student / lab
    notebooks = sorted(folder.glob("*.ipynb"))
    findings = [f for path in notebooks for f in screen_notebook(path, release)]
    report = {"student": student, "lab": lab, "notebooks": [p.name for p in notebooks],
              "findings": [asdict(f) for f in findings]}
    write_json(Path(course) / SCREEN_FILE.format(lab=lab, student=student), report)
    return report


def describe(report: dict) -> str:
    """A submission's findings, one line each, for people."""
    head = f"{report['student']}: " + (f"{len(report['findings'])} finding(s)"
                                       if report["findings"] else "nothing found")
    lines = [head]
    for f in report["findings"]:
        lines.append(f"  {f['notebook']} / {f['cell']} line {f['line']}: {f['rule']} -- "
                     f"{f['detail']}" + (f"\n      {f['text']}" if f["text"] else ""))
    return "\n".join(lines)


def summary(reports: list[dict]) -> str:
    """How many submissions were flagged, and for which rules."""
    flagged = [r for r in reports if r["findings"]]
    rules = Counter(f["rule"] for r in flagged for f in r["findings"])
    text = f"{len(reports)} submission(s) screened, {len(flagged)} flagged for review"
    if rules:
        text += ": " + ", ".join(f"{rule} x{n}" for rule, n in rules.most_common())
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lab")
    parser.add_argument("students", nargs="*", help="default: every submission of the lab")
    parser.add_argument("--course", type=Path, default=COURSE, help="the course folder")
    parser.add_argument("--release", type=Path, help="the released lab (default: labs/<lab>)")
    parser.add_argument("--notebook", type=Path, help="screen this notebook file only")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    parser.add_argument("--rules", action="store_true", help="list the rules and exit")
    args = parser.parse_intermixed_args(argv)
    if args.rules:
        print("\n".join(f"{rule:24} {text}" for rule, text in RULES_AND_READING.items()))
        return 0
    release = Release.read(args.release or args.course.resolve().parent / "labs" / args.lab)
    if args.notebook:
        findings = [asdict(f) for f in screen_notebook(args.notebook, release)]
        reports = [{"student": str(args.notebook), "lab": args.lab, "findings": findings}]
    else:
        students = args.students or submitted_students(args.course, args.lab)
        reports = [screen_submission(args.course, args.lab, s, release) for s in students]
    if args.json:
        print(json.dumps(reports, indent=1))
    else:
        print("\n".join(describe(r) for r in reports if r["findings"]))
        print(summary(reports))
    return 1 if any(r["findings"] for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
