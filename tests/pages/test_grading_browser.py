"""A TA grades ten written answers with the keyboard only, in headless chromium against ``grader
serve``: the item keys toggle the rubric, Enter saves and opens the next ungraded answer; then the
REST API's queue says all ten are graded, each with the items pressed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from live_service import LiveCourse, live_course, screenshot_dir

ASSIGNMENT, KEY = "words", "w4.nms"
ANSWERS = [
    "Non-maximum suppression: keep the most confident box, drop the ones that overlap it.",
    "non-maximum suppression keeps the best box",
    "NMS with an IoU threshold, per class.",
    "They suppress boxes whose IoU with a better box is above 0.5.",
    "Non maximum suppression.",
    "Each object is assigned to the cell holding its centre.",
    "They use anchor boxes.",
    "Boxes overlapping a more confident one (IoU > threshold) are removed.",
    "non-maximum suppression keeps the best box",
    "",
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCourse]:
    with live_course(tmp_path_factory.mktemp("live")) as course:
        course.assignment(ASSIGNMENT, "architectures-in-words", title="Architectures in words")
        for number, text in enumerate(ANSWERS):
            token = course.enrol(f"s{number:02d}", f"Student {number}")
            path = f"/courses/{course.course}/assignments/{ASSIGNMENT}/submissions"
            sent = course.api("POST", path, token, json={"answers": {KEY: text, "w3.depth": "90"}})
            assert sent.status_code == 201, sent.text
        yield course


def signed_in(live: LiveCourse, browser: BrowserContext, token: str) -> Page:
    page = browser.new_page()
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(live.url + "/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()
    return page


def test_a_ta_grades_ten_answers_with_the_keyboard_only(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    ta = live.enrol("ada-ta", "Ada the TA", role="ta")
    page = signed_in(live, browser, ta)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live.url}/courses/{live.course}/assignments/{ASSIGNMENT}/grading?key={KEY}")
    expect(page.locator("#progress")).to_contain_text("Graded 0 of 10")
    page.screenshot(path=screenshot_dir(tmp_path) / "grading-one-answer.png", full_page=True)
    pressed: dict[str, list[str]] = {}
    for number in range(10):
        expect(page.locator("#progress")).to_contain_text(f"Graded {number} of 10")
        answer = page.locator("#answer").inner_text()
        keys = ["1", "2"] if "suppress" in answer.lower() or "nms" in answer.lower() else ["1"] if number % 2 else []
        for key in keys:
            page.keyboard.press(key)
        expect(page.locator("input[name=item][data-key='1']")).to_be_checked(checked="1" in keys)
        pressed[answer] = keys
        page.keyboard.press("Enter")
    expect(page.locator("#all-graded")).to_be_visible()
    expect(page.locator("#progress")).to_contain_text("Graded 10 of 10")
    assert errors == []

    queue = live.api("GET", f"/courses/{live.course}/assignments/{ASSIGNMENT}/grading/{KEY}").json()
    assert queue["graded"] == 10
    shown = {(entry["answer"] or "(no answer)"): entry["grading"]["score"] for entry in queue["entries"]}
    for answer, keys in pressed.items():
        assert shown[answer] == 0.5 * len(keys), answer  # items 1 and 2 are worth 0.5 each

    group = next(g for g in queue["groups"] if len(g["members"]) > 1)
    page.goto(f"{live.url}/courses/{live.course}/assignments/{ASSIGNMENT}/grading?key={KEY}&group={group['id']}")
    expect(page.get_by_role("heading", name="A group of")).to_be_visible()
    page.screenshot(path=screenshot_dir(tmp_path) / "grading-a-group.png", full_page=True)
