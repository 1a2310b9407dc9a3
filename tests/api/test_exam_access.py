"""The exam room's access rules (issue 66): an assignment's password, networks and one session per
attempt, set on create and PATCH (the password never shown), and checked on each start, draft save
and submission through the REST API, on both databases. The client's address is the one uvicorn's
proxy-headers middleware gives the app (as ``grader serve`` runs it): ``X-Forwarded-For`` believed
from the trusted proxy only."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.exam_room import guesses
from api.exam_room.rules import hash_password, password_matches
from api.models import Assignment, AttemptSession

from factories import Course, auth

RIGHT = {"ex4.conv1_params": "3640", "ex5.params": "1810"}
ROOM = "192.0.2.0/24"
INSIDE, OUTSIDE = "192.0.2.10", "198.51.100.7"
PROXY = "10.0.0.1"


def _base(course: Course, assignment: str) -> str:
    return f"{course.path}/assignments/{assignment}"


def _from(app: Any, address: str) -> TestClient:
    """A client whose requests come from ``address``."""
    return TestClient(app, raise_server_exceptions=False, client=(address, 40000))


def _refused(response: Any, reason: str) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["reason"] == reason and isinstance(body["detail"], str) and body["detail"].endswith((".", ")")), body


def test_rules_are_set_shown_without_the_password_changed_field_by_field_and_cleared(
    client: TestClient, course: Course, engine: Engine
) -> None:
    access = {"password": "room 101", "networks": [ROOM, "2001:db8::/32"], "one_session": True}
    exam = course.assignment(time_limit=30, access=access)
    url = _base(course, exam)
    shown = client.get(url, headers=course.instructor)
    assert shown.json()["access"] == {"password": True, "networks": [ROOM, "2001:db8::/32"], "one_session": True}
    (_, student) = course.student()
    for response in (
        shown,
        client.get(url, headers=student),
        client.get(f"{course.path}/assignments", headers=student),
    ):
        assert "room 101" not in response.text and "scrypt" not in response.text
    with Session(engine) as session:
        stored = session.scalars(select(Assignment.access).where(Assignment.id == exam)).one()
    assert stored is not None and stored["password"].startswith("scrypt$") and "room 101" not in str(stored)
    # only the rules sent change: the password stays when the networks change
    changed = client.patch(url, json={"access": {"networks": ["10.1.0.0/16"]}}, headers=course.instructor)
    assert changed.status_code == 200, changed.text
    assert changed.json()["access"] == {"password": True, "networks": ["10.1.0.0/16"], "one_session": True}
    removed = client.patch(url, json={"access": {"password": None}}, headers=course.instructor)
    assert removed.json()["access"]["password"] is False
    cleared = client.patch(url, json={"access": None}, headers=course.instructor)
    assert cleared.json()["access"] is None


def test_a_malformed_network_is_refused_with_a_sentence(client: TestClient, course: Course) -> None:
    exam = course.assignment()
    for wrong in ("192.0.2.0/33", "10.0.0.1/8", "room 101", "300.1.2.3"):
        body = {"id": "x-cidr", "problem_set": "conv-pool-basics", "access": {"networks": [wrong]}}
        for response in (
            client.post(f"{course.path}/assignments", json=body, headers=course.instructor),
            client.patch(_base(course, exam), json={"access": {"networks": [wrong]}}, headers=course.instructor),
        ):
            assert response.status_code == 422, response.text
            (error,) = response.json()["detail"]
            assert f"{wrong!r} is not a network in CIDR notation" in error["msg"], error
    assert client.get(f"{course.path}/assignments/x-cidr", headers=course.instructor).status_code == 404


def test_a_missing_or_wrong_password_is_refused_at_each_door_and_the_right_one_passes(
    client: TestClient, course: Course
) -> None:
    timed = course.assignment(time_limit=30, access={"password": "room 101"})
    (_, student) = course.student()
    url = _base(course, timed)
    wrong = {**student, "X-Exam-Password": "room 102"}
    right = {**student, "X-Exam-Password": "room 101"}
    _refused(client.post(f"{url}/start", headers=student), "password")
    _refused(client.post(f"{url}/start", headers=wrong), "password")
    assert "not sent" in client.post(f"{url}/start", headers=student).json()["detail"]
    assert "not right" in client.post(f"{url}/start", headers=wrong).json()["detail"]
    assert client.get(f"{url}/clock", headers=student).status_code == 404  # (nothing started)
    assert client.post(f"{url}/start", headers=right).status_code == 200
    draft = {"answers": {"ex4.conv1_params": "3640"}}
    _refused(client.put(f"{url}/draft", json=draft, headers=student), "password")
    _refused(client.put(f"{url}/draft", json=draft, headers=wrong), "password")
    assert client.put(f"{url}/draft", json=draft, headers=right).status_code == 200
    _refused(client.get(f"{url}/draft", headers=student), "password")
    assert client.get(f"{url}/draft", headers=right).json()["answers"] == draft["answers"]
    _refused(course.submit(timed, student, RIGHT), "password")
    _refused(course.submit(timed, wrong, RIGHT), "password")
    submitted = course.submit(timed, right, RIGHT)
    assert submitted.status_code == 201 and submitted.json()["score"] == 2
    # untimed: the submission is the door
    untimed = course.assignment(access={"password": "hall B"})
    _refused(course.submit(untimed, student, RIGHT), "password")
    preview = f"{_base(course, untimed)}/preview"
    _refused(client.post(preview, json={"answers": RIGHT}, headers=student), "password")  # (how answers read, too)
    assert client.post(preview, json={"answers": RIGHT}, headers={**student, "X-Exam-Password": "hall B"}).json()[
        "ready"
    ]
    assert course.submit(untimed, {**student, "X-Exam-Password": "hall B"}, RIGHT).status_code == 201
    # the questions are read with the password only (staff need none)
    assert client.get(_base(course, untimed), headers=student).json()["problems"] == []
    shown = client.get(_base(course, untimed), headers={**student, "X-Exam-Password": "hall B"})
    assert shown.json()["problems"]
    assert client.get(url, headers=course.instructor).json()["problems"]


def test_a_password_cannot_be_guessed_past_a_few_wrong_tries(client: TestClient, course: Course) -> None:
    timed = course.assignment(time_limit=30, access={"password": "4711"})
    (_, student), (_, other) = course.student(), course.student()
    url = _base(course, timed)
    for guess in range(guesses.WRONG_GUESSES):
        _refused(client.post(f"{url}/start", headers={**student, "X-Exam-Password": f"{guess:04d}"}), "password")
    # the next try is refused before it is checked, the right password too, with when to try again
    for password in ("0005", "4711"):
        refused = client.post(f"{url}/start", headers={**student, "X-Exam-Password": password})
        assert refused.status_code == 429, refused.text
        assert 0 < int(refused.headers["Retry-After"]) <= guesses.WINDOW
        assert "Too many wrong exam passwords" in refused.json()["detail"]
    assert client.get(f"{url}/clock", headers=student).status_code == 404  # (nothing started)
    # another student is not held back by them, and a missing password is no guess
    for _ in range(guesses.WRONG_GUESSES + 1):
        _refused(client.post(f"{url}/start", headers=other), "password")
    assert client.post(f"{url}/start", headers={**other, "X-Exam-Password": "4711"}).status_code == 200


def test_an_address_outside_the_networks_is_refused_on_start_save_and_submit(app: Any, course: Course) -> None:
    timed = course.assignment(time_limit=30, access={"networks": [ROOM]})
    (_, student) = course.student()
    url = _base(course, timed)
    inside, outside = _from(app, INSIDE), _from(app, OUTSIDE)
    _refused(outside.post(f"{url}/start", headers=student), "network")
    assert OUTSIDE in outside.post(f"{url}/start", headers=student).json()["detail"]
    assert inside.post(f"{url}/start", headers=student).status_code == 200
    draft = {"answers": {"ex4.conv1_params": "3640"}}
    assert inside.put(f"{url}/draft", json=draft, headers=student).status_code == 200
    _refused(outside.put(f"{url}/draft", json={"answers": {"ex4.conv1_params": "1"}}, headers=student), "network")
    assert inside.get(f"{url}/draft", headers=student).json()["answers"] == draft["answers"]  # (not overwritten)
    _refused(outside.post(f"{url}/submissions", json={"answers": RIGHT}, headers=student), "network")
    assert inside.post(f"{url}/submissions", json={"answers": RIGHT}, headers=student).status_code == 201
    # an IPv6 client in an IPv4 room is outside it; IPv4 mapped into IPv6 is the IPv4 address
    untimed = course.assignment(access={"networks": [ROOM]})
    answers = {"answers": RIGHT}
    _refused(
        _from(app, "2001:db8::1").post(f"{_base(course, untimed)}/submissions", json=answers, headers=student),
        "network",
    )
    mapped = _from(app, "::ffff:192.0.2.10").post(
        f"{_base(course, untimed)}/submissions", json=answers, headers=student
    )
    assert mapped.status_code == 201, mapped.text


def test_the_forwarded_address_is_believed_from_the_trusted_proxy_only(app: Any, course: Course) -> None:
    """The app behind uvicorn's middleware as ``grader serve`` runs it (``proxy_headers``, the proxy
    named in ``FORWARDED_ALLOW_IPS``): a client outside the room that forges ``X-Forwarded-For``
    with an address inside it is refused; the proxy's word for a client inside passes."""
    untimed = course.assignment(access={"networks": [ROOM]})
    (_, student) = course.student()
    submit = f"{_base(course, untimed)}/submissions"
    behind = ProxyHeadersMiddleware(app, trusted_hosts=[PROXY])
    forged = _from(behind, OUTSIDE).post(
        submit, json={"answers": RIGHT}, headers={**student, "X-Forwarded-For": INSIDE}
    )
    _refused(forged, "network")
    assert OUTSIDE in forged.json()["detail"]
    # the proxy replaces the header with the address it saw: a client in the room passes, one outside not
    via_proxy = _from(behind, PROXY)
    _refused(
        via_proxy.post(submit, json={"answers": RIGHT}, headers={**student, "X-Forwarded-For": OUTSIDE}), "network"
    )
    passed = via_proxy.post(submit, json={"answers": RIGHT}, headers={**student, "X-Forwarded-For": INSIDE})
    assert passed.status_code == 201, passed.text


