"""An instructor runs an assignment's terms from its edit page in a real browser (headless chromium
against ``grader serve``): schedules it (an opening a student cannot see it before, a close
refused beside its field when before the due date), opens it with late work accepted, closes it
and archives it, then restores it from the course's page; and a late student, between those
steps, sees no reference answers while they may still submit, and sees them once it closed."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from live_service import LiveCourse, screenshot_dir


def sign_in_as(page: Page, live: LiveCourse, token: str) -> None:
    """Signs the browser in afresh (one browser plays both people: its cookies are cleared)."""
    page.context.clear_cookies()
    page.goto(live.url + "/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()


def save_terms(page: Page, live: LiveCourse, assignment: str, **dates: str) -> None:
    """From the staff's assignment page: Edit, the dates typed (``due_at=...``), saved."""
    page.goto(f"{live.url}/courses/{live.course}/assignments/{assignment}")
    page.get_by_role("link", name="Edit", exact=True).click()
    labels = {"opens_at": "Opens (UTC)", "due_at": "Due (UTC)", "closes_at": "Closes (UTC)"}
    for name, value in dates.items():
        page.get_by_label(labels[name]).fill(value)
    page.get_by_role("button", name="Save the changes").click()


def test_an_instructor_schedules_edits_and_archives_and_a_late_student_sees_no_answers_until_the_close(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    shots = screenshot_dir(tmp_path)
    live.assignment("hw-terms", "conv-pool-basics", title="Terms homework", due_at="2098-06-01T00:00:00Z")
    student = live.enrol("lee", "Lee Late")
    assignment_url = f"{live.url}/courses/{live.course}/assignments/hw-terms"
    page = browser.new_page()
    page.set_viewport_size({"width": 1100, "height": 900})
    sign_in_as(page, live, live.instructor)

    # the edit page, from the course's list of assignments, filled with the terms
    page.goto(f"{live.url}/courses/{live.course}")
    page.get_by_role("link", name="Edit hw-terms").click()
    expect(page.get_by_role("heading", name="Edit · Terms homework")).to_be_visible()
    expect(page.get_by_label("Due (UTC)")).to_have_value("2098-06-01T00:00")
    expect(page.get_by_label("Title")).to_have_value("Terms homework")

    # choosing "immediately" shows its warning at once (the stylesheet, no script); another hides it
    release = page.get_by_label("Reference answers shown to students")
    warning = page.locator("#a-release_answers-warning")
    expect(warning).to_be_hidden()
    release.select_option("immediately")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text('"immediately" shows the answers before the first attempt')
    release.select_option("after_close")
    expect(warning).to_be_hidden()

    # scheduled: it opens later, and closes a week after the due date; renamed on the way
    page.get_by_label("Title").fill("Homework on terms")
    page.get_by_label("Opens (UTC)").fill("2098-01-01T09:00")
    page.get_by_label("Closes (UTC)").fill("2098-06-08T00:00")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.get_by_role("status")).to_have_text("The changes were saved.")
    expect(page.get_by_role("heading", name="Homework on terms")).to_be_visible()
    expect(page.locator("#term-visible")).to_have_text("From 2098-01-01 09:00 UTC")

    # a close before the due date is refused beside its field, with the dates in the course's zone
    save_terms(page, live, "hw-terms", closes_at="2098-05-01T00:00")
    closes = page.get_by_label("Closes (UTC)")
    expect(page.locator("#a-closes_at-error")).to_have_text(
        "The close (2098-05-01 00:00 UTC) is before the due date (2098-06-01 00:00 UTC): it must be at or after it."
    )
    expect(closes).to_have_attribute("aria-invalid", "true")
    expect(closes).to_have_value("2098-05-01T00:00")  # what was typed, kept
    page.screenshot(path=shots / "assignment-edit-refused.png", full_page=True)

    # before it opens, the student neither sees nor opens it
    sign_in_as(page, live, student)
    page.goto(f"{live.url}/courses/{live.course}")
    expect(page.get_by_role("heading", name="Convolutional networks")).to_be_visible()
    expect(page.get_by_text("Homework on terms")).to_have_count(0)
    missing = page.goto(assignment_url)
    assert missing is not None and missing.status == 404

    # opened, past due, late work accepted until a later close: the late student sees no answers
    sign_in_as(page, live, live.instructor)
    save_terms(
        page, live, "hw-terms", opens_at="2020-01-01T00:00", due_at="2021-01-01T00:00", closes_at="2099-01-01T00:00"
    )
    expect(page.get_by_role("status")).to_have_text("The changes were saved.")
    sign_in_as(page, live, student)
    page.goto(f"{live.url}/courses/{live.course}")
    page.get_by_role("link", name="Homework on terms").click()  # listed now that it is open
    expect(page.get_by_role("heading", name="Homework on terms")).to_be_visible()
    expect(page.get_by_text("The due date has passed")).to_be_visible()
    expect(page.get_by_role("button", name="Submit")).to_be_visible()
    expect(page.get_by_text("Reference answer")).to_have_count(0)
    expect(page.get_by_text("The reference answers are released.")).to_have_count(0)
    page.screenshot(path=shots / "assignment-late-no-answers.png", full_page=True)

    # closed (for everyone: nobody has an extension): now the answers are shown, and nothing is open
    sign_in_as(page, live, live.instructor)
    save_terms(page, live, "hw-terms", closes_at="2021-01-02T00:00")
    expect(page.get_by_role("status")).to_have_text("The changes were saved.")
    sign_in_as(page, live, student)
    page.goto(assignment_url)
    expect(page.locator("#closed")).to_contain_text("This assignment closed 2021-01-02 00:00 UTC")
    expect(page.get_by_text("Reference answer").first).to_be_visible()
    expect(page.get_by_role("button", name="Submit")).to_have_count(0)

    # archived: hidden from the student; restored from the course's page
    sign_in_as(page, live, live.instructor)
    page.goto(assignment_url)
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_role("button", name="Archive the assignment").click()
    expect(page.get_by_role("status")).to_have_text(re.compile("^Archived: hidden from students"))
    expect(page.locator("#term-visible")).to_contain_text("No: archived")
    assert live.api("GET", f"/courses/{live.course}/assignments/hw-terms").json()["archived_at"] is not None
    sign_in_as(page, live, student)
    gone = page.goto(assignment_url)
    assert gone is not None and gone.status == 404
    sign_in_as(page, live, live.instructor)
    page.goto(f"{live.url}/courses/{live.course}")
    page.get_by_role("button", name="Restore hw-terms").click()
    expect(page.get_by_role("status")).to_have_text(re.compile("^Restored"))
    page.screenshot(path=shots / "assignment-restored.png", full_page=True)
    sign_in_as(page, live, student)
    back = page.goto(assignment_url)
    assert back is not None and back.status == 200
