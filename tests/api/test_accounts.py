"""Courses, the roster import, tokens (random, shown once, stored as hashes, replaced when lost) and /health."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models import ApiToken, User
from api.users.service import replace_token
from api.users.tokens import hash_token

from factories import Course, auth, make_instructor, unique


def test_health_checks_the_database(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_roster_import_creates_students_with_tokens_stored_as_hashes(client, course, engine) -> None:
    ids = [unique("s"), unique("s")]
    roster = {"members": [{"id": ids[0], "name": "Ada", "email": "ada@example.edu"}, {"id": ids[1], "name": "Alan"}]}
    response = client.post(f"{course.path}/members", json=roster, headers=course.instructor)
    assert response.status_code == 200
    students = response.json()["members"]
    assert [s["id"] for s in students] == ids
    assert all(s["created"] and len(s["token"]) >= 40 for s in students)
    with Session(engine) as session:
        stored = session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id.in_(ids))).all()
        assert sorted(stored) == sorted(hash_token(s["token"]) for s in students)
        assert all(s["token"] not in stored for s in students)
        assert session.get(User, ids[0]).email == "ada@example.edu"
    # the token works
    assert client.get(f"{course.path}/assignments", headers=auth(students[0]["token"])).status_code == 200


def test_reimport_changes_neither_name_nor_email_and_issues_no_new_token(client, course, engine) -> None:
    (student_id, headers) = course.student()
    again = {"members": [{"id": student_id, "name": "Renamed", "email": "attacker@example.edu"}]}
    response = client.post(f"{course.path}/members", json=again, headers=course.instructor)
    assert response.status_code == 200
    assert response.json()["members"][0] == {
        "id": student_id,
        "name": "Student 0",
        "email": None,
        "role": "student",
        "created": False,
        "token": None,
    }
    with Session(engine) as session:
        stored = session.get(User, student_id)
        assert (stored.name, stored.email) == ("Student 0", None)
    assert client.get(f"{course.path}/assignments", headers=headers).status_code == 200


def test_roster_refuses_duplicates_and_the_owner(client, course, engine) -> None:
    sid = unique("s")
    twice = {"members": [{"id": sid, "name": "A"}, {"id": sid, "name": "B"}]}
    assert client.post(f"{course.path}/members", json=twice, headers=course.instructor).status_code == 409
    owner = client.get(f"{course.path}/members", headers=course.instructor).json()[0]
    assert owner["role"] == "owner"
    demoted = {"members": [{"id": owner["id"], "name": "A"}]}
    response = client.post(f"{course.path}/members", json=demoted, headers=course.instructor)
    assert response.status_code == 409 and "owns the course" in response.json()["detail"]


def test_one_account_is_a_student_in_one_course_and_a_ta_in_another(client, course, engine) -> None:
    other = Course(client, make_instructor(engine))
    (member_id, headers) = course.student()
    (joined,) = other.enrol([{"id": member_id, "name": "Same person", "role": "ta"}])
    assert (joined["created"], joined["token"], joined["role"]) == (False, None, "ta")
    roles = {c["id"]: c["role"] for c in client.get("/api/v1/courses", headers=headers).json()}
    assert roles == {course.id: "student", other.id: "ta"}
    # staff in one, a student in the other: the gradebook opens in one only
    aid, other_aid = course.assignment(), other.assignment()
    assert client.get(f"{other.path}/assignments/{other_aid}/gradebook", headers=headers).status_code == 200
    assert client.get(f"{course.path}/assignments/{aid}/gradebook", headers=headers).status_code == 403
    # re-importing with another role changes it
    other.enrol([{"id": member_id, "name": "Same person", "role": "student"}])
    assert client.get(f"{other.path}/assignments/{other_aid}/gradebook", headers=headers).status_code == 403


def test_courses_are_created_by_instructor_accounts_only(client, course) -> None:
    (_, student) = course.student()
    made = client.post("/api/v1/courses", json={"id": unique("c"), "title": "Mine"}, headers=student)
    assert made.status_code == 403
    taken = client.post("/api/v1/courses", json={"id": course.id, "title": "Again"}, headers=course.instructor)
    assert taken.status_code == 409
    for body in ({"id": "has space", "title": "T"}, {"id": unique("c")}, {"id": unique("c"), "title": ""}):
        assert client.post("/api/v1/courses", json=body, headers=course.instructor).status_code == 422, body


def test_roster_validates_ids_and_fields(client, course) -> None:
    for student in (
        {"id": "has space", "name": "A"},
        {"id": "", "name": "A"},
        {"id": "ok", "name": ""},
        {"id": "ok", "name": "A", "email": "not-an-email"},
        {"id": "ok", "name": "A\x00"},
        {"id": "ok", "name": "A", "extra": 1},
    ):
        response = client.post(f"{course.path}/members", json={"members": [student]}, headers=course.instructor)
        assert response.status_code == 422, student
        assert "detail" in response.json()
    assert client.post(f"{course.path}/members", json={"members": []}, headers=course.instructor).status_code == 422


def test_a_lost_token_is_replaced_and_the_old_one_revoked(client, course, engine) -> None:
    (student_id, old), (other_id, other) = course.students(2)
    response = client.post(f"{course.path}/members/{student_id}/token", headers=course.instructor)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == student_id and len(body["token"]) >= 40
    assert client.get(f"{course.path}/assignments", headers=auth(body["token"])).status_code == 200
    assert client.get(f"{course.path}/assignments", headers=old).status_code == 401
    # only the hash of the new token is stored, and another student's token is untouched
    with Session(engine) as session:
        stored = session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == student_id)).all()
        assert stored == [hash_token(body["token"])]
        assert session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == other_id)) == 1
    assert client.get(f"{course.path}/assignments", headers=other).status_code == 200
    # replacing again revokes the replacement
    again = client.post(f"{course.path}/members/{student_id}/token", headers=course.instructor).json()
    assert again["token"] != body["token"]
    assert client.get(f"{course.path}/assignments", headers=auth(body["token"])).status_code == 401
    assert client.get(f"{course.path}/assignments", headers=auth(again["token"])).status_code == 200


def test_replacing_the_token_of_no_student_is_404(client, course, engine) -> None:
    with Session(engine) as session:
        instructor_id = session.scalars(select(User.id).where(User.role == "instructor")).first()
    for student_id in (unique("s"), instructor_id, "has space", "x" * 65, "-leading-dash"):
        response = client.post(f"{course.path}/members/{student_id}/token", headers=course.instructor)
        assert response.status_code == 404, (student_id, response.text)
        assert response.json()["detail"].startswith(("No student", "No member"))
    # the instructor's own token still works
    assert client.get(f"{course.path}/problem-sets", headers=course.instructor).status_code == 200


def test_only_whoever_runs_every_course_of_an_account_replaces_its_token(client, course, engine) -> None:
    """A new token lets its holder act as the account everywhere: an instructor of one course
    must not take over a student who is also in a course they do not run, nor a TA."""
    other = Course(client, make_instructor(engine))
    (shared, shared_headers) = course.student()
    other.enrol([{"id": shared, "name": "Shared"}])
    response = client.post(f"{course.path}/members/{shared}/token", headers=course.instructor)
    assert response.status_code == 403 and other.id not in response.json()["detail"]
    (ta, _) = course.member("ta")
    assert client.post(f"{course.path}/members/{ta}/token", headers=course.instructor).status_code == 404
    other.enrol([{"id": ta, "name": "TA elsewhere"}])  # a student there, staff here
    assert client.post(f"{other.path}/members/{ta}/token", headers=other.instructor).status_code == 403
    # the shared student's token was not touched
    assert client.get(f"{course.path}/assignments", headers=shared_headers).status_code == 200


@pytest.mark.only_backend("postgresql")  # SQLite lets one writer in at a time anyway
def test_two_replacements_at_once_leave_one_token(course, engine) -> None:
    (student_id, _) = course.student()
    first, second = Session(engine), Session(engine)
    _, first_token = replace_token(first, user_id=student_id)  # holds the account's row lock
    tokens: list[str] = []

    def replace_again() -> None:
        with second.begin():
            tokens.append(replace_token(second, user_id=student_id)[1])

    waiter = threading.Thread(target=replace_again)
    waiter.start()
    waiter.join(timeout=0.5)
    assert waiter.is_alive()  # waiting for the lock
    first.commit()
    waiter.join(timeout=10)
    first.close()
    second.close()
    with Session(engine) as session:
        stored = session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == student_id)).all()
    assert len(tokens) == 1 and stored == [hash_token(tokens[0])] and tokens[0] != first_token


def test_a_dropped_student_keeps_their_submissions_but_loses_the_course_and_the_gradebook_row(client, course) -> None:
    aid = course.assignment()
    (dropped, headers), (stays, _) = course.students(2)
    assert course.submit(aid, headers, {"ex4.conv1_params": "3640"}).status_code == 201
    assert client.delete(f"{course.path}/members/{dropped}", headers=course.instructor).status_code == 204
    assert client.delete(f"{course.path}/members/{dropped}", headers=course.instructor).status_code == 404  # gone
    # the course no longer exists for them; their token still signs them in (to no course)
    assert client.get(f"{course.path}/assignments", headers=headers).status_code == 404
    assert course.submit(aid, headers, {"ex4.conv1_params": "3640"}).status_code == 404
    assert client.get("/api/v1/courses", headers=headers).json() == []
    book = client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor).json()
    listed = {row["student"] for row in book["students"]}
    assert stays in listed and dropped not in listed
    kept = client.get(
        f"{course.path}/assignments/{aid}/submissions?student={dropped}", headers=course.instructor
    ).json()
    assert [s["attempt"] for s in kept] == [1]
    replaced = client.post(f"{course.path}/members/{dropped}/token", headers=course.instructor)
    assert replaced.status_code == 404
    # importing them again brings them back, with the token they have
    (returned,) = course.enrol([{"id": dropped, "name": "Back"}])
    assert (returned["created"], returned["token"]) == (False, None)
    assert course.submit(aid, headers, {"ex4.conv1_params": "3640"}).json()["attempt"] == 2
    book = client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor).json()
    assert dropped in {row["student"] for row in book["students"]}


def test_dropping_needs_a_member_and_spares_the_owner(client, course) -> None:
    owner = client.get(f"{course.path}/members", headers=course.instructor).json()[0]["id"]
    for target in ("no-such-student", "bad id!"):
        response = client.delete(f"{course.path}/members/{target}", headers=course.instructor)
        assert response.status_code == 404, target
    response = client.delete(f"{course.path}/members/{owner}", headers=course.instructor)
    assert response.status_code == 409 and "owns the course" in response.json()["detail"]
    assert client.get(f"{course.path}/assignments", headers=course.instructor).status_code == 200


def test_the_roster_lists_members_with_roles_staff_first(client, course) -> None:
    (ta, ta_headers) = course.member("ta")
    (student, student_headers) = course.student()
    roster = client.get(f"{course.path}/members", headers=ta_headers)
    assert roster.status_code == 200
    roles = [(m["id"], m["role"]) for m in roster.json()]
    assert roles[0][1] == "owner" and (ta, "ta") in roles and (student, "student") in roles
    assert [r for _, r in roles] == sorted((r for _, r in roles), key=["owner", "instructor", "ta", "student"].index)
    assert client.get(f"{course.path}/members", headers=student_headers).status_code == 403
    # a TA reads the roster but does not change it
    response = client.post(f"{course.path}/members", json={"members": [{"id": "x1", "name": "X"}]}, headers=ta_headers)
    assert response.status_code == 403


def test_replies_with_tokens_are_not_to_be_cached(client, course) -> None:
    roster = {"members": [{"id": unique("s"), "name": "Ada"}]}
    imported = client.post(f"{course.path}/members", json=roster, headers=course.instructor)
    replaced = client.post(
        f"{course.path}/members/{imported.json()['members'][0]['id']}/token", headers=course.instructor
    )
    for response in (imported, replaced):
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"
    # nor any other reply of the API: every one is for its caller only (api/kit/headers.py)
    listed = client.get(f"{course.path}/assignments", headers=course.instructor)
    assert listed.headers["cache-control"] == "no-store" and listed.headers["pragma"] == "no-cache"


def test_names_ids_and_emails_are_stripped_as_their_schema_says(client, course) -> None:
    """Surrounding whitespace (any Unicode space, vertical tab included) is stripped before the
    checks: the OpenAPI document's patterns allow it (tests/api/test_text_schemas.py)."""
    student_id = unique("s")
    student = {"id": f"\u3000{student_id}\t", "name": "\x0b Ada\x85", "email": " ada@example.edu\u2028"}
    response = client.post(f"{course.path}/members", json={"members": [student]}, headers=course.instructor)
    assert response.status_code == 200, response.text
    assert {k: response.json()["members"][0][k] for k in ("id", "name", "email")} == {
        "id": student_id,
        "name": "Ada",
        "email": "ada@example.edu",
    }
    padded = {"id": unique("s"), "name": "A", "email": "a@b" + " " * 318}  # 321 characters as sent
    assert (
        client.post(f"{course.path}/members", json={"members": [padded]}, headers=course.instructor).status_code == 422
    )
