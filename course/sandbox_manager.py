"""The grader's side of the sandboxed kernel: a kernel manager, and a self-check.

The ``cascade-sandbox`` kernel (:mod:`sandbox_kernel`) has no network, so the grader
cannot reach it over TCP. :class:`SandboxKernelManager` is jupyter_client's
``AsyncKernelManager`` with ZeroMQ's ``ipc`` transport, whose connection file and Unix
sockets live in a fresh private folder per kernel; the launcher binds exactly that folder
into the sandbox. ``course/nbgrader_config.py`` makes nbgrader's ``Execute`` (and every
subclass of it) use this manager and that kernel.

    python course/sandbox_manager.py check     # start a sandboxed kernel and probe it

The check runs a probe cell in the sandbox, through nbclient as autograde does, and
prints what the kernel could and could not do; it exits 1 if any guarantee fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sandbox_kernel import KERNEL_NAME, kernelspec_dir  # noqa: E402

__all__ = ["SandboxKernelManager", "probe", "check"]


class SandboxKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` that talks to its kernel over Unix sockets in a private
    folder (``/tmp/cascade-kernel-*``), removed when the kernel is shut down."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._private_dir = tempfile.mkdtemp(prefix="cascade-kernel-")
        self.transport = "ipc"
        self.connection_file = os.path.join(self._private_dir, "kernel.json")
        self.ip = os.path.join(self._private_dir, "ipc")

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._private_dir, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources  # type: ignore[assignment]


# -- the self-check ---------------------------------------------------------------------

PROBE = r'''
import json, os, resource, socket, subprocess, sys
_report = {"uid": os.getuid(), "pid": os.getpid(), "cwd": os.getcwd(),
           "visible_processes": len([p for p in os.listdir("/proc") if p.isdigit()])}
def _can(action, path):
    try:
        if action == "read":
            with open(path, "rb") as f: f.read(1)
        elif action == "list":
            os.listdir(path)
        else:
            with open(path, "ab"): pass
        return True
    except OSError:
        return False
_report["read"] = {p: _can("read", p) or _can("list", p) for p in READ}
_report["write"] = {p: _can("write", p) for p in WRITE}
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2).close(); _report["network"] = True
except OSError:
    _report["network"] = False
_report["limits"] = {name: resource.getrlimit(getattr(resource, "RLIMIT_" + name))[0]
                     for name in ("AS", "NPROC", "CPU", "FSIZE")}
try:
    bytearray(8 * 2**30); _report["memory_hog"] = "allocated 8 GiB"
except MemoryError:
    _report["memory_hog"] = "MemoryError"
_report["kit"] = subprocess.run([sys.executable, "-I", "-c", "import simkit; print('ok')"],
                                capture_output=True, text=True, timeout=60).stdout.strip()
print(json.dumps(_report))
'''


@contextlib.contextmanager
def kernel_output_discarded():
    """Send what the kernel process prints itself (its connection banner) to /dev/null."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
    try:
        yield
    finally:
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)


def probe(read: list[str], write: list[str], cwd: Path, port: int = 9,
          timeout: float = 120) -> dict[str, Any]:
    """Run :data:`PROBE` in a sandboxed kernel started in ``cwd`` through nbclient;
    return what it reported (paths it could read or write, network, limits...)."""
    import nbformat
    from nbclient import NotebookClient

    code = f"READ = {read!r}\nWRITE = {write!r}\nPORT = {port}\n" + PROBE
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    client = NotebookClient(nb, kernel_name=KERNEL_NAME, kernel_manager_class=SandboxKernelManager,
                            timeout=timeout, startup_timeout=timeout,
                            resources={"metadata": {"path": str(cwd)}})
    with kernel_output_discarded():
        client.execute()
    outputs = nb.cells[0].outputs
    errors = [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
    if errors:
        raise RuntimeError(f"the probe failed in the sandbox: {errors}")
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1])


def check() -> int:
    """Probe a sandboxed kernel against the paths of this checkout; print a verdict."""
    course = Path(__file__).resolve().parent
    repo = course.parent
    if not (kernelspec_dir() / "kernel.json").exists():
        print(f"the {KERNEL_NAME} kernelspec is not installed: python course/sandbox_kernel.py install")
        return 1
    secrets = [str(repo / "solutions"), str(course / "gradebook.db"), str(course / "submitted"),
               str(course / "nbgrader_config.py"), "/etc/shadow", str(Path.home() / ".jupyter"),
               str(Path.home() / ".bash_history")]
    targets = [str(course / "gradebook.db"), str(repo / "simkit" / "__init__.py"),
               str(Path(json.__file__)), os.path.join(sys.prefix, "pyvenv.cfg")]
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cascade-check-") as scratch:
        report = probe(secrets, targets, Path(scratch))
    seconds = time.monotonic() - start
    problems = [f"could read {p}" for p, ok in report["read"].items() if ok]
    problems += [f"could write {p}" for p, ok in report["write"].items() if ok]
    if report["network"]:
        problems.append("reached the host's network")
    if report["memory_hog"] != "MemoryError":
        problems.append("allocated 8 GiB")
    if report["kit"] != "ok":
        problems.append("could not import simkit in a subprocess")
    if os.geteuid() == 0 and report["uid"] == 0:
        problems.append("ran as root")
    print(f"sandboxed kernel: uid {report['uid']}, sees {report['visible_processes']} "
          f"process(es), limits {report['limits']}; probe took {seconds:.1f} s")
    for line in problems or ["every check passed: no secret readable, nothing writable, "
                             "no network, memory bounded"]:
        print(("PROBLEM: " if problems else "") + line)
    return 1 if problems else 0


if __name__ == "__main__":
    if sys.argv[1:] != ["check"]:
        sys.exit(__doc__)
    sys.exit(check())
