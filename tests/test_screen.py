"""The answer-cell screen (course/screen.py, course/screen_rules.py).

It must flag none of the untouched releases and none of the solutions' answers (the
grep it replaces matched every release 22-32 times), and flag each trick.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import nbformat
import pytest

import pipeline_helpers as ph

sys.path.insert(0, str(ph.COURSE))
import screen  # noqa: E402
from screen_rules import RULES  # noqa: E402


@pytest.fixture(scope="module")
def releases() -> dict[str, screen.Release]:
    return {lab: screen.Release.read(ph.LABS / lab) for lab in ph.lab_ids()}


def _findings(nb, release: screen.Release, tmp_path: Path, name: str = "sub") -> list[screen.Finding]:
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    return screen.screen_notebook(path, release)


def _release_nb(lab: str):
    return nbformat.read(str(ph.LABS / lab / f"{lab}.ipynb"), as_version=4)


def _with_answer(lab: str, grade_id: str, source: str):
    nb = _release_nb(lab)
    for cell in nb.cells:
        if ph.grade_id(cell) == grade_id:
            cell.source = source
            return nb
    raise AssertionError(f"{lab} has no cell {grade_id}")


def test_untouched_releases_are_not_flagged(lab_id: str, releases, tmp_path: Path) -> None:
    findings = _findings(_release_nb(lab_id), releases[lab_id], tmp_path)
    assert findings == [], f"the untouched release of {lab_id} was flagged: {findings}"


def test_the_solutions_answers_are_not_flagged(lab_id: str, releases, tmp_path: Path) -> None:
    source = ph.read_nb(ph.SOLUTIONS / lab_id / f"{lab_id}.ipynb")
    answers = {ph.grade_id(c): c.source for c in source.cells if ph.is_answer(c) or ph.is_manual(c)}
    learner = _release_nb(lab_id)  # what a learner who solved everything hands in
    for cell in learner.cells:
        if ph.grade_id(cell) in answers:
            cell.source = answers[ph.grade_id(cell)]
    findings = _findings(learner, releases[lab_id], tmp_path)
    assert findings == [], f"solution answers of {lab_id} were flagged: {findings}"
    # the source notebook itself, as the pipeline tests submit it (hidden tests included)
    assert _findings(source, releases[lab_id], tmp_path, "source") == []


LAB0_TRICKS = {
    "exec('print(1)')": "dynamic-code",
    "e = eval\nx = e('1 + 1')": "dynamic-code",
    "code = compile('1', 'x', 'eval')": "dynamic-code",
    "__import__('o' + 's').system('id')": "dynamic-code",
    "import runpy": "dynamic-code",
    "import base64\nx = base64.b64decode(b'cHJpbnQoMSk=')": "encoded-payload",
    "x = bytes.fromhex('7072696e74283129')": "encoded-payload",
    "PAYLOAD = '696d706f7274206f733b206f732e73797374656d28276c732729'": "encoded-payload",
    "PAYLOAD = 'aW1wb3J0IG9zOyBvcy5zeXN0ZW0oJ2xzJyk7IHByaW50KCJoZWxsbyIpCg=='": "encoded-payload",
    "name = '\\x65\\x78\\x65\\x63'": "encoded-payload",
    "name = ''.join(map(chr, [101, 120, 101, 99]))": "encoded-payload",
    "import codecs\nx = codecs.decode('cevag', 'rot13')": "encoded-payload",
    "get_ipython().input_transformers_cleanup.append(lambda lines: [])": "ipython",
    "ip = get_ipython()\nip.set_custom_exc((Exception,), lambda *a, **k: None)": "ipython",
    "%load_ext cheat": "ipython",
    "!cat /etc/passwd": "ipython",
    "%%bash\nrm -rf ~": "ipython",
    "exit()": "ipython",
    "old = In[-2]": "ipython",
    "import importlib.util\nspec = importlib.util.find_spec('simkit.grading')": "import-machinery",
    "import sys\nsys.modules['simkit.grading'] = None": "import-machinery",
    "import sys\nsys.path.insert(0, '/tmp')": "import-machinery",
    "import sqlite3\ndb = sqlite3.connect('gradebook.db')": "database",
    "path = '../../gradebook.db'": "database",
    "import ctypes": "native-code",
    "import resource": "native-code",
    "import os\nos.system('id')": "process-signal-network",
    "import os\nos._exit(0)": "process-signal-network",
    "from os import kill": "process-signal-network",
    "import subprocess\nsubprocess.run(['id'])": "process-signal-network",
    "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)": "process-signal-network",
    "import threading": "process-signal-network",
    "import socket": "process-signal-network",
    "with open('/tmp/x', 'w') as f:\n    f.write('1')": "file-write",
    "mode = 'a'\nf = open('x', mode)": "file-write",
    "from pathlib import Path\nPath('x').write_text('1')": "file-write",
    "import shutil": "file-write",
    "np.save('x.npy', np.zeros(3))": "file-write",
    "grading.check_close = lambda *a, **k: None": "kit-patch",
    "simkit.run = lambda *a, **k: None": "kit-patch",
    "np.isclose = lambda *a, **k: True": "kit-patch",
    "import math\nmath.inf = 0": "kit-patch",
    "from simkit.policies import RetryBudget as TokenBucketBudget": "kit-internals",
    "x = grading._call_worker": "kit-internals",
    "import simkit.grading.worker": "kit-internals",
    "class Cheat(float):\n    def __eq__(self, other):\n        return True": "interpreter-internals",
    "def abs(x):\n    return 0": "interpreter-internals",
    "isinstance = lambda *a: True": "interpreter-internals",
    "grading = None": "interpreter-internals",
    "setattr(np, 'isclose', None)": "interpreter-internals",
    "f = getattr(np, name)": "interpreter-internals",
    "g = (lambda: 0).__globals__": "interpreter-internals",
    "import builtins": "interpreter-internals",
    "ns = globals()": "interpreter-internals",
    "import inspect\nframe = inspect.currentframe()": "interpreter-internals",
    "exec(payload) +++ (": "dynamic-code",  # does not parse: the text rules apply
    "import os; os.fork() ((": "process-signal-network",
}


@pytest.mark.parametrize("source,rule", list(LAB0_TRICKS.items()), ids=list(LAB0_TRICKS.values()))
def test_each_trick_is_flagged(source: str, rule: str, releases, tmp_path: Path) -> None:
    assert rule in RULES
    if "lab0-overload" not in releases:
        pytest.skip("lab0-overload is not in solutions/")
    nb = _with_answer("lab0-overload", "utilisation", source)
    findings = _findings(nb, releases["lab0-overload"], tmp_path)
    assert rule in {f.rule for f in findings}, f"{source!r} should be flagged {rule}: {findings}"
    flagged = next(f for f in findings if f.rule == rule)
    assert flagged.cell == "utilisation" and flagged.line >= 1


LAB1_TRICKS = {
    "from simkit.scenarios.dynamodb_2015.fleet import membership_size": "kit-reference",
    "def membership_size(p, g):\n    return simkit.scenarios.dynamodb_2015.fleet.membership_size(p, g)":
        "kit-reference",
    "import simkit.scenarios.dynamodb_2015.fleet as f\nm = f.membership_size": "kit-reference",
}


@pytest.mark.parametrize("source,rule", list(LAB1_TRICKS.items()))
def test_the_kits_reference_implementations_are_flagged(source: str, rule: str, releases,
                                                        tmp_path: Path) -> None:
    if "lab1-dynamodb-2015" not in releases:
        pytest.skip("lab1-dynamodb-2015 is not in solutions/")
    nb = _with_answer("lab1-dynamodb-2015", "membership_size", source)
    findings = _findings(nb, releases["lab1-dynamodb-2015"], tmp_path)
    assert rule in {f.rule for f in findings}, findings


@pytest.mark.parametrize("source", [
    "PLAN = ddb.Model.intended_plan",
    "PLAN = list(ddb.INTENDED_PLAN)",
    "PLAN = simkit.scenario('dynamodb-2015').reference_plan('intended')",
])
def test_reading_the_games_intended_plan_is_flagged(source: str, releases, tmp_path: Path) -> None:
    """The commander's answer is a plan played, not the scenario's own intended plan read out."""
    nb = _with_answer("lab1-dynamodb-2015", "commander_plan", source)
    findings = _findings(nb, releases["lab1-dynamodb-2015"], tmp_path)
    assert "kit-reference" in {f.rule for f in findings}, findings


def test_the_pipelines_patching_submission_is_flagged(releases, tmp_path: Path) -> None:
    """The kernel-patching cell of tests/pipeline_helpers.py, in lab 0's commander answer."""
    nb = _with_answer("lab0-overload", "commander_plan", ph.PATCH_CELL + "PLAN = []\n")
    rules = {f.rule for f in _findings(nb, releases["lab0-overload"], tmp_path)}
    assert {"kit-patch", "kit-internals", "process-signal-network"} <= rules, rules


