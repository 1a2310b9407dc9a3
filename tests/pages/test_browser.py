"""The pages in a real browser: headless chromium (Debian's package) against ``grader serve``."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import BrowserContext, expect

from api.kit import headers

from live_service import LiveCourse, chromium, screenshot_dir


def test_a_student_signs_in_by_pasting_a_token_and_sees_the_course_list(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    token = live.enrol("grace", "Grace Hopper")
    page = browser.new_page()
    page.goto(live.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("API token")).to_be_focused()  # ready to paste into
    page.keyboard.insert_text(token)
    page.keyboard.press("Enter")  # signing in by keyboard alone
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()
    expect(page.get_by_role("link", name="Convolutional networks")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the content")).to_be_focused()  # the first stop
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    expect(page.locator("header")).to_contain_text("Grace Hopper")
    cookie = next(c for c in browser.cookies() if c["name"] == "grader_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # no script reads the session
    page.screenshot(path=screenshot_dir(tmp_path) / "courses.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_student_types_sees_how_it_is_read_submits_and_sees_the_named_mistake(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    live.assignment("hw1", "conv-pool-basics", title="Homework 1", max_attempts=3)
    token = live.enrol("alan", "Alan Turing")
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda response: problems.append(response.url) if response.status >= 400 else None)
    page.goto(live.url + "/courses/cnn101/assignments/hw1")
    page.get_by_label("API token").fill(token)  # sent to sign in first, then back here
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Homework 1")).to_be_visible()
    expect(page.locator(".statement .katex").first).to_be_visible()  # the matrices, typeset by KaTeX

    answer = page.locator('input[name="ex4.conv1_params"]')
    answer.press_sequentially("3*3*10*40")
    reading = page.locator("#" + str(answer.get_attribute("aria-describedby")).split()[0])
    expect(reading).to_have_text("Read as: 3,600")
    answer.press_sequentially("+")
    expect(reading).to_contain_text("Cannot be read")
    answer.fill("3600")
    expect(reading).to_have_text("Read as: 3,600")
    matrix = page.locator('textarea[name="ex3.max"]')
    matrix.fill("[[9 7]\n [8 6]]")  # numpy's printed form
    expect(
        page.locator("#" + str(matrix.get_attribute("aria-describedby")).split()[0]).locator(".katex")
    ).to_be_visible()
    page.screenshot(path=screenshot_dir(tmp_path) / "assignment-typing.png", full_page=False)

    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("heading", name="Attempt 1 submitted")).to_be_visible()
    page.screenshot(path=screenshot_dir(tmp_path) / "assignment-submitted.png", full_page=False)
    mistake = page.locator(".mistake")
    expect(mistake).to_have_count(1)
    expect(mistake).to_contain_text("bias-omitted")
    expect(mistake).to_contain_text("The biases are missing")
    mistake.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir(tmp_path) / "assignment-result.png", full_page=False)
    assert problems == []  # no script error, no refused resource (the CSP allows what the page loads)


def test_without_javascript_the_form_still_checks_and_submits(live: LiveCourse, tmp_path: Path) -> None:
    live.assignment("hw2", "conv-pool-basics", title="Homework 2")
    token = live.enrol("edsger", "Edsger Dijkstra")
    with chromium(tmp_path / "profile", javascript=False) as context:
        page = context.new_page()
        page.goto(live.url + "/courses/cnn101/assignments/hw2")
        page.get_by_label("API token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".statement").first).to_contain_text("[[1, 1, 1, 0, 0]")  # the matrix as written
        page.locator('input[name="ex4.conv1_params"]').fill("3*3*10*40")
        page.get_by_role("button", name="Check how my answers are read").click()
        expect(page.get_by_text("Read as: 3,600")).to_be_visible()
        page.get_by_role("button", name="Submit", exact=True).click()
        expect(page.get_by_role("heading", name="Attempt 1 submitted")).to_be_visible()
        expect(page.locator(".mistake")).to_contain_text("bias-omitted")


#: Set before any script of the page runs (playwright's init scripts are not subject to the CSP):
#: every Content-Security-Policy violation the page reports.
RECORD_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def test_swagger_ui_renders_and_runs_requests_under_the_docs_content_security_policy(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    operations = sum(len(methods) for methods in httpx.get(live.url + "/openapi.json").json()["paths"].values())
    page = browser.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    response = page.goto(live.url + "/docs")
    assert response is not None and response.headers["content-security-policy"] == headers.DOCS_CSP
    expect(page.get_by_role("heading", name="grader")).to_be_visible()
    expect(page.locator(".opblock")).to_have_count(operations)  # every operation rendered
    health = page.locator(".opblock", has_text="/health")
    health.locator(".opblock-summary").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()  # a request from the page to the service
    expect(health.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
    page.screenshot(path=screenshot_dir(tmp_path) / "docs.png", full_page=False)
    assert problems == [] and page.evaluate("window.violations") == []

    # the policy is enforced: an inline script, which the page no longer needs, would not run
    page.evaluate("document.body.append(Object.assign(document.createElement('script'), {text: 'window.ran = 1'}))")
    assert page.evaluate("window.ran") is None
    assert page.evaluate("window.violations") == ["script-src-elem inline"]
