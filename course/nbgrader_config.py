"""nbgrader configuration of the Cascade course.

Run nbgrader commands *in this folder* (``cd course``): nbgrader reads the
``nbgrader_config.py`` of the current directory. All paths below are absolute and
built from this file's own location, so the checkout can live anywhere.

Layout (see ``INSTRUCTORS.md``)::

    solutions/<lab>/<lab>.ipynb    source notebooks, with solutions and hidden tests
    labs/<lab>/<lab>.ipynb         what learners get (generated, committed)
    course/submitted/ autograded/ feedback/ gradebook.db   grading work (git-ignored)
"""

import functools
import sys
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute, GetGrades

COURSE = Path(__file__).resolve().parent  # .../course
REPO = COURSE.parent

if str(COURSE) not in sys.path:  # this process only; the grading kernel is not affected
    sys.path.insert(0, str(COURSE))
from cascade_feedback import CleanFeedback  # noqa: E402
from cascade_judge import JudgedExecute  # noqa: E402
from cascade_rebuild import RebuildFromSource  # noqa: E402
from cascade_status import start_submission  # noqa: E402

c = get_config()  # noqa: F821 -- provided by traitlets when it loads this file

# -- where things are ------------------------------------------------------------------
c.CourseDirectory.course_id = "cascade"
c.CourseDirectory.root = str(COURSE)
# nbgrader joins root with these; an absolute path replaces root, so `generate_assignment
# <lab>` reads ../solutions/<lab>/ and writes ../labs/<lab>/. submitted/, autograded/,
# feedback/ and gradebook.db keep their default names under course/.
SOURCE = REPO / "solutions"
RELEASE = REPO / "labs"
c.CourseDirectory.source_directory = str(SOURCE)
c.CourseDirectory.release_directory = str(RELEASE)

# nbgrader 0.9.5 builds regular expressions and glob patterns from these absolute paths
# without escaping them: a checkout under a folder named with one of these characters
# cannot work. (traitlets only logs errors raised in a config file, so print it plainly.)
_UNSAFE = sorted(set(str(REPO)) & set("()[]{}?*+|^$\\"))
if _UNSAFE:
    print(
        f"[course/nbgrader_config.py] ERROR: the checkout path {str(REPO)!r} contains "
        f"{' '.join(_UNSAFE)}; nbgrader cannot find notebooks under it. Move the repository.",
        file=sys.stderr,
    )

# -- executing submissions --------------------------------------------------------------
# Every submission runs in the sandboxed kernel `cascade-sandbox` (sandbox_kernel.py, under
# Debian's bubblewrap: no network, nothing of the host but the Python environment, the kit
# and the submission's own data files, writes thrown away, bounded memory, processes and
# CPU; INSTRUCTORS.md section 5 lists exactly what it guarantees). `make venv` installs its
# kernelspec into the venv. That kernel has no network, so nbgrader talks to it over Unix
# sockets in a private folder: SandboxKernelManager. Setting Execute covers every subclass
# of nbgrader's Execute step. (nbgrader validate, run in course/, uses the sandbox too.)
from sandbox_manager import SandboxKernelManager  # noqa: E402

c.Execute.kernel_name = "cascade-sandbox"
c.Execute.kernel_manager_class = SandboxKernelManager
# A cell may run at most this long; an infinite loop is interrupted, the cell gets a
# CellTimeoutError output (so it scores zero) and the rest of the notebook still runs.
# nbgrader's Execute subclasses nbconvert's ExecutePreprocessor: set both, so the value
# holds whichever section a reader (or an older nbgrader) looks at.
CELL_TIMEOUT_S = 120
c.Execute.timeout = CELL_TIMEOUT_S
c.ExecutePreprocessor.timeout = CELL_TIMEOUT_S
c.Execute.interrupt_on_timeout = True
c.Execute.error_on_timeout = {
    "ename": "CellTimeoutError",
    "evalue": f"stopped after {CELL_TIMEOUT_S} s",
    "traceback": [
        f"CellTimeoutError: this cell was still running after {CELL_TIMEOUT_S} seconds and "
        "was stopped by the grader (an endless loop, or far too much work for one cell?)"
    ],
}
# After an interrupt the kernel needs a moment to report the KeyboardInterrupt; the
# default 4 s can be too short on a busy grading machine, and running out of it makes
# nbgrader abandon the whole submission.
c.Execute.iopub_timeout = 30
c.Execute.startup_timeout = 120
# (Execute.allow_errors is fixed to True by nbgrader: a failing cell never stops the run.)