def test_added_cells_and_tampered_cells_are_screened(releases, tmp_path: Path) -> None:
    nb = _release_nb("lab0-overload")
    nb.cells.insert(3, nbformat.v4.new_code_cell("import os\nos._exit(0)"))  # no metadata at all
    test = next(c for c in nb.cells if ph.grade_id(c) == "test_utilisation")
    test.source = "pass"  # autograde puts the released test back: nothing to flag
    duplicate = copy.deepcopy(test)
    duplicate.source = "import sqlite3"  # a second cell with the same id is not reset
    duplicate["id"] = "dup"
    nb.cells.insert(6, duplicate)
    markdown = next(c for c in nb.cells if c.cell_type == "markdown")
    markdown.source = "exec('not run: markdown')"
    findings = _findings(nb, releases["lab0-overload"], tmp_path)
    assert {(f.cell, f.rule) for f in findings} == {
        ("cell 4", "process-signal-network"), ("test_utilisation", "database")}, findings


def test_an_unreadable_notebook_is_a_finding(releases, tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [')
    findings = screen.screen_notebook(path, releases["lab0-overload"])
    assert [f.rule for f in findings] == ["unreadable-notebook"]


def test_reports_and_summary_are_written_per_submission(releases, tmp_path: Path) -> None:
    course = tmp_path / "course"
    for student, source in (("honest", None), ("cheat", "exec('1')\nimport sqlite3")):
        nb = _release_nb("lab0-overload") if source is None else _with_answer(
            "lab0-overload", "utilisation", source)
        folder = course / "submitted" / student / "lab0-overload"
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / "lab0-overload.ipynb"))
    reports = [screen.screen_submission(course, "lab0-overload", s, releases["lab0-overload"])
               for s in ("cheat", "honest")]
    saved = json.loads((course / "grading" / "lab0-overload" / "screen" / "cheat.json").read_text())
    assert saved == reports[0] and len(saved["findings"]) == 2
    assert saved["findings"][0]["text"] == "exec('1')" and saved["findings"][0]["line"] == 1
    assert screen.summary(reports) == ("2 submission(s) screened, 1 flagged for review: "
                                       "dynamic-code x1, database x1")
    assert "utilisation line 2: database" in screen.describe(reports[0])
    release = ["--course", str(course), "--release", str(ph.LABS / "lab0-overload")]
    assert screen.main(["lab0-overload", *release, "honest"]) == 0
    assert screen.main(["lab0-overload", *release]) == 1
