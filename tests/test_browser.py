"""The commander console in a real JupyterLab, clicked in a real (headless) browser.

For each lab notebook that shows a console (and a small demo notebook of our
own, so the console is covered even before the labs exist), the test opens the
notebook in a private JupyterLab, runs all cells, clicks the console's buttons and
checks that the page changed the way a learner would see it: the clock moves, the
event log gains the operator's action, the plan line fills in, the score card
appears at the end. It also checks that ``console.insert_plan()`` puts the plan
into a new cell. A screenshot per notebook goes to ``test-artifacts/browser/``.

Needs Debian's Chromium at /usr/bin/chromium (``apt-get install chromium``):
without it the test skips, except under CI=true, where it fails.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from browser_helpers import (
    ARTIFACTS,
    CLICK_MS,
    KERNEL_MS,
    REPO,
    JupyterLab,
    cells_containing,
    copy_tree,
    launch_chromium,
    open_notebook,
    require_browser,
    run_all_cells,
    run_cell,
    wait_kernel_idle,
)

pytestmark = pytest.mark.browser

DEMO = "console-demo.ipynb"
DEMO_CELLS = [
    "from simkit.commander.console import Console\nconsole = Console('retry-storm')\nconsole",
    "console.insert_plan()",
]
VIEWPORT = {"width": 1400, "height": 2100}  # tall enough for the whole console


def _lab_notebooks() -> list[str]:
    """Notebooks under labs/ that build a commander console, as paths under labs/."""
    found = []
    for path in sorted((REPO / "labs").glob("**/*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        if any("Console(" in "".join(cell.get("source", "")) for cell in cells):
            found.append(path.relative_to(REPO).as_posix())
    return found


NOTEBOOKS = [DEMO, *_lab_notebooks()]


def _write_demo(path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in DEMO_CELLS]
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A private JupyterLab serving a copy of labs/ and the demo notebook."""
    require_browser()
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    root.mkdir()
    if (REPO / "labs").is_dir():
        copy_tree(REPO / "labs", root / "labs")
    _write_demo(root / DEMO)
    server = JupyterLab(root, base / "home").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = launch_chromium(playwright)
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


def _show_console(page, notebook: str):
    """Run all cells; if a failing cell stopped the run before a console cell (a
    released lab raises NotImplementedError in its answer cells), run that cell alone."""
    run_all_cells(page)
    for cell in cells_containing(page, "Console(").all():
        prompt = cell.locator(".jp-InputPrompt").first.inner_text()
        if not re.search(r"\[\d+\]", prompt):  # "[ ]:": never ran
            run_cell(page, cell)
    console = page.locator(".cascade-console").first
    try:
        console.wait_for(timeout=KERNEL_MS)
    except Exception:
        cell = cells_containing(page, "Console(").first
        shown = cell.locator(".jp-OutputArea").all_inner_texts() if cell.count() else []
        pytest.fail(f"{notebook}: no console appeared after running its cells; its output: {shown}")
    return console


def _action_name(button) -> str:
    return next(
        c[len("cascade-action-"):] for c in button.get_attribute("class").split()
        if c.startswith("cascade-action-")
    )


