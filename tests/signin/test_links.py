"""One-time sign-in links made by the staff of a course and shown to them to copy: who may make
one, what a link opens (once), and what a used, expired or unknown link says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from api.models import SignInLink
from api.users.tokens import hash_token

from factories import Course, make_instructor
from page_client import Browser


def _link(course: Course, student: str, **body: object) -> dict:
    response = course.client.post(f"{course.path}/members/{student}/sign-in-link", json=body, headers=course.instructor)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def test_a_link_opens_a_session_on_the_course_once(app, course: Course) -> None:
    student, _ = course.student()
    made = _link(course, student)
    path = urlsplit(made["url"]).path
    assert path.startswith("/signin/") and made["mail"] is None
    assert datetime.fromisoformat(made["expires_at"]) - datetime.now(UTC) > timedelta(days=6, hours=23)

    browser = Browser(app)
    opened = browser.get(path)
    assert opened.status_code == 303 and opened.headers["location"] == f"/courses/{course.id}"
    page = browser.get(f"/courses/{course.id}")
    assert page.status_code == 200 and student in page.text  # signed in as the student

    again = Browser(app).get(path)
    assert again.status_code == 410 and "used already" in again.text
    assert "grader_session" not in again.headers.get("set-cookie", "")
    # whoever holds the link is told whom to ask (an instructor's link comes from an admin, not an instructor)
    assert "ask your instructor" not in again.text.lower() and "the service's administrator" in again.text


def test_an_expired_or_unknown_link_opens_nothing(app, course: Course, engine: Engine) -> None:
    student, _ = course.student()
    path = urlsplit(_link(course, student)["url"]).path
    with Session(engine) as session, session.begin():
        token_hash = hash_token(path.removeprefix("/signin/"))
        session.execute(
            update(SignInLink)
            .where(SignInLink.id_hash == token_hash)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = Browser(app).get(path)
    assert expired.status_code == 410 and "expired" in expired.text
    unknown = Browser(app).get("/signin/" + "x" * 43)
    assert unknown.status_code == 404 and "not one of ours" in unknown.text
    too_long = Browser(app).get("/signin/" + "x" * 500)
    assert too_long.status_code == 422


def test_using_a_link_uses_the_other_open_links_of_the_account(app, course: Course) -> None:
    student, _ = course.student()
    first, second = (urlsplit(_link(course, student)["url"]).path for _ in range(2))
    assert Browser(app).get(second).status_code == 303
    assert Browser(app).get(first).status_code == 410


def test_a_link_for_another_courses_student_is_404(client: TestClient, course: Course, engine: Engine) -> None:
    other = Course(client, make_instructor(engine))
    outsider, _ = other.student()
    response = client.post(f"{course.path}/members/{outsider}/sign-in-link", json={}, headers=course.instructor)
    assert response.status_code == 404
    staff, _ = course.member("ta")
    response = client.post(f"{course.path}/members/{staff}/sign-in-link", json={}, headers=course.instructor)
    assert response.status_code == 404  # links are for students


def test_only_those_who_may_act_as_the_account_see_its_link(client: TestClient, course: Course, engine: Engine) -> None:
    """A link shown acts as the account everywhere: the rule for replacing a token."""
    student, student_headers = course.student()
    _, ta_headers = course.member("ta")
    response = client.post(f"{course.path}/members/{student}/sign-in-link", json={}, headers=ta_headers)
    assert response.status_code == 403  # TAs do not run the course
    response = client.post(f"{course.path}/members/{student}/sign-in-link", json={}, headers=student_headers)
    assert response.status_code == 403
    # the student joins a second course run by someone else: the first course's staff may not act as them
    other = Course(client, make_instructor(engine))
    other.enrol([{"id": student, "name": "Student 0"}])
    response = client.post(f"{course.path}/members/{student}/sign-in-link", json={}, headers=course.instructor)
    assert response.status_code == 403 and "courses you do not run" in response.json()["detail"]


def test_mail_is_refused_clearly_when_the_service_sends_none(client: TestClient, course: Course) -> None:
    student, _ = course.student()
    response = client.post(
        f"{course.path}/members/{student}/sign-in-link", json={"send": True}, headers=course.instructor
    )
    assert response.status_code == 409 and "GRADER_SMTP_URL" in response.json()["detail"]


def test_links_for_every_student_with_each_outcome(client: TestClient, course: Course, engine: Engine) -> None:
    mine, _ = course.student()
    shared, _ = course.student()
    Course(client, make_instructor(engine)).enrol([{"id": shared, "name": "Shared"}])
    response = client.post(f"{course.path}/sign-in-links", json={}, headers=course.instructor)
    assert response.status_code == 200, response.text
    outcome = {row["student"]: row for row in response.json()}
    assert outcome[mine]["url"] and outcome[mine]["refused"] is None
    assert outcome[shared]["url"] is None and "courses you do not run" in outcome[shared]["refused"]


def test_the_roster_page_makes_a_link_to_copy(app, course: Course) -> None:
    student, _ = course.student()
    browser = Browser(app)
    browser.signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    dashboard = browser.get(f"/courses/{course.id}")
    assert f'name="member" value="{student}"' in dashboard.text
    made = browser.post(f"/courses/{course.id}/sign-in-links", {"member": student})
    assert made.status_code == 200 and "/signin/" in made.text
    assert made.headers["cache-control"] == "no-store"
    refused = browser.post(f"/courses/{course.id}/sign-in-links", {"member": student}, csrf=False)
    assert refused.status_code == 403
