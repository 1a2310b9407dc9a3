"""A student uploads a ``.py`` file for a code part in headless chromium against ``grader serve``
(SQLite: the service runs the code itself), submits, and watches the result arrive on the same page:
the part shows it waits or runs, then htmx's polling swaps in the result, test by test, with the
hidden tests as a count, and stops polling once it is there."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from harness.student_code import CONV_FORWARD

from live_service import LiveCourse, live_course, screenshot_dir

ASSIGNMENT, KEY = "numpy-conv", "conv.forward"
#: Right, and slow to load: long enough for the page to show the part waiting before its result
#: (the page is back from its submit in well under a second).
MODULE = "import time\n\ntime.sleep(4)\n" + CONV_FORWARD


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCourse]:
    with live_course(tmp_path_factory.mktemp("live")) as course:
        course.assignment(ASSIGNMENT, "numpy-convolution", title="Convolution in numpy")
        yield course


def test_a_student_uploads_a_py_file_and_watches_its_result_arrive(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    token = live.enrol("grace", "Grace Hopper")
    module = tmp_path / "conv.py"
    module.write_text(MODULE)
    page = browser.new_page()
    page.set_viewport_size({"width": 1100, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live.url + "/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live.url}/courses/{live.course}/assignments/{ASSIGNMENT}")
    page.locator(f'input[type=file][name="{KEY}:file"]').set_input_files(str(module))
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Attempt 1 submitted")).to_be_visible()
    waiting = page.locator(f'.code-result[hx-get*="/code/{KEY}"]')
    expect(waiting).to_have_count(1)  # the part waits or runs, and its result area polls
    expect(waiting).to_contain_text(re.compile("Waiting to run|Running"))
    page.evaluate("window.sameDocument = true")  # (gone if the page were loaded again)
    arrived = page.locator(".code-result[data-status=correct]")
    expect(arrived).to_have_count(1, timeout=60_000)
    expect(arrived.get_by_role("table", name="Tests of your code")).to_be_visible()
    rows = arrived.locator("tbody tr")
    expect(rows.first).to_contain_text("Passed")
    expect(arrived).to_contain_text("Hidden tests")  # the hidden ones, as a count without their names
    expect(arrived).to_contain_text("2 of 2 tests passed")
    assert arrived.get_attribute("hx-get") is None, "the result still polls"
    assert page.evaluate("window.sameDocument") is True, "the result came by a reload, not htmx"
    assert "not shown" in arrived.inner_text()
    page.screenshot(path=str(screenshot_dir(tmp_path) / "code-result.png"), full_page=True)
    assert errors == []
