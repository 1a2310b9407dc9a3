"""Signing in by a mailed link in a real browser: ``grader serve`` mailing through an SMTP server
in the test process (aiosmtpd), and Debian's chromium following the link as a student would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from live_service import LiveCourse, live_course, screenshot_dir
from mail_server import Mailbox, link_in, smtp_server


@pytest.fixture(scope="module")
def relay() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, relay: tuple[Mailbox, int]) -> Iterator[LiveCourse]:
    _, port = relay
    smtp = f"smtp://127.0.0.1:{port}?starttls=false"
    with live_course(
        tmp_path_factory.mktemp("live"), GRADER_SMTP_URL=smtp, GRADER_MAIL_FROM="grader@uni.example"
    ) as course:
        yield course


def test_a_student_follows_the_mailed_invitation_and_lands_on_the_course(
    live: LiveCourse, relay: tuple[Mailbox, int], browser: BrowserContext, tmp_path: Path
) -> None:
    mailbox, _ = relay
    body = {"members": [{"id": "emmy", "name": "Emmy Noether", "email": "emmy@uni.example"}]}
    assert live.api("POST", f"/courses/{live.course}/members", json=body).status_code == 200
    (mail,) = mailbox.wait_for(1)
    assert mail["Subject"] == "You have been added to Convolutional networks"
    link = link_in(mail)
    assert link.startswith(live.url + "/signin/")  # the address the import was sent to

    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto(link)
    expect(page).to_have_url(f"{live.url}/courses/{live.course}")
    expect(page.get_by_role("heading", name="Convolutional networks")).to_be_visible()
    expect(page.locator("header")).to_contain_text("Emmy Noether")
    page.screenshot(path=screenshot_dir(tmp_path) / "signed-in-by-link.png", full_page=True)

    again = browser.new_page()
    response = again.goto(link)
    assert response is not None and response.status == 410
    expect(again.get_by_role("alert")).to_contain_text("used already")
    assert problems == []


def test_a_student_asks_for_a_link_by_keyboard(
    live: LiveCourse, relay: tuple[Mailbox, int], browser: BrowserContext
) -> None:
    mailbox, _ = relay
    body = {"members": [{"id": "sofia", "name": "Sofia Kovalevskaya", "email": "sofia@uni.example"}]}
    assert live.api("POST", f"/courses/{live.course}/members", json=body).status_code == 200
    (invitation,) = mailbox.wait_to("sofia@uni.example", 1)  # (sent by the mail runner, in its time)
    assert invitation["Subject"] == "You have been added to Convolutional networks"
    page = browser.new_page()
    page.goto(live.url + "/")
    page.get_by_label("Your email address").fill("sofia@uni.example")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    asked = [m for m in mailbox.wait_to("sofia@uni.example", 2) if m["Subject"] == "Your sign-in link"]
    assert len(asked) == 1
    page.goto(link_in(asked[0]))
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()
    expect(page.locator("header")).to_contain_text("Sofia Kovalevskaya")
