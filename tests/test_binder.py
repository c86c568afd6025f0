"""The Binder configuration builds a working course: the self-paced path without a local install.

A BinderHub (repo2docker) installs ``binder/requirements.txt`` from the repository's root
with the Python of ``binder/runtime.txt``. This test does the same in a fresh virtual
environment made from a clean copy of the tracked files, then runs lab 0's solution
notebook in it with that environment's own Jupyter, and checks no cell failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def test_binder_files_follow_repo2docker_conventions():
    runtime = (REPO / "binder" / "runtime.txt").read_text().strip()
    assert runtime.startswith("python-3."), runtime
    major_minor = tuple(int(x) for x in runtime.removeprefix("python-").split("."))
    assert major_minor >= (3, 10), "the kit needs Python 3.10 or newer"
    requirements = [line.strip() for line in (REPO / "binder" / "requirements.txt").read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
    assert requirements == ["."], "binder/requirements.txt should install the repository itself"


def test_a_fresh_environment_built_from_binder_runs_lab0(tmp_path):
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    copy = tmp_path / "repo"
    for name in filter(None, tracked.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    venv = tmp_path / "binder-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r",
                          "binder/requirements.txt"], cwd=copy, env=env, capture_output=True, text=True,
                         timeout=1500)
    assert pip.returncode == 0, pip.stderr[-3000:]
    notebook = copy / "solutions" / "lab0-overload" / "lab0-overload.ipynb"
    executed = tmp_path / "lab0-executed.ipynb"
    run = subprocess.run(
        [str(venv / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=300", "--ExecutePreprocessor.kernel_name=python3",
         "--output", str(executed), str(notebook)],
        cwd=notebook.parent, env={**env, "PATH": f"{venv / 'bin'}:{env.get('PATH', '')}"},
        capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-3000:]
    cells = json.loads(executed.read_text())["cells"]
    errors = [out for cell in cells for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors, errors[:1]
    assert sum(1 for cell in cells if cell.get("outputs")) > 10
