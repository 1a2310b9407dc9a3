"""The staff's course page lists the open regrade requests, each linked to its answer on the
grading page; an answered one leaves the list; students never see it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from written_course import WHY, grade, written_course

from page_client import Browser


def test_open_requests_are_listed_with_a_link_until_answered(app: Any, client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine)
    (student, headers), (_, other) = course.students(2)
    submission = course.submit(aid, headers, {WHY: "The kernel covers three pixels."}).json()["id"]
    assert grade(course, submission, []).status_code == 200
    assert client.post(f"{course.path}/assignments/{aid}/grading/release", headers=course.instructor).status_code == 200
    asked = client.post(
        f"/api/v1/submissions/{submission}/parts/{WHY}/regrade-request",
        json={"message": "I named the extent <b>too</b>."},
        headers=headers,
    )
    assert asked.status_code in (200, 201), asked.text

    _, ta = course.member("ta")
    page = Browser(app).signed_in(ta["Authorization"].removeprefix("Bearer ")).get(f"/courses/{course.id}")
    assert page.status_code == 200
    assert "Open regrade requests (1)" in page.text
    assert f'href="/courses/{course.id}/assignments/{aid}/grading?key={WHY}&amp;at={submission}"' in page.text
    assert "I named the extent &lt;b&gt;too&lt;/b&gt;." in page.text and student in page.text

    mine = Browser(app).signed_in(other["Authorization"].removeprefix("Bearer ")).get(f"/courses/{course.id}")
    assert "Open regrade requests" not in mine.text and "I named the extent" not in mine.text

    replied = client.post(
        f"/api/v1/submissions/{submission}/parts/{WHY}/regrade-request/reply",
        json={"reply": "Looked again: it stands."},
        headers=course.instructor,
    )
    assert replied.status_code == 200, replied.text
    owner = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    assert "Open regrade requests" not in owner.get(f"/courses/{course.id}").text
