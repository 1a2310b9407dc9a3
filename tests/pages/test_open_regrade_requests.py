"""The staff's course page lists the open regrade requests, each linked to its answer on the
grading page; an answered one leaves the list; students never see it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from written_course import WHY, grade, written_course

from page_client import Browser
from staff_course import token


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


def test_a_computed_part_takes_a_regrade_request_staff_answer_beside_its_reading_and_verdict(
    app: Any, client: TestClient, course: Any
) -> None:
    """Not only written parts: a student who disputes how a computed part was read asks on their
    page; staff find it beside the attempt's reading and verdict and answer it there."""
    aid = course.assignment()
    held = course.assignment(feedback="none")
    (student, headers) = course.student()
    key = "ex4.conv1_params"
    submission = course.submit(aid, headers, {key: "3600"}).json()["id"]
    path = f"/courses/{course.id}/assignments/{aid}"
    theirs = Browser(app).signed_in(token(headers))
    assert "Ask for a regrade of this part" in theirs.get(path).text
    asked = theirs.post(
        path + "/regrade-request", {"key": key, "submission": str(submission), "message": "I wrote 3600"}
    )
    assert asked.status_code == 200 and "Your request was sent" in asked.text
    again = client.post(
        f"/api/v1/submissions/{submission}/parts/{key}/regrade-request", json={"message": "Again"}, headers=headers
    )
    assert again.status_code == 409  # one open at a time, as for written parts
    # a part whose verdict the student is not shown takes none
    hidden = course.submit(held, headers, {key: "3600"}).json()["id"]
    refused = client.post(
        f"/api/v1/submissions/{hidden}/parts/{key}/regrade-request", json={"message": "Why?"}, headers=headers
    )
    assert refused.status_code == 409 and "not shown to you" in refused.json()["detail"]

    staff = Browser(app).signed_in(token(course.instructor))
    attempts = f"{path}/gradebook/students/{student}"
    assert f'href="{attempts}#attempt-1"' in staff.get(f"/courses/{course.id}").text
    page = staff.get(attempts).text
    row = page.split(f"<td><code>{key}</code>", 1)[1].split("regrade-row", 1)
    assert "<code>3600</code>" in row[0] and "status-incorrect" in row[0] and "I wrote 3600" in row[1]
    replied = staff.post(f"{attempts}/reply", {"key": key, "submission": str(submission), "reply": "It stands."})
    assert replied.status_code == 303
    assert "It stands." in staff.get(attempts).text and "It stands." in theirs.get(path).text
    assert "Open regrade requests" not in staff.get(f"/courses/{course.id}").text
