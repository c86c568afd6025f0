"""The sandboxed grading kernel: an IPython kernel that runs inside bubblewrap.

``nbgrader autograde`` runs every submission in a kernel named ``cascade-sandbox``
(``course/nbgrader_config.py``). This module is that kernel's launcher and installer:

    python course/sandbox_kernel.py install     # write the kernelspec into this venv
    python course/sandbox_kernel.py show        # print the bwrap command for a dummy kernel

The kernelspec's argv runs ``python course/sandbox_kernel.py launch -f {connection_file}``;
:func:`launch` then replaces itself with Debian's ``bwrap`` (bubblewrap, the sandbox
Flatpak uses), which starts ``python -m ipykernel_launcher`` in a fresh, nearly empty
filesystem:

* read-only: ``/usr``, a few files of ``/etc``, the Python installation, the virtual
  environment, the ``simkit`` package, and the data files (not the notebooks) of the
  submission being graded; nothing else of the host exists inside;
* writable and thrown away with the kernel: ``/tmp`` (a size-limited tmpfs, also HOME)
  and the submission's folder (a tmpfs the data files are bound into);
* the private folder holding this kernel's connection file and ZeroMQ ``ipc`` sockets:
  the kernel has no network (``--unshare-net``), so the grader talks to it over Unix
  sockets in that folder (:mod:`sandbox_manager` makes one per kernel);
* new PID, IPC, UTS and network namespaces; killed with its parent;
* as root, the kernel runs as a user id of its own (``UID_BASE`` + the launcher's pid)
  without capabilities or privilege gains, under resource limits (:class:`Limits`).

This file imports only the standard library: it runs once per kernel start.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

KERNEL_NAME = "cascade-sandbox"
DISPLAY_NAME = "Python 3 (Cascade grading sandbox)"
#: as root, each kernel runs as user UID_BASE + (the launcher's pid): unique among the
#: kernels alive at once, owning no file on the host, so the process limit is per kernel
UID_BASE = 1_800_000_000
BWRAP = "bwrap"

#: /etc files the kernel may read (dynamic loader, time zone, MIME types, fonts);
#: everything else of /etc (passwd hashes, the hub's nbgrader config...) is absent
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone",
             "mime.types", "fonts", "alternatives", "nsswitch.conf", "matplotlibrc")
#: merged-/usr symlinks of Debian (and their real directories on older systems)
ROOT_LINKS = ("bin", "lib", "lib32", "lib64", "libx32", "sbin")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed kernel (``prlimit`` applies them per process)."""

    #: address space of each process: a memory hog gets MemoryError
    memory_bytes: int = 3 * 2**30
    #: processes and threads of the kernel's own user (a fork bomb stops there)
    processes: int = 96
    #: CPU seconds of each process: a runaway kernel is killed (SIGXCPU, then SIGKILL)
    cpu_seconds: int = 900
    #: largest file one process may write (in its tmpfs)
    file_bytes: int = 64 * 2**20
    #: size of the writable /tmp and of the writable submission folder, each
    tmpfs_bytes: int = 256 * 2**20
    #: open files per process
    open_files: int = 256


# -- what the sandbox sees ---------------------------------------------------------------

def _kit_dirs() -> list[Path]:
    """Folders of the installed ``simkit`` package (an editable install lives in the checkout)."""
    import importlib.util

    spec = importlib.util.find_spec("simkit")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("cascade-sandbox: simkit is not installed in this Python")
    return [Path(p).resolve() for p in spec.submodule_search_locations]


def python_dirs() -> list[Path]:
    """The Python installation and the virtual environment, resolved, outside /usr."""
    found: list[Path] = []
    for raw in (sys.base_prefix, sys.prefix, Path(sys.executable).resolve().parent.parent):
        path = Path(raw).resolve()
        if path.parts[:2] != ("/", "usr") and path not in found:
            found.append(path)
    return found


def read_only_dirs() -> list[Path]:
    """Every host folder bound read-only into the sandbox besides /usr and /etc files."""
    dirs = python_dirs()
    for kit in _kit_dirs():
        if not any(kit == d or d in kit.parents for d in dirs):
            dirs.append(kit)
    return dirs


def is_submission_folder(cwd: Path) -> bool:
    """Whether ``cwd`` is an autograded submission, ``<course>/autograded/<student>/<lab>``
    (the only folder whose files a grading kernel is given)."""
    return cwd.is_dir() and len(cwd.parts) > 3 and cwd.parent.parent.name == "autograded"


def submission_files(cwd: Path) -> list[Path]:
    """What of the submission's folder the kernel may read: its data files, never a
    notebook (the autograded copy holds the restored hidden tests)."""
    if not is_submission_folder(cwd):
        return []
    chosen = []
    for entry in sorted(cwd.iterdir()):
        if (entry.suffix == ".ipynb" or entry.name.startswith((".", "gradebook.db"))
                or entry.is_symlink()):
            continue
        if entry.is_dir() and any(p.suffix == ".ipynb" or p.name.startswith("gradebook.db")
                                  for p in entry.rglob("*")):
            continue
        chosen.append(entry)
    return chosen


