"""Helpers of the browser test: a private JupyterLab server and a headless Chromium.

Everything here is bounded in time and isolated from the user's own Jupyter: the
server runs from the venv on 127.0.0.1, on a free port, with a random token and
its own config, data, runtime, settings and IPython folders under a temporary
directory, and it is stopped (kernels included) when the test ends.

The browser is Debian's Chromium (``apt-get install chromium``) driven by
Playwright's Python API; Playwright's own browser download is never used.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: Screenshots and server logs of the browser test (git-ignored).
ARTIFACTS = Path(os.environ.get("CASCADE_TEST_ARTIFACTS", REPO / "test-artifacts")) / "browser"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Bounded waits, in milliseconds for Playwright and seconds for the server.
SERVER_START_S = 90.0
SERVER_STOP_S = 15.0
PAGE_LOAD_MS = 60_000
KERNEL_MS = 90_000
CLICK_MS = 30_000


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_browser() -> None:
    """Skip (or, under CI, fail) when Chromium or Playwright is missing."""
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"Debian chromium not found at {CHROMIUM}: apt-get install chromium"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "playwright (Python) is not installed: pip install -e '.[dev]'"
    if problem:
        if in_ci():
            pytest.fail(f"CI=true but the browser test cannot run: {problem}")
        pytest.skip(problem)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Lab settings for a quiet, predictable page: no news or update pop-ups, and every
# cell kept in the page (not virtualised), so a test can find any cell.
_LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


class JupyterLab:
    """A ``jupyter lab`` of our own, serving ``root_dir``; use as a context manager."""

    def __init__(self, root_dir: Path, home: Path) -> None:
        self.root_dir = Path(root_dir)
        self.home = Path(home)
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.home / "jupyter-lab.log"
        self.process: subprocess.Popen | None = None

    # -- environment ---------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        dirs = {
            "JUPYTER_CONFIG_DIR": "config",
            "JUPYTER_DATA_DIR": "data",
            "JUPYTER_RUNTIME_DIR": "runtime",
            "IPYTHONDIR": "ipython",
            "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
            "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
        }
        env = dict(os.environ)
        for var, name in dirs.items():
            path = self.home / name
            path.mkdir(parents=True, exist_ok=True)
            env[var] = str(path)
        env.pop("JUPYTER_PATH", None)
        env["PYTHONUNBUFFERED"] = "1"
        for relative, values in _LAB_SETTINGS.items():
            target = self.home / "lab-settings" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        return env

    def command(self) -> list[str]:
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.news_url=",
        ]
        if hasattr(os, "getuid") and os.getuid() == 0:
            cmd.append("--allow-root")  # containers and CI run as root
        return cmd

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> "JupyterLab":
        self.home.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.root_dir,
            env=self._env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so we can stop all of it
        )
        log.close()
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with status {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                self.api("GET", "/api/status", timeout=2)
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {SERVER_START_S:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Shut the server down with its kernels; kill its process group if it lingers."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        try:
            self.api("POST", "/api/shutdown", timeout=5)
        except (OSError, urllib.error.URLError):
            pass
        try:
            proc.wait(timeout=SERVER_STOP_S)
        except subprocess.TimeoutExpired:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                    proc.wait(timeout=5)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue

    def __enter__(self) -> "JupyterLab":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- talking to it -------------------------------------------------------------------
    def api(self, method: str, path: str, timeout: float = 10) -> dict:
        request = urllib.request.Request(
            self.base_url + path,
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method in ("POST", "PUT") else None,
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else {}

    def notebook_url(self, relative: str) -> str:
        """The URL that opens ``relative`` (a path under root_dir) in a fresh workspace."""
        return f"{self.base_url}/lab/tree/{relative}?reset&token={self.token}"

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def copy_tree(source: Path, target: Path) -> Path:
    """Copy a folder of notebooks, leaving checkpoints and caches behind."""
    shutil.copytree(
        source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    )
    return target


# -- the page -------------------------------------------------------------------------------
def launch_chromium(playwright):
    """Debian's Chromium, headless, with a fresh profile (Playwright makes a temp one)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=PAGE_LOAD_MS
    )


def open_notebook(page, lab: JupyterLab, relative: str) -> None:
    """Open a notebook and wait until its kernel is idle."""
    page.goto(lab.notebook_url(relative), timeout=PAGE_LOAD_MS)
    page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=PAGE_LOAD_MS)
    wait_kernel_idle(page)


def wait_kernel_idle(page, timeout_ms: int = KERNEL_MS) -> None:
    """Wait until the notebook has a kernel, it is idle, and no cell waits to run ("[*]").

    The toolbar's execution indicator says "idle" even before a kernel exists, so
    the status bar's "Python 3 (ipykernel) | Idle" is checked as well.
    """
    page.wait_for_function(
        r"""() => {
            const indicator = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');
            if (!indicator || indicator.getAttribute('data-status') !== 'idle') return false;
            const kernelIdle = [...document.querySelectorAll('.jp-StatusBar-TextItem')]
                .some(e => /[|]\s*Idle\s*$/.test(e.textContent) && !/No Kernel/.test(e.textContent));
            const waiting = [...document.querySelectorAll('.jp-NotebookPanel .jp-InputPrompt')]
                .some(p => p.textContent.includes('*'));
            return kernelIdle && !waiting;
        }""",
        timeout=timeout_ms,
        polling=250,
    )


def _exactly(text: str) -> re.Pattern:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def run_command(page, menu: str, item: str) -> None:
    """Click ``item`` in the menu bar's ``menu`` (e.g. "Run" -> "Run All Cells")."""
    page.locator(".lm-MenuBar-itemLabel", has_text=_exactly(menu)).click(timeout=CLICK_MS)
    page.locator(".lm-Menu-itemLabel:visible", has_text=_exactly(item)).click(timeout=CLICK_MS)


def run_all_cells(page) -> None:
    run_command(page, "Run", "Run All Cells")
    # Give the kernel the cells before looking for idleness.
    page.wait_for_timeout(500)
    wait_kernel_idle(page)


def cells_containing(page, text: str):
    """The notebook's cells whose source contains ``text``."""
    return page.locator(".jp-NotebookPanel .jp-Cell").filter(
        has=page.locator(".jp-InputArea-editor", has_text=text)
    )


def run_cell(page, cell) -> None:
    """Select ``cell`` and run it (Ctrl+Enter in command mode), then wait for the kernel."""
    cell.locator(".jp-InputPrompt").first.click(timeout=CLICK_MS)
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Enter")
    page.wait_for_timeout(300)
    wait_kernel_idle(page)
