"""An instructor starts a course from the pages in a real browser (headless chromium against
``grader serve``): creates it, puts it in America/Chicago from its settings (a misspelt zone
refused at its field first), and sets an assignment whose due date, typed in Chicago time, is
stored as the right instant and shown in Chicago time with the zone named."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import BrowserContext, expect

from live_service import LiveCourse, screenshot_dir


def test_an_instructor_creates_a_course_and_sets_its_time_zone(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    shots = screenshot_dir(tmp_path)
    page = browser.new_page()
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(live.url + "/")
    page.get_by_label("API token").fill(live.instructor)
    page.get_by_role("button", name="Sign in").click()

    # a new course, from the link on the list of courses
    page.get_by_role("link", name="Create a course").click()
    expect(page.get_by_role("heading", name="Create a course")).to_be_visible()
    page.get_by_label("Course id").fill("cs231-2030")
    page.get_by_label("Title").fill("Convolutional networks, fall 2030")
    expect(page.get_by_label("Time zone")).to_have_value("UTC")
    page.get_by_role("button", name="Create the course").click()
    expect(page).to_have_url(live.url + "/courses/cs231-2030")
    expect(page.get_by_role("heading", name="Convolutional networks, fall 2030")).to_be_visible()
    expect(page.get_by_text("Dates are shown and read in UTC")).to_be_visible()

    # its settings: a misspelt zone is refused at its field, then the right one saved
    page.get_by_role("link", name="Settings", exact=True).click()
    zone = page.get_by_label("Time zone")
    zone.fill("America/Chicgo")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#c-time_zone-error")).to_have_text(re.compile("'America/Chicgo' is not a time zone"))
    expect(zone).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=shots / "course-settings-refused.png", full_page=True)
    zone.fill("America/Chicago")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(live.url + "/courses/cs231-2030")
    expect(page.get_by_text("Dates are shown and read in America/Chicago")).to_be_visible()

    # an assignment due at a time typed in Chicago: stored as that instant, shown in Chicago time
    page.get_by_label("Assignment id").fill("hw1")
    page.get_by_label("Problem set").select_option("conv-pool-basics")
    page.get_by_label("Due (America/Chicago)").fill("2030-12-01T23:59")
    page.get_by_role("button", name="Create the assignment").click()
    expect(page.get_by_role("status")).to_contain_text("Assignment hw1 created.")
    row = page.locator("#assignments tbody tr", has_text="hw1")
    expect(row).to_contain_text("2030-12-01 23:59 CST")
    page.screenshot(path=shots / "course-in-chicago.png", full_page=True)
    stored = live.api("GET", "/courses/cs231-2030/assignments/hw1").json()
    assert stored["due_at"] == "2030-12-02T05:59:00Z"
    course = live.api("GET", "/courses/cs231-2030").json()
    assert (course["role"], course["time_zone"]) == ("owner", "America/Chicago")