class _Args:
    """A bwrap argument list that creates each parent folder once, world-readable
    (bwrap makes missing parents 0700, which a non-root kernel could not cross)."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self._dirs: set[str] = {"/"}

    def add(self, *args: str) -> None:
        self.args.extend(args)

    def parents(self, dest: Path) -> None:
        for parent in reversed(dest.parents):
            if str(parent) not in self._dirs:
                self.add("--perms", "0755", "--dir", str(parent))
                self._dirs.add(str(parent))
        self._dirs.add(str(dest))

    def ro_bind(self, src: Path, dest: Path | None = None) -> None:
        dest = dest or src
        self.parents(dest)
        self.add("--ro-bind", str(src), str(dest))

    def tmpfs(self, dest: Path, size: int, mode: str = "1777") -> None:
        self.parents(dest)
        self.add("--size", str(size), "--perms", mode, "--tmpfs", str(dest))


def connection_folder(connection_file: Path) -> Path:
    """The private folder of this kernel's connection file and sockets; refuse anything else.

    The grader must use ZeroMQ's ``ipc`` transport (TCP cannot cross ``--unshare-net``)
    with sockets beside the connection file, in a folder of this kernel's own: binding a
    shared runtime folder would hand the kernel every other kernel's keys and sockets.
    """
    info = json.loads(connection_file.read_text())
    folder = connection_file.parent
    if info.get("transport") != "ipc":
        raise SystemExit(
            f"{KERNEL_NAME}: the kernel has no network, so its client must use the ipc "
            f"transport (got {info.get('transport')!r}); start it through "
            "sandbox_manager.SandboxKernelManager, as course/nbgrader_config.py does")
    ip = Path(info.get("ip", ""))
    if ip.parent != folder:
        raise SystemExit(f"{KERNEL_NAME}: the ipc sockets ({ip}) must be beside the "
                         f"connection file, in {folder}")
    allowed = {connection_file.name} | {f"{ip.name}-{info[k]}" for k in info if k.endswith("_port")}
    strangers = sorted(p.name for p in folder.iterdir() if p.name not in allowed)
    if strangers:
        raise SystemExit(f"{KERNEL_NAME}: {folder} must hold only this kernel's files, "
                         f"but it also holds {', '.join(strangers[:5])}")
    return folder


def sandbox_uid() -> int | None:
    """The user id the kernel runs as (root only; otherwise None: the caller's own id)."""
    return UID_BASE + os.getpid() if os.geteuid() == 0 else None


def _user_process_count(uid: int) -> int:
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Uid:"):
                count += line.split()[1] == str(uid)
                break
    return count


def kernel_environment(venv: Path) -> dict[str, str]:
    """The kernel's whole environment (nothing of the grader's is passed through)."""
    return {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp/home",
        "USER": "learner",
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "IPYTHONDIR": "/tmp/ipython",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "OPENBLAS_NUM_THREADS": "1",  # one grading kernel, one core; fewer threads to count
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",  # per-thread malloc arenas would eat the address space
    }


def bwrap_command(connection_file: Path, cwd: Path, limits: Limits, uid: int | None,
                  mpl_cache: Path | None = None) -> list[str]:
    """The full command line that starts the sandboxed kernel."""
    venv = Path(sys.prefix)
    a = _Args()
    a.add(BWRAP, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
          "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox")
    if uid is None:
        a.add("--unshare-user")  # not root: bwrap needs a user namespace
    a.ro_bind(Path("/usr"))
    for name in ROOT_LINKS:
        host = Path("/") / name
        if host.is_symlink():
            a.add("--symlink", os.readlink(host), str(host))
        elif host.is_dir():
            a.ro_bind(host)
    for name in ETC_FILES:
        if (Path("/etc") / name).exists():
            a.ro_bind(Path("/etc") / name)
    a.add("--proc", "/proc", "--dev", "/dev")
    a.tmpfs(Path("/tmp"), limits.tmpfs_bytes)
    a.add("--perms", "1777", "--dir", "/tmp/home")
    # the submission: a writable, throw-away folder with its data files bound in read-only
    if is_submission_folder(cwd):
        a.tmpfs(cwd, limits.tmpfs_bytes)
        for entry in submission_files(cwd):
            a.ro_bind(entry)
    else:
        cwd = Path("/tmp/home")  # not a submission's folder: expose nothing of it
    for path in read_only_dirs():
        a.ro_bind(path)
    folder = connection_folder(connection_file)
    a.parents(folder)
    a.add("--bind", str(folder), str(folder))
    if mpl_cache is not None:
        a.tmpfs(Path("/tmp/matplotlib"), 16 * 2**20)
        for cache in sorted(mpl_cache.glob("fontlist-*.json")):
            a.ro_bind(cache, Path("/tmp/matplotlib") / cache.name)
    a.add("--chdir", str(cwd), "--clearenv")
    for key, value in kernel_environment(venv).items():
        a.add("--setenv", key, value)
    a.add("--")
    if uid is not None:
        a.add("setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
              "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--")
        processes = limits.processes
    else:  # the limit counts all processes of the caller's user
        processes = limits.processes + _user_process_count(os.getuid())
    a.add("prlimit", f"--as={limits.memory_bytes}", f"--nproc={processes}",
          f"--cpu={limits.cpu_seconds}", f"--fsize={limits.file_bytes}",
          f"--nofile={limits.open_files}", "--core=0", "--")
    a.add(str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", str(connection_file))
    return a.args


def format_command(command: list[str]) -> str:
    """The command, one option (with its values) per line, for people to read."""
    import shlex

    lines: list[list[str]] = [[command[0]]]
    for arg in command[1:]:
        prefix = lines[-1][0] in ("--perms", "--size") and len(lines[-1]) == 2
        if (arg.startswith("--") and not prefix) or arg in ("setpriv", "prlimit") or arg.endswith("/python"):
            lines.append([])
        lines[-1].append(arg)
    return " \\\n    ".join(shlex.join(line) for line in lines)


def launch(connection_file: Path, limits: Limits) -> None:
    """Replace this process with the sandboxed kernel (what the kernelspec runs)."""
    missing = [tool for tool in (BWRAP, "setpriv", "prlimit") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"{KERNEL_NAME}: {', '.join(missing)} not installed (apt-get install "
                         "bubblewrap util-linux); submissions are never graded outside the sandbox")
    connection_file = connection_file.resolve()
    uid = sandbox_uid()
    command = bwrap_command(connection_file, Path.cwd(), limits, uid, kernelspec_dir() / "mplconfig")
    if uid is not None:  # the kernel creates its sockets in its folder and reads its key
        folder = connection_file.parent
        os.chown(folder, uid, uid)
        os.chown(connection_file, uid, uid)
    sys.stdout.flush()
    os.execvp(command[0], command)


# -- installing the kernelspec ----------------------------------------------------------

def kernelspec_dir(prefix: str | None = None) -> Path:
    """Where the kernelspec lives: this environment's share/jupyter/kernels (never system-wide)."""
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME


def kernelspec(limits: Limits) -> dict:
    """The kernel.json: this Python runs this file, which starts bwrap."""
    argv = [sys.executable, str(Path(__file__).resolve()), "launch"]
    for name, value in asdict(limits).items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    return {
        "argv": argv + ["-f", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "python",
        # a signal would reach bwrap, not the kernel: ask the kernel to interrupt itself
        "interrupt_mode": "message",
        "metadata": {"debugger": False,
                     "cascade": "grading only: needs sandbox_manager.SandboxKernelManager"},
    }


def _build_font_cache(target: Path) -> None:
    """Matplotlib's font list, built once, so no kernel spends a second rebuilding it."""
    target.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MPLCONFIGDIR=str(target))
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env,
                   check=True, capture_output=True, timeout=300)
    for path in target.iterdir():
        path.chmod(0o644)


def install(limits: Limits, prefix: str | None = None) -> Path:
    """Write the kernelspec (and its font cache) into ``prefix`` (default: this venv)."""
    folder = kernelspec_dir(prefix)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(kernelspec(limits), indent=1) + "\n")
    _build_font_cache(folder / "mplconfig")
    for path in (folder, *folder.parents[:3]):
        path.chmod(path.stat().st_mode | 0o755)
    return folder


def _limits_from(args: argparse.Namespace) -> Limits:
    return Limits(**{name: getattr(args, name) for name in asdict(Limits())})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {
        "install": sub.add_parser("install", help="write the kernelspec into this environment"),
        "launch": sub.add_parser("launch", help="start the sandboxed kernel (the kernelspec runs this)"),
        "show": sub.add_parser("show", help="print the bwrap command for a kernel started here"),
    }
    for command in commands.values():
        for name, value in asdict(Limits()).items():
            command.add_argument(f"--{name.replace('_', '-')}", type=int, default=value, dest=name)
    commands["launch"].add_argument("-f", dest="connection_file", type=Path, required=True)
    args = parser.parse_args(argv)
    limits = _limits_from(args)
    if args.command == "install":
        print(f"installed the {KERNEL_NAME} kernelspec in {install(limits)}")
    elif args.command == "launch":
        launch(args.connection_file, limits)
    else:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="cascade-kernel-") as folder:
            conn = Path(folder) / "kernel.json"
            conn.write_text(json.dumps({"transport": "ipc", "ip": f"{folder}/ipc"}))
            print(format_command(bwrap_command(conn, Path.cwd(), limits, sandbox_uid())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
