"""The sandboxed grading kernel (course/sandbox_kernel.py, course/sandbox_manager.py).

Three layers, from quick to slow:

* the bwrap command line itself: what is bound, what is refused;
* one sandboxed kernel started through nbclient, as autograde starts it, probing what
  it can read, write and reach;
* a real ``nbgrader autograde`` of the tiny lab (tests/tiny_lab.py) in which students
  try to write the gradebook, patch the installed kit or any module on disk, read
  solutions/ or another student's submission, fork-bomb and exhaust memory: each scores
  no more than the same submission without the trick, honest students graded before and
  after score full marks, and nothing on disk outside the autograded copies changes.

These checks hold with plain nbgrader (test cells executed in the kernel): they are
about what the *kernel* can reach, whatever decides the points.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sqlite3
import sys
from pathlib import Path

import pytest

import tiny_lab

sys.path.insert(0, str(tiny_lab.COURSE))
import sandbox_kernel  # noqa: E402

REPO = tiny_lab.REPO


# -- the command line ------------------------------------------------------------------------

def _connection(folder: Path, transport: str = "ipc") -> Path:
    conn = folder / "kernel.json"
    conn.write_text(json.dumps({"transport": transport, "ip": str(folder / "ipc"),
                                "shell_port": 1, "iopub_port": 2}))
    return conn


def _binds(command: list[str]) -> dict[str, str]:
    """destination -> kind (ro-bind, bind, tmpfs, ...) in a bwrap command line."""
    found, i = {}, 0
    while i < len(command) and command[i] != "--":
        arg = command[i]
        if arg in ("--ro-bind", "--bind"):
            found[command[i + 2]] = arg[2:]
            i += 3
        elif arg in ("--tmpfs", "--proc", "--dev", "--dir"):
            found.setdefault(command[i + 1], arg[2:])
            i += 2
        else:
            i += 1
    return found


def test_the_sandbox_binds_only_the_python_the_kit_and_the_submissions_data(tmp_path: Path) -> None:
    folder = tmp_path / "cascade-kernel-x"
    folder.mkdir()
    submission = tmp_path / "course" / "autograded" / "jdoe" / "lab0"
    submission.mkdir(parents=True)
    for name in ("lab0.ipynb", "other.ipynb", "data.csv", "gradebook.db"):
        (submission / name).write_text("x")
    command = sandbox_kernel.bwrap_command(_connection(folder), submission, sandbox_kernel.Limits(),
                                           uid=sandbox_kernel.UID_BASE + 1)
    binds = _binds(command)
    read_only = {dest for dest, kind in binds.items() if kind == "ro-bind"}
    writable = {dest for dest, kind in binds.items() if kind == "bind"}
    assert writable == {str(folder)}, "only the kernel's own connection folder may be writable"
    assert str(submission / "data.csv") in read_only
    for secret in ("lab0.ipynb", "other.ipynb", "gradebook.db"):
        assert str(submission / secret) not in binds, f"{secret} must not be visible in the sandbox"
    for forbidden in (REPO, REPO / "course", REPO / "solutions", tmp_path / "course", Path.home()):
        assert str(forbidden) not in read_only | writable, f"{forbidden} is bound into the sandbox"
    assert str(Path(sys.prefix).resolve()) in read_only
    assert str(REPO / "simkit") in read_only or str(Path(sys.prefix).resolve()) in str(
        Path(sandbox_kernel._kit_dirs()[0]))
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--clearenv", "--new-session"):
        assert flag in command
    tail = command[command.index("--") + 1:]
    assert tail[0] == "setpriv" and f"--reuid={sandbox_kernel.UID_BASE + 1}" in tail
    assert "--no-new-privs" in tail and "--bounding-set=-all" in tail
    assert "prlimit" in tail and any(a.startswith("--nproc=") for a in tail)


def test_a_folder_that_is_not_a_submission_exposes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "cascade-kernel-y"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("x")
    command = sandbox_kernel.bwrap_command(_connection(folder), tmp_path, sandbox_kernel.Limits(), uid=None)
    assert str(tmp_path / "secret.txt") not in _binds(command)
    assert command[command.index("--chdir") + 1] == "/tmp/home"


def test_the_launcher_refuses_tcp_and_shared_folders(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="ipc transport"):
        sandbox_kernel.connection_folder(_connection(tmp_path, transport="tcp"))
    shared = tmp_path / "runtime"
    shared.mkdir()
    (shared / "kernel-other.json").write_text("{}")
    with pytest.raises(SystemExit, match="only this kernel's files"):
        sandbox_kernel.connection_folder(_connection(shared))


def test_the_kernelspec_runs_the_launcher_and_interrupts_by_message() -> None:
    spec = sandbox_kernel.kernelspec(sandbox_kernel.Limits())
    assert spec["argv"][:3] == [sys.executable, str(REPO / "course" / "sandbox_kernel.py"), "launch"]
    assert spec["argv"][-2:] == ["-f", "{connection_file}"]
    assert spec["interrupt_mode"] == "message"


# -- one real sandboxed kernel ----------------------------------------------------------------

def test_a_sandboxed_kernel_reads_no_secret_writes_nothing_and_has_no_network(tmp_path: Path) -> None:
    tiny_lab.require_sandbox()
    import sandbox_manager

    secret = tmp_path / "gradebook.db"
    secret.write_text("grades")
    site_file = Path(json.__file__)
    targets = [str(REPO / "simkit" / "grading" / "__init__.py"), str(site_file),
               os.path.join(sys.prefix, "pyvenv.cfg"), str(secret), str(REPO / "course" / "x.txt")]
    before = {t: hashlib.sha256(Path(t).read_bytes()).hexdigest() for t in targets if Path(t).exists()}
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        report = sandbox_manager.probe(
            read=[str(REPO / "solutions"), str(REPO / "course" / "nbgrader_config.py"), str(secret),
                  "/etc/shadow", str(Path.home() / ".bash_history"), "/proc/1/environ"],
            write=targets, cwd=tmp_path, port=server.getsockname()[1])
    assert not any(report["read"].values()), f"the kernel could read: {report['read']}"
    assert not any(report["write"].values()), f"the kernel could write: {report['write']}"
    assert report["network"] is False, "the kernel reached a port on the host"
    assert report["uid"] != 0, "the kernel runs as root"
    assert report["memory_hog"] == "MemoryError"
    assert report["kit"] == "ok", "the kit cannot run in a subprocess of the sandbox"
    assert report["visible_processes"] <= 3, "the kernel sees processes outside its sandbox"
    assert report["limits"]["NPROC"] == sandbox_kernel.Limits().processes
    after = {t: hashlib.sha256(Path(t).read_bytes()).hexdigest() for t in before}
    assert after == before
    assert not (REPO / "course" / "x.txt").exists()


# -- real nbgrader runs with cheating submissions ----------------------------------------------

TRICKS = {
    # each replaces the answer cell `double`; `triple` is solved in every one of them
    "gradebook": '''
import sqlite3
for _path in [{gradebook!r}, "gradebook.db", "../../../gradebook.db"]:
    try:
        _db = sqlite3.connect(_path)
        _db.execute("UPDATE grade SET manual_score = 100")
        _db.execute("UPDATE grade_cells SET max_score = 0")
        _db.commit()
        print("wrote", _path)
    except Exception as _e:
        print("no gradebook at", _path, _e)
''',
    "kitpatch": '''
import simkit.grading, json, os, sys, site
# (a cheater would write a no-op grader; a harmless comment keeps a broken sandbox from
# breaking this checkout: the test compares the files' hashes either way)
_noop = "\\n# written from a sandboxed kernel by tests/test_sandbox.py: remove this line\\n"
for _path in [simkit.grading.__file__, json.__file__,
              os.path.join(site.getsitepackages()[0], "zz_cascade_cheat.pth"),
              os.path.join(sys.prefix, "lib", "sitecustomize.py")]:
    try:
        with open(_path, "a") as _f:
            _f.write(_noop)
        print("patched", _path)
    except Exception as _e:
        print("cannot patch", _path, _e)
''',
    "solutions": '''
import json
try:
    for _c in json.load(open({solution!r}))["cells"]:
        if _c["metadata"].get("nbgrader", {{}}).get("grade_id") == "double":
            exec("".join(_c["source"]))
    print("copied the solution")
except Exception as _e:
    print("cannot read the solution", _e)
try:
    _own = open({own_autograded!r}).read()
    print("saw hidden tests" if "HIDDEN" in _own or "double(21)" in _own else "saw no hidden tests")
except Exception as _e:
    print("cannot read its own autograded copy", _e)
''',
    "other": '''
import json
try:
    _nb = json.load(open({other!r}))
    for _c in _nb["cells"]:
        if _c["metadata"].get("nbgrader", {{}}).get("grade_id") == "double":
            exec("".join(_c["source"]))
    print("copied the other answer")
except Exception as _e:
    print("cannot read the other submission", _e)
''',
    "forkbomb": '''
import os, time
_end = time.time() + 6
while time.time() < _end:
    try:
        os.fork()
    except OSError:
        pass
''',
    "memhog": '''
try:
    _x = bytearray(64 * 2**30)
except MemoryError:
    print("64 GiB refused")
_hog = []
try:
    while True:
        _hog.append(bytearray(256 * 2**20))
except MemoryError:
    print("stopped at", len(_hog) * 256, "MiB")
del _hog
''',
}


def _tree_digest(root: Path, skip: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(skip) and "__pycache__" not in rel:
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _lab_tables(gradebook: Path) -> list:
    with sqlite3.connect(gradebook) as db:
        return [db.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
                for t in ("assignment", "notebook", "base_cell", "grade_cells", "solution_cells",
                          "source_cell")]


@pytest.mark.slow
def test_cheating_submissions_gain_nothing_and_touch_nothing(tmp_path: Path) -> None:
    tiny_lab.require_sandbox()
    tiny = tiny_lab.make(tmp_path / "w")
    course = tiny.course
    release = tiny.release
    paths = {"gradebook": str(course / "gradebook.db"),
             "solution": str(tiny.root / "solutions" / "tiny" / "tiny.ipynb"),
             "own_autograded": str(course / "autograded" / "solutions" / "tiny" / "tiny.ipynb"),
             "other": str(course / "submitted" / "aaa-honest" / "tiny" / "tiny.ipynb")}
    tiny.submit("aaa-honest", tiny_lab.solved(release))
    tiny.submit("baseline", tiny_lab.solved(release, "triple"))
    for name, trick in TRICKS.items():
        tiny.submit(name, tiny_lab.with_answers(tiny_lab.solved(release, "triple"),
                                                double=trick.format(**paths)))
    tiny.submit("zzz-honest", tiny_lab.solved(release))

    skip = ("course/autograded/", "course/gradebook.db", "course/.jupyter-test/",
            "course/feedback/", ".jupyter-test/")
    disk_before = _tree_digest(tiny.root, skip)
    kit_before = _tree_digest(REPO / "simkit", ())
    site_before = sorted(p.name for p in Path(sys.prefix).rglob("*.pth"))
    json_before = hashlib.sha256(Path(json.__file__).read_bytes()).hexdigest()
    tables_before = _lab_tables(course / "gradebook.db")

    done = tiny.nbgrader("autograde", "tiny", "--force", "--Execute.timeout=20", timeout=900)
    log = done.stderr[-6000:]

    baseline = tiny.autograded_score("baseline")
    assert baseline == 2, f"the baseline (only `triple` solved) should score 2:\n{log}"
    for honest in ("aaa-honest", "zzz-honest"):
        assert tiny.autograded_score(honest) == tiny_lab.AUTOGRADED_MAX, (
            f"{honest} lost points while cheaters were graded:\n{log}")
    for name in TRICKS:
        graded = (course / "autograded" / name / "tiny" / "tiny.ipynb").exists()
        score = tiny.autograded_score(name) if graded else 0.0
        assert score <= baseline, f"the {name!r} trick raised its score to {score}:\n{log}"
        assert all(manual is None for _, manual in tiny.grades(name).values()), (
            f"{name!r} wrote a manual score")
    # the tricks that do not break the kernel leave the rest of the notebook graded
    for name in ("gradebook", "kitpatch", "solutions", "other", "memhog"):
        assert tiny.autograded_score(name) == baseline, f"{name!r} should still earn `triple`:\n{log}"

    assert _lab_tables(course / "gradebook.db") == tables_before, "the lab's cells changed in the gradebook"
    assert _tree_digest(tiny.root, skip) == disk_before, "files outside the autograded copies changed"
    assert _tree_digest(REPO / "simkit", ()) == kit_before, "the installed kit changed on disk"
    assert sorted(p.name for p in Path(sys.prefix).rglob("*.pth")) == site_before
    assert hashlib.sha256(Path(json.__file__).read_bytes()).hexdigest() == json_before
    printed = _printed(course, "solutions", "double")
    assert "cannot read the solution" in printed and "cannot read its own autograded copy" in printed, printed
    assert "cannot read the other submission" in _printed(course, "other", "double")
    assert "no gradebook at" in _printed(course, "gradebook", "double")


def _printed(course: Path, student: str, grade_id: str) -> str:
    """What the cell ``grade_id`` printed in ``student``'s autograded notebook."""
    nb = json.loads((course / "autograded" / student / "tiny" / "tiny.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            return "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
    raise AssertionError(f"no cell {grade_id} in {student}'s autograded notebook")


def test_the_reading_and_gradebook_tricks_work_outside_the_sandbox(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard for the test above: unsandboxed, these tricks would raise a score."""
    import nbformat

    solution = tmp_path / "solutions" / "tiny" / "tiny.ipynb"
    other = tmp_path / "course" / "submitted" / "aaa-honest" / "tiny" / "tiny.ipynb"
    for path in (solution, other):
        path.parent.mkdir(parents=True)
        nbformat.write(tiny_lab.source_notebook(), str(path))
    gradebook = tmp_path / "course" / "gradebook.db"
    with sqlite3.connect(gradebook) as db:  # the two tables the trick rewrites
        db.execute("CREATE TABLE grade (id TEXT, manual_score FLOAT)")
        db.execute("CREATE TABLE grade_cells (id TEXT, max_score FLOAT)")
        db.execute("INSERT INTO grade VALUES ('a', NULL)")
        db.execute("INSERT INTO grade_cells VALUES ('a', 2)")
    here = tmp_path / "course" / "autograded" / "x" / "tiny"  # where a kernel would run
    here.mkdir(parents=True)
    monkeypatch.chdir(here)  # the gradebook trick also tries relative paths
    paths = {"gradebook": str(gradebook), "other": str(other), "solution": str(solution),
             "own_autograded": "/nonexistent"}
    for name in ("solutions", "other"):
        namespace: dict = {}
        exec(TRICKS[name].format(**paths), namespace)  # noqa: S102 -- our own test code
        assert namespace["double"](21) == 42, f"the {name!r} trick does not work unsandboxed"
    exec(TRICKS["gradebook"].format(**paths), {})  # noqa: S102
    with sqlite3.connect(gradebook) as db:
        assert db.execute("SELECT manual_score FROM grade").fetchall() == [(100,)]
        assert db.execute("SELECT max_score FROM grade_cells").fetchall() == [(0,)]


def test_autograde_runs_submissions_in_the_sandbox_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """The course config makes every Execute step of autograde (nbgrader's, or a subclass
    listed in Autograde.autograde_preprocessors) use the sandbox kernel and its manager.

    nbgrader's Execute passes AsyncKernelManager to its constructor; the configured manager
    takes over when nbconvert's preprocess() re-initialises the client from the config,
    which is the moment the kernel is started. An executor that starts kernels another way
    must set both itself: this test and the cheating test above then tell."""
    import nbformat
    from nbclient import NotebookClient
    from nbgrader.apps.baseapp import NbGrader
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    import sandbox_manager

    monkeypatch.chdir(REPO / "course")
    monkeypatch.setattr(sys, "argv", ["nbgrader"])
    app = NbGrader()
    app.initialize([])
    converter = Autograde(coursedir=app.coursedir, parent=app)
    executors = [step for step in converter.autograde_preprocessors
                 if isinstance(step, type) and issubclass(step, Execute)]
    assert executors, "autograde has no Execute step"
    for step in executors:
        executor = step(parent=converter)
        NotebookClient.__init__(executor, nbformat.v4.new_notebook(), None)  # as preprocess() does
        assert executor.kernel_name == sandbox_kernel.KERNEL_NAME, step
        assert issubclass(executor.kernel_manager_class, sandbox_manager.SandboxKernelManager), step
