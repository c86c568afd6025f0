"""A tiny synthetic lab in a throwaway copy of the course, for grading-machinery tests.

The real labs take 10-40 s per submission; the sandbox, the screen and ``make grade`` are
about *how* a submission is run, so their tests use a lab of two answer cells that grades
in a second or two, with the course's own ``nbgrader_config.py`` (sandboxed kernel and
all) and test cells that call the kit's grader, as the real labs do:

========================  ======  ====================================================
cell (grade id)           points  content
========================  ======  ====================================================
``setup``                 locked  ``from simkit import grading``; reads ``factor.txt``
``double``                answer  ``def double(x)``
``test_double``           2       visible and hidden checks of ``double``
``triple``                answer  ``def triple(x)``
``test_triple``           2       visible and hidden checks of ``triple``
``essay``                 1       a written answer (manually graded)
========================  ======  ====================================================

``factor.txt``, a data file beside the notebook, holds the 2 of ``double``: the setup cell
reads it, so a sandbox that hid a submission's own data files would cost honest students
their points.
"""

from __future__ import annotations

import copy
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "course"
LAB = "tiny"
COURSE_ID = "cascade"
RUNTIME = ("submitted", "autograded", "feedback", "release", "downloaded", "grading", "gradebook.db",
           "gradebook.db-journal", ".nbgrader.log", "__pycache__", "*.pyc", ".ipynb_checkpoints",
           "*.csv", "exchange")

ANSWERS = {
    "double": "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n",
    "triple": "def triple(x):\n    ### BEGIN SOLUTION\n    return 3 * x\n    ### END SOLUTION\n",
}
TESTS = {
    "test_double": ('grading.check_close("double(2)", double(2), 2 * FACTOR, rel=1e-9)\n'
                    "### BEGIN HIDDEN TESTS\n"
                    'grading.check_close("double(21)", double(21), 42, rel=1e-9)\n'
                    "### END HIDDEN TESTS\n"),
    "test_triple": ('grading.check_close("triple(2)", triple(2), 6, rel=1e-9)\n'
                    "### BEGIN HIDDEN TESTS\n"
                    'grading.check_close("triple(7)", triple(7), 21, rel=1e-9)\n'
                    "### END HIDDEN TESTS\n"),
}
POINTS = {"test_double": 2, "test_triple": 2}
AUTOGRADED_MAX = 4


def _cell(kind: str, grade_id: str, source: str, **nbgrader) -> NotebookNode:
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, "grade": False,
                                 "solution": False, "locked": False, **nbgrader}
    return cell


