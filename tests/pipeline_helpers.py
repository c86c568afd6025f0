"""Helpers for the course-pipeline tests: run nbgrader on a throwaway copy of the course.

The tests never touch the real ``course/`` folder. :func:`make_course_copy` copies
``course/`` (its config and tools) and one lab's ``solutions/`` folder into a temporary
directory; ``course/nbgrader_config.py`` builds its paths from its own location, so the
copy is a complete course of its own. :func:`run_pipeline` then does what an instructor
does -- generate, collect, autograde, give feedback -- with submissions built from the
lab's own nbgrader metadata, so the same checks work for every lab:

===============  =================================================================
student id       submission
===============  =================================================================
solution         the source notebook, written answers filled in
blank            the released notebook, untouched
partial          the release with the first half of the answer cells solved
deleted-tests    the solution with every test cell deleted, plus a cell that makes
                 every later cell write warnings to stderr
patched          the solution, but the commander answer is a do-nothing plan and
                 the kit and grader are monkeypatched in the kernel to report a
                 perfect score card
endless-loop     the solution with ``while True: pass`` as the first answer cell
                 (autograded in a second run, with a short cell timeout)
zipper42         the release, collected by ``nbgrader zip_collect`` from a zip file
                 (not graded)
===============  =================================================================
"""

from __future__ import annotations

import ast
import copy
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import nbformat
from nbformat.notebooknode import NotebookNode

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "course"
SOLUTIONS = REPO / "solutions"
LABS = REPO / "labs"
COURSE_ID = "cascade"
#: the one command that regenerates labs/ (INSTRUCTORS.md, `make labs`)
REGENERATE_COMMAND = "python course/generate_labs.py"

#: seconds one nbgrader command may take before it is killed (a guard against hangs)
NBGRADER_TIMEOUT_S = 1200
#: cell timeout for the endless-loop submission (the course config says 120 s)
LOOP_CELL_TIMEOUT_S = 20

#: generated or per-run files of course/ that a course copy leaves out
COURSE_RUNTIME = ("submitted", "autograded", "feedback", "release", "downloaded",
                  "gradebook.db", ".nbgrader.log", "__pycache__", "*.pyc", ".ipynb_checkpoints")

WRITTEN_ANSWER = "A written answer, for the grader to read."
NOISE_MARKER = "[pipeline test: noise hook ran]"


