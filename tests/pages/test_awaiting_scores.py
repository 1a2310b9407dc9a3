"""A score with parts not graded yet reads as what is graded so far and what is awaited, on every
page and in every JSON that shows it, never as a failing grade; a grade by hand not released to the
student still awaits for them."""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi.testclient import TestClient
from written_course import COMPARE, SHAPE, WHY, grade, queue_of, written_course

from page_client import Browser


def test_parts_awaiting_a_grader_are_out_of_the_graded_points_everywhere(
    app: Any, client: TestClient, engine: Any
) -> None:
    course, aid = written_course(client, engine)
    ((student, headers),) = course.students(1)
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    sent = course.submit(aid, headers, {WHY: "The kernel's extent", SHAPE: "30x30x16", COMPARE: "Both add."}).json()
    assert sent["parts"][SHAPE]["status"] == "correct"
    computed = sent["parts"][SHAPE]["max_score"]
    assert (sent["graded_max_score"], sent["awaiting_points"]) == (computed, 5.0)
    assert sorted(sent["awaiting_parts"]) == sorted([WHY, COMPARE])

    path = f"/courses/{course.id}/assignments/{aid}"
    phrase = f"{computed:g} of {computed:g} graded points; 5 awaiting a grader"
    page = browser.get(path)
    assert re.search(r'<strong id="score">([^<]*)</strong>', page.text).group(1) == phrase  # type: ignore[union-attr]
    assert f"{computed:g} / {computed + 5:g}" not in page.text  # never the total read as a failing grade

    items = [item["id"] for item in queue_of(course, aid)["rubric"]["items"][:2]]
    assert grade(course, sent["id"], items).status_code == 200
    # graded but not released: still awaited by the student, graded for staff
    mine = client.get(f"/api/v1/submissions/{sent['id']}", headers=headers).json()
    assert (mine["score"], mine["graded_max_score"], mine["awaiting_points"]) == (computed, computed, 5.0)
    staff = client.get(f"/api/v1/submissions/{sent['id']}", headers=course.instructor).json()
    assert (staff["score"], staff["graded_max_score"], staff["awaiting_points"]) == (computed + 2, computed + 2, 3.0)
    assert staff["awaiting_parts"] == [COMPARE]

    book = client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor).json()
    (row,) = book["students"]
    assert (row["graded_max_score"], row["awaiting_points"], row["awaiting_parts"]) == (computed + 2, 3.0, [COMPARE])

    staff_browser = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    gradebook = staff_browser.get(f"{path}/gradebook")
    assert f"of {computed + 2:g} graded; 3 awaiting" in gradebook.text
    attempts = staff_browser.get(f"{path}/gradebook/students/{student}")
    assert f"{computed + 2:g} of {computed + 2:g} graded points; 3 awaiting a grader" in html.unescape(attempts.text)

    course_page = browser.get(f"/courses/{course.id}")
    assert phrase in course_page.text

    released = client.post(f"{course.path}/assignments/{aid}/grading/release?key={WHY}", headers=course.instructor)
    assert released.status_code == 200 and released.json()["ungraded"] == 0, released.text
    mine = client.get(f"/api/v1/submissions/{sent['id']}", headers=headers).json()
    assert (mine["score"], mine["graded_max_score"], mine["awaiting_points"]) == (computed + 2, computed + 2, 3.0)
    assert f"{computed + 2:g} of {computed + 2:g} graded points; 3 awaiting a grader" in browser.get(path).text


def test_a_fully_graded_score_reads_as_before(app: Any, client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine)
    ((_, headers),) = course.students(1)
    sent = course.submit(aid, headers, {SHAPE: "30x30x16"}).json()  # the written parts left blank
    assert (sent["awaiting_points"], sent["awaiting_parts"], sent["graded_max_score"]) == (0, [], sent["max_score"])
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    page = browser.get(f"/courses/{course.id}/assignments/{aid}")
    score = f"{sent['final_score']:g} / {sent['max_score']:g}"
    assert re.search(r'<strong id="score">([^<]*)</strong>', page.text).group(1) == score  # type: ignore[union-attr]


def test_the_grading_page_shows_the_students_points_so_far(app: Any, client: TestClient, engine: Any) -> None:
    """Without a script too: the other parts' points, this part's as graded, what is still awaited."""
    course, aid = written_course(client, engine)
    ((_, headers),) = course.students(1)
    sent = course.submit(aid, headers, {WHY: "The kernel's extent", SHAPE: "30x30x16", COMPARE: "Both add."}).json()
    items = [item["id"] for item in queue_of(course, aid)["rubric"]["items"][:1]]
    assert grade(course, sent["id"], items).status_code == 200
    browser = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    page = browser.get(f"/courses/{course.id}/assignments/{aid}/grading?key={WHY}&at={sent['id']}")
    computed = sent["parts"][SHAPE]["score"]
    total = re.search(r'<output id="total-score"[^>]*>([^<]*)</output> / ([^<]*)</strong>', page.text)
    assert total is not None and total.groups() == (f"{computed + 1:g}", f"{sent['max_score']:g}")
    assert re.search(r'<output id="part-score"[^>]*>1</output> / 2', page.text)
    assert "3 of other parts still awaited" in page.text  # the comparison, ungraded
    assert 'data-points="1.0"' in page.text or 'data-points="1"' in page.text
