"""An account belongs to its holder: an instructor cannot rename, re-email or take over (by a new
token) an account their course did not create, nor one with work in a course they do not run;
an admin keeps an admin's powers whatever a roster made them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.models import Role, User
from api.users.service import create_user

from factories import Course, auth, make_instructor, unique


def _account(engine, role: Role, name: str = "Holder", email: str | None = "holder@example.edu") -> tuple[str, str]:
    """An account made by an admin (``grader users create``), in no course: its id and token."""
    with Session(engine) as session, session.begin():
        issued = create_user(session, name=name, role=role, user_id=unique("u"), email=email)
        return issued.user.id, issued.token or ""


def test_importing_someone_elses_account_changes_nothing_of_it(client, engine) -> None:
    victim, _ = _account(engine, Role.ADMIN, name="The Admin", email="admin@example.edu")
    attacker = Course(client, make_instructor(engine))
    (joined,) = attacker.enrol([{"id": victim, "name": "Pwned", "email": "attacker@example.edu"}])
    assert (joined["name"], joined["email"], joined["token"]) == ("The Admin", "admin@example.edu", None)
    with Session(engine) as session:
        stored = session.get(User, victim)
        assert (stored.name, stored.email, stored.role) == ("The Admin", "admin@example.edu", "admin")


def test_an_account_in_no_course_cannot_be_taken_over_by_importing_it(client, engine) -> None:
    """The attack: import an account that is in no course (never enrolled, or dropped), then
    replace its token. Refused for an instructor; the holder's token keeps working."""
    loner, loner_token = _account(engine, Role.STUDENT)
    attacker = Course(client, make_instructor(engine))
    attacker.enrol([{"id": loner, "name": "Loner"}])
    response = client.post(f"{attacker.path}/members/{loner}/token", headers=attacker.instructor)
    assert response.status_code == 403, response.text
    assert "admin" in response.json()["detail"]
    assert client.get("/api/v1/courses", headers=auth(loner_token)).status_code == 200


def test_a_dropped_students_earlier_work_is_out_of_a_new_courses_reach(client, engine) -> None:
    """Dropped from the course that created them and imported by another instructor: that
    instructor did not create the account, and its earlier work lies in a course they do not run."""
    first = Course(client, make_instructor(engine))
    aid = first.assignment()
    (student, headers) = first.student()
    assert first.submit(aid, headers, {"ex4.conv1_params": "3640"}).status_code == 201
    assert client.delete(f"{first.path}/members/{student}", headers=first.instructor).status_code == 204
    attacker = Course(client, make_instructor(engine))
    attacker.enrol([{"id": student, "name": "Dropped"}])
    response = client.post(f"{attacker.path}/members/{student}/token", headers=attacker.instructor)
    assert response.status_code == 403, response.text
    # and the course that made the account cannot either, while its work is in a course it does not
    # run: here the account is in no course of the first instructor any more, so it is not theirs
    assert client.post(f"{first.path}/members/{student}/token", headers=first.instructor).status_code == 404
    assert client.get("/api/v1/courses", headers=headers).status_code == 200


def test_the_course_that_created_a_student_loses_the_power_once_the_student_works_elsewhere(client, engine) -> None:
    home = Course(client, make_instructor(engine))
    (student, headers) = home.student()
    assert client.post(f"{home.path}/members/{student}/token", headers=home.instructor).status_code == 200
    elsewhere = Course(client, make_instructor(engine))
    aid = elsewhere.assignment()
    elsewhere.enrol([{"id": student, "name": "Shared"}])
    response = client.post(f"{home.path}/members/{student}/token", headers=home.instructor)
    assert response.status_code == 403
    # dropped there again, the work they did there still keeps the account out of home's reach
    new_token = client.post(f"{elsewhere.path}/members/{student}/token", headers=elsewhere.instructor)
    assert new_token.status_code == 403  # (elsewhere did not create it)
    token = _replace_as_admin(client, engine, home, student)
    assert elsewhere.submit(aid, auth(token), {"ex4.conv1_params": "3640"}).status_code == 201
    assert client.delete(f"{elsewhere.path}/members/{student}", headers=elsewhere.instructor).status_code == 204
    assert client.post(f"{home.path}/members/{student}/token", headers=home.instructor).status_code == 403
    assert client.get("/api/v1/courses", headers=headers).status_code == 401  # (the admin replaced it)


def _replace_as_admin(client, engine, course: Course, student: str) -> str:
    _, admin_token = _account(engine, Role.ADMIN)
    response = client.post(f"{course.path}/members/{student}/token", headers=auth(admin_token))
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def test_an_admin_imported_as_a_student_keeps_an_admins_powers(client, engine) -> None:
    admin, admin_token = _account(engine, Role.ADMIN)
    course = Course(client, make_instructor(engine))
    course.enrol([{"id": admin, "name": "Admin"}])
    headers = auth(admin_token)
    assert client.get(f"{course.path}/members", headers=headers).status_code == 200  # staff only
    aid = course.assignment()
    book = client.get(f"{course.path}/assignments/{aid}/gradebook", headers=headers)
    assert book.status_code == 200
    assert client.post(f"{course.path}/members", json={"members": []}, headers=headers).status_code == 422  # may run
