"""Roster import, tokens (random, shown once, stored as hashes) and /health."""

from __future__ import annotations

from factories import auth, unique
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ApiToken, User
from api.users.tokens import hash_token


def test_health_checks_the_database(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_roster_import_creates_students_with_tokens_stored_as_hashes(client, course, engine) -> None:
    ids = [unique("s"), unique("s")]
    roster = {"students": [{"id": ids[0], "name": "Ada", "email": "ada@example.edu"}, {"id": ids[1], "name": "Alan"}]}
    response = client.post("/api/v1/students", json=roster, headers=course.instructor)
    assert response.status_code == 200
    students = response.json()["students"]
    assert [s["id"] for s in students] == ids
    assert all(s["created"] and len(s["token"]) >= 40 for s in students)
    with Session(engine) as session:
        stored = session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id.in_(ids))).all()
        assert sorted(stored) == sorted(hash_token(s["token"]) for s in students)
        assert all(s["token"] not in stored for s in students)
        assert session.get(User, ids[0]).email == "ada@example.edu"
    # the token works
    assert client.get("/api/v1/assignments", headers=auth(students[0]["token"])).status_code == 200


def test_reimport_updates_names_and_issues_no_new_token(client, course) -> None:
    (student_id, headers) = course.student()
    again = {"students": [{"id": student_id, "name": "Renamed"}]}
    response = client.post("/api/v1/students", json=again, headers=course.instructor)
    assert response.status_code == 200
    assert response.json()["students"][0] == {
        "id": student_id,
        "name": "Renamed",
        "email": None,
        "created": False,
        "token": None,
    }
    assert client.get("/api/v1/assignments", headers=headers).status_code == 200


def test_roster_refuses_duplicates_and_instructor_ids(client, course, engine) -> None:
    sid = unique("s")
    twice = {"students": [{"id": sid, "name": "A"}, {"id": sid, "name": "B"}]}
    assert client.post("/api/v1/students", json=twice, headers=course.instructor).status_code == 409
    with Session(engine) as session:
        instructor_id = session.scalars(select(User.id).where(User.role == "instructor")).first()
    clash = {"students": [{"id": instructor_id, "name": "A"}]}
    assert client.post("/api/v1/students", json=clash, headers=course.instructor).status_code == 409


def test_roster_validates_ids_and_fields(client, course) -> None:
    for student in (
        {"id": "has space", "name": "A"},
        {"id": "", "name": "A"},
        {"id": "ok", "name": ""},
        {"id": "ok", "name": "A", "email": "not-an-email"},
        {"id": "ok", "name": "A\x00"},
        {"id": "ok", "name": "A", "extra": 1},
    ):
        response = client.post("/api/v1/students", json={"students": [student]}, headers=course.instructor)
        assert response.status_code == 422, student
        assert "detail" in response.json()
    assert client.post("/api/v1/students", json={"students": []}, headers=course.instructor).status_code == 422
