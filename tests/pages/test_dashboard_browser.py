"""An instructor's work in a real browser (Debian's chromium against ``grader serve``): the problem
sets page refuses a set file at its line, takes it fixed and previews it with its math typeset;
the dashboard imports a roster and creates an assignment from the new set."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, expect

from factories import set_file
from live_service import LiveCourse, screenshot_dir


def sign_in(page: Page, live: LiveCourse, token: str) -> None:
    page.goto(live.url + f"/courses/{live.course}")  # (sends to sign in, then back here)
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_an_instructor_fixes_a_set_file_at_its_line_then_sets_an_assignment_with_it(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    shots = screenshot_dir(tmp_path)
    student = live.enrol("s1", "Ada Lovelace")
    page = browser.new_page()
    sign_in(page, live, live.instructor)
    expect(page.get_by_role("heading", name="Convolutional networks")).to_be_visible()

    # the problem sets page: a file with a typo, chosen in the file input
    page.get_by_role("link", name="Problem sets", exact=True).click()
    expect(page.get_by_role("heading", name="Problem sets", level=1)).to_be_visible()
    broken = set_file("my-convs").replace("kernel: 3", "kernel: three")
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "three" in text)
    (tmp_path / "my-convs.yaml").write_text(broken)
    page.get_by_label("Set file", exact=True).set_input_files(tmp_path / "my-convs.yaml")
    page.get_by_role("button", name="Upload").click()
    issues = page.locator("#set-issues")
    expect(issues).to_contain_text("The file does not validate")
    expect(issues.locator("code.where")).to_have_text(re.compile(rf"^{line}:\d+$"))
    expect(issues.locator(".marked")).to_contain_text(f"{line} ")
    expect(issues.locator(".marked")).to_contain_text("kernel: three")
    page.screenshot(path=shots / "problem-sets-refused.png", full_page=True)

    # the text is kept in the text area: fixed there and sent again (the file input is empty now)
    text_area = page.get_by_label("Or type or paste the file")
    expect(text_area).to_have_value(broken)
    text_area.fill(text_area.input_value().replace("kernel: three", "kernel: 3"))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text("Stored: a new version")
    expect(page.locator("#variant h3")).to_contain_text("my-convs")
    expect(page.locator("#variant")).to_contain_text("One convolution")

    # another set's preview, its matrices typeset by KaTeX
    page.get_by_label("Set", exact=True).select_option("conv-pool-basics")
    page.get_by_role("button", name="Show the variant").click()
    expect(page.locator("#variant h3")).to_contain_text("conv-pool-basics")
    expect(page.locator("#variant .statement .katex").first).to_be_visible()
    expect(page.locator("#variant .reference .katex").first).to_be_visible()
    assert "set=conv-pool-basics" in page.url
    page.screenshot(path=shots / "problem-sets-preview.png", full_page=True)

    # the dashboard: a roster with a bad line is refused at it, then imported
    page.get_by_role("link", name=live.course).click()
    roster = page.get_by_label("Or paste the CSV here")
    roster.fill("id,name,email,role\ns2,Grace Hopper,grace@example.edu,\ns3,Alan Turing,,teacher\n")
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#roster-errors")).to_contain_text("Line 3, role:")
    expect(roster).to_have_value(re.compile("teacher"))
    roster.fill(roster.input_value().replace("teacher", "ta"))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("2 members imported")
    expect(page.locator("code.token")).to_have_count(2)

    # an assignment of the new set, from the form
    page.get_by_label("Assignment id").fill("hw1")
    page.get_by_label("Problem set").select_option("my-convs")
    page.get_by_label("Title").fill("Homework 1: my convolutions")
    page.get_by_label("Due (UTC)").fill("2030-12-01T23:59")
    page.get_by_label("Attempts allowed").fill("3")
    page.get_by_label("A share off per started day late").check()
    page.get_by_label("Percent off per day").fill("10")
    page.get_by_role("button", name="Create the assignment").click()
    expect(page.get_by_role("status")).to_contain_text("Assignment hw1 created.")
    row = page.locator("#assignments tbody tr", has_text="hw1")
    expect(row).to_contain_text("Homework 1: my convolutions")
    expect(row).to_contain_text("2030-12-01 23:59 UTC")
    expect(row).to_contain_text("my-convs · version")
    expect(row.get_by_role("link", name="Statistics")).to_have_attribute(
        "href", f"/courses/{live.course}/assignments/hw1/stats"
    )
    page.screenshot(path=shots / "dashboard.png", full_page=True)
    stored = live.api("GET", f"/courses/{live.course}/assignments/hw1").json()
    assert stored["problem_set"] == "my-convs" and stored["late_penalty"] == {"per_day": 10, "floor": 0}

    # a student answers (one part right, one with the bias left out); the dashboard counts it, and
    # its statistics page draws the charts
    answers = {"q1.params": str(3 * 3 * 3 * 16), "q1.shape": "32x32x16"}
    submitted = live.api(
        "POST", f"/courses/{live.course}/assignments/hw1/submissions", student, json={"answers": answers}
    )
    assert submitted.status_code == 201, submitted.text
    page.reload()
    # (s1 and s2 are students, s3 a TA; one attempt in all)
    expect(row.locator("td.num").first).to_have_text(re.compile(r"^1 of 2\s*1 attempt$"))
    expect(row.locator("td.num").nth(1)).to_have_text("1 / 2")  # the bias left out: the shape only
    row.get_by_role("link", name="Statistics").click()
    expect(page.get_by_role("heading", name=re.compile("^Statistics"), level=1)).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    assert page.locator("svg.chart").count() >= 3
    expect(page.get_by_role("heading", name="Named mistakes")).to_be_visible()


def test_the_forms_are_used_from_the_keyboard(live: LiveCourse, browser: BrowserContext) -> None:
    """The create form, folded once the course has assignments, opens from the keyboard; Tab reaches
    its fields in order, and Enter in a field sends the form."""
    page = browser.new_page()
    sign_in(page, live, live.instructor)
    expect(page.get_by_label("Assignment id")).to_be_hidden()  # (hw1 exists: the form is folded)
    page.locator("#new-assignment summary").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Assignment id").focus()
    page.keyboard.type("kb1")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Problem set")).to_be_focused()
    page.keyboard.press("ArrowDown")  # the first set
    page.get_by_label("Title").focus()
    page.keyboard.type("Typed from the keyboard")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Assignment kb1 created.")
