"""The staff's course page says how many written answers are left to grade per assignment (of the
attempts the gradebook counts), linking to the first part with work left."""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi.testclient import TestClient
from written_course import COMPARE, SHAPE, WHY, grade, written_course

from page_client import Browser


def _to_grade(browser: Browser, course_id: str) -> tuple[str, str] | None:
    page = browser.get(f"/courses/{course_id}")
    assert page.status_code == 200, page.text
    found = re.search(r'<a href="([^"]*/grading[^"]*)" class="to-grade"><strong>([^<]*)</strong>', page.text)
    return None if found is None else (html.unescape(found.group(1)), found.group(2))


def test_the_answers_left_to_grade_are_counted_and_linked(app: Any, client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine, grade_policy="last")
    (_, alice), (_, bob) = course.students(2)
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    assert _to_grade(staff, course.id) is None  # nothing submitted
    assert "No written answers to grade" in staff.get(f"/courses/{course.id}").text

    course.submit(aid, alice, {WHY: "An earlier try", COMPARE: "Earlier."})  # not counted: the last one is
    mine = course.submit(aid, alice, {WHY: "The kernel's extent", SHAPE: "30x30x16"}).json()["id"]
    theirs = course.submit(aid, bob, {WHY: "Its extent", COMPARE: "Both add."}).json()["id"]
    grading = f"/courses/{course.id}/assignments/{aid}/grading"
    assert _to_grade(staff, course.id) == (f"{grading}?key={WHY}", "3 answers to grade")

    assert grade(course, mine, []).status_code == 200
    assert grade(course, theirs, []).status_code == 200
    assert _to_grade(staff, course.id) == (f"{grading}?key={COMPARE}", "1 answer to grade")
    assert grade(course, theirs, [], key=COMPARE).status_code == 200
    assert _to_grade(staff, course.id) is None
    assert "No written answers to grade" in staff.get(f"/courses/{course.id}").text


def test_an_assignment_without_written_parts_says_nothing_of_grading(app: Any, client: TestClient, engine: Any) -> None:
    course, _ = written_course(client, engine)
    computed = course.assignment()
    ((_, alice),) = course.students(1)
    course.submit(computed, alice, {})
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    page = staff.get(f"/courses/{course.id}").text
    assert f"/assignments/{computed}/grading" not in page


def test_a_ta_sees_the_answers_left_to_grade_and_follows_the_link(app: Any, client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine, grade_policy="last")
    ((_, alice),) = course.students(1)
    _, ta_headers = course.member("ta")
    ta = Browser(app).signed_in(ta_headers["Authorization"].removeprefix("Bearer "))
    assert _to_grade(ta, course.id) is None  # nothing submitted
    assert "No written answers to grade" in ta.get(f"/courses/{course.id}").text

    mine = course.submit(aid, alice, {WHY: "The kernel's extent", COMPARE: "Both add."}).json()["id"]
    grading = f"/courses/{course.id}/assignments/{aid}/grading"
    assert _to_grade(ta, course.id) == (f"{grading}?key={WHY}", "2 answers to grade")
    opened = ta.get(f"{grading}?key={WHY}")
    assert opened.status_code == 200 and "The kernel&#39;s extent" in opened.text  # the link leads to the work

    graded = client.put(f"/api/v1/submissions/{mine}/parts/{WHY}/grading", json={"items": []}, headers=ta_headers)
    assert graded.status_code == 200, graded.text
    assert _to_grade(ta, course.id) == (f"{grading}?key={COMPARE}", "1 answer to grade")
