"""The pages in a real browser: headless chromium (Debian's package) against ``grader serve``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from live_service import LiveCourse, chromium, live_course, screenshot_dir


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCourse]:
    with live_course(tmp_path_factory.mktemp("live")) as course:
        yield course


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    with chromium(tmp_path / "profile") as context:
        yield context


def test_a_student_signs_in_by_pasting_a_token_and_sees_the_course_list(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    token = live.enrol("grace", "Grace Hopper")
    page = browser.new_page()
    page.goto(live.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()
    expect(page.get_by_role("link", name="Convolutional networks")).to_be_visible()
    expect(page.locator("header")).to_contain_text("Grace Hopper")
    cookie = next(c for c in browser.cookies() if c["name"] == "grader_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # no script reads the session
    page.screenshot(path=screenshot_dir(tmp_path) / "courses.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
