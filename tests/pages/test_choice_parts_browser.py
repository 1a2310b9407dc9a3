"""Choice parts in headless chromium against ``grader serve``: a student picks a radio button and
ticks checkboxes by their labels (each option's text names its input), submits, and reads the
named mistake; axe-core finds no serious or critical WCAG 2.1 A/AA violation on the student's page
(before and after the attempt) nor on the staff page listing the options."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.pages.test_accessibility import BLOCKING, RUN_AXE, WCAG_TAGS, axe_source
from tests.problems.test_choice_parts import SET

from live_service import LiveCourse, live_course

ASSIGNMENT = "picks"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCourse]:
    with live_course(tmp_path_factory.mktemp("live")) as course:
        uploaded = course.api(
            "POST",
            f"/courses/{course.course}/problem-sets",
            content=SET.encode(),
            headers={"Content-Type": "application/yaml"},
        )
        assert uploaded.status_code == 201, uploaded.text
        course.assignment(ASSIGNMENT, "picks", title="Which layer?", release_answers="immediately")
        yield course


def _signed_in(live: LiveCourse, browser: BrowserContext, token: str) -> Page:
    page = browser.new_page()
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(live.url + "/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    return page


def _blocking(page: Page) -> list[str]:
    found = page.evaluate(RUN_AXE, WCAG_TAGS)
    return [f"{v['rule']} [{v['impact']}] {v['help']}: {v['nodes']}" for v in found if v["impact"] in BLOCKING]


def test_a_student_picks_by_label_submits_and_the_pages_pass_axe(live: LiveCourse, browser: BrowserContext) -> None:
    token = live.enrol("ada", "Ada")
    browser.add_init_script(axe_source())
    page = _signed_in(live, browser, token)
    path = f"{live.url}/courses/{live.course}/assignments/{ASSIGNMENT}"
    page.goto(path)
    assert _blocking(page) == []
    most = page.get_by_role("group", name="Which layer has the most parameters?")
    expect(most.get_by_role("radio")).to_have_count(3)
    most.get_by_label("the pooling layer").check()
    learn = page.get_by_role("group", name="Part 4")
    learn.get_by_label("convolution").check()
    learn.get_by_label("batch norm").check()
    page.get_by_label("Part 1").first.fill("30x30x16")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Attempt 1 submitted")).to_be_visible()
    expect(page.get_by_text("Named mistake pooling-has-weights")).to_be_visible()
    expect(most.get_by_label("the pooling layer")).to_be_checked()
    expect(learn.get_by_label("batch norm")).to_be_checked()
    assert _blocking(page) == []

    browser.clear_cookies()  # (signed out: the instructor signs in next)
    staff = _signed_in(live, browser, live.instructor)
    staff.goto(path)
    expect(staff.get_by_text("(right)").first).to_be_visible()
    assert _blocking(staff) == []