def _second_token(client: TestClient, student: dict[str, str]) -> dict[str, str]:
    """Another session of the same student: a second API token of their own."""
    made = client.post("/api/v1/account/tokens", json={"name": "laptop"}, headers=student)
    assert made.status_code == 201, made.text
    return auth(made.json()["token"])


def test_a_second_session_is_locked_until_staff_unlock_and_nothing_saved_is_lost(
    client: TestClient, course: Course, engine: Engine
) -> None:
    timed = course.assignment(time_limit=30, access={"one_session": True})
    (student_id, first) = course.student()
    second = _second_token(client, first)
    url = _base(course, timed)
    started = client.post(f"{url}/start", headers=first)
    assert started.status_code == 200
    draft = {"answers": {"ex4.conv1_params": "3640"}}
    assert client.put(f"{url}/draft", json=draft, headers=first).status_code == 200
    # the second session: every door locked, with the proctor named
    _refused(client.post(f"{url}/start", headers=second), "session")
    assert "ask the proctor" in client.post(f"{url}/start", headers=second).json()["detail"].lower()
    _refused(client.put(f"{url}/draft", json={"answers": {"ex4.conv1_params": "1"}}, headers=second), "session")
    _refused(client.get(f"{url}/draft", headers=second), "session")
    _refused(client.post(f"{url}/submissions", json={"answers": RIGHT}, headers=second), "session")
    assert client.get(url, headers=second).json()["problems"] == []  # (the questions neither)
    assert client.get(url, headers=first).json()["problems"]
    with Session(engine) as session:
        row = session.get(AttemptSession, (course.id, timed, student_id))
        assert row is not None and row.locked_at is not None  # (the lock is recorded)
    # nothing lost: the draft and the clock as they were
    assert client.get(f"{url}/draft", headers=first).json()["answers"] == draft["answers"]
    assert client.get(f"{url}/clock", headers=first).json()["started_at"] == started.json()["started_at"]
    # students cannot unlock (their own attempt included); staff can
    unlock = f"{url}/attempts/{student_id}/unlock"
    assert client.post(unlock, headers=first).status_code == 403
    assert client.post(unlock, headers=second).status_code == 403
    (_, ta) = course.member("ta")
    assert client.post(unlock, headers=ta).status_code == 204
    # the next session to resume is bound: the second one now, and the first is locked out
    assert client.get(f"{url}/draft", headers=second).json()["answers"] == draft["answers"]
    resumed = client.post(f"{url}/start", headers=second)
    assert resumed.status_code == 200 and resumed.json()["started_at"] == started.json()["started_at"]
    _refused(client.put(f"{url}/draft", json=draft, headers=first), "session")
    assert client.post(f"{url}/submissions", json={"answers": RIGHT}, headers=second).status_code == 201
    with Session(engine) as session:
        row = session.get(AttemptSession, (course.id, timed, student_id))
        assert row is not None and row.unlocked_at is not None and row.locked_at is not None