# -- judging test cells outside the kernel (cascade_judge.py) ------------------------------
# JudgedExecute replaces nbgrader's Execute (and takes every c.Execute setting above): answer
# and locked cells run in the kernel; test cells run in this process on values fetched from
# the kernel as data, so nothing in the notebook can change a verdict; a cell that ignores
# the interrupt, or kills its kernel, costs only itself (kernel restarted, earlier cells
# rerun). Canonical kit runs are cached in course/.cascade-cache/ (git-ignored; keep it
# out of the sandbox).
c.Autograde.autograde_preprocessors = [
    JudgedExecute if step is Execute else step
    for step in Autograde.class_traits()["autograde_preprocessors"].default()
]
c.JudgedExecute.setup_cell_ids = ["setup"]
c.JudgedExecute.interrupt_grace_s = 10

# -- sanitising submissions -------------------------------------------------------------
# Every submission is first rebuilt on the source notebook's cells (cascade_rebuild.py):
# the lab's own markdown, locked and test cells in the lab's order (deleted, duplicated or
# retyped ones restored), the learner's answers matched by grade id (the last copy of a
# duplicated answer is graded), cells the learner added kept as ungraded cells. The repairs
# go to autograded/<student>/<lab>/.cascade-grading.json (cascade_status.py). nbgrader's
# own steps then run as usual; with nothing missing after the rebuild, OverwriteCells'
# add_missing_cells (whose 0.9.5/0.9.6 placement crashes after a locked cell) has no work.
c.RebuildFromSource.source_notebook = str(SOURCE / "{assignment_id}" / "{notebook_id}.ipynb")
c.Autograde.sanitize_preprocessors = [RebuildFromSource] + [
    step for step in Autograde.class_traits()["sanitize_preprocessors"].default()
]
c.OverwriteCells.add_missing_cells = True
# Each submission's grading status (graded, or ungraded with the reason) is written beside
# its autograded folder, as autograded/<student>/<lab>.cascade-grading.json: started here,
# completed by the rebuild and the executor. Read it for the class summary.
c.Autograde.pre_convert_hook = functools.partial(start_submission, autograded_dir=str(COURSE / "autograded"))

# -- grading ------------------------------------------------------------------------------
# nbgrader 0.9.5 gives a test cell zero points as soon as it wrote anything to stderr
# (nbgrader.utils.determine_grade), even if every assertion passed: a DeprecationWarning
# from a library, matplotlib's "building the font cache" notice on a fresh machine or a
# logging line would cost a correct answer its points. A failing Python test always
# leaves an *error* output, which still scores zero, so stderr text is only noise: the
# built-in IgnorePattern step (after execution, before grades are saved) drops it.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"[\s\S]"  # any stderr text at all

# -- feedback (cascade_feedback.py) --------------------------------------------------------
# Feedback shows each test cell's visible lines and the judge's verdict, never the hidden
# tests (removed) nor the outputs of the learner's own cells (their kernel saw hidden
# inputs while it answered the judge).
c.GenerateFeedback.preprocessors = [GetGrades, CleanFeedback, CSSHTMLHeaderPreprocessor]

# -- collecting from an LMS (`nbgrader zip_collect <lab>`) --------------------------------
# Files in course/downloaded/<lab>/archive/ named "<student_id>_<notebook>.ipynb", e.g.
# "jdoe42_lab0-overload.ipynb" (zip files of such files are unpacked first). For another
# naming scheme pass --FileNameCollectorPlugin.named_regexp=... (INSTRUCTORS.md has the
# Canvas one).
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[^/_]+)_(?P<file_id>[^/]+\.ipynb)$"
)

# -- exporting grades (`nbgrader export`, `make grades`) ----------------------------------
# nbgrader's CSV, plus each submission's status: a submission that could not be graded is
# exported as "ungraded" with the reason and an empty score, not as 0 (grade_export.py).
from grade_export import CascadeCsvExport  # noqa: E402

c.ExportApp.plugin_class = CascadeCsvExport

# -- exchange (JupyterHub) ----------------------------------------------------------------
# Exchange.root is left at nbgrader's default (/srv/nbgrader/exchange); a hub that uses
# another shared folder sets it in the system-wide nbgrader_config.py (INSTRUCTORS.md).
