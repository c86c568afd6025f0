"""A student's side of the classroom, clicked in a real JupyterLab with nbgrader 0.9.6.

The instructor releases lab 0 to nbgrader's exchange (a temporary folder) from the command
line. A student's JupyterLab, set up like the learners' image of INSTRUCTORS.md (the
formgrader, course list and assignment-creation tools switched off with the documented
commands), then shows the Nbgrader menu with only the Assignment List. In the Assignments
panel the student fetches lab 0, validates it and submits it; the test checks what the page
shows after each click and, at the end, that the submission reached the exchange.
Screenshots go to ``test-artifacts/browser/assignments-*.png``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import tiny_lab
from browser_helpers import ARTIFACTS, CLICK_MS, PAGE_LOAD_MS, JupyterLab, launch_chromium, require_browser

pytestmark = pytest.mark.browser

LAB = "lab0-overload"
STUDENT = "ada"
VALIDATE_MS = 300_000  # validation runs the whole lab in a kernel
INSTRUCTOR_TOOLS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                    "@jupyter/nbgrader:course-list")


def _jupyter(config: Path, *args: str) -> None:
    """A `jupyter` command against the student's own configuration folder."""
    env = tiny_lab.env()
    env["JUPYTER_CONFIG_DIR"] = str(config)
    done = subprocess.run([str(Path(sys.executable).parent / "jupyter"), *args], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"jupyter {' '.join(args)} failed:\n{done.stderr[-2000:]}"


def _learners_config(server_home: Path, student_home: Path, exchange: Path) -> None:
    """The learners' image: nbgrader pointed at the exchange, instructor tools off."""
    config = server_home / "config"
    config.mkdir(parents=True)
    (config / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'cascade'\n"
        f"c.CourseDirectory.student_id = {STUDENT!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        f"c.Exchange.cache = {str(student_home / '.nbgrader-cache')!r}\n"
        f"c.Exchange.assignment_dir = {str(student_home)!r}\n")
    # the commands of INSTRUCTORS.md section 1, at the user level of this private config
    _jupyter(config, "server", "extension", "disable", "--user", "nbgrader.server_extensions.formgrader")
    for plugin in INSTRUCTOR_TOOLS:
        _jupyter(config, "labextension", "disable", "--level=user", plugin)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"assignments-{name}.png"), full_page=True)


def _rows(page, kind: str):
    return page.locator(f"#{kind}_assignments_list > .list_item")


def test_a_student_fetches_validates_and_submits_lab0(tmp_path: Path) -> None:
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    course = tiny_lab.copy_course_with(tmp_path / "w", LAB)
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    released = tiny_lab.run(course, [sys.executable, "-m", "nbgrader", "release_assignment", LAB,
                                     f"--Exchange.root={exchange}"], timeout=300)
    assert released.returncode == 0, released.stderr[-2000:]

    student_home = tmp_path / "ada"
    student_home.mkdir()
    server_home = tmp_path / "server"
    _learners_config(server_home, student_home, exchange)

    with JupyterLab(student_home, server_home) as lab, sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{lab.base_url}/lab?reset&token={lab.token}", timeout=PAGE_LOAD_MS)
            menu = page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^\s*Nbgrader\s*$"))
            menu.click(timeout=PAGE_LOAD_MS)
            items = page.locator("#jp-mainmenu-nbgrader .lm-Menu-item:visible .lm-Menu-itemLabel")
            expect(items).to_have_text(["Assignment List"], timeout=CLICK_MS)  # no Formgrader
            _shot(page, "1-menu")
            page.locator('#jp-mainmenu-nbgrader li[data-command="nbgrader:open-assignment-list"]').click()

            released_rows = _rows(page, "released")
            expect(released_rows).to_have_count(1, timeout=PAGE_LOAD_MS)
            expect(released_rows.first.locator(".item_name")).to_have_text(LAB)
            expect(released_rows.first.locator(".item_course")).to_have_text("cascade")
            _shot(page, "2-released")

            released_rows.first.locator(".item_status button", has_text="Fetch").click()
            fetched = _rows(page, "fetched")
            expect(fetched).to_have_count(1, timeout=PAGE_LOAD_MS)
            expect(released_rows).to_have_count(0)
            assert (student_home / LAB / f"{LAB}.ipynb").exists(), "the fetch wrote no notebook"
            _shot(page, "3-fetched")

            fetched.first.locator("a.assignment-notebooks-link").click()
            notebooks = page.locator(f"#nbgrader-cascade-{LAB}.collapse.in .list_item")
            expect(notebooks.locator(".item_name", has_text=LAB)).to_be_visible(timeout=CLICK_MS)
            notebooks.locator('.item_status button:text("Validate")').click()
            # an untouched lab fails its visible tests: the dialog says which cells
            dialog = page.locator(".nbgrader-ErrorDialog, .nbgrader-SuccessDialog, .jp-Dialog")
            expect(dialog.first).to_be_visible(timeout=VALIDATE_MS)
            text = dialog.first.inner_text()
            assert "Validation Results" in text and "NotImplementedError" in text, text
            _shot(page, "4-validated")
            dialog.first.locator("button.jp-Dialog-button").last.click()

            page.locator('.item_status button:text("Submit")').first.click()
            submitted = _rows(page, "submitted")
            expect(submitted).to_have_count(1, timeout=PAGE_LOAD_MS)
            expect(submitted.first.locator(".item_name").first).to_have_text(LAB)
            _shot(page, "5-submitted")
        except Exception:
            _shot(page, "failure")
            raise
        finally:
            browser.close()

    inbound = list((exchange / "cascade" / "inbound").glob(f"{STUDENT}+{LAB}+*/{LAB}.ipynb"))
    assert len(inbound) == 1, f"no submission of {STUDENT} in the exchange: {list(exchange.rglob('*'))[:20]}"