def test_one_session_binds_an_untimed_attempt_at_its_first_submission(client: TestClient, course: Course) -> None:
    untimed = course.assignment(access={"one_session": True})
    (student_id, first) = course.student()
    second = _second_token(client, first)
    assert course.submit(untimed, first, {"ex4.conv1_params": "1"}).status_code == 201
    _refused(course.submit(untimed, second, RIGHT), "session")
    assert course.submit(untimed, first, RIGHT).status_code == 201
    # unlocking what was never bound is a 404 with a sentence; an unknown student too
    other = course.assignment(access={"one_session": True})
    never = client.post(f"{_base(course, other)}/attempts/{student_id}/unlock", headers=course.instructor)
    assert never.status_code == 404 and "nothing to unlock" in never.json()["detail"]
    nobody = client.post(f"{_base(course, untimed)}/attempts/nobody/unlock", headers=course.instructor)
    assert nobody.status_code == 404


def test_the_password_hash_is_salted_and_checked_as_scrypt() -> None:
    first, second = hash_password("room 101"), hash_password("room 101")
    assert first != second and first.startswith("scrypt$16384$8$1$")  # (a salt of its own each time)
    assert password_matches(first, "room 101") and password_matches(second, "room 101")
    for wrong in ("room 102", "", "ROOM 101", None):
        assert not password_matches(first, wrong)
    assert not password_matches("plain text", "plain text")  # (only a hash is ever a password)
