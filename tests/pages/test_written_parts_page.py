"""A written part on the student's assignment page: a text box, ``pending`` once submitted, the
grade by hand (items, comment) only once released, then a regrade request sent from the page."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from written_course import WHY, grade, queue_of, written_course

from page_client import Browser


def test_a_written_answer_is_typed_submitted_pending_then_graded_and_questioned(
    app: Any, client: TestClient, engine: Any
) -> None:
    course, aid = written_course(client, engine)
    ((student, headers),) = course.students(1)
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    path = f"/courses/{course.id}/assignments/{aid}"
    page = browser.get(path)
    assert re.search(rf'<textarea id="answer-\d+" name="{re.escape(WHY)}" class="answer written"', page.text)
    assert "graded by the course's staff" in page.text

    answer = "The kernel covers 3 pixels <so> the map shrinks:\nW - K + 1."
    sent = browser.post(path, {WHY: answer, "q1.shape": "30x30x16", "action": "submit"})
    assert sent.status_code == 303, sent.text
    page = browser.get(sent.headers["location"])
    assert "Awaiting a grader" in page.text
    assert "&lt;so&gt;" in page.text and "<so>" not in page.text  # shown escaped, as typed

    submission = queue_of(course, aid)["entries"][0]
    assert submission["answer"] == answer.replace("\n", "\r\n") or submission["answer"] == answer
    item = queue_of(course, aid)["rubric"]["items"][0]["id"]
    assert grade(course, submission["submission"], [item], comment="Say why it shrinks.").status_code == 200
    page = browser.get(path)
    assert "Say why it shrinks." not in page.text and "Awaiting a grader" in page.text  # not released

    client.post(f"{course.path}/assignments/{aid}/grading/release", headers=course.instructor)
    page = browser.get(path)
    assert "Say why it shrinks." in page.text and "Names the kernel&#39;s extent" in page.text
    assert "Ask for a regrade of this part" in page.text

    asked = browser.post(
        path + "/regrade-request",
        {"key": WHY, "submission": str(submission["submission"]), "message": "I gave the formula too."},
    )
    assert asked.status_code == 200 and "Your request was sent" in asked.text
    assert "I gave the formula too." in asked.text and "Not answered yet." in asked.text
    again = browser.post(
        path + "/regrade-request", {"key": WHY, "submission": str(submission["submission"]), "message": "Again"}
    )
    assert again.status_code == 409 and "not answered yet" in again.text
    entry = queue_of(course, aid)["entries"][0]
    assert [r["message"] for r in entry["regrade_requests"]] == ["I gave the formula too."]
    assert student == entry["student"]


def test_a_regrade_request_for_someone_elses_submission_is_refused(app: Any, client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine)
    (_, alice), (_, bob) = course.students(2)
    mine = course.submit(aid, alice, {WHY: "kernel"}).json()["id"]
    grade(course, mine, [])
    client.post(f"{course.path}/assignments/{aid}/grading/release", headers=course.instructor)
    browser = Browser(app).signed_in(bob["Authorization"].removeprefix("Bearer "))
    path = f"/courses/{course.id}/assignments/{aid}"
    browser.get(path)
    refused = browser.post(path + "/regrade-request", {"key": WHY, "submission": str(mine), "message": "Mine now"})
    assert refused.status_code == 404
    assert browser.post(path + "/regrade-request", {"key": WHY, "message": "x"}, csrf=False).status_code == 403


def test_practice_leaves_the_written_parts_out(app: Any, client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine, practice="always", release_answers="immediately")
    ((_, headers),) = course.students(1)
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    page = browser.get(f"/courses/{course.id}/assignments/{aid}/practice?seed=1")
    assert page.status_code == 200, page.text
    assert 'name="q1.shape"' in page.text
    assert WHY not in page.text and "q2.compare" not in page.text  # no grader in practice


def _course_page_score(browser: Browser, course_id: str) -> str:
    page = browser.get(f"/courses/{course_id}")
    assert page.status_code == 200, page.text
    (cell,) = re.findall(r'<td class="num" data-label="Score">([^<]+) <span class="muted">\(best\)', page.text)
    return cell


def test_the_course_page_shows_a_grade_by_hand_only_once_released(app: Any, client: TestClient, engine: Any) -> None:
    """Every page agrees with the REST API: before release the student's course page counts no
    points of a grade by hand (the part is pending), after release it does."""
    course, aid = written_course(client, engine)
    ((_, headers),) = course.students(1)
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    submitted = course.submit(aid, headers, {WHY: "The kernel's extent", "q1.shape": "30x30x16"}).json()
    entry = queue_of(course, aid)
    items = [item["id"] for item in entry["rubric"]["items"]]
    assert grade(course, submitted["id"], items).status_code == 200

    def seen() -> tuple[str, dict[str, Any]]:
        mine = client.get(f"/api/v1/submissions/{submitted['id']}", headers=headers).json()
        return _course_page_score(browser, course.id), mine

    before, rest = seen()
    assert rest["parts"][WHY]["status"] == "pending"
    awaited = f"{rest['awaiting_points']:g} awaiting a grader"
    assert before == f"{rest['final_score']:g} of {rest['graded_max_score']:g} graded points; {awaited}", before
    assert rest["graded_max_score"] + rest["awaiting_points"] == rest["max_score"] and rest["awaiting_points"] > 0
    client.post(f"{course.path}/assignments/{aid}/grading/release", headers=course.instructor)
    after, rest = seen()
    assert rest["parts"][WHY]["status"] != "pending" and rest["final_score"] > float(before.split(" of ")[0])
    assert rest["awaiting_points"] == 0 and rest["awaiting_parts"] == []
    assert after == f"{rest['final_score']:g} / {rest['max_score']:g}"