def _play(page, console) -> dict:
    """Click through a game and check the page after each click; return what was seen."""
    from playwright.sync_api import expect

    clock = console.locator(".cascade-clock")
    log = console.locator(".cascade-log")
    score = console.locator(".cascade-score")
    plan = console.locator(".cascade-plan textarea")
    seen = {"clock_start": clock.inner_text(), "log_start": log.inner_text(), "score_start": score.inner_text()}
    assert "operator:" not in seen["log_start"]
    assert "/ 100" not in seen["score_start"]

    clicked = time.monotonic()
    console.locator(".cascade-advance-10").click(timeout=CLICK_MS)
    expect(clock).not_to_have_text(seen["clock_start"], timeout=CLICK_MS)
    seen["advance_10_s"] = time.monotonic() - clicked  # click to new clock on screen
    expect(clock).to_contain_text("since the start")
    seen["clock_after_advance"] = clock.inner_text()

    allowed = console.locator("button[class*='cascade-action-']:enabled").first
    label, name = allowed.inner_text().strip(), _action_name(allowed)
    allowed.click(timeout=CLICK_MS)
    expect(log).to_contain_text(f"operator: {label}", timeout=CLICK_MS)
    expect(console.locator(".cascade-status")).to_contain_text(label, timeout=CLICK_MS)
    expect(plan).to_have_value(re.compile(rf"^PLAN = \[\([0-9.]+, '{re.escape(name)}'\)\]$"), timeout=CLICK_MS)
    seen["action"] = name

    clicked = time.monotonic()
    console.locator(".cascade-advance-1").click(timeout=CLICK_MS)
    expect(clock).not_to_have_text(seen["clock_after_advance"], timeout=CLICK_MS)
    seen["advance_1_s"] = time.monotonic() - clicked

    console.locator(".cascade-run-end").click(timeout=CLICK_MS)
    expect(score).to_contain_text("/ 100", timeout=KERNEL_MS)
    expect(score).to_contain_text("Verdict")
    expect(clock).to_contain_text("the incident is over")
    for button in console.locator("button[class*='cascade-action-']").all():
        expect(button).to_be_disabled()
        expect(button).to_have_attribute("title", re.compile("^Not now: the incident is over"))
    seen["score_end"] = score.inner_text()
    seen["plan"] = plan.input_value()
    return seen


def _screenshot(page, console, path: Path) -> None:
    """A picture of the whole console: grow the window until the console fits in it
    (JupyterLab scrolls the notebook inside the page, which would crop it)."""
    box = console.bounding_box()
    if box is not None:
        page.set_viewport_size({"width": VIEWPORT["width"], "height": int(max(VIEWPORT["height"], box["height"] + 400))})
        page.wait_for_timeout(300)  # let JupyterLab lay the page out again
    console.scroll_into_view_if_needed()
    console.screenshot(path=str(path))


def _check_insert_plan(page, plan_line: str) -> None:
    """Run the cell that calls ``insert_plan()``; a new cell with the plan must appear."""
    cells = cells_containing(page, ".insert_plan()")
    if cells.count() == 0:
        return
    before = cells_containing(page, plan_line).count()
    run_cell(page, cells.first)
    page.wait_for_function(
        """([line, before]) => [...document.querySelectorAll('.jp-NotebookPanel .jp-Cell .jp-InputArea-editor')]
            .filter(e => e.textContent.includes(line)).length > before""",
        arg=[plan_line, before],
        timeout=CLICK_MS,
    )


@pytest.mark.timeout(420)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda nb: Path(nb).stem)
def test_console_plays_in_jupyterlab(lab, browser, notebook, record_property):
    started = time.monotonic()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{Path(notebook).stem}.png"
    page = browser.new_page(viewport=VIEWPORT)
    try:
        open_notebook(page, lab, notebook)
        page.keyboard.press("Control+b")  # fold the file browser away: more room for the console
        console = _show_console(page, notebook)
        seen = _play(page, console)
        wait_kernel_idle(page)
        _screenshot(page, console, shot)
        _check_insert_plan(page, seen["plan"])
        page.screenshot(path=str(ARTIFACTS / f"{Path(notebook).stem}-page.png"))
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / f"{Path(notebook).stem}-failed.png"))
        print(lab.log_tail())
        raise
    finally:
        page.close()
    seconds = time.monotonic() - started
    record_property("duration_s", round(seconds, 1))
    print(
        f"{notebook}: played in {seconds:.1f} s (click to new clock: +1 tick "
        f"{seen['advance_1_s']:.2f} s, +10 ticks {seen['advance_10_s']:.2f} s); screenshot {shot}"
    )
    assert seen["plan"].startswith("PLAN = [(")
    assert shot.stat().st_size > 10_000
