"""The practice page in headless chromium (Debian's package) against ``grader serve``: a new
variant, an answer, the worked solution typeset, and the gradebook unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

import live_service
from live_service import LiveCourse, live_course, port_in, screenshot_dir

#: The ports this suite may serve on (the machine is shared).
PORTS = range(18400, 18500)


def _our_port() -> int:
    return port_in(PORTS)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCourse]:
    patch = pytest.MonkeyPatch()
    patch.setattr(live_service, "free_port", _our_port)
    try:
        with live_course(tmp_path_factory.mktemp("practice")) as course:
            yield course
    finally:
        patch.undo()


def test_a_student_practises_a_fresh_variant_and_sees_the_worked_solution(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    live.assignment("hw2", "conv-arithmetic", title="Homework 2", practice="always", release_answers="immediately")
    token = live.enrol("emmy", "Emmy Noether")
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(live.url + "/courses/cnn101/assignments/hw2")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Homework 2")).to_be_visible()

    page.get_by_role("link", name="Practice on a fresh variant").click()
    expect(page.get_by_role("heading", name="Practice: Homework 2")).to_be_visible()
    first = page.url
    assert "?variant=" in first
    statement = page.locator(".statement").first.inner_text()
    page.get_by_role("link", name="New variant").click()
    expect(page).not_to_have_url(first)
    assert page.locator(".statement").first.inner_text() != statement  # other numbers

    page.locator('input[name="c1.shape"]').fill("2 x 2")
    page.get_by_role("button", name="Check my answers").click()
    expect(page.locator("#practice-result")).to_have_text("Graded for practice: nothing was recorded.")
    solution = page.locator(".solution").first
    expect(solution.get_by_text("Worked solution")).to_be_visible()
    expect(solution.locator(".katex").first).to_be_visible()  # the steps typeset by KaTeX
    expect(page.locator(".result").first).to_be_visible()
    page.locator(".part").first.screenshot(path=screenshot_dir(tmp_path) / "practice-solution.png")
    assert problems == []

    gradebook = live.api("GET", "/courses/cnn101/assignments/hw2/gradebook").json()
    assert [(row["student"], row["attempts"], row["submission"]) for row in gradebook["students"]] == [
        ("emmy", 0, None)
    ]
    assert live.api("GET", "/courses/cnn101/assignments/hw2/submissions").json() == []


def test_released_solutions_are_typeset_on_the_assignment_page(
    live: LiveCourse, browser: BrowserContext, tmp_path: Path
) -> None:
    """A size, a parameter count and a receptive field, each worked out with the student's numbers."""
    live.assignment("hw3", "network-costs", title="Homework 3", release_answers="immediately")
    token = live.enrol("sofia", "Sofia Kovalevskaya")
    page = browser.new_page()
    page.goto(live.url + "/courses/cnn101/assignments/hw3")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.locator('input[name="n1.conv1_params"]').fill("1")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("heading", name="Attempt 1 submitted")).to_be_visible()
    shots = screenshot_dir(tmp_path)
    for key, first in (("shape1", "The input is"), ("conv1_params", "parameters"), ("rf_conv2", "At the input")):
        part = page.locator(".part", has=page.locator(f'input[name="n1.{key}"]'))
        solution = part.locator(".solution")
        expect(solution.locator("li").first).to_contain_text(first)
        if key != "shape1":  # equations are typeset; a layer's summary line stays text
            expect(solution.locator(".katex").first).to_be_visible()
        part.screenshot(path=shots / f"solution-{key}.png")
