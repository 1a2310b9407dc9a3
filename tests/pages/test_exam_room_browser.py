"""The exam room in headless chromium (Debian's package) against ``grader serve``: a timed exam with
a password and one session per attempt, started in one browser with the password the proctor types;
a second browser (a profile of its own: another device) of the same student, past the password, is
locked ("Locked: ask the proctor", no questions); the proctor's page shows it locked (and the paste
the first browser signalled) and unlocks it from there, and the second browser, with the
password typed again, resumes the attempt with the draft intact while the first is locked out. axe-core finds no
serious or critical WCAG 2.1 A/AA violation on the locked page, the password form nor the proctor's page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.pages.test_accessibility import BLOCKING, RUN_AXE, WCAG_TAGS, axe_source

from live_service import LiveCourse, chromiums, live_course, screenshot_dir

EXAM = "/courses/cnn101/assignments/exam1"
KEY = 'input[name="ex4.conv1_params"]'


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCourse]:
    with live_course(tmp_path_factory.mktemp("exam-room")) as course:
        yield course


def _violations(page: Page) -> list[str]:
    found = page.evaluate(RUN_AXE, WCAG_TAGS)
    return [f"{v['rule']} [{v['impact']}] {v['help']}: {v['nodes']}" for v in found if v["impact"] in BLOCKING]


def _signed_in(context: BrowserContext, live: LiveCourse, token: str) -> Page:
    context.add_init_script(axe_source())
    page = context.new_page()
    page.goto(live.url + EXAM)
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Exam 1")).to_be_visible()
    return page


def test_a_second_browser_is_locked_then_unlocked_by_staff_with_the_draft_intact(
    live: LiveCourse, tmp_path: Path
) -> None:
    access = {"password": "room 101", "one_session": True}
    live.assignment("exam1", "conv-pool-basics", title="Exam 1", time_limit=30, access=access)
    token = live.enrol("emmy", "Emmy Noether")
    devices = (tmp_path / "first-device", tmp_path / "second-device", tmp_path / "proctor")
    with chromiums(*devices) as (browser, other, proctor):
        _locked_then_unlocked(live, token, browser, other, proctor, tmp_path)


def _locked_then_unlocked(
    live: LiveCourse,
    token: str,
    browser: BrowserContext,
    other: BrowserContext,
    proctor: BrowserContext,
    tmp_path: Path,
) -> None:
    first = _signed_in(browser, live, token)
    first.get_by_label("Exam password", exact=True).fill("room 101")
    first.get_by_role("button", name="Start").click()
    expect(first.locator("#signals-notice")).to_contain_text("never a penalty")
    first.locator(KEY).fill("3640")
    expect(first.locator("#draft-status")).to_contain_text("Your answers were saved", timeout=10_000)
    first.locator(KEY).dispatch_event("paste")  # (a signal the page sends the proctor)

    # the second device: the password first (the proctor is at the door), then the lock
    second = _signed_in(other, live, token)
    expect(second.locator("#exam-room-title")).to_have_text("The exam password")
    expect(second.locator("input.answer")).to_have_count(0)
    second.get_by_label("Exam password", exact=True).fill("room 101")
    second.get_by_role("button", name="Continue").click()
    expect(second.locator("#exam-room-title")).to_have_text("Locked: ask the proctor")
    expect(second.locator("input.answer")).to_have_count(0)
    second.screenshot(path=str(screenshot_dir(tmp_path) / "exam-room-locked.png"), full_page=True)
    assert _violations(second) == []

    # the proctor's page shows the lock (and the paste), and unlocks from there
    desk = _signed_in(proctor, live, live.instructor)
    desk.goto(live.url + EXAM + "/proctor")
    row = desk.locator("#attempt-emmy")
    expect(row.locator(".state")).to_have_text("locked: waiting for you")
    expect(row).to_contain_text("paste")
    assert _violations(desk) == []
    desk.set_viewport_size({"width": 390, "height": 800})
    assert desk.evaluate("document.scrollingElement.scrollWidth") <= 390
    row.get_by_role("button", name="Unlock emmy").click()
    expect(desk.get_by_role("status")).to_contain_text("Unlocked")
    expect(desk.locator("#attempt-emmy .state")).to_have_text("in progress")
    events = live.api("GET", "/courses/cnn101/assignments/exam1/attempts", params={"student": "emmy"}).json()
    kinds = [(event["kind"], event.get("by")) for event in events[0]["events"]]
    assert kinds[0] == ("start", None) and ("signal", None) in kinds and ("lock", None) in kinds
    assert kinds[-1][0] == "unlock" and kinds[-1][1] is not None  # (by the proctor who pressed it)
    second.goto(live.url + EXAM)  # (resumed: the proctor types the password again)
    expect(second.locator("#exam-room-title")).to_have_text("The exam password")
    assert _violations(second) == []
    second.get_by_label("Exam password", exact=True).fill("room 101")
    second.get_by_role("button", name="Continue").click()
    expect(second.locator(KEY)).to_have_value("3640")  # the draft, intact
    expect(second.locator("#time-left")).to_be_visible()  # the clock runs on

    first.reload()
    expect(first.locator("#exam-room-title")).to_have_text("Locked: ask the proctor")
    expect(first.locator("input.answer")).to_have_count(0)


def test_the_clock_stays_in_view_on_a_phone_and_is_announced_at_5_and_1_minutes(
    live: LiveCourse, tmp_path: Path
) -> None:
    """The page's clock is faked (Playwright's clock), so minutes pass without waiting for them."""
    live.assignment("exam2", "conv-pool-basics", title="Exam 2", time_limit=6)
    token = live.enrol("sofia", "Sofia Kovalevskaya")
    with chromiums(tmp_path / "phone") as (phone,):
        phone.add_init_script(axe_source())
        page = phone.new_page()
        page.set_viewport_size({"width": 390, "height": 800})
        page.clock.install()
        page.goto(live.url + "/courses/cnn101/assignments/exam2")
        page.get_by_label("API token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Start").click()
        expect(page.locator("#time-left")).to_have_text(re.compile(r"^5:[2-5]\d$"))  # (counting down)
        warning = page.locator("#time-warning")
        assert warning.get_attribute("aria-live") == "assertive" and warning.text_content() == ""
        # scrolled to the last question, the time left is still at the top of the screen
        page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
        assert page.evaluate("window.scrollY") > 400
        top = page.evaluate("document.getElementById('clock-bar').getBoundingClientRect().top")
        assert 0 <= top <= 1 and page.locator("#time-left").is_visible()
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        assert _violations(page) == []
        page.clock.fast_forward("01:10")
        expect(warning).to_have_text("5 minutes left.")
        page.clock.fast_forward("04:00")
        expect(warning).to_have_text("1 minute left.")
