"""An instructor's assignment pages in a real browser: the statistics with their SVG charts, and
the gradebook sorted by a click on a column's heading (headless chromium against ``grader serve``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from live_service import LiveCourse, live_course, screenshot_dir
from staff_course import ANSWERS

ASSIGNMENT = "hw1"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCourse]:
    """A course whose assignment has a few graded submissions, made through the API."""
    with live_course(tmp_path_factory.mktemp("live")) as course:
        course.assignment(ASSIGNMENT, "conv-pool-basics", title="Homework 1: convolution and pooling")
        students = [("alan", "Alan Turing"), ("emmy", "Emmy Noether"), ("kurt", "Kurt Gödel"), ("john", "John Nash")]
        for (student, name), answers in zip(students, [*ANSWERS, {"ex3.max": "[[9, 7], [8, 6]]"}], strict=True):
            token = course.enrol(student, name)
            path = f"/courses/{course.course}/assignments/{ASSIGNMENT}/submissions"
            sent = course.api("POST", path, token, json={"answers": answers})
            assert sent.status_code == 201, sent.text
        course.enrol("ada-ta", "Ada the TA", role="ta")
        yield course


def signed_in(live: LiveCourse, browser: BrowserContext, *, width: int = 1100) -> Page:
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live.url + "/")
    page.get_by_label("API token").fill(live.instructor)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()
    return page


def test_an_instructor_sees_the_statistics_charts(live: LiveCourse, browser: BrowserContext, tmp_path: Path) -> None:
    page = signed_in(live, browser)
    page.goto(f"{live.url}/courses/{live.course}/assignments/{ASSIGNMENT}/stats")
    expect(page.get_by_role("heading", name="Statistics")).to_be_visible()
    for name in (
        "Counted scores of 4 students, out of 9",
        "Share of answers correct, per key",
        "Named mistakes, per key",
    ):
        chart = page.get_by_role("img", name=name)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 40
    expect(page.get_by_role("img", name="Commonest wrong answers to ex4.conv1_params")).to_be_visible()
    # the bars are drawn (non-zero width) and the table beside says the same
    assert page.locator("#correct svg rect").count() > 0
    expect(page.locator("#mistakes table")).to_contain_text("bias-omitted")
    page.screenshot(path=screenshot_dir(tmp_path) / "assignment-stats.png", full_page=True)

    page.get_by_role("button", name="Regrade all submissions").click()
    expect(page.get_by_role("status")).to_contain_text("Regraded 4 of 4 submissions")


def test_an_instructor_sorts_the_gradebook_by_a_click(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    page = signed_in(live, browser, width=1600)  # a column per answer key
    page.goto(f"{live.url}/courses/{live.course}/assignments/{ASSIGNMENT}/gradebook")
    expect(page.get_by_role("heading", name="Gradebook")).to_be_visible()
    table = page.locator("table.gradebook")
    first_cells = table.locator("tbody tr td:first-child code")
    expect(first_cells).to_have_text(["alan", "emmy", "john", "kurt"])

    page.get_by_role("link", name="Score", exact=True).click()
    expect(table.locator("th[aria-sort=ascending]")).to_have_text("Score ▲")
    page.get_by_role("link", name="Score", exact=True).click()
    expect(table.locator("th[aria-sort=descending]")).to_have_text("Score ▼")
    scores = [float(text) for text in table.locator("tbody tr td:nth-child(6) strong").all_inner_texts()]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) > 1
    # an extension by form, without leaving the page's flow
    page.get_by_role("link", name="Grant the extension of john").click()
    page.get_by_label("Attempt limit").fill("5")
    page.get_by_role("button", name="Grant extension").click()
    expect(page.get_by_role("status")).to_have_text("Extension granted to john.")
    expect(page.locator("table.extensions")).to_contain_text("john")
    expect(table.locator("th[aria-sort=descending]")).to_have_text("Score ▼")  # the order is kept
    page.screenshot(path=screenshot_dir(tmp_path) / "assignment-gradebook.png", full_page=True)

    # a student's attempts, one click away
    page.get_by_role("link", name="emmy", exact=True).click()
    expect(page.get_by_role("heading", name="Attempt 1")).to_be_visible()
    expect(page.locator("main")).to_contain_text("bias-omitted")
    page.screenshot(path=screenshot_dir(tmp_path) / "assignment-student-attempts.png", full_page=True)
