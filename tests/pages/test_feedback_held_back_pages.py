"""An assignment's ``feedback`` on the pages, on both databases: the student's assignment page (its
result, each part, the attempts table), the course page's score, staff viewing the student's page as
they see it, and practice, which opens only once everything may be shown; staff's gradebook shows
everything, and so does every page once the answers are released."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories import Course, make_instructor
from page_client import Browser

WRONG_KEY, RIGHT_KEY = "ex4.conv1_params", "ex3.max"  # conv-pool-basics, a fixed set
WRONG = "3600"  # the biases left out: bias-omitted
MISTAKE, EXPLAINED = "bias-omitted", "biases are missing"


def _browser(app: Any, headers: dict[str, str]) -> Browser:
    return Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))


def _submitted(client: TestClient, course: Course, level: str) -> tuple[str, str, dict[str, str], dict[str, Any]]:
    aid = course.assignment(feedback=level, release_answers="never")
    student, headers = course.student()
    right = course.reference(aid)[RIGHT_KEY]
    sent = course.submit(aid, headers, {WRONG_KEY: WRONG, RIGHT_KEY: right})
    assert sent.status_code == 201, sent.text
    return aid, student, headers, sent.json()


def _assert_page(html: str, level: str, total: str) -> None:
    """The student's assignment page under ``level`` (``total``: the score as pages write it)."""
    if level == "full":
        assert MISTAKE in html and EXPLAINED in html and total in html
        return
    assert MISTAKE not in html and EXPLAINED not in html and "Reference answer" not in html
    if level == "correctness":
        assert "Not correct." in html and "Correct." in html and total in html
        assert "status-incorrect" in html and "status-correct" in html
    else:
        assert "Not correct." not in html and "status-incorrect" not in html and "status-correct" not in html
        assert "grades held back" in html  # the attempts table
    if level == "score":
        assert total in html and "Each part's grade is held back" in html
    if level == "none":
        assert total not in html and 'id="held-back"' in html and "Submitted" in html


@pytest.mark.parametrize("level", ["full", "correctness", "score", "none"])
def test_the_student_pages_hold_back_what_the_level_says_until_the_answers_are_released(
    app: Any, client: TestClient, engine: Any, level: str
) -> None:
    course = Course(client, make_instructor(engine))
    aid, student, headers, sent = _submitted(client, course, level)
    total = f"1 / {sent['max_score']:g}"
    browser = _browser(app, headers)
    path = f"/courses/{course.id}/assignments/{aid}"
    _assert_page(browser.get(path).text, level, total)
    course_page = browser.get(f"/courses/{course.id}").text
    assert (total in course_page) is (level != "none")
    if level == "none":
        assert "Submitted" in course_page
    # staff see the student's page as the student does, and everything in the gradebook
    staff = _browser(app, course.instructor)
    _assert_page(staff.get(f"{path}?student={student}").text, level, total)
    gradebook = staff.get(f"{path}/gradebook/students/{student}").text
    assert MISTAKE in gradebook and EXPLAINED in gradebook
    # released answers show everything
    released = client.patch(
        f"{course.path}/assignments/{aid}", json={"release_answers": "immediately"}, headers=course.instructor
    )
    assert released.status_code == 200, released.text
    page = browser.get(path).text
    _assert_page(page, "full", total)
    assert "Reference answer" in page and total in browser.get(f"/courses/{course.id}").text


def test_a_submission_through_the_page_is_answered_under_the_level(app: Any, client: TestClient, engine: Any) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(feedback="correctness", release_answers="never")
    _, headers = course.student()
    browser = _browser(app, headers)
    path = f"/courses/{course.id}/assignments/{aid}"
    browser.get(path)
    sent = browser.post(path, {WRONG_KEY: WRONG, "action": "submit", "idempotency_key": "fb-page-1"})
    assert sent.status_code == 303, sent.text
    answered = browser.get(sent.headers["location"]).text
    assert "Attempt 1 submitted" in answered and "Not correct." in answered
    assert MISTAKE not in answered and EXPLAINED not in answered


@pytest.mark.parametrize(("level", "open_"), [("full", True), ("correctness", False), ("none", False)])
def test_practice_opens_only_where_everything_may_be_shown(
    app: Any, client: TestClient, engine: Any, level: str, open_: bool
) -> None:
    """A randomized set, closed for everyone, its answers never released: practice (feedback and
    worked solutions on fresh variants) would tell what the attempts' held-back feedback hides."""
    course = Course(client, make_instructor(engine))
    now = datetime.now(UTC)
    aid = course.assignment(
        "conv-arithmetic",
        feedback=level,
        practice="always",
        release_answers="never",
        due_at=(now - timedelta(days=2)).isoformat(),
        closes_at=(now - timedelta(days=1)).isoformat(),
    )
    _, headers = course.student()
    browser = _browser(app, headers)
    practice = browser.get(f"/courses/{course.id}/assignments/{aid}/practice", follow_redirects=True)
    assert practice.status_code == (200 if open_ else 403)
    assert ("Check my answers" in practice.text) is open_
    if not open_:
        assert "its feedback is held back until the answers are released" in practice.text
    assert ('id="practice-link"' in browser.get(f"/courses/{course.id}/assignments/{aid}").text) is open_
