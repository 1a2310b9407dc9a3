"""The grading page in headless chromium against ``grader serve``: the student's running total
follows the rubric as it is marked (mouse and keys), and releasing a part while answers to it are
ungraded asks first, then releases that part alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from live_service import LiveCourse, live_course

ASSIGNMENT, KEY, OTHER = "words", "w4.nms", "w2.why"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCourse]:
    with live_course(tmp_path_factory.mktemp("live")) as course:
        course.assignment(ASSIGNMENT, "architectures-in-words", title="Architectures in words")
        yield course


def _submit(live: LiveCourse, student: str) -> dict[str, object]:
    token = live.enrol(student, f"Student {student}")
    path = f"/courses/{live.course}/assignments/{ASSIGNMENT}/submissions"
    answers = {KEY: "Non-maximum suppression.", "w3.depth": "90", OTHER: "Detail."}
    sent = live.api("POST", path, token, json={"answers": answers})
    assert sent.status_code == 201, sent.text
    return dict(sent.json())


def signed_in(live: LiveCourse, browser: BrowserContext) -> Page:
    page = browser.new_page()
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(live.url + "/")
    page.get_by_label("API token").fill(live.instructor)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()
    return page


def _points(value: float) -> str:
    return f"{value:g}"


def test_the_running_total_follows_the_rubric(live: LiveCourse, browser: BrowserContext) -> None:
    sent = _submit(live, "total-1")
    computed = float(sent["score"])  # type: ignore[arg-type]
    page = signed_in(live, browser)
    page.goto(f"{live.url}/courses/{live.course}/assignments/{ASSIGNMENT}/grading?key={KEY}&at={sent['id']}")
    total, part = page.locator("#total-score"), page.locator("#part-score")
    expect(total).to_have_text(_points(computed))
    expect(page.locator("#running-total")).to_contain_text(f"/ {_points(float(sent['max_score']))}")  # type: ignore[arg-type]
    page.locator("input[name=item]").first.check()  # +0.5
    expect(part).to_have_text("0.5")
    expect(total).to_have_text(_points(computed + 0.5))
    page.keyboard.press("2")  # the second item's key: +0.5 more
    expect(part).to_have_text("1")
    expect(total).to_have_text(_points(computed + 1))
    page.locator("#adjustment").fill("5")  # kept at the part's 1 point
    expect(part).to_have_text("1")
    page.locator("#adjustment").fill("-1.5")
    expect(part).to_have_text("0")
    expect(total).to_have_text(_points(computed))


def test_releasing_a_part_with_ungraded_answers_asks_first(live: LiveCourse, browser: BrowserContext) -> None:
    _submit(live, "release-1")
    page = signed_in(live, browser)
    page.goto(f"{live.url}/courses/{live.course}/assignments/{ASSIGNMENT}/grading?key={KEY}")
    page.locator("#release-part").click()
    warning = page.locator("#release-confirm")
    expect(warning).to_contain_text(f"to {KEY} are not graded yet; releasing now shows those students")
    expect(warning).to_be_focused()
    stored = live.api("GET", f"/courses/{live.course}/assignments/{ASSIGNMENT}").json()
    assert stored["grades_released_parts"] == {} and stored["grades_released_at"] is None
    page.get_by_role("button", name="Release anyway").click()
    expect(page.locator("#progress")).to_contain_text("This part's grades released")
    stored = live.api("GET", f"/courses/{live.course}/assignments/{ASSIGNMENT}").json()
    assert list(stored["grades_released_parts"]) == [KEY] and stored["grades_released_at"] is None
