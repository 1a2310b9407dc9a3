"""The exam room on the pages (issue 66): the password asked beside the Start button and to open
or resume in another browser, an address outside the networks refused, a second browser session
locked ("ask the proctor") until staff unlock it with the draft intact, each refusal a 403 page;
and the rules set on the staff's create and edit forms, the password never shown."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from api.exam_room import guesses
from api.pages.staff.assignment_form import read_assignment_form
from tests.pages.test_assignment_edit import field_error, form_of
from tests.pages.test_student_pages import RIGHT, page_of, submissions, token_of, value_of

from factories import Course, make_instructor
from page_client import Browser

KEY = "ex4.conv1_params"
ROOM, INSIDE, OUTSIDE = "192.0.2.0/24", "192.0.2.10", "198.51.100.7"


def _exam(app: Any, client: TestClient, engine: Any, **terms: Any) -> tuple[Course, str, dict[str, str], str]:
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    aid = course.assignment(**terms)
    return course, aid, headers, f"/courses/{course.id}/assignments/{aid}"


def _browser(app: Any, headers: dict[str, str], address: str = INSIDE) -> Browser:
    """A browser of its own (a session of its own) at ``address``, signed in as the student."""
    browser = Browser(app)
    browser.client = TestClient(app, raise_server_exceptions=False, follow_redirects=False, client=(address, 40000))
    return browser.signed_in(token_of(headers))


def _reason(html: str) -> str | None:
    marker = 'id="exam-room-reason" data-reason="'
    at = html.find(marker)
    return None if at < 0 else html[at + len(marker) :].split('"', 1)[0]


def test_the_password_is_asked_to_start_and_again_in_another_browser(app, client, engine) -> None:
    course, aid, headers, path = _exam(app, client, engine, time_limit=30, access={"password": "room 101"})
    page = _browser(app, headers)
    before = page.get(path)
    assert 'name="exam_password"' in before.text and 'id="start"' in before.text and _reason(before.text) is None
    wrong = page.post(f"{path}/start", {"exam_password": "room 102"})
    assert wrong.status_code == 403 and _reason(wrong.text) == "password" and "not right" in wrong.text
    assert client.get(f"{course.path}/assignments/{aid}/clock", headers=headers).status_code == 404
    started = page.post(f"{path}/start", {"exam_password": "room 101"})
    assert started.status_code == 303 and "exam_pass=" in started.headers["set-cookie"]
    assert f"Path={path}" in started.headers["set-cookie"] and "HttpOnly" in started.headers["set-cookie"]
    running = page.get(path)
    assert f'name="{KEY}"' in running.text and _reason(running.text) is None
    assert page.post(f"{path}/draft", {KEY: RIGHT}).status_code == 200
    # another browser of the same student: asked for the password before the questions
    other = _browser(app, headers)
    asked = other.get(path)
    assert _reason(asked.text) == "password" and f'name="{KEY}"' not in asked.text
    assert 'action="' + path + '/exam-password"' in asked.text
    refused = other.post(f"{path}/draft", {KEY: "1"})
    assert refused.status_code == 403 and "exam password" in refused.text
    assert other.post(f"{path}/exam-password", {"exam_password": "nope"}).status_code == 403
    assert other.post(f"{path}/exam-password", {"exam_password": "room 101"}).status_code == 303
    assert value_of(other.get(path).text, KEY) == RIGHT  # (the draft, intact)
    # a pass is the session's own: copied to another session, it lets nobody in
    thief = _browser(app, headers)
    thief.client.cookies.set("exam_pass", page.client.cookies.get("exam_pass") or "", path=path)
    assert thief.post(f"{path}/draft", {KEY: "1"}).status_code == 403


def test_too_many_wrong_passwords_are_said_beside_the_password(app, client, engine) -> None:
    _, _, headers, path = _exam(app, client, engine, time_limit=30, access={"password": "4711"})
    page = _browser(app, headers)
    for guess in range(guesses.WRONG_GUESSES):
        assert page.post(f"{path}/start", {"exam_password": f"{guess:04d}"}).status_code == 403
    held = page.post(f"{path}/start", {"exam_password": "4711"})
    assert held.status_code == 403 and _reason(held.text) == "password"
    assert "Too many wrong exam passwords" in held.text and 'name="exam_password"' in held.text


def test_an_address_outside_the_networks_is_refused_on_the_pages(app, client, engine) -> None:
    course, _, headers, path = _exam(app, client, engine, time_limit=30, access={"networks": [ROOM]})
    outside = _browser(app, headers, OUTSIDE)
    shown = outside.get(path)
    assert _reason(shown.text) == "network" and OUTSIDE in shown.text and 'id="start"' not in shown.text
    refused = outside.post(f"{path}/start")
    assert refused.status_code == 403 and _reason(refused.text) == "network"
    inside = _browser(app, headers, INSIDE)
    assert inside.get(path).status_code == 200 and inside.post(f"{path}/start").status_code == 303
    assert inside.post(f"{path}/draft", {KEY: RIGHT}).status_code == 200
    assert outside.post(f"{path}/draft", {KEY: "1"}).status_code == 403
    assert value_of(inside.get(path).text, KEY) == RIGHT
    # how an answer reads, as it is typed: inside only
    htmx = {"HX-Request": "true"}
    reading = f"{path}/preview?key={KEY}"
    read_inside = inside.client.post(reading, data={KEY: RIGHT}, headers={**htmx, "X-CSRF-Token": inside.csrf})
    assert read_inside.status_code == 200 and "Read as" in read_inside.text
    read_outside = outside.client.post(reading, data={KEY: RIGHT}, headers={**htmx, "X-CSRF-Token": outside.csrf})
    assert read_outside.status_code == 403 and "Read as" not in read_outside.text
    # untimed: the form's submission is the door
    untimed = course.assignment(access={"networks": [ROOM]})
    upath = f"/courses/{course.id}/assignments/{untimed}"
    assert _reason(outside.get(upath).text) == "network"
    kept_out = outside.post(upath, {KEY: RIGHT, "action": "submit", "idempotency_key": "k1"})
    assert kept_out.status_code == 403 and submissions(client, course, untimed) == []
    inside.get(upath)
    assert inside.post(upath, {KEY: RIGHT, "action": "submit", "idempotency_key": "k2"}).status_code == 303
    assert len(submissions(client, course, untimed)) == 1


def test_a_second_browser_is_locked_until_staff_unlock_with_the_draft_intact(app, client, engine) -> None:
    course, aid, headers, path = _exam(app, client, engine, time_limit=30, access={"one_session": True})
    (student_id,) = [m["id"] for m in client.get(f"{course.path}/members", headers=course.instructor).json()
                     if m["role"] == "student"]  # fmt: skip
    first, second = _browser(app, headers), _browser(app, headers)
    first.get(path)
    assert first.post(f"{path}/start").status_code == 303
    assert first.post(f"{path}/draft", {KEY: RIGHT}).status_code == 200
    locked = second.get(path)
    assert _reason(locked.text) == "session" and "Locked: ask the proctor" in locked.text
    assert f'name="{KEY}"' not in locked.text  # (nothing to read or type there)
    assert second.post(f"{path}/draft", {KEY: "1"}).status_code == 403
    assert second.post(f"{path}/start").status_code == 403
    assert second.post(path, {KEY: "1", "action": "submit", "idempotency_key": "k"}).status_code == 403
    assert value_of(first.get(path).text, KEY) == RIGHT and submissions(client, course, aid) == []
    # the student cannot unlock through the API; staff can, and the next browser to resume is bound
    unlock = f"{course.path}/assignments/{aid}/attempts/{student_id}/unlock"
    assert client.post(unlock, headers=headers).status_code == 403
    assert client.post(unlock, headers=course.instructor).status_code == 204
    resumed = second.get(path)
    assert _reason(resumed.text) is None and value_of(resumed.text, KEY) == RIGHT
    assert first.post(f"{path}/draft", {KEY: "1"}).status_code == 403
    assert _reason(first.get(path).text) == "session"


def test_staff_set_the_rules_on_the_forms_and_the_password_is_never_shown(app, client, engine) -> None:
    course, aid, _, path = _exam(app, client, engine, time_limit=30)
    staff = page_of(app, course.instructor)
    edit = staff.get(f"{path}/edit")
    assert 'name="access_password"' in edit.text and 'name="access_networks"' in edit.text
    typed = form_of(edit.text, f"{path}/edit")
    bad = staff.post(f"{path}/edit", typed | {"access_networks": "192.0.2.0/24\n10.0.0.1/8"})
    assert bad.status_code == 422 and "'10.0.0.1/8' is not a network in CIDR notation" in field_error(
        bad.text, "access_networks"
    )
    saved = staff.post(
        f"{path}/edit",
        typed | {"access_networks": "192.0.2.0/24", "access_one_session": "on", "access_password": "room 101"},
    )
    assert saved.status_code == 303, saved.text
    access = client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["access"]
    assert access == {"password": True, "networks": ["192.0.2.0/24"], "one_session": True}
    again = staff.get(f"{path}/edit")
    assert "room 101" not in again.text and "scrypt" not in again.text and "one is set" in again.text
    # saved untouched: the password stays; the box removes it
    assert staff.post(f"{path}/edit", form_of(again.text, f"{path}/edit")).status_code == 303
    assert client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["access"] == access
    removed = staff.post(f"{path}/edit", form_of(again.text, f"{path}/edit") | {"access_password_remove": "on"})
    assert removed.status_code == 303
    after = client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["access"]
    assert after == {"password": False, "networks": ["192.0.2.0/24"], "one_session": True}


def test_the_create_form_reads_the_rules_as_the_request_takes_them() -> None:
    typed = {
        "id": "exam1",
        "problem_set": "s",
        "access_password": " p w ",
        "access_networks": "192.0.2.0/24, 10.0.0.0/8",
    }
    form = read_assignment_form(typed | {"access_one_session": "on"}, zone=ZoneInfo("UTC"))
    assert form.request is not None and form.request.access is not None
    assert form.request.access.model_dump(exclude_unset=True) == {
        "password": " p w ",
        "networks": ["192.0.2.0/24", "10.0.0.0/8"],
        "one_session": True,
    }
    assert form.values["access_password"] == ""  # (never written back into the page)
    plain = read_assignment_form({"id": "hw1", "problem_set": "s"}, zone=ZoneInfo("UTC"))
    assert plain.request is not None and plain.request.access is None
