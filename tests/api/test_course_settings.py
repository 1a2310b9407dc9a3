"""A course's title and time zone over the REST API: set when it is created, shown to its members,
changed by ``PATCH /courses/{course}`` (owner and instructors); an unknown zone is 422 with a
sentence naming it. The API's dates stay ISO 8601 with offsets, whatever the zone."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from factories import Course, auth, make_instructor, unique


def _create(client: TestClient, headers: dict[str, str], **fields: Any) -> Any:
    return client.post("/api/v1/courses", json={"id": unique("c"), "title": "Nets", **fields}, headers=headers)


def test_a_course_is_in_utc_unless_created_in_another_zone(client: TestClient, engine: Engine) -> None:
    instructor = auth(make_instructor(engine))
    plain = _create(client, instructor)
    assert plain.status_code == 201 and plain.json()["time_zone"] == "UTC"
    chicago = _create(client, instructor, time_zone="America/Chicago")
    assert chicago.status_code == 201, chicago.text
    assert chicago.json() | {"id": None, "created_at": None} == {
        "id": None,
        "title": "Nets",
        "role": "owner",
        "time_zone": "America/Chicago",
        "categories": [{"name": "homework", "weight": 100.0, "drop_lowest": 0}],
        "dates_from": "grader",
        "created_at": None,
    }
    listed = {c["id"]: c["time_zone"] for c in client.get("/api/v1/courses", headers=instructor).json()}
    assert listed == {plain.json()["id"]: "UTC", chicago.json()["id"]: "America/Chicago"}


@pytest.mark.parametrize(
    ("zone", "words"),
    [
        ("Mars/Olympus_Mons", "'Mars/Olympus_Mons' is not a time zone"),
        ("localtime", "'localtime' is not a time zone"),
        ("../../etc/passwd", "'../../etc/passwd' is not a time zone"),
        ("america/chicago", "did you mean America/Chicago?"),
    ],
)
def test_creating_a_course_in_an_unknown_zone_is_422_naming_it(
    client: TestClient, engine: Engine, zone: str, words: str
) -> None:
    instructor = auth(make_instructor(engine))
    refused = _create(client, instructor, time_zone=zone)
    assert refused.status_code == 422
    assert [(e["loc"], words in e["msg"]) for e in refused.json()["detail"]] == [(["body", "time_zone"], True)]


def test_new_is_not_a_course_id_it_is_the_page_that_creates_courses(client: TestClient, engine: Engine) -> None:
    refused = client.post("/api/v1/courses", json={"id": "new", "title": "Nets"}, headers=auth(make_instructor(engine)))
    assert refused.status_code == 409 and "the page that creates courses" in refused.json()["detail"]


def test_every_member_reads_the_course_with_their_role(client: TestClient, course: Course) -> None:
    _, student = course.student()
    _, ta = course.member("ta")
    for headers, role in ((course.instructor, "owner"), (ta, "ta"), (student, "student")):
        read = client.get(course.path, headers=headers)
        assert read.status_code == 200, read.text
        assert read.json()["role"] == role and read.json()["id"] == course.id and "time_zone" in read.json()
    outsider = Course(client, make_instructor(client.app.state.engine))
    assert client.get(course.path, headers=outsider.instructor).status_code == 404


def test_owner_and_instructors_change_the_title_and_zone_others_may_not(client: TestClient, engine: Engine) -> None:
    course = Course(client, make_instructor(engine))
    _, instructor = course.member("instructor")
    _, ta = course.member("ta")
    _, student = course.student()
    changed = client.patch(course.path, json={"time_zone": "America/Chicago"}, headers=course.instructor)
    assert changed.status_code == 200, changed.text
    assert changed.json()["time_zone"] == "America/Chicago" and changed.json()["title"] == "A course"
    renamed = client.patch(course.path, json={"title": "  Convolutional networks "}, headers=instructor)
    assert renamed.status_code == 200 and renamed.json()["role"] == "instructor"
    assert renamed.json()["title"] == "Convolutional networks" and renamed.json()["time_zone"] == "America/Chicago"
    both = client.patch(course.path, json={"title": "CNNs", "time_zone": "Europe/Paris"}, headers=instructor)
    assert (both.json()["title"], both.json()["time_zone"]) == ("CNNs", "Europe/Paris")
    for headers in (ta, student):
        refused = client.patch(course.path, json={"time_zone": "UTC"}, headers=headers)
        assert refused.status_code == 403 and "owner and instructors" in refused.json()["detail"]
    outsider = auth(make_instructor(engine))
    assert client.patch(course.path, json={"time_zone": "UTC"}, headers=outsider).status_code == 404
    assert client.patch(course.path, json={"time_zone": "UTC"}).status_code == 401
    assert client.get(course.path, headers=student).json()["time_zone"] == "Europe/Paris"


@pytest.mark.parametrize(
    ("body", "where", "words"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, ["body", "time_zone"], "'Mars/Olympus_Mons' is not a time zone"),
        ({"time_zone": "localtime"}, ["body", "time_zone"], "'localtime' is not a time zone"),
        ({"time_zone": 5}, ["body", "time_zone"], "string"),
        ({"time_zone": None}, ["body"], "time_zone cannot be null"),
        ({"title": None}, ["body"], "title cannot be null"),
        ({"title": "   "}, ["body", "title"], "at least 1 character"),
        ({}, ["body"], "send at least one field to change"),
        ({"time_zone": "UTC", "timezone": "UTC"}, ["body", "timezone"], "Extra inputs are not permitted"),
    ],
)
def test_a_change_of_the_wrong_shape_is_422_and_changes_nothing(
    client: TestClient, course: Course, body: dict[str, Any], where: list[str], words: str
) -> None:
    before = client.get(course.path, headers=course.instructor).json()
    refused = client.patch(course.path, json=body, headers=course.instructor)
    assert refused.status_code == 422, refused.text
    assert any(e["loc"] == where and words in e["msg"] for e in refused.json()["detail"]), refused.json()
    assert client.get(course.path, headers=course.instructor).json() == before


def test_the_api_keeps_iso_8601_with_offsets_whatever_the_zone(client: TestClient, engine: Engine) -> None:
    course = Course(client, make_instructor(engine))
    assignment = course.assignment(due_at="2030-01-02T03:04:00-06:00")
    before = client.get(f"{course.path}/assignments/{assignment}", headers=course.instructor).json()["due_at"]
    assert client.patch(course.path, json={"time_zone": "Asia/Tokyo"}, headers=course.instructor).status_code == 200
    after = client.get(f"{course.path}/assignments/{assignment}", headers=course.instructor).json()["due_at"]
    assert before == after and after.startswith("2030-01-02T09:04:00") and after.endswith(("Z", "+00:00"))
