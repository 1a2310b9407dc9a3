"""An upload's check in headless chromium against ``grader serve``: the instructor pastes a set whose
solution fails its tests, the page shows the check under way and then, with no reload (htmx asks for
the box every second), its failure with each issue beside the marked lines of the file; axe-core
finds no serious or critical WCAG 2.1 A/AA violation on the page either way."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.pages.test_accessibility import BLOCKING, RUN_AXE, WCAG_TAGS, axe_source

from live_service import LiveCourse, live_course

BUILT_IN = Path(__file__).parents[2] / "problems" / "sets" / "numpy-convolution.yaml"
#: The convolution's solution, made to load slowly (a second a run: its check takes 6 s at least,
#: far longer than the page takes to show it under way) and to compute nothing.
SLOW_AND_WRONG = (
    BUILT_IN.read_text()
    .replace("id: numpy-convolution", "id: our-broken-convolution", 1)
    .replace(
        "    solution: |\n      import numpy as np\n",
        "    solution: |\n      import time\n\n      import numpy as np\n\n      time.sleep(1)\n",
        1,
    )
    .replace("np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b", "0", 1)
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCourse]:
    with live_course(tmp_path_factory.mktemp("live")) as course:
        yield course


def _signed_in(live: LiveCourse, browser: BrowserContext) -> Page:
    page = browser.new_page()
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(live.url + "/")
    page.get_by_label("API token").fill(live.instructor)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()
    return page


def _blocking(page: Page) -> list[str]:
    found = page.evaluate(RUN_AXE, WCAG_TAGS)
    return [f"{v['rule']} [{v['impact']}] {v['help']}: {v['nodes']}" for v in found if v["impact"] in BLOCKING]


def test_the_upload_page_shows_the_check_under_way_then_its_issues_at_their_lines(
    live: LiveCourse, browser: BrowserContext
) -> None:
    assert "time.sleep(1)" in SLOW_AND_WRONG and "] = 0\n" in SLOW_AND_WRONG
    browser.add_init_script(axe_source())
    page = _signed_in(live, browser)
    page.goto(f"{live.url}/courses/{live.course}/problem-sets")
    page.get_by_label("Or type or paste the file").fill(SLOW_AND_WRONG)
    page.get_by_role("button", name="Upload").click()
    box = page.locator("#set-check")
    expect(box).to_contain_text(re.compile(r"is queued|Checking version"))
    assert _blocking(page) == []
    page.evaluate("window.loadedOnce = true")  # (gone if the page were loaded again)

    expect(box).to_contain_text("failed its check", timeout=120_000)
    assert page.evaluate("window.loadedOnce === true"), "the page was loaded again rather than the box swapped"
    issues = box.locator("ol.issues > li")
    expect(issues.first).to_contain_text("the solution fails the test")
    marked = box.locator("pre.excerpt .marked").first
    expect(marked).to_be_visible()
    expect(marked).to_contain_text("name:")  # the test's own line of the file
    expect(page.get_by_text("(failed its check)")).to_be_hidden()  # (the library is drawn as the page loads)
    assert _blocking(page) == []
    page.reload()
    expect(page.get_by_text("(failed its check)")).to_be_visible()
    assert _blocking(page) == []
