"""Courses from the pages: ``/courses/new`` for instructor and admin accounts (students refused
as by the REST API), a course's settings for its owner and instructors; and the course's time zone
on its pages: every date shown in it with the zone named, every date typed in its forms read in
it (a time the clocks skip refused, a time they pass twice read as the first)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.kit.db import writer
from api.models import Role
from api.users.service import create_user

from factories import Course, auth, make_instructor, unique
from page_client import Browser


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def signed(app: Any, token: str) -> Browser:
    return Browser(app).signed_in(token)


def field_error(html: str, field_id: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert found, f"no error at {field_id}"
    return unescape(found.group(1))


def new_course_form(**typed: str) -> dict[str, str]:
    return {"id": unique("c"), "title": "Convolutional networks", "time_zone": "UTC", **typed}


# --- /courses/new ------------------------------------------------------------------------------


def test_an_instructor_creates_a_course_from_the_form_and_owns_it(app: Any, client: TestClient, engine: Engine) -> None:
    token = make_instructor(engine)
    browser = signed(app, token)
    assert 'href="/courses/new"' in browser.get("/").text
    form = browser.get("/courses/new")
    assert form.status_code == 200 and 'action="/courses/new"' in form.text
    assert 'value="UTC"' in form.text and '<option value="America/Chicago">' in form.text  # the zones offered
    typed = new_course_form(time_zone=" America/Chicago ")
    created = browser.post("/courses/new", typed)
    assert created.status_code == 303, created.text
    assert created.headers["location"] == f"/courses/{typed['id']}"
    course = client.get(f"/api/v1/courses/{typed['id']}", headers=auth(token)).json()
    assert course | {"created_at": None} == {
        "id": typed["id"],
        "title": "Convolutional networks",
        "role": "owner",
        "time_zone": "America/Chicago",
        "categories": [{"name": "homework", "weight": 100.0, "drop_lowest": 0}],
        "dates_from": "grader",
        "created_at": None,
    }
    dashboard = browser.get(created.headers["location"])
    assert dashboard.status_code == 200 and "Dates are shown and read in America/Chicago" in dashboard.text


def test_an_admin_account_may_create_a_course_too(app: Any, engine: Engine) -> None:
    with Session(writer(engine)) as session, session.begin():
        admin = create_user(session, name="Admin", role=Role.ADMIN, user_id=unique("adm")).token or ""
    browser = signed(app, admin)
    assert 'href="/courses/new"' in browser.get("/").text
    assert browser.post("/courses/new", new_course_form()).status_code == 303


def test_a_student_account_is_refused_as_by_the_api(app: Any, client: TestClient, course: Course) -> None:
    _, student = course.student()
    browser = signed(app, token_of(student))
    assert 'href="/courses/new"' not in browser.get("/").text
    page = browser.get("/courses/new")
    api = client.post("/api/v1/courses", json={"id": unique("c"), "title": "Mine"}, headers=student)
    assert page.status_code == api.status_code == 403
    assert unescape(api.json()["detail"]) in unescape(page.text)
    typed = new_course_form()
    assert browser.post("/courses/new", typed).status_code == 403
    assert client.get(f"/api/v1/courses/{typed['id']}", headers=course.instructor).status_code == 404


def test_without_a_session_the_form_sends_to_sign_in(app: Any) -> None:
    response = Browser(app).get("/courses/new")
    assert response.status_code == 303 and response.headers["location"] == "/?next=/courses/new"


@pytest.mark.parametrize(
    ("typed", "field", "status", "words"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", 422, "'Mars/Olympus_Mons' is not a time zone"),
        ({"time_zone": "localtime"}, "time_zone", 422, "'localtime' is not a time zone"),
        ({"time_zone": "america/chicago"}, "time_zone", 422, "did you mean America/Chicago?"),
        ({"time_zone": ""}, "time_zone", 422, "is required"),
        ({"id": "has space"}, "id", 422, "should be 1 to 64 letters"),
        ({"title": "  "}, "title", 422, "is required"),
        ({"id": "new"}, "id", 409, "the page that creates courses"),
    ],
)
def test_a_refused_form_comes_back_with_the_error_at_its_field(
    app: Any, engine: Engine, typed: dict[str, str], field: str, status: int, words: str
) -> None:
    browser = signed(app, make_instructor(engine))
    browser.get("/courses/new")
    sent = new_course_form(**typed)
    refused = browser.post("/courses/new", sent)
    assert refused.status_code == status, refused.text
    assert words in field_error(refused.text, f"c-{field}")
    assert f'value="{sent["title"].strip()}"' in refused.text  # what was typed is kept


def test_an_id_taken_is_409_at_the_id(app: Any, engine: Engine, course: Course) -> None:
    browser = signed(app, make_instructor(engine))
    browser.get("/courses/new")
    refused = browser.post("/courses/new", new_course_form(id=course.id))
    assert refused.status_code == 409
    assert f"There is already a course '{course.id}'" in field_error(refused.text, "c-id")


# --- /courses/{course}/settings ----------------------------------------------------------------


@dataclass
class Staffed:
    course: Course
    instructor: str
    ta: str
    student: str


@pytest.fixture
def staffed(client: TestClient, engine: Engine) -> Staffed:
    course = Course(client, make_instructor(engine))
    _, instructor = course.member("instructor")
    _, ta = course.member("ta")
    _, student = course.student()
    return Staffed(course, token_of(instructor), token_of(ta), token_of(student))


def test_the_owner_and_instructors_change_the_title_and_zone(app: Any, client: TestClient, staffed: Staffed) -> None:
    course = staffed.course
    owner = signed(app, token_of(course.instructor))
    assert f'href="/courses/{course.id}/settings"' in owner.get(f"/courses/{course.id}").text  # on the dashboard
    settings = owner.get(f"/courses/{course.id}/settings")
    assert settings.status_code == 200 and 'value="A course"' in settings.text and 'value="UTC"' in settings.text
    saved = owner.post(f"/courses/{course.id}/settings", {"title": "CNNs", "time_zone": "America/Chicago"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/courses/{course.id}"
    stored = client.get(course.path, headers=course.instructor).json()
    assert (stored["title"], stored["time_zone"]) == ("CNNs", "America/Chicago")
    dashboard = owner.get(saved.headers["location"]).text
    assert "Dates are shown and read in America/Chicago" in dashboard and "<h1>CNNs" in dashboard

    instructor = signed(app, staffed.instructor)
    again = instructor.get(f"/courses/{course.id}/settings")
    assert 'value="America/Chicago"' in again.text and "Dates of this course are shown and read in" in again.text
    assert re.search(r"where it is now \d{4}-\d\d-\d\d \d\d:\d\d C[SD]T", again.text)
    assert instructor.post(f"/courses/{course.id}/settings", {"title": "CNNs", "time_zone": "UTC"}).status_code == 303
    assert client.get(course.path, headers=course.instructor).json()["time_zone"] == "UTC"


@pytest.mark.parametrize("who", ["ta", "student"])
def test_a_ta_or_student_may_neither_see_nor_post_the_settings(
    app: Any, client: TestClient, staffed: Staffed, who: str
) -> None:
    course = staffed.course
    browser = signed(app, getattr(staffed, who))
    home = browser.get(f"/courses/{course.id}")
    assert home.status_code == 200 and f'href="/courses/{course.id}/settings"' not in home.text
    assert browser.get(f"/courses/{course.id}/settings").status_code == 403
    posted = browser.post(f"/courses/{course.id}/settings", {"title": "Mine", "time_zone": "Asia/Tokyo"})
    assert posted.status_code == 403
    assert client.get(course.path, headers=course.instructor).json()["time_zone"] == "UTC"


def test_an_outsider_finds_no_settings(app: Any, engine: Engine, staffed: Staffed) -> None:
    browser = signed(app, make_instructor(engine))
    assert browser.get(f"/courses/{staffed.course.id}/settings").status_code == 404


def test_a_refused_setting_changes_nothing_and_says_why_at_its_field(
    app: Any, client: TestClient, staffed: Staffed
) -> None:
    course = staffed.course
    owner = signed(app, token_of(course.instructor))
    owner.get(f"/courses/{course.id}/settings")
    refused = owner.post(f"/courses/{course.id}/settings", {"title": "Renamed", "time_zone": "Europe/Atlantis"})
    assert refused.status_code == 422
    assert "'Europe/Atlantis' is not a time zone" in field_error(refused.text, "c-time_zone")
    assert 'value="Renamed"' in refused.text and 'value="Europe/Atlantis"' in refused.text
    blank = owner.post(f"/courses/{course.id}/settings", {"title": "", "time_zone": "UTC"})
    assert blank.status_code == 422 and field_error(blank.text, "c-title") == "is required"
    assert client.get(course.path, headers=course.instructor).json()["title"] == "A course"


# --- dates in the course's zone ----------------------------------------------------------------


@dataclass
class Chicago:
    course: Course
    assignment: str
    student_id: str
    student: str
    ta: str


@pytest.fixture(scope="module")
def chicago(client: TestClient, engine: Engine) -> Chicago:
    """A course in America/Chicago whose assignment is due at 03:04 UTC on 2030-01-02, which is
    21:04 the evening before in Chicago (CST, UTC-6)."""
    course = Course(client, make_instructor(engine))
    assert (
        client.patch(course.path, json={"time_zone": "America/Chicago"}, headers=course.instructor).status_code == 200
    )
    assignment = course.assignment(title="Homework one", due_at="2030-01-02T03:04:00Z")
    student_id, student = course.student()
    _, ta = course.member("ta")
    return Chicago(course, assignment, student_id, token_of(student), token_of(ta))


DUE_IN_CHICAGO = "2030-01-01 21:04 CST"


def test_a_student_sees_the_due_date_in_the_courses_zone(app: Any, chicago: Chicago) -> None:
    browser = signed(app, chicago.student)
    course_page = browser.get(f"/courses/{chicago.course.id}").text
    assert "Dates are in America/Chicago." in course_page and DUE_IN_CHICAGO in course_page
    assert "UTC" not in course_page
    assignment_page = browser.get(f"/courses/{chicago.course.id}/assignments/{chicago.assignment}").text
    assert f"Due {DUE_IN_CHICAGO}." in assignment_page and "03:04" not in assignment_page


def test_the_staff_pages_show_the_courses_zone(app: Any, chicago: Chicago) -> None:
    course = chicago.course
    owner = signed(app, token_of(course.instructor))
    dashboard = owner.get(f"/courses/{course.id}").text
    assert DUE_IN_CHICAGO in dashboard and "Dates are shown and read in America/Chicago" in dashboard
    assert "Due (America/Chicago)" in dashboard and "read as the first of the two" in dashboard
    gradebook = signed(app, chicago.ta).get(f"/courses/{course.id}/assignments/{chicago.assignment}/gradebook").text
    assert f"due {DUE_IN_CHICAGO}" in gradebook and "Due date (America/Chicago)" in gradebook
    assert "(UTC)" not in dashboard + gradebook


def test_a_page_of_no_course_keeps_utc(app: Any, chicago: Chicago) -> None:
    account = signed(app, chicago.student).get("/account").text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", account)


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("2030-07-01T12:00", "2030-07-01T17:00:00Z", "2030-07-01 12:00 CDT"),  # summer: UTC-5
        ("2030-12-01T23:59", "2030-12-02T05:59:00Z", "2030-12-01 23:59 CST"),  # winter: UTC-6
        # 01:30 on 2030-11-03 happens twice (CDT, then CST): the first is taken, and shown as such
        ("2030-11-03T01:30", "2030-11-03T06:30:00Z", "2030-11-03 01:30 CDT"),
    ],
)
def test_a_due_date_typed_on_the_dashboard_is_read_in_the_courses_zone(
    app: Any, client: TestClient, chicago: Chicago, typed: str, stored: str, shown: str
) -> None:
    course = chicago.course
    owner = signed(app, token_of(course.instructor))
    owner.get(f"/courses/{course.id}")
    assignment = unique("a")
    created = owner.post(
        f"/courses/{course.id}/assignments", {"id": assignment, "problem_set": "conv-pool-basics", "due_at": typed}
    )
    assert created.status_code == 303, created.text
    assert client.get(f"{course.path}/assignments/{assignment}", headers=course.instructor).json()["due_at"] == stored
    row = owner.get(f"/courses/{course.id}").text.split(assignment, 1)[1].split("</tr>", 1)[0]
    assert shown in row


def test_a_due_date_the_clocks_skip_is_refused_at_its_field(app: Any, client: TestClient, chicago: Chicago) -> None:
    course = chicago.course
    owner = signed(app, token_of(course.instructor))
    owner.get(f"/courses/{course.id}")
    assignment = unique("a")
    typed = {"id": assignment, "problem_set": "conv-pool-basics", "due_at": "2030-03-10T02:30"}
    refused = owner.post(f"/courses/{course.id}/assignments", typed)
    assert refused.status_code == 422
    assert field_error(refused.text, "a-due_at") == (
        "2030-03-10 02:30 does not exist in America/Chicago: the clocks go forward an hour that night, "
        "from CST to CDT; type a time before or after the jump"
    )
    assert 'value="2030-03-10T02:30"' in refused.text  # what was typed is kept
    assert client.get(f"{course.path}/assignments/{assignment}", headers=course.instructor).status_code == 404


def test_an_extension_typed_in_the_gradebook_is_read_in_the_courses_zone(
    app: Any, client: TestClient, chicago: Chicago
) -> None:
    course = chicago.course
    page = f"/courses/{course.id}/assignments/{chicago.assignment}/gradebook"
    ta = signed(app, chicago.ta)
    ta.get(page)
    granted = ta.post(page + "/extensions", {"student": chicago.student_id, "due_at": "2030-02-01T12:30"})
    assert granted.status_code == 303, granted.text
    book = client.get(f"{course.path}/assignments/{chicago.assignment}/gradebook", headers=course.instructor).json()
    extension = next(row["extension"] for row in book["students"] if row["student"] == chicago.student_id)
    assert extension == {"due_at": "2030-02-01T18:30:00Z", "max_attempts": None}
    shown = ta.get(granted.headers["location"]).text
    assert "2030-02-01 12:30 CST" in shown and 'value="2030-02-01T12:30"' not in shown  # the list; the form empty
    changing = ta.get(f"{page}?student={chicago.student_id}").text  # (its "change" link)
    assert 'value="2030-02-01T12:30"' in changing  # the form, in the course's zone
    student_page = signed(app, chicago.student).get(f"/courses/{course.id}").text
    assert "2030-02-01 12:30 CST" in student_page and f"(was {DUE_IN_CHICAGO})" in student_page

    skipped = ta.post(page + "/extensions", {"student": chicago.student_id, "due_at": "2030-03-10T02:00"})
    assert skipped.status_code == 422
    assert "due at: 2030-03-10 02:00 does not exist in America/Chicago" in unescape(skipped.text)
