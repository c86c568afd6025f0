"""One test cell, two places, one verdict: the judge agrees with running the cell in the kernel.

Lab 0's source notebook (hidden tests included) is run in real kernels two ways: every
cell in the kernel (as in a learner's JupyterLab), and answer cells in the kernel with
test cells in the judge (as in ``nbgrader autograde``). On the solution, the blank
release, a partly solved lab and a lab full of plausible mistakes, every test cell
must pass or fail the same way. The wrong lab is also graded through the nbgrader
pipeline, which must give the same per-cell verdicts.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest

import pipeline_helpers as ph
from judge_helpers import KernelTransport, run_in_kernel, run_judged

pytestmark = pytest.mark.slow

LAB = "lab0-overload"

#: plausible mistakes, by answer cell
MISTAKES = {
    "utilisation": "def utilisation(arrival_rps, workers, mean_service_s):\n    return arrival_rps * mean_service_s\n",
    "max_amplification": "def max_amplification(max_retries, layers=1):\n    return (max_retries + 1) * layers\n",
    "token_bucket_budget": (
        "class TokenBucketBudget:\n"
        "    def __init__(self, ratio=0.1, max_tokens=10.0):\n"
        "        self.ratio, self.max_tokens, self.tokens = ratio, max_tokens, max_tokens\n"
        "    def on_success(self):\n"
        "        self.tokens = min(self.max_tokens, self.tokens) + self.ratio   # caps before depositing\n"
        "    def try_spend(self):\n"
        "        if self.tokens >= 1.0:\n"
        "            self.tokens -= 1.0\n"
        "            return True\n"
        "        return False\n"),
    "reproduce_answers": "AMPLIFICATION_AFTER_SPIKE = 2.0\nGOODPUT_SHARE_AFTER_SPIKE = 0.5\n",
    "commander_plan": "PLAN = []\n",
}


def _variant(name: str) -> ph.NotebookNode:
    source = ph.read_nb(ph.SOLUTIONS / LAB / f"{LAB}.ipynb")
    release = {ph.grade_id(c): c.source for c in ph.read_nb(ph.LABS / LAB / f"{LAB}.ipynb").cells}
    nb = copy.deepcopy(source)
    answers = [c for c in nb.cells if ph.is_answer(c)]
    if name == "blank":
        for cell in answers:
            cell.source = release[ph.grade_id(cell)]
    elif name == "partial":
        for cell in answers[len(answers) // 2:]:
            cell.source = release[ph.grade_id(cell)]
    elif name == "wrong":
        for cell in answers:
            cell.source = MISTAKES.get(ph.grade_id(cell), cell.source)
    return nb


def _verdicts(nb, judged: bool, workdir: Path) -> list[tuple[str, bool]]:
    kernel = KernelTransport(cwd=str(workdir))
    try:
        verdicts = run_judged(nb, kernel) if judged else run_in_kernel(nb, kernel)
    finally:
        kernel.close()
    return [(v.grade_id, v.passed) for v in verdicts]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("same-verdict")
    shutil.copytree(ph.SOLUTIONS / LAB, folder / LAB)
    return folder / LAB


@pytest.fixture(scope="module")
def kernel_verdicts(workdir: Path) -> dict[str, list[tuple[str, bool]]]:
    return {name: _verdicts(_variant(name), False, workdir) for name in ("solution", "blank", "partial", "wrong")}


@pytest.mark.parametrize("variant", ["solution", "blank", "partial", "wrong"])
def test_judge_and_kernel_agree(variant: str, workdir: Path, kernel_verdicts) -> None:
    in_kernel = kernel_verdicts[variant]
    judged = _verdicts(_variant(variant), True, workdir)
    assert judged == in_kernel, (
        f"{variant}: the judge and the kernel disagree on "
        f"{[(j, k) for j, k in zip(judged, in_kernel) if j != k]}")
    passed = [gid for gid, ok in in_kernel if ok]
    if variant == "solution":
        assert len(passed) == len(in_kernel)
    elif variant == "blank":
        assert not passed
    else:
        assert 0 < len(passed) < len(in_kernel)
    if variant == "wrong":
        failed = {gid for gid, ok in in_kernel if not ok}
        assert {"test_utilisation", "test_max_amplification", "test_token_bucket_budget", "test_reproduce",
                "test_plan_low"} <= failed


def test_the_nbgrader_pipeline_agrees_too(tmp_path: Path, kernel_verdicts, grading_sandbox) -> None:
    course = ph.make_course_copy(tmp_path, [LAB])
    step = ph.run_nbgrader(course, "generate_assignment", LAB, "--force")
    assert step.returncode == 0, step.tail()
    ph.write_submission(course, "wrong", LAB, {LAB: _variant("wrong")})
    step = ph.run_nbgrader(course, "autograde", LAB, "--force")
    assert step.returncode == 0, step.tail()
    grades = {g.name: g.score == g.max_score for g in ph.read_grades(course, LAB, "wrong") if not g.manual}
    assert grades == dict(kernel_verdicts["wrong"])
