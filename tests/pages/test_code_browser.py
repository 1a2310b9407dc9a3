"""A student uploads a ``.py`` file for a code part in headless chromium against ``grader serve``
(SQLite: the service runs the code itself), submits, and watches the result arrive on the same page:
the part shows it waits or runs, then htmx's polling swaps in the result, test by test, with the
hidden tests as a count, and stops polling once it is there."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from harness.student_code import CONV_FORWARD
from tests.grader.test_seed_code_tasks import SOBEL_STRIDED, TRANSPOSED_ASSIGNED

from live_service import LiveCourse, live_course, screenshot_dir

ASSIGNMENT, KEY = "numpy-conv", "conv.forward"
SEED_ASSIGNMENT = "seed-tasks"
#: Right, and slow to load: long enough for the page to show the part waiting before its result
#: (the page is back from its submit in well under a second).
MODULE = "import time\n\ntime.sleep(4)\n" + CONV_FORWARD


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCourse]:
    with live_course(tmp_path_factory.mktemp("live")) as course:
        course.assignment(ASSIGNMENT, "numpy-convolution", title="Convolution in numpy")
        course.assignment(SEED_ASSIGNMENT, "seed-code-tasks", title="The seeds' code tasks")
        yield course


def _signed_in(live: LiveCourse, browser: BrowserContext, token: str) -> tuple[Page, list[str]]:
    """A page signed in with ``token``, and the console errors it logs from then on."""
    page = browser.new_page()
    page.set_viewport_size({"width": 1100, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live.url + "/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    return page, errors


def test_a_student_uploads_a_py_file_and_watches_its_result_arrive(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    token = live.enrol("grace", "Grace Hopper")
    module = tmp_path / "conv.py"
    module.write_text(MODULE)
    page, errors = _signed_in(live, browser, token)
    page.goto(f"{live.url}/courses/{live.course}/assignments/{ASSIGNMENT}")
    page.locator('input[type=file][name="conv:file"]').set_input_files(str(module))
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Attempt 1 submitted")).to_be_visible()
    waiting = page.locator(f'.code-result[hx-get*="/code/{KEY}"]')
    expect(waiting).to_have_count(1)  # the part waits or runs, and its result area polls
    expect(waiting).to_contain_text(re.compile("Waiting to run|Running"))
    score = page.locator("#score")
    expect(score).to_contain_text("being run")
    page.evaluate("window.sameDocument = true")  # (gone if the page were loaded again)
    arrived = page.locator(".code-result[data-status=correct]")
    expect(arrived).to_have_count(1, timeout=60_000)
    expect(arrived.get_by_role("table", name="Tests of your code")).to_be_visible()
    rows = arrived.locator("tbody tr")
    expect(rows.first).to_contain_text("Passed")
    expect(arrived).to_contain_text("Hidden tests")  # the hidden ones, as a count without their names
    expect(arrived).to_contain_text("2 of 2 tests passed")
    assert arrived.get_attribute("hx-get") is None, "the result still polls"
    expect(score).not_to_contain_text("being run")  # the attempt's score follows the result, no reload
    expect(score).to_contain_text(re.compile(r"^\d+(\.\d+)? / \d+(\.\d+)?$"))
    assert page.evaluate("window.sameDocument") is True, "the result came by a reload, not htmx"
    assert "not shown" in arrived.inner_text()
    page.screenshot(path=str(screenshot_dir(tmp_path) / "code-result.png"), full_page=True)
    assert errors == []


def test_the_seeds_code_tasks_are_graded_right_and_wrong_on_the_page(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    """004's Sobel filter written right passes, its own 3×5 image shown as a passed test; 003's
    transposed convolution with its stamps written over each other (= for +=) is read from what it
    prints, fails, and the mistake is named with the set's own sentence."""
    token = live.enrol("katherine", "Katherine Johnson")
    sobel, transposed = tmp_path / "sobel.py", tmp_path / "transposed.py"
    sobel.write_text(SOBEL_STRIDED)
    transposed.write_text(TRANSPOSED_ASSIGNED)
    page, errors = _signed_in(live, browser, token)
    page.goto(f"{live.url}/courses/{live.course}/assignments/{SEED_ASSIGNMENT}")
    page.locator('input[type=file][name="sobel:file"]').set_input_files(str(sobel))
    page.locator('input[type=file][name="transposed:file"]').set_input_files(str(transposed))
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Attempt 1 submitted")).to_be_visible()
    right = page.locator(".code-result[data-status=correct]")
    wrong = page.locator(".code-result[data-status=incorrect]")
    expect(right).to_have_count(1, timeout=60_000)
    expect(wrong).to_have_count(1, timeout=60_000)
    seed_row = right.locator("tbody tr").filter(has_text="assignment 3's own 3×5 image")
    expect(seed_row).to_contain_text("Passed")
    expect(wrong).to_contain_text("Where two stamps of the filter overlap their values add up")
    expect(wrong).to_contain_text("(overlap-assigned)")
    expect(wrong.locator("tbody tr").first).to_contain_text("003's own 2×2 input and 2×2 filter")
    assert "read_arrays" not in page.content()  # the driver's text is never shown
    page.screenshot(path=str(screenshot_dir(tmp_path) / "seed-code-tasks.png"), full_page=True)
    assert errors == []