def _load_generator():
    """course/generate_labs.py as a module: one definition of what a lab is."""
    spec = importlib.util.spec_from_file_location("cascade_generate_labs", COURSE / "generate_labs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _load_generator()


def lab_ids(solutions: Path = SOLUTIONS) -> list[str]:
    """The labs present in ``solutions/`` (folders holding a notebook), sorted."""
    return generator.lab_ids(solutions)


# -- reading nbgrader metadata ----------------------------------------------------------

def meta(cell: NotebookNode) -> dict[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell: NotebookNode) -> str | None:
    return meta(cell).get("grade_id")


def is_answer(cell: NotebookNode) -> bool:
    """An autograded answer cell: code the learner writes, checked by test cells."""
    m = meta(cell)
    return cell.cell_type == "code" and bool(m.get("solution")) and not m.get("grade")


def is_test(cell: NotebookNode) -> bool:
    """A test cell: locked code with points, scored by whether it raises."""
    m = meta(cell)
    return cell.cell_type == "code" and bool(m.get("grade")) and not m.get("solution")


def is_manual(cell: NotebookNode) -> bool:
    """A manually graded answer (a written answer, usually markdown)."""
    m = meta(cell)
    return bool(m.get("grade")) and bool(m.get("solution"))


def is_commander(cell: NotebookNode) -> bool:
    """A cell of the incident-commander section: a grade id with the word "commander" or
    "plan" (``commander_plan``, ``test_plan_top``), or a test cell that replays a plan."""
    words = re.split(r"[^a-z0-9]+", (grade_id(cell) or "").lower())
    if "commander" in words or "plan" in words:
        return True
    return is_test(cell) and ("check_plan" in cell.source or "score_plan" in cell.source)


def notebook_names(lab_dir: Path) -> list[str]:
    return sorted(p.stem for p in lab_dir.glob("*.ipynb"))


def read_nb(path: Path) -> NotebookNode:
    return nbformat.read(str(path), as_version=4)


def errors_of(cell: NotebookNode) -> list[str]:
    """The error outputs of a code cell, as 'Name: value' lines."""
    return [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.get("outputs", [])
            if o.get("output_type") == "error"]


def text_of(cell: NotebookNode) -> str:
    """All stream and plain-text output of a code cell."""
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            parts.append(o.get("text", ""))
        elif "data" in o:
            parts.append(str(o["data"].get("text/plain", "")))
        elif o.get("output_type") == "error":
            parts.append(f"{o.get('ename')}: {o.get('evalue')}")
    return "".join(parts)


# -- building submissions ---------------------------------------------------------------

Lab = dict[str, NotebookNode]  # notebook name -> notebook


def fill_written_answers(nb: NotebookNode) -> NotebookNode:
    for cell in nb.cells:
        if is_manual(cell) and cell.cell_type == "markdown":
            cell.source = WRITTEN_ANSWER
    return nb


def solution_submission(source: Lab) -> Lab:
    return {name: fill_written_answers(copy.deepcopy(nb)) for name, nb in source.items()}


def answer_cells(lab: Lab) -> list[tuple[str, NotebookNode]]:
    """(notebook name, cell) of every answer cell, in notebook then cell order."""
    return [(name, cell) for name in sorted(lab) for cell in lab[name].cells if is_answer(cell)]


def partial_submission(source: Lab, release: Lab) -> tuple[Lab, list[str]]:
    """The release with the first half of the answer cells solved; returns the solved ids."""
    sub = {name: copy.deepcopy(nb) for name, nb in release.items()}
    answers = answer_cells(sub)
    if len(answers) < 2:
        raise AssertionError(
            f"the lab has {len(answers)} autograded answer cell(s); a partly solved submission "
            f"needs at least 2 (give answer cells nbgrader metadata solution=True, grade=False)"
        )
    solutions = {(name, grade_id(c)): c.source for name in source for c in source[name].cells
                 if is_answer(c)}
    solved = []
    for name, cell in answers[: len(answers) // 2]:
        cell.source = solutions[(name, grade_id(cell))]
        solved.append(grade_id(cell))
    return sub, solved


NOISE_CELL = f'''\
# Pipeline test: from here on every cell also writes warnings to stderr.
import sys, warnings
warnings.simplefilter("always")

def _noise(*args, **kwargs):
    print({NOISE_MARKER!r})
    print("some library: a warning printed on stderr", file=sys.stderr)
    warnings.warn("a DeprecationWarning from a library", DeprecationWarning)

get_ipython().events.register("pre_run_cell", _noise)
'''


def deleted_tests_submission(source: Lab) -> Lab:
    """The solution without any test cell, and a first cell that adds stderr noise."""
    sub = solution_submission(source)
    for nb in sub.values():
        nb.cells = [cell for cell in nb.cells if not is_test(cell)]
        nb.cells.insert(0, nbformat.v4.new_code_cell(NOISE_CELL))
        if nb.nbformat_minor < 5:
            del nb.cells[0]["id"]
    return sub


def endless_loop_submission(source: Lab) -> tuple[Lab, str]:
    """The solution whose first answer cell loops forever; returns that cell's grade id."""
    sub = solution_submission(source)
    answers = answer_cells(sub)
    if not answers:
        raise AssertionError("the lab has no autograded answer cell (solution=True, grade=False)")
    _, cell = answers[0]
    cell.source = "while True:\n    pass\n"
    return sub, grade_id(cell)


PATCH_CELL = '''\
# Pipeline test: a learner fakes a perfect commander score by patching the kit and
# the grader inside the notebook kernel, and submits a do-nothing plan.
import subprocess, types
import simkit, simkit.commander, simkit.commander.engine, simkit.grading, simkit.scenarios
from simkit.scenarios.base import ScoreCard

_PERFECT = dict(scenario="any", score=100.0, band="top", verdict="flawless", components=[])

def _perfect_card(*args, **kwargs):
    return ScoreCard(**_PERFECT)

def _perfect_dict(*args, **kwargs):
    return dict(_PERFECT, actions=[], refused=[])

simkit.commander.engine.score = _perfect_card
simkit.commander.score = _perfect_card
simkit.commander.engine.Incident.score_card = lambda self: _perfect_card()
for _name in simkit.scenarios.names():
    simkit.scenario(_name).score_card = lambda self: _perfect_card()
_grading = simkit.grading
for _name in ("score_plan", "check_plan", "check"):
    setattr(_grading, _name, _perfect_dict)
import simkit.grading.canonical as _canonical
_canonical.score_plan = _canonical.check_plan = _perfect_dict
subprocess.run = lambda *a, **k: subprocess.CompletedProcess(
    a, 0, stdout=__import__("json").dumps({"value": _perfect_dict()}) + "\\n", stderr="")

# ...and the name `grading` that the notebook's setup cell imported now means a fake
grading = types.SimpleNamespace(**{n: getattr(_grading, n) for n in dir(_grading)
                                   if not n.startswith("__")})
grading.check_plan = _perfect_dict
grading.score_plan = _perfect_dict
check = lambda *args, **kwargs: None

# the patches are live in this kernel:
assert simkit.commander.engine.score("anything").score == 100.0
assert simkit.grading.score_plan("anything", []).get("band") == "top"
print("kit and grader patched")
'''


PATCHES_EXPLAINED = """\
The 'patched' submission's answer cell (pipeline_helpers.PATCH_CELL), in the kernel:
  (1) replaced simkit.commander.engine.score, Incident.score_card and every scenario
      Model.score_card with functions returning a perfect card;
  (2) replaced simkit.grading's functions and subprocess.run with fakes returning a card;
  (3) rebound the notebook-level names `grading` and `check` to fakes.
Grading stays fair only if commander test cells never run in that kernel: the judge
(course/cascade_judge.py) runs them in the grading process, where only the value of PLAN
comes from the kernel, as data."""


def plan_names(source_code: str) -> list[str]:
    """Top-level names assigned in ``source_code`` whose name contains PLAN."""
    names = []
    for node in ast.parse(source_code).body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        for target in targets:
            if isinstance(target, ast.Name) and "PLAN" in target.id.upper():
                names.append(target.id)
    return names


def patched_submission(source: Lab) -> tuple[Lab, list[str], list[str]]:
    """The solution with a monkeypatching, do-nothing commander answer.

    Returns the submission, the grade ids of the commander answer cells it changed and
    the grade ids of the commander test cells (which must score nothing).
    """
    sub = solution_submission(source)
    targets = [(name, cell) for name, cell in answer_cells(sub) if is_commander(cell)]
    if not targets:
        raise AssertionError(
            "no commander answer cell found: the incident-commander plan should be an answer "
            "cell (solution=True, grade=False) whose grade_id contains 'commander' or 'plan'"
        )
    changed = []
    for i, (name, cell) in enumerate(targets):
        names = plan_names(cell.source)
        if not names:
            raise AssertionError(
                f"commander answer cell {grade_id(cell)!r} assigns no variable named like PLAN; "
                f"the learner's plan should be written as PLAN = [(minute, \"action\"), ...]"
            )
        empty = "".join(f"{n} = []\n" for n in names)
        cell.source = (PATCH_CELL if i == 0 else "") + empty
        changed.append(grade_id(cell))
    tests = [grade_id(c) for nb in sub.values() for c in nb.cells if is_test(c) and is_commander(c)]
    if not tests:
        raise AssertionError(
            "no commander test cell found: its grade_id should contain 'commander' or 'plan', "
            "or it should call grading.check_plan"
        )
    return sub, changed, tests


def write_submission(course: Path, student: str, lab: str, notebooks: Lab) -> None:
    folder = course / "submitted" / student / lab
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, str(folder / f"{name}.ipynb"))


# -- running nbgrader -------------------------------------------------------------------

def make_course_copy(dest: Path, labs: list[str]) -> Path:
    """Copy course/ (without grading data) and solutions/<lab> into ``dest``; return the course."""
    unsafe = set(str(dest)) & set("()[]{}?*+|^$\\")
    assert not unsafe, f"nbgrader cannot work under {dest} (characters {sorted(unsafe)})"
    course = dest / "course"
    shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns(*COURSE_RUNTIME))
    for lab in labs:
        shutil.copytree(SOLUTIONS / lab, dest / "solutions" / lab,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    (dest / "labs").mkdir()
    return course


@dataclass
class Step:
    """One nbgrader command that was run, for assertions and messages."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def tail(self, n: int = 3000) -> str:
        return f"$ nbgrader {' '.join(self.args)}  (exit {self.returncode})\n{self.stderr[-n:]}"


def run_nbgrader(course: Path, *args: str, timeout: float = NBGRADER_TIMEOUT_S) -> Step:
    """Run ``python -m nbgrader *args`` in ``course`` with an isolated Jupyter config.

    A run that outlives ``timeout`` is killed with its kernels (its process group) and
    reported as exit code -9, so a hang fails the test instead of blocking it.
    """
    env = generator.nbgrader_env()
    scratch = course.parent / ".jupyter-test"
    env["JUPYTER_CONFIG_DIR"] = str(scratch / "config")  # no user nbgrader_config.py
    env["IPYTHONDIR"] = str(scratch / "ipython")  # no user startup scripts in kernels
    start = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        code = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        code = -9
        stderr += f"\n[killed after {timeout:.0f} s]"
    return Step(list(args), code, stdout, stderr, time.monotonic() - start)


# -- reading results --------------------------------------------------------------------

@dataclass
class CellGrade:
    notebook: str
    name: str
    score: float
    max_score: float
    auto_score: float | None
    needs_manual_grade: bool
    manual: bool


def read_grades(course: Path, lab: str, student: str) -> list[CellGrade]:
    """Every graded cell of ``student``'s submission of ``lab``, from the gradebook."""
    from nbgrader.api import Gradebook

    grades = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        submission = gb.find_submission(lab, student)
        for nb in submission.notebooks:
            manual = {cell.name for cell in nb.notebook.solution_cells}
            for g in nb.grades:
                grades.append(CellGrade(nb.name, g.name, float(g.score), float(g.max_score),
                                        None if g.auto_score is None else float(g.auto_score),
                                        bool(g.needs_manual_grade), g.name in manual))
    return grades


def total(grades: list[CellGrade], *, autograded_only: bool = True) -> tuple[float, float]:
    """(score, max score) over the autograded cells (or all cells)."""
    chosen = [g for g in grades if not (autograded_only and g.manual)]
    return sum(g.score for g in chosen), sum(g.max_score for g in chosen)


def describe(grades: list[CellGrade]) -> str:
    return "\n".join(f"  {g.notebook}/{g.name}: {g.score:g}/{g.max_score:g}"
                     f"{' (manual)' if g.manual else ''}" for g in grades)


def grading_status(run: "PipelineRun", student: str) -> dict[str, Any]:
    """The judge's status file of ``student``'s submission (course/cascade_status.py)."""
    import json

    path = run.course / "autograded" / student / f"{run.lab}.cascade-grading.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def hidden_test_lines(source: Lab, release: Lab) -> list[str]:
    """Distinctive lines of the source's hidden tests (stripped, absent from the release)."""
    released = "\n".join(c.source for nb in release.values() for c in nb.cells)
    lines = []
    for nb in source.values():
        for cell in nb.cells:
            inside = False
            for line in cell.source.splitlines():
                if "BEGIN HIDDEN TESTS" in line:
                    inside = True
                elif "END HIDDEN TESTS" in line:
                    inside = False
                elif inside and len(line.strip()) >= 25 and line.strip() not in released:
                    lines.append(line.strip())
    return lines


def html_text(html: str) -> str:
    """The visible text of an HTML page (tags, styles and scripts removed, entities decoded)."""
    import html as html_module

    html = re.sub(r"<(style|script)\b.*?</\1>", "", html, flags=re.S)
    return html_module.unescape(re.sub(r"<[^>]+>", "", html))


# -- the whole pipeline -----------------------------------------------------------------

@dataclass
class PipelineRun:
    """Everything one lab's pipeline run produced, for the tests to check."""

    lab: str
    course: Path
    source: Lab
    release: Lab = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def autograded(self, student: str) -> Lab:
        folder = self.course / "autograded" / student / self.lab
        return {p.stem: read_nb(p) for p in sorted(folder.glob("*.ipynb"))}

    def grades(self, student: str) -> list[CellGrade]:
        return read_grades(self.course, self.lab, student)

    def log(self) -> str:
        return "\n\n".join(step.tail() for step in self.steps.values())

    def durations(self) -> str:
        return ", ".join(f"{name} {step.seconds:.0f} s" for name, step in self.steps.items())


def run_pipeline(lab: str, workdir: Path) -> PipelineRun:
    """Generate ``lab`` in a course copy, autograde every kind of submission, give feedback."""
    course = make_course_copy(workdir, [lab])
    source_dir = workdir / "solutions" / lab
    run = PipelineRun(lab, course, {n: read_nb(source_dir / f"{n}.ipynb")
                                    for n in notebook_names(source_dir)})

    run.steps["generate"] = step = run_nbgrader(course, "generate_assignment", lab, "--force")
    release_dir = workdir / "labs" / lab
    if step.returncode != 0 or not any(release_dir.glob("*.ipynb")):
        raise AssertionError(f"generate_assignment failed for {lab}:\n{step.tail()}")
    run.release = {n: read_nb(release_dir / f"{n}.ipynb") for n in notebook_names(release_dir)}

    builders: dict[str, Callable[[], Lab]] = {
        "solution": lambda: solution_submission(run.source),
        "blank": lambda: {n: copy.deepcopy(nb) for n, nb in run.release.items()},
        "deleted-tests": lambda: deleted_tests_submission(run.source),
    }
    partial, run.facts["partial_solved"] = partial_submission(run.source, run.release)
    patched, run.facts["patched_cells"], run.facts["commander_tests"] = patched_submission(run.source)
    loop, run.facts["loop_cell"] = endless_loop_submission(run.source)
    for student, build in builders.items():
        write_submission(course, student, lab, build())
    write_submission(course, "partial", lab, partial)
    write_submission(course, "patched", lab, patched)

    # one autograde run for all these submissions: kernels start once per notebook anyway,
    # but nbgrader itself takes seconds to start
    run.steps["autograde"] = run_nbgrader(course, "autograde", lab, "--force")
    write_submission(course, "endless-loop", lab, loop)
    run.steps["autograde-loop"] = run_nbgrader(
        course, "autograde", lab, "--force", "--student=endless-loop",
        f"--Execute.timeout={LOOP_CELL_TIMEOUT_S}",
        f"--ExecutePreprocessor.timeout={LOOP_CELL_TIMEOUT_S}",
    )
    run.steps["feedback"] = run_nbgrader(course, "generate_feedback", lab, "--force")
    return run


def zip_collect(run: PipelineRun, student: str = "zipper42") -> Step:
    """Put a zip of ``<student>_<notebook>.ipynb`` files where zip_collect looks; run it."""
    archive = run.course / "downloaded" / run.lab / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "lms-download.zip", "w") as z:
        for name, nb in run.release.items():
            z.writestr(f"submissions/{student}_{name}.ipynb", nbformat.writes(nb))
    return run_nbgrader(run.course, "zip_collect", run.lab, "--force")


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)

