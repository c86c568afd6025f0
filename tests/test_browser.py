"""The commander console in a real JupyterLab, clicked in a real (headless) browser.

For each lab notebook that shows a console, the test opens it in a private JupyterLab
in Debian's Chromium at a 1366 x 768 window, runs its cells and checks what a learner
would see:

* the console is whole on screen: at most 1300 x 620 CSS pixels, and inside the
  window (and the notebook's visible area) once scrolled into view;
* **play** makes the clock run with no further click; **pause** stops it; the space
  bar does the same while the console has focus (even when a button has the focus);
* a delayed action shows as under way with a countdown, then as done or **failed**
  (in DynamoDB, a capacity request the overloaded service cannot answer);
* the full dashboard is drawn when its tab is chosen;
* after **Run to end**, editing one step in the plan table and **Replay from the
  start** changes the score to what the grader gives the edited plan.

A small demo notebook checks that ``console.insert_plan()`` puts the plan into a new
cell. Screenshots go to ``test-artifacts/browser/``. Needs Debian's Chromium at
/usr/bin/chromium (``apt-get install chromium``): without it the test skips, except
under CI=true, where it fails.
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

VIEWPORT = {"width": 1366, "height": 768}
MAX_BOX = (1300, 620)
DEMO = "console-demo.ipynb"
DEMO_CELLS = [
    "from simkit.commander.console import Console\nconsole = Console('retry-storm', seed=0)\nconsole",
    "console.insert_plan()",
]
_CONSOLE_CALL = re.compile(r"Console\(\s*[\"']([\w-]+)[\"']")


def _lab_notebooks() -> dict[str, str]:
    """Notebooks under labs/ that build a commander console: path under labs/ -> scenario."""
    found = {}
    for path in sorted((REPO / "labs").glob("**/*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError):
            continue
        for cell in cells:
            match = _CONSOLE_CALL.search("".join(cell.get("source", ""))) if cell.get("cell_type") == "code" else None
            if match:
                found[path.relative_to(REPO).as_posix()] = match[1]
                break
    return found


LABS = _lab_notebooks()


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


# -- what each check does ---------------------------------------------------------------------
def _check_fits(page, console) -> dict:
    """The console's box is at most 1300 x 620 and wholly visible once scrolled into view."""
    # centred in the notebook's scroll area (Playwright's "if needed" scrolls to the nearest
    # edge, which leaves the box's bottom on the panel's border, a fraction of a pixel out)
    console.evaluate("element => element.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)
    box = console.bounding_box()
    assert box is not None
    assert box["width"] <= MAX_BOX[0] and box["height"] <= MAX_BOX[1], f"console is {box['width']}x{box['height']}"
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= VIEWPORT["width"] and box["y"] + box["height"] <= VIEWPORT["height"], box
    notebook = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer").first.bounding_box()
    if notebook is not None:  # not hidden under the toolbar or the status bar either
        assert box["y"] >= notebook["y"] - 1 and box["y"] + box["height"] <= notebook["y"] + notebook["height"] + 1
    return box


def _check_play_and_pause(page, console) -> None:
    from playwright.sync_api import expect

    clock = console.locator(".cascade-clock")
    play = console.locator(".cascade-play")
    start = clock.inner_text()
    play.click(timeout=CLICK_MS)
    expect(play).to_contain_text("Pause", timeout=CLICK_MS)
    expect(clock).not_to_have_text(start, timeout=CLICK_MS)
    moved = clock.inner_text()
    expect(clock).not_to_have_text(moved, timeout=CLICK_MS)  # and again, with no click
    play.click(timeout=CLICK_MS)
    expect(play).to_contain_text("Play", timeout=CLICK_MS)
    page.wait_for_timeout(400)  # a frame already sent may still arrive
    paused = clock.inner_text()
    page.wait_for_timeout(2500)
    assert clock.inner_text() == paused, "the clock moved while paused"


def _check_space_bar(page, console) -> None:
    """Space toggles play while the console has focus, even when a step button has it."""
    from playwright.sync_api import expect

    play = console.locator(".cascade-play")
    console.locator(".cascade-tabs").first.click(position={"x": 900, "y": 10})  # the tab bar's empty end
    assert page.evaluate("() => document.activeElement.closest('.cascade-console') !== null")
    page.keyboard.press(" ")
    expect(play).to_contain_text("Pause", timeout=CLICK_MS)
    page.keyboard.press(" ")
    expect(play).to_contain_text("Play", timeout=CLICK_MS)
    step = console.locator(".cascade-advance-1")
    step.focus()
    page.keyboard.press(" ")  # plays: does not take a step
    expect(play).to_contain_text("Pause", timeout=CLICK_MS)
    page.keyboard.press(" ")
    expect(play).to_contain_text("Play", timeout=CLICK_MS)


def _clock_seconds(console, model) -> float:
    """Simulated seconds since the start for the clock on screen."""
    from simkit.commander.plan_table import parse_time

    shown = console.locator(".cascade-clock").inner_text().splitlines()[0].strip()
    return parse_time(shown, model.world)


def _delayed_action_now(scenario: str, at_s: float) -> tuple[str, str]:
    """Which delayed action taken at ``at_s`` (seed 0) shows the status best: one that fails
    if there is one, else one that succeeds; and what becomes of it."""
    from simkit.commander.engine import Incident

    found = None
    probe = Incident(scenario, seed=0)
    for name in probe.model.actions:
        incident = Incident(scenario, seed=0)
        incident.advance_to(at_s)
        spec = incident.model.actions[name]
        if incident.model.check(name) is not None or spec.delay_s(incident.model.params) <= 0:
            continue
        incident.act(name)
        record = incident.records[-1]
        incident.advance_to(record.due_s)
        if record.status == "failed":
            return name, "failed"
        found = found or (name, record.status)
    assert found is not None, f"{scenario}: no delayed action can be taken at the page"
    return found


def _check_delayed_action(page, console, scenario: str, shots: Path) -> str:
    """To the page (play pauses there), take a delayed action: under way, then done or failed."""
    from playwright.sync_api import expect

    from simkit.scenarios import get

    alarm = console.locator(".cascade-alarm")
    play = console.locator(".cascade-play")
    if "PAGED" not in alarm.inner_text():
        play.click(timeout=CLICK_MS)
        expect(alarm).to_contain_text("PAGED", timeout=KERNEL_MS)
        expect(play).to_contain_text("Play", timeout=CLICK_MS)  # paused by the page
    wait_kernel_idle(page)
    model = get(scenario)()
    action, outcome = _delayed_action_now(scenario, _clock_seconds(console, model))
    status = console.locator(".cascade-status")
    console.locator(f".cascade-action-{action}").click(timeout=CLICK_MS)
    expect(status).to_contain_text("under way", timeout=CLICK_MS)
    expect(status).to_contain_text("Takes effect at")
    expect(console.locator(".cascade-pending")).to_contain_text("Under way")
    console.screenshot(path=str(shots.with_name(shots.stem + "-pending.png")))
    for _ in range(200):
        if "under way" not in status.inner_text():
            break
        console.locator(".cascade-advance-1").click(timeout=CLICK_MS)
        page.wait_for_timeout(150)
    word = "FAILED" if outcome == "failed" else "done at"
    expect(status).to_contain_text(word, timeout=CLICK_MS)
    if outcome == "failed":
        assert "✔" not in status.inner_text()
    console.screenshot(path=str(shots.with_name(shots.stem + f"-{outcome}.png")))
    return outcome


def _check_full_dashboard(page, console, shots: Path) -> None:
    """The full dashboard is one click away, drawn when its tab is shown."""
    from playwright.sync_api import expect

    console.locator(".cascade-tabs .lm-TabBar-tab", has_text="Full dashboard").click(timeout=CLICK_MS)
    picture = console.locator("img.cascade-dashboard")
    expect(picture).to_be_visible(timeout=KERNEL_MS)
    page.wait_for_function("(img) => img.complete && img.naturalHeight > 600", arg=picture.element_handle(),
                           timeout=KERNEL_MS)
    console.screenshot(path=str(shots.with_name(shots.stem + "-dashboard.png")))


def _score_on_card(console) -> float:
    text = console.locator(".cascade-score").inner_text()
    return float(re.search(r"Score\s+([0-9.]+) / 100", text)[1])


def _check_edit_and_replay(page, console, scenario: str, shots: Path) -> tuple[float, float]:
    """Run to the end, change one step's action in the plan table, replay: the score changes
    to the grader's score for the edited plan."""
    from playwright.sync_api import expect

    from simkit.commander.engine import score
    from simkit.scenarios import get

    console.locator(".cascade-run-end").click(timeout=CLICK_MS)
    card = console.locator(".cascade-score")
    expect(card).to_contain_text("/ 100", timeout=KERNEL_MS)
    expect(card).to_contain_text("Verdict")
    expect(console.locator(".cascade-score-meter")).to_contain_text("Final score")
    expect(card).to_contain_text("Debrief")
    # the debrief runs in the background; the card shows it when it is ready
    expect(card).not_to_contain_text("replaying a few variants", timeout=KERNEL_MS)
    wait_kernel_idle(page)
    before = _score_on_card(console)
    line = console.locator(".cascade-plan textarea").input_value()
    namespace: dict = {}
    exec(line, {}, namespace)
    plan = namespace["PLAN"]
    assert score(scenario, plan, seed=0).score == before, "the card and the grader disagree"
    actions = get(scenario).actions
    edited, expected = None, None
    for name in actions:
        if name != plan[0][1]:
            candidate = [(plan[0][0], name)] + plan[1:]
            expected = score(scenario, candidate, seed=0).score
            if expected != before:
                edited = name
                break
    assert edited is not None, f"{scenario}: no single change of the first step changes the score"
    console.locator(".cascade-tabs .lm-TabBar-tab", has_text="Plan").click(timeout=CLICK_MS)
    row = console.locator(".cascade-plan-table .cascade-plan-action select").first
    row.select_option(label=f"{actions[edited].label} [{edited}]")
    expect(console.locator(".cascade-replay")).to_be_visible()
    expect(console).to_contain_text("edited: press Replay from the start", timeout=CLICK_MS)
    console.screenshot(path=str(shots.with_name(shots.stem + "-plan.png")))
    console.locator(".cascade-replay").click(timeout=CLICK_MS)
    expect(card).to_contain_text(f"{expected:g} / 100", timeout=KERNEL_MS)
    expect(console.locator(".cascade-status")).to_contain_text("replayed your plan from the start")
    expect(card).not_to_contain_text("replaying a few variants", timeout=KERNEL_MS)  # the new debrief
    wait_kernel_idle(page)
    return before, expected


@pytest.mark.timeout(600)
@pytest.mark.parametrize("notebook", list(LABS), ids=lambda nb: Path(nb).stem)
def test_the_console_plays_in_one_screen_in_jupyterlab(lab, browser, notebook, record_property):
    scenario = LABS[notebook]
    started = time.monotonic()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{Path(notebook).stem}.png"
    page = browser.new_page(viewport=VIEWPORT)
    try:
        open_notebook(page, lab, notebook)
        page.keyboard.press("Control+b")  # fold the file browser away: more room for the console
        console = _show_console(page, notebook)
        box = _check_fits(page, console)
        _check_play_and_pause(page, console)
        _check_space_bar(page, console)
        outcome = _check_delayed_action(page, console, scenario, shot)
        _check_full_dashboard(page, console, shot)
        console.locator(".cascade-tabs .lm-TabBar-tab", has_text="War room").click(timeout=CLICK_MS)
        page.wait_for_timeout(500)
        console.screenshot(path=str(shot))
        before, after = _check_edit_and_replay(page, console, scenario, shot)
        console.screenshot(path=str(shot.with_name(shot.stem + "-card.png")))
        page.screenshot(path=str(shot.with_name(shot.stem + "-page.png")))
    except BaseException:
        page.screenshot(path=str(ARTIFACTS / f"{Path(notebook).stem}-failed.png"))
        print(lab.log_tail())
        raise
    finally:
        page.close()
    seconds = time.monotonic() - started
    record_property("duration_s", round(seconds, 1))
    print(f"{notebook}: console {box['width']:.0f}x{box['height']:.0f} px; delayed action {outcome}; "
          f"score {before:g} -> {after:g} after one edit; {seconds:.0f} s; screenshots {shot.parent}")
    assert shot.stat().st_size > 10_000


@pytest.mark.timeout(300)
def test_insert_plan_puts_the_plan_into_a_new_cell(lab, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=VIEWPORT)
    try:
        open_notebook(page, lab, DEMO)
        run_cell(page, cells_containing(page, "Console(").first)
        console = page.locator(".cascade-console").first
        console.wait_for(timeout=KERNEL_MS)
        console.locator(".cascade-play").click(timeout=CLICK_MS)
        expect(console.locator(".cascade-alarm")).to_contain_text("PAGED", timeout=KERNEL_MS)
        expect(console.locator(".cascade-play")).to_contain_text("Play", timeout=CLICK_MS)
        console.locator(".cascade-action-shed_load").click(timeout=CLICK_MS)
        plan = console.locator(".cascade-plan textarea")
        expect(plan).to_have_value(re.compile(r"^PLAN = \[\('00:0\d:\d\d', 'shed_load'\)\]$"), timeout=CLICK_MS)
        line = plan.input_value()
        before = cells_containing(page, line).count()
        run_cell(page, cells_containing(page, ".insert_plan()").first)
        page.wait_for_function(
            """([line, before]) => [...document.querySelectorAll('.jp-NotebookPanel .jp-Cell .jp-InputArea-editor')]
                .filter(e => e.textContent.includes(line)).length > before""",
            arg=[line, before], timeout=CLICK_MS)
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "console-demo-failed.png"))
        raise
    finally:
        page.close()
