"""Written answers in the similarity report, in headless chromium against ``grader serve``: the
instructor computes the report of a written homework, finds the two students who share a copied
paragraph at the head of the pairs with the passage as its evidence, and opens them side by side:
the passage highlighted and numbered on both answers; axe-core finds no serious or critical WCAG
2.1 A/AA violation on the page.

The answers are stored as submissions in the service's database: the submit path is not what is
tested here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect
from sqlalchemy.orm import Session

from api.kit.config import Settings
from api.kit.db import make_engine
from tests.api.test_similarity_written import COPIED, PART, SET, honest
from tests.pages.test_accessibility import BLOCKING, RUN_AXE, WCAG_TAGS, axe_source

from factories import graded_row
from live_service import LiveCourse, live_course

ASSIGNMENT = "hw-words"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveCourse, list[str]]]:
    workdir = tmp_path_factory.mktemp("live")
    with live_course(workdir) as course:
        course.assignment(ASSIGNMENT, SET, title="Architectures in words")
        names = [f"w{n}" for n in range(8)]
        for name in names:
            course.enrol(name, f"Student {name}")
        texts = {name: honest(n) for n, name in enumerate(names)}
        texts["w6"], texts["w7"] = f"{honest(6)} {COPIED}", f"In short: {COPIED} So much for that."
        engine = make_engine(Settings(database_url=f"sqlite:///{workdir / 'grader.db'}"))
        version = httpx.get(
            f"{course.url}/api/v1/courses/{course.course}/assignments/{ASSIGNMENT}",
            headers={"Authorization": f"Bearer {course.instructor}"},
        ).json()["set_version"]
        with Session(engine) as session, session.begin():
            for name, text in texts.items():
                session.add(
                    graded_row(course.course, ASSIGNMENT, name, {PART: text}, set_version=version, max_score=9.0)
                )
        engine.dispose()
        yield course, names


def test_the_copied_paragraph_side_by_side(live: tuple[LiveCourse, list[str]], browser: BrowserContext) -> None:
    course, _ = live
    browser.add_init_script(axe_source())
    page = browser.new_page()
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(course.url + "/")
    page.get_by_label("API token").fill(course.instructor)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{course.url}/courses/{course.course}/assignments/{ASSIGNMENT}/similarity")
    page.get_by_role("button", name="Compute the report").click()
    status = page.locator("#report-status")
    for _ in range(300):  # (a bound: the job of 8 students takes about a second)
        if "students compared" in (status.text_content() or ""):
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(status).to_contain_text("8 students compared")
    first = page.locator("#pairs tbody tr").first
    expect(first.get_by_role("link")).to_have_text("w6 and w7")
    expect(first).to_contain_text("Think of a residual block")
    expect(first).to_contain_text(PART)

    first.get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"Written answers to {PART}")).to_be_visible()
    for student in ("w6", "w7"):
        answer = page.get_by_label(f"{student}'s answer to {PART}")
        passage = answer.locator("mark.match")
        expect(passage).to_have_count(1)
        expect(passage).to_contain_text("[1]")
        expect(passage).to_contain_text("librarian who never throws a book away")
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE, WCAG_TAGS)
    assert [v for v in found if v["impact"] in BLOCKING] == []
