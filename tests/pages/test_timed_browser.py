"""A timed assignment in headless chromium (Debian's package) against ``grader serve`` (SQLite, the
service's own time-keeper): the notice and Start, answers typed and saved by htmx, a reload that
keeps them, the time running out (the clock's start aged in the database: no waiting for a real
minute), and the answers submitted for the student by the service; with ``feedback: none`` the
page says only "Submitted" until the answers are released; axe-core finds no serious or critical
WCAG 2.1 A/AA violation on the page before, during and after."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from api.models import Clock
from tests.pages.test_accessibility import BLOCKING, RUN_AXE, WCAG_TAGS, axe_source

from live_service import LiveCourse, live_course, screenshot_dir


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("timed")


@pytest.fixture(scope="module")
def live(workdir: Path) -> Iterator[LiveCourse]:
    with live_course(workdir) as course:
        yield course


def _age(workdir: Path, minutes: float) -> None:
    """Every clock of the service started ``minutes`` earlier: its time runs out."""
    engine = create_engine(f"sqlite:///{workdir / 'grader.db'}", connect_args={"timeout": 30})
    try:
        with Session(engine) as session, session.begin():
            for course_id, assignment_id, student_id, started in session.execute(
                select(Clock.course_id, Clock.assignment_id, Clock.student_id, Clock.started_at)
            ):
                session.execute(
                    update(Clock)
                    .where(
                        Clock.course_id == course_id,
                        Clock.assignment_id == assignment_id,
                        Clock.student_id == student_id,
                    )
                    .values(started_at=started - timedelta(minutes=minutes))
                )
    finally:
        engine.dispose()


def _violations(page: Page) -> list[str]:
    found = page.evaluate(RUN_AXE, WCAG_TAGS)
    return [f"{v['rule']} [{v['impact']}] {v['help']}: {v['nodes']}" for v in found if v["impact"] in BLOCKING]


def test_start_type_reload_and_time_out_submits_the_answers(
    live: LiveCourse, workdir: Path, browser: BrowserContext, tmp_path: Path
) -> None:
    live.assignment("quiz1", "conv-pool-basics", title="Quiz 1", time_limit=5, feedback="none")
    token = live.enrol("sophie", "Sophie Germain")
    browser.add_init_script(axe_source())
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(live.url + "/courses/cnn101/assignments/quiz1")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Quiz 1")).to_be_visible()
    expect(page.locator("#time-limit-notice")).to_contain_text("5 minutes")
    expect(page.locator("input.answer")).to_have_count(0)  # no questions before the start
    assert _violations(page) == []

    page.get_by_role("button", name="Start").click()
    left = page.locator("#time-left")
    expect(left).to_have_text(re.compile(r"^[45]:\d\d$"))
    answer = page.locator('input[name="ex4.conv1_params"]')
    answer.fill("3640")
    expect(page.locator("#draft-status")).to_contain_text("Your answers were saved", timeout=10_000)

    page.reload()
    expect(page.locator('input[name="ex4.conv1_params"]')).to_have_value("3640")
    directory = screenshot_dir(tmp_path)
    page.screenshot(path=str(directory / "timed-running.png"), full_page=True)
    assert _violations(page) == []

    _age(workdir, 6)  # the time is up
    page.reload()
    expect(page.locator("#time-up")).to_contain_text("Your time ended")
    # the service's keeper submits the saved answers (within its poll); the page, read again by its
    # script while it waits, says so
    expect(page.locator("#time-up")).to_contain_text("answers were submitted for you", timeout=45_000)
    # feedback "none": the attempt says it was submitted, and nothing of its grade, until release
    expect(page.locator("#score")).to_have_text("Submitted")
    expect(page.locator("#held-back")).to_contain_text("held back until the answers are released")
    expect(page.locator(".status-correct, .status-incorrect")).to_have_count(0)
    assert _violations(page) == []
    submitted = live.api("GET", "/courses/cnn101/assignments/quiz1/submissions").json()
    # (every input of the form, as its Submit button sends them: the others blank)
    assert [{k: v for k, v in s["answers"].items() if v} for s in submitted] == [{"ex4.conv1_params": "3640"}]

    released = live.api("PATCH", "/courses/cnn101/assignments/quiz1", json={"release_answers": "immediately"})
    assert released.status_code == 200, released.text
    page.reload()
    expect(page.locator("#score")).not_to_have_text("Submitted")
    expect(page.locator(".status-correct").first).to_be_visible()  # ex4.conv1_params, right
    assert not problems, problems
