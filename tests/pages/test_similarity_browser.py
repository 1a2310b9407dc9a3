"""The similarity report in headless chromium against ``grader serve``: from the assignment's staff
page the instructor opens the report, computes it, finds the planted copy at the head of the ranked
pairs and the copy of a copy in a cluster, opens the pair side by side (matching blocks highlighted
and numbered on both sides), and downloads the pairs as CSV; axe-core finds no serious or critical
WCAG 2.1 A/AA violation on either page. A student of the course gets 404 from each of its pages.

The class (``harness/cnn_class.py``, 8 students) is stored as graded submissions in the service's
database, as its code runner leaves them: the sandbox is not what is tested here."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy.orm import Session

from api.kit.config import Settings
from api.kit.db import make_engine
from harness.cnn_class import make_class
from tests.pages.test_accessibility import BLOCKING, RUN_AXE, WCAG_TAGS, axe_source

from factories import graded_row
from live_service import LiveCourse, live_course

SET = "numpy-convolution"
KEYS = ("conv.forward", "conv.backward", "pool.forward", "pool.backward")
ASSIGNMENT = "hw-conv"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveCourse, dict[str, Any]]]:
    workdir = tmp_path_factory.mktemp("live")
    with live_course(workdir) as course:
        course.assignment(ASSIGNMENT, SET, title="Convolutions")
        planted = make_class(8, copies=1, chains=1, seed=7)
        tokens = {name: course.enrol(name, f"Student {name}") for name in planted.texts}
        engine = make_engine(Settings(database_url=f"sqlite:///{workdir / 'grader.db'}"))
        version = httpx.get(
            f"{course.url}/api/v1/courses/{course.course}/assignments/{ASSIGNMENT}",
            headers={"Authorization": f"Bearer {course.instructor}"},
        ).json()["set_version"]
        graded = {key: {"score": 1.0, "max_score": 1.0, "status": "correct", "tests": []} for key in KEYS}
        with Session(engine) as session, session.begin():
            for name, text in planted.texts.items():
                answers = {"conv": text, "pool": text}
                session.add(
                    graded_row(
                        course.course,
                        ASSIGNMENT,
                        name,
                        answers,
                        set_version=version,
                        parts=graded,
                        score=4.0,
                        max_score=4.0,
                    )
                )
        engine.dispose()
        yield course, {"planted": planted, "student": tokens[next(iter(tokens))]}


def _blocking(page: Page) -> list[str]:
    found = page.evaluate(RUN_AXE, WCAG_TAGS)
    return [f"{v['rule']} [{v['impact']}] {v['help']}: {v['nodes']}" for v in found if v["impact"] in BLOCKING]


def test_list_then_side_by_side_then_export(live: tuple[LiveCourse, dict[str, Any]], browser: BrowserContext) -> None:
    course, made = live
    planted = made["planted"]
    (copy, source), (chained, _) = planted.copies
    browser.add_init_script(axe_source())
    page = browser.new_page()
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(course.url + "/")
    page.get_by_label("API token").fill(course.instructor)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{course.url}/courses/{course.course}/assignments/{ASSIGNMENT}")
    page.get_by_role("link", name="Similar work").first.click()
    expect(page.get_by_role("heading", name="Similar work")).to_be_visible()
    expect(page.locator("#report-status")).to_contain_text("Not computed yet")
    assert "plagiari" not in page.content().lower()
    assert _blocking(page) == []

    page.get_by_role("button", name="Compute the report").click()
    expect(page.get_by_role("status")).to_contain_text("being computed")
    status = page.locator("#report-status")
    for _ in range(300):  # (a bound: the job of 8 students takes about a second)
        if "students compared" in (status.text_content() or ""):
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(status).to_contain_text("8 students compared (28 pairs)")
    first = page.locator("#pairs tbody tr").first
    top_three = {page.locator("#pairs tbody tr").nth(n).get_by_role("link").text_content() for n in range(3)}
    expected = {" and ".join(sorted(pair)) for pair in planted.planted_pairs()}
    assert top_three == expected
    expect(page.locator("#clusters")).to_contain_text(", ".join(sorted({copy, source, chained})))
    assert "plagiari" not in page.content().lower()
    assert _blocking(page) == []

    first.get_by_role("link").click()
    expect(page.locator("#pair-score")).to_be_visible()
    for side in (1, 2):
        code = page.locator(f"section:has(#side-{side}) pre")
        expect(code.locator(".match").first).to_be_visible()
        expect(code.locator(".block-no").first).to_contain_text("[1")
    assert _blocking(page) == []

    page.get_by_role("link", name="Back to the pairs").click()
    with page.expect_download() as download:
        page.locator("#csv-export").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows[0][:4] == ["rank", "first", "second", "score"]
    assert {" and ".join(row[1:3]) for row in rows[1:4]} == expected

    browser.clear_cookies()
    page.goto(course.url + "/")
    page.get_by_label("API token").fill(made["student"])
    page.get_by_role("button", name="Sign in").click()
    base = f"{course.url}/courses/{course.course}/assignments/{ASSIGNMENT}/similarity"
    for path in ("", ".csv", f"/compare?first={copy}&second={source}"):
        response = page.goto(base + path)
        assert response is not None and response.status == 404, path
