"""Where the keyboard's focus goes, in Chromium: a refusal takes it (so it is read first and is in
view), and a worked solution is one tab stop, not one per line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import BrowserContext, Page, expect

from live_service import LiveCourse

PHONE = {"width": 390, "height": 700}


def signed_in(browser: BrowserContext, live: LiveCourse, token: str, path: str) -> Page:
    page = browser.new_page()
    page.set_viewport_size(PHONE)
    page.goto(live.url + path)
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    return page


def test_a_refused_submit_takes_the_focus_and_says_not_submitted_once(
    live: LiveCourse, browser: BrowserContext
) -> None:
    live.assignment("empty1", "conv-pool-basics", title="Nothing typed")
    token = live.enrol("ken", "Ken Thompson")
    page = signed_in(browser, live, token, f"/courses/{live.course}/assignments/empty1")
    page.get_by_role("button", name="Submit", exact=True).click()  # nothing answered: refused
    refusal = page.locator("#refusal")
    expect(refusal).to_be_focused()
    expect(refusal).to_be_in_viewport()
    expect(refusal).to_contain_text("Not submitted")
    text = refusal.inner_text()
    assert text.count("Not submitted") == 1, text
    assert text.lower().count("no attempt used") + text.lower().count("no attempt was used") == 1, text


def test_a_refused_upload_and_a_refused_import_scroll_to_their_first_error(
    live: LiveCourse, browser: BrowserContext
) -> None:
    page = signed_in(browser, live, live.instructor, f"/courses/{live.course}/problem-sets")
    page.get_by_label("Or type or paste the file").fill("id: broken\nproblems: [")
    page.get_by_role("button", name="Upload").click()
    issues = page.locator("#set-issues")
    expect(issues).to_be_focused()
    expect(issues).to_be_in_viewport()

    page.goto(f"{live.url}/courses/{live.course}")
    page.get_by_label("Or paste the CSV here").fill("id,name,email,role\nlin,Linus,,emperor\n")
    page.get_by_role("button", name="Import").click()
    errors = page.locator("#roster-errors")
    expect(errors).to_be_focused()  # far down the dashboard: brought into view
    expect(errors).to_be_in_viewport()
    expect(errors).to_contain_text("Line 2")


#: Where the focus is, as seen by the worked solutions: "line" inside a solution's steps (on a line
#: or in it), "steps" on a solution's scroller, "past" after the last solution, else "other".
FOCUS_PLACE = """() => {
  const at = document.activeElement;
  const solutions = [...document.querySelectorAll("details.solution")];
  if (at.closest("ol.steps")) return "line";
  if (at.classList.contains("steps-scroll")) return "steps";
  const last = solutions[solutions.length - 1];
  return last.compareDocumentPosition(at) & Node.DOCUMENT_POSITION_FOLLOWING && !last.contains(at) ? "past" : "other";
}"""


def test_a_worked_solution_is_one_tab_stop_however_many_lines_it_has(live: LiveCourse, browser: BrowserContext) -> None:
    now = datetime.now(UTC)
    live.assignment(
        "done1",
        "conv-pool-basics",
        title="Closed, answers out",
        due_at=(now - timedelta(days=3)).isoformat(),
        closes_at=(now - timedelta(days=2)).isoformat(),
        release_answers="after_close",
    )
    token = live.enrol("barbara", "Barbara Liskov")
    page = signed_in(browser, live, token, f"/courses/{live.course}/assignments/done1")
    solutions = page.locator("details.solution")
    expect(solutions.first).to_be_visible()
    count = solutions.count()
    lines = page.locator("details.solution ol.steps li").count()
    assert count > 1 and lines > 2 * count  # many lines, some wider or taller than their box on a phone
    solutions.first.locator("summary").focus()
    places = []
    for _ in range(lines + 10 * count):  # more presses than every line and control could take
        page.keyboard.press("Tab")
        places.append(page.evaluate(FOCUS_PLACE))
        if places[-1] == "past":
            break
    assert places[-1] == "past", places
    assert "line" not in places and places.count("steps") == count, places
