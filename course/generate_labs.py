"""Regenerate the learners' notebooks in labs/ from the source notebooks in solutions/.

    python course/generate_labs.py              # every lab in solutions/
    python course/generate_labs.py lab0-overload lab2-elb-2012
    python course/generate_labs.py --check      # exit 1 if labs/ is not what this would write
    python course/generate_labs.py --out DIR    # write into DIR instead of labs/

For each lab this runs ``nbgrader generate_assignment <lab> --force`` in ``course/``
(with ``course/nbgrader_config.py``): solutions are replaced by stubs, hidden tests and
outputs removed, read-only cells locked, and the lab is recorded in
``course/gradebook.db`` (autograding needs that record). Run from any directory, with
the Python that has the project installed. The output is byte-for-byte the same each
time for the same solutions, so labs/ diffs show only real changes.

With ``--out`` or ``--check`` the course gradebook is left alone (a throwaway one is
used). Lab folders in labs/ whose source folder is gone are removed when every lab is
regenerated, since everything in labs/ is generated.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

COURSE = Path(__file__).resolve().parent
REPO = COURSE.parent
SOLUTIONS = REPO / "solutions"
LABS = REPO / "labs"

#: Seconds one ``nbgrader generate_assignment`` may take (it executes nothing).
GENERATE_TIMEOUT_S = 300


def lab_ids(solutions: Path = SOLUTIONS) -> list[str]:
    """The labs in ``solutions``: folders holding at least one notebook, sorted."""
    if not solutions.is_dir():
        return []
    return sorted(
        entry.name
        for entry in solutions.iterdir()
        if entry.is_dir() and not entry.name.startswith((".", "_")) and any(entry.glob("*.ipynb"))
    )


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader: this interpreter's bin folder first on PATH.

    nbgrader runs the ``alembic`` executable when it creates a gradebook and starts the
    ``python3`` kernel with the interpreter it runs in; both must be this environment's.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def generate(labs: list[str], out: Path | None = None, db_url: str | None = None,
             every: bool = False) -> None:
    """Run ``nbgrader generate_assignment --force`` in course/ for ``labs``; raise on failure.

    With ``every`` (``labs`` is every lab in solutions/), one nbgrader run handles them
    all (assignment id ``*``): starting nbgrader costs seconds, generating a lab does not.
    """
    # nbgrader's "*" is a glob over solutions/: use it only if it matches exactly the labs
    glob_is_exact = {p.name for p in SOLUTIONS.glob("*") if p.is_dir()} == set(labs)
    for assignment in ["*"] if every and glob_is_exact else labs:
        command = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"]
        if out is not None:
            command.append(f"--CourseDirectory.release_directory={out}")
        if db_url is not None:
            command.append(f"--CourseDirectory.db_url={db_url}")
        completed = subprocess.run(
            command, cwd=COURSE, env=nbgrader_env(), capture_output=True, text=True,
            timeout=GENERATE_TIMEOUT_S,
        )
        expected = labs if assignment == "*" else [assignment]
        missing = [lab for lab in expected if not any(((out or LABS) / lab).glob("*.ipynb"))]
        if completed.returncode != 0 or missing:
            hint = ""
            if "submissions associated" in completed.stderr:
                hint = (
                    "\nHint: course/gradebook.db already holds submissions for this lab, and "
                    "nbgrader refuses to add or remove its cells. If those were only a test run, "
                    "delete course/gradebook.db (and course/submitted, course/autograded) and "
                    "run again."
                )
            raise RuntimeError(
                f"nbgrader generate_assignment {assignment} failed (exit {completed.returncode}"
                f"{'; nothing written for ' + ', '.join(missing) if missing else ''}):\n"
                f"{completed.stderr.strip()[-4000:]}{hint}"
            )


def generate_all(labs: list[str], out: Path, db_url: str | None = None, every: bool = False) -> None:
    """Generate ``labs`` into ``out``; when ``every`` lab is regenerated into labs/, also
    remove the lab folders there whose source is gone."""
    out.mkdir(parents=True, exist_ok=True)
    print(f"generating {', '.join(labs)} from solutions/ into {out}", flush=True)
    generate(labs, out=None if out == LABS else out, db_url=db_url, every=every)
    if every and out == LABS:
        for stale in sorted(p for p in out.iterdir() if p.is_dir() and p.name not in labs):
            print(f"removing {stale}: there is no solutions/{stale.name}", flush=True)
            shutil.rmtree(stale)


def differences(expected: Path, actual: Path) -> list[str]:
    """Files that differ between two generated trees (relative paths, sorted)."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp, prefix: str) -> None:
        for name in cmp.left_only:
            found.append(f"{prefix}{name} (missing from labs/)")
        for name in cmp.right_only:
            found.append(f"{prefix}{name} (in labs/ but not generated from solutions/)")
        for name in cmp.common_files:
            if not filecmp.cmp(Path(cmp.left) / name, Path(cmp.right) / name, shallow=False):
                found.append(f"{prefix}{name} (content differs)")
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(expected, actual, ignore=[".ipynb_checkpoints", "__pycache__"]), "")
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labs", nargs="*", help="lab ids (default: every lab in solutions/)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--out", type=Path, help="write the labs here instead of labs/")
    group.add_argument("--check", action="store_true", help="only check that labs/ is up to date")
    args = parser.parse_args(argv)

    available = lab_ids()
    unknown = [lab for lab in args.labs if lab not in available]
    if unknown:
        parser.error(
            f"no source notebooks for {', '.join(unknown)} in solutions/; "
            f"labs there: {', '.join(available) or 'none'}"
        )
    labs = args.labs or available
    if not labs:
        print("solutions/ holds no lab folders with notebooks; nothing to generate")
        return 0

    if args.check or args.out is not None:
        with tempfile.TemporaryDirectory(prefix="cascade-labs-") as scratch:
            db_url = f"sqlite:///{Path(scratch) / 'gradebook.db'}"
            out = args.out.resolve() if args.out is not None else Path(scratch) / "labs"
            generate_all(labs, out, db_url=db_url, every=not args.labs)
            if args.out is not None:
                return 0
            stale = []
            for lab in labs:
                if not (LABS / lab).is_dir():
                    stale.append(f"{lab}/ (missing in labs/)")
                else:
                    stale += [f"{lab}/{d}" for d in differences(out / lab, LABS / lab)]
            if not args.labs and LABS.is_dir():  # a full check also catches orphans
                stale += [f"{p.name}/ (no solutions/{p.name})" for p in sorted(LABS.iterdir())
                          if p.is_dir() and p.name not in labs]
            if stale:
                print("labs/ is out of date with solutions/:\n  " + "\n  ".join(stale))
                print("Run: python course/generate_labs.py")
                return 1
            print("labs/ is up to date")
            return 0

    generate_all(labs, LABS, every=not args.labs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
