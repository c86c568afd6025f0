"""Grade a whole class: every submission of a lab, in parallel sandboxed workers.

    make grade LAB=lab0-overload [WORKERS=4] [SHARD=1/3] [TIMEOUT=900]
    python course/grade_class.py grade LAB [--workers N] [--shard i/N] [--timeout S] [--students a,b]
    python course/grade_class.py merge LAB [SHARD_DB ...]    # combine shards into gradebook.db
    python course/grade_class.py summary LAB                 # print the last summary again

``grade`` screens every submission in ``course/submitted/*/LAB/`` (screen.py), autogrades
them with nbgrader in WORKERS processes, each with its own copy of the gradebook (SQLite
allows one writer at a time, so the copies are merged afterwards by name: see
gradebook_merge.py), gives feedback to each graded one, and writes a summary table:
graded (with the score), ungraded (with the reason), flagged by the screen. A submission
that takes longer than TIMEOUT seconds is stopped and reported, never stalling the rest.

With ``--shard i/N`` only every N-th submission (starting at the i-th, in sorted order) is
graded, into ``grading/LAB/shards/shard-i-of-N.db`` instead of the course gradebook, so N
machines (an array job) can grade one class; ``merge`` then combines the shard gradebooks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from grading_status import (outcome, submitted_students, workspace, write_json, write_status)
from progress import Progress

COURSE = Path(__file__).resolve().parent
GRADEBOOK = "gradebook.db"
DEFAULT_TIMEOUT_S = 900


def parse_shard(text: str | None) -> tuple[int, int]:
    """"2/5" -> (2, 5); None -> (1, 1)."""
    if not text:
        return 1, 1
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise SystemExit(f"SHARD={text!r}: write it as i/N, for example 2/5") from None
    if not 1 <= index <= count:
        raise SystemExit(f"SHARD={text!r}: i must be between 1 and N")
    return index, count


def shard_of(students: list[str], index: int, count: int) -> list[str]:
    """Every ``count``-th student starting at the ``index``-th (1-based), in sorted order:
    the same split on every machine that sees the same submitted/ folder."""
    return sorted(students)[index - 1::count]


def preflight(course: Path, lab: str, check_sandbox: bool) -> None:
    """Stop early, with a clear message, if the class cannot be graded at all."""
    from gradebook_merge import COURSE_ID
    from nbgrader.api import Gradebook, MissingEntry

    if not (course / GRADEBOOK).exists():
        raise SystemExit(f"{course / GRADEBOOK} does not exist: generate the lab first (make labs)")
    with Gradebook(f"sqlite:///{course / GRADEBOOK}", COURSE_ID) as gb:
        try:
            gb.find_assignment(lab)
        except MissingEntry:
            raise SystemExit(f"{lab} is not in {course / GRADEBOOK}: run `make labs`") from None
    if check_sandbox:
        import sandbox_manager

        if shutil.which("bwrap") is None:
            raise SystemExit("bubblewrap is missing (apt-get install bubblewrap): "
                             "submissions are only graded in the sandbox")
        if sandbox_manager.check() != 0:
            raise SystemExit("the grading sandbox failed its self-check (above); not grading")


def grade(course: Path, lab: str, workers: int, shard: tuple[int, int], timeout_s: float,
          students: list[str] | None = None, check_sandbox: bool = True) -> Path:
    """Grade (a shard of) the class; return the gradebook the results went into."""
    import gradebook_merge
    from grade_pool import run_pool
    from screen import Release, screen_submission

    preflight(course, lab, check_sandbox)
    chosen = shard_of(students or submitted_students(course, lab), *shard)
    ws = workspace(course, lab)
    target = course / GRADEBOOK
    if shard != (1, 1):
        target = ws / "shards" / f"shard-{shard[0]}-of-{shard[1]}.db"
        gradebook_merge.snapshot(course / GRADEBOOK, target)
    if not chosen:
        print(f"no submissions of {lab} to grade in {course / 'submitted'}")
        return target

    release = Release.read(course.parent / "labs" / lab)
    flagged = {s for s in chosen if screen_submission(course, lab, s, release)["findings"]}

    # each worker's gradebook lives on local disk (SQLite locking on a shared network
    # filesystem is unreliable) and only for this run
    scratch = Path(tempfile.mkdtemp(prefix=f"cascade-grade-{lab}-"))
    copies = [scratch / f"worker-{k + 1}.db" for k in range(min(workers, len(chosen)))]
    for copy in copies:
        gradebook_merge.snapshot(target, copy)
    graded_by: dict[int, list[str]] = {k + 1: [] for k in range(len(copies))}
    counts: Counter = Counter()
    progress = Progress(len(chosen), f"grading {lab}")
    start = time.monotonic()

    def record(result) -> None:
        write_status(course, lab, result.student, result.autograded, result.error,
                     seconds=result.seconds, worker=result.worker, feedback=result.feedback,
                     shard=f"{shard[0]}/{shard[1]}", graded_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        if result.autograded:
            graded_by[result.worker].append(result.student)
        counts["graded" if result.autograded else "ungraded"] += 1
        counts["flagged"] += result.student in flagged
        progress.update(counts)

    try:
        run_pool(course, lab, chosen, [gradebook_merge.db_url(c) for c in copies], timeout_s,
                 record, ws / "logs")
    finally:  # even after Ctrl-C, keep what was graded: the status files already say so
        progress.close()
        try:
            for worker, graded in graded_by.items():
                if graded:
                    gradebook_merge.merge_submissions(copies[worker - 1], target, lab, graded)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    write_summary(course, lab, chosen, target, workers=len(copies), shard=f"{shard[0]}/{shard[1]}",
                  wall_s=time.monotonic() - start)
    return target


# -- the summary ----------------------------------------------------------------------------

def _scores(gradebook: Path, lab: str, students: list[str]) -> dict[str, dict]:
    from gradebook_merge import COURSE_ID
    from nbgrader.api import Gradebook, MissingEntry

    found = {}
    with Gradebook(f"sqlite:///{gradebook}", COURSE_ID) as gb:
        for student in students:
            try:
                sub = gb.find_submission(lab, student)
            except MissingEntry:
                continue
            found[student] = {"score": round(float(sub.score), 2),
                              "max_score": round(float(sub.max_score), 2),
                              "needs_manual_grade": bool(sub.needs_manual_grade)}
    return found


def write_summary(course: Path, lab: str, students: list[str], gradebook: Path, **run) -> dict:
    """Write grading/<lab>/summary.{json,txt} for ``students``; print the table; return it."""
    scores = _scores(gradebook, lab, students)
    rows = []
    for student in students:
        o = outcome(course, lab, student)
        row = {"student": student, "status": o.status, "reason": o.reason, "flags": o.flags,
               "seconds": o.details.get("seconds")}
        if o.status == "graded":
            row.update(scores.get(student, {}))
        rows.append(row)
    counts = Counter(r["status"] for r in rows)
    data = {"lab": lab, "gradebook": str(gradebook), "submissions": len(rows),
            "graded": counts["graded"], "ungraded": counts["ungraded"],
            "flagged": sum(bool(r["flags"]) for r in rows), **run, "rows": rows}
    if "wall_s" in run:
        data["wall_s"] = round(run["wall_s"], 1)
    text = format_summary(data)
    ws = workspace(course, lab)
    name = "summary"
    if run.get("shard", "1/1") != "1/1":  # shards may run at once on a shared folder
        name += "-shard-{}-of-{}".format(*run["shard"].split("/"))
    write_json(ws / f"{name}.json", data)
    (ws / f"{name}.txt").write_text(text + "\n")
    print(text)
    return data


def format_summary(data: dict) -> str:
    """The summary as a table for people."""
    head = (f"{data['lab']}: {data['submissions']} submission(s): {data['graded']} graded, "
            f"{data['ungraded']} ungraded, {data['flagged']} flagged for review")
    if data.get("wall_s") is not None:
        head += f"  ({data.get('workers', '?')} worker(s), {data['wall_s']:.0f} s)"
    lines = [head, "", f"{'student':<20} {'status':<9} {'score':>11}  reason / screen findings"]
    for r in data["rows"]:
        score = (f"{r['score']:g}/{r['max_score']:g}" if "score" in r else "-")
        if r.get("needs_manual_grade"):
            score += "+"
        notes = ([r["reason"]] if r["status"] != "graded" and r["reason"] else []) + (
            ["FLAGGED: " + "; ".join(r["flags"][:3]) + (" ..." if len(r["flags"]) > 3 else "")]
            if r["flags"] else [])
        lines.append(f"{r['student']:<20} {r['status']:<9} {score:>11}  {' | '.join(notes) or '-'}")
    lines += ["", "score + : written answers still to grade by hand (formgrader). Ungraded "
              "submissions are exported as ungraded, not as 0; logs in grading/<lab>/logs/."]
    return "\n".join(lines)


# -- merging shards -------------------------------------------------------------------------

def merge(course: Path, lab: str, shard_dbs: list[Path]) -> None:
    """Merge shard gradebooks into the course gradebook (graded submissions only)."""
    import gradebook_merge

    shard_dbs = shard_dbs or sorted((workspace(course, lab) / "shards").glob("*.db"))
    if not shard_dbs:
        raise SystemExit(f"no shard gradebooks in {workspace(course, lab) / 'shards'}")
    students = submitted_students(course, lab)
    graded = [s for s in students if outcome(course, lab, s).status == "graded"]
    for db in shard_dbs:
        copied = gradebook_merge.merge_submissions(db, course / GRADEBOOK, lab, graded)
        print(f"merged {len(copied)} submission(s) from {db}")
    write_summary(course, lab, students, course / GRADEBOOK)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade every submission of a lab (or one shard)")
    g.add_argument("lab")
    g.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    g.add_argument("--shard", help="i/N: grade only this shard of the class")
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                   help="seconds one submission may take (default %(default)s)")
    g.add_argument("--students", help="comma-separated student ids (default: all submitted)")
    g.add_argument("--skip-sandbox-check", action="store_true", help=argparse.SUPPRESS)
    m = sub.add_parser("merge", help="merge shard gradebooks into the course gradebook")
    m.add_argument("lab")
    m.add_argument("dbs", nargs="*", type=Path)
    s = sub.add_parser("summary", help="print the last summary of a lab")
    s.add_argument("lab")
    for p in (g, m, s):
        p.add_argument("--course", type=Path, default=COURSE)
    args = parser.parse_args(argv)
    course = args.course.resolve()
    os.chdir(course)  # nbgrader reads nbgrader_config.py from the current folder
    if args.command == "grade":
        if args.workers < 1:
            raise SystemExit("WORKERS must be at least 1")
        students = [s for s in (args.students or "").split(",") if s] or None
        grade(course, args.lab, args.workers, parse_shard(args.shard), args.timeout, students,
              check_sandbox=not args.skip_sandbox_check)
    elif args.command == "merge":
        merge(course, args.lab, args.dbs)
    else:
        path = workspace(course, args.lab) / "summary.json"
        if not path.exists():
            raise SystemExit(f"no summary yet: run make grade LAB={args.lab}")
        print(format_summary(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