def source_notebook() -> NotebookNode:
    """The lab's source notebook (solutions and hidden tests)."""
    cells = [
        _cell("markdown", "intro", "# Tiny lab\nTwo small functions.", locked=True),
        _cell("code", "setup", 'from simkit import grading\nFACTOR = int(open("factor.txt").read())',
              locked=True),
        _cell("code", "double", ANSWERS["double"], solution=True),
        _cell("code", "test_double", TESTS["test_double"], grade=True, locked=True, points=2),
        _cell("code", "triple", ANSWERS["triple"], solution=True),
        _cell("code", "test_triple", TESTS["test_triple"], grade=True, locked=True, points=2),
        _cell("markdown", "essay", "YOUR ANSWER HERE", solution=True, grade=True, points=1),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@dataclass
class TinyCourse:
    """A course copy holding the tiny lab, generated and ready for submissions."""

    root: Path  # the folder holding course/, solutions/, labs/

    @property
    def course(self) -> Path:
        return self.root / "course"

    @property
    def release(self) -> NotebookNode:
        return nbformat.read(str(self.root / "labs" / LAB / f"{LAB}.ipynb"), as_version=4)

    def submit(self, student: str, nb: NotebookNode) -> Path:
        folder = self.course / "submitted" / student / LAB
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{LAB}.ipynb"
        nbformat.write(nb, str(path))
        return path

    def nbgrader(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return run(self.course, [sys.executable, "-m", "nbgrader", *args], timeout)

    def grades(self, student: str) -> dict[str, tuple[float, float | None]]:
        """grade id -> (score, manual score) of ``student``'s submission."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.course / 'gradebook.db'}", COURSE_ID) as gb:
            sub = gb.find_submission(LAB, student)
            return {g.name: (float(g.score), g.manual_score) for nb in sub.notebooks for g in nb.grades}

    def autograded_score(self, student: str) -> float:
        return sum(score for name, (score, _) in self.grades(student).items() if name in POINTS)


def make(root: Path) -> TinyCourse:
    """Copy course/ (without grading data) into ``root`` with the tiny lab; generate it."""
    shutil.copytree(COURSE, root / "course", ignore=shutil.ignore_patterns(*RUNTIME))
    (root / "solutions" / LAB).mkdir(parents=True)
    (root / "labs").mkdir()
    nbformat.write(source_notebook(), str(root / "solutions" / LAB / f"{LAB}.ipynb"))
    (root / "solutions" / LAB / "factor.txt").write_text("2\n")
    tiny = TinyCourse(root)
    done = tiny.nbgrader("generate_assignment", LAB, "--force")
    assert done.returncode == 0, done.stderr[-3000:]
    return tiny


def copy_course_with(root: Path, lab: str) -> Path:
    """A course copy in ``root`` holding one of the real labs of solutions/, generated."""
    shutil.copytree(COURSE, root / "course", ignore=shutil.ignore_patterns(*RUNTIME))
    shutil.copytree(REPO / "solutions" / lab, root / "solutions" / lab,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    (root / "labs").mkdir()
    done = run(root / "course", [sys.executable, "-m", "nbgrader", "generate_assignment", lab,
                                 "--force"], timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return root / "course"


def with_answers(release: NotebookNode, **sources: str) -> NotebookNode:
    """The release with the given answer cells (by grade id) replaced."""
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in sources:
            cell.source = sources[grade_id]
    return nb


def solved(release: NotebookNode, *grade_ids: str) -> NotebookNode:
    """The release with the named answers solved (default: all)."""
    chosen = grade_ids or tuple(ANSWERS)
    return with_answers(release, **{g: ANSWERS[g].replace("### BEGIN SOLUTION\n", "")
                                    .replace("    ### END SOLUTION\n", "") for g in chosen})


def require_sandbox() -> None:
    """Skip (or, under CI, fail) when the grading sandbox cannot run on this machine."""
    import pytest

    missing = [tool for tool in ("bwrap", "setpriv", "prlimit") if shutil.which(tool) is None]
    message = f"{', '.join(missing)} not installed (apt-get install bubblewrap util-linux)"
    spec = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "cascade-sandbox" / "kernel.json"
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the grading sandbox cannot run: {message}")
        pytest.skip(message)
    if not spec.exists():
        pytest.fail("the cascade-sandbox kernelspec is not installed: make venv "
                    "(or python course/sandbox_kernel.py install)")


def env() -> dict[str, str]:
    """nbgrader's environment: this venv first on PATH; no user Jupyter config."""
    environ = dict(os.environ)
    environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environ.get("PATH", "")])
    return environ


def run(cwd: Path, command: list[str], timeout: float, **extra_env: str) -> subprocess.CompletedProcess:
    """Run ``command`` in ``cwd``; kill its whole process group if it outlives ``timeout``."""
    scratch = cwd / ".jupyter-test"
    environ = env()
    environ["JUPYTER_CONFIG_DIR"] = str(scratch / "config")
    environ["IPYTHONDIR"] = str(scratch / "ipython")
    environ.update(extra_env)
    process = subprocess.Popen(command, cwd=cwd, env=environ, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    start = time.monotonic()
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        err += f"\n[killed after {time.monotonic() - start:.0f} s]"
    return subprocess.CompletedProcess(command, process.returncode, out, err)
