"""A timed assignment's page (issue 48): the notice of the limit and the Start button (no questions
before it), then the time left, the draft saved as typed (the htmx post) and refilled on a reload
or in a second tab, a submission through the form refused once the time is over, and after time-up
the answers submitted for the student. Time passes by ageing the clock's start in the database."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.kit.db import writer
from api.models import Clock
from api.timed.sweep import sweep
from tests.pages.test_assignment_edit import field_error, form_of
from tests.pages.test_student_pages import RIGHT, page_of, student_at_assignment, submissions, value_of

from page_client import Browser

KEY = "ex4.conv1_params"


def _age(engine, course_id: str, assignment: str, minutes: float) -> None:
    with Session(writer(engine)) as session, session.begin():
        where = (Clock.course_id == course_id, Clock.assignment_id == assignment)
        started = session.scalar(select(Clock.started_at).where(*where))
        session.execute(update(Clock).where(*where).values(started_at=started - timedelta(minutes=minutes)))


def test_start_type_reload_time_up_and_the_answers_submitted(app, client, engine) -> None:
    course, aid, page, path = student_at_assignment(app, client, engine, time_limit=30)
    before = page.get(path)
    assert before.status_code == 200
    assert "You have <strong>30 minutes</strong>" in before.text and 'id="start"' in before.text
    assert f'name="{KEY}"' not in before.text  # the questions wait for the start
    # the form's draft endpoint refuses before the start
    early = page.post(f"{path}/draft", {KEY: "36"})
    assert early.status_code == 409 and "start it" in early.text
    started = page.post(f"{path}/start")
    assert started.status_code == 303 and started.headers["location"] == path
    running = page.get(path)
    assert 'id="time-left" data-ends="' in running.text and 'hx-post="' + path + '/draft"' in running.text
    assert 'hx-trigger="input changed delay:1s"' in running.text and "timer.js" in running.text
    # typed: htmx posts the form; a reload and a second tab show it
    saved = page.post(f"{path}/draft", {KEY: RIGHT, "ex5.params": "18"}, headers={"HX-Request": "true"})
    assert saved.status_code == 200 and "Your answers were saved" in saved.text
    assert value_of(page.get(path).text, KEY) == RIGHT
    second_tab = Browser(app)
    second_tab.client.cookies = page.client.cookies
    assert value_of(second_tab.get(path).text, KEY) == RIGHT
    # a second Start (another tab) keeps the one clock
    ends = re.compile(r'data-ends="([^"]+)"')
    first_end = ends.findall(running.text)
    assert page.post(f"{path}/start").status_code == 303
    assert ends.findall(page.get(path).text) == first_end
    # time over: the form's submit (and a replay of it) is refused with the sentence; nothing saved
    _age(engine, course.id, aid, 31)
    over = page.get(path)
    assert 'id="time-up-pending"' in over.text and 'name="action" value="submit"' not in over.text
    refused = page.post(path, {KEY: RIGHT, "action": "submit", "idempotency_key": "k1"})
    assert refused.status_code == 409 and "Your time on assignment" in refused.text
    assert page.post(f"{path}/draft", {KEY: "1"}).status_code == 409
    assert submissions(client, course, aid) == []
    # time-up submits the last draft for the student; the page says so
    sweep(app.state.time_keeper.time_up)
    (made,) = submissions(client, course, aid)
    assert made["answers"] == {KEY: RIGHT, "ex5.params": "18"}
    after = page.get(path)
    assert "Your last saved answers were submitted for you" in after.text and 'id="score"' in after.text


def test_staff_set_the_time_limit_on_the_forms(app, client, engine) -> None:
    course, _, _, path = student_at_assignment(app, client, engine, time_limit=30)
    staff = page_of(app, course.instructor)
    edit = staff.get(f"{path}/edit")
    assert edit.status_code == 200 and 'name="time_limit"' in edit.text and 'value="30"' in edit.text
    typed = form_of(edit.text, f"{path}/edit") | {"opens_at": "2030-06-01T08:00", "closes_at": "2030-06-01T09:00"}
    too_long = staff.post(f"{path}/edit", typed | {"time_limit": "90"})
    assert too_long.status_code == 422
    assert "time limit (90 minutes) is longer than the assignment is open" in field_error(too_long.text, "time_limit")
    assert staff.post(f"{path}/edit", typed | {"time_limit": "45"}).status_code == 303


def test_staff_see_the_clock_and_grant_extra_minutes_on_the_gradebook(app, client, engine) -> None:
    course, aid, page, path = student_at_assignment(app, client, engine, time_limit=30)
    student = client.get(f"{course.path}/members", headers=course.instructor).json()
    (student_id,) = [m["id"] for m in student if m["role"] == "student"]
    staff = page_of(app, course.instructor)
    assert "not started yet" in staff.get(f"{path}?student={student_id}").text
    page.get(path)
    page.post(f"{path}/start")
    assert "started " in staff.get(f"{path}?student={student_id}").text
    book = staff.get(f"{path}/gradebook?student={student_id}")
    assert 'name="extra_minutes"' in book.text
    granted = staff.post(f"{path}/gradebook/extensions", {"student": student_id, "extra_minutes": "15"})
    assert granted.status_code == 303, granted.text
    clock = client.get(f"{course.path}/assignments/{aid}/clock?student={student_id}", headers=course.instructor)
    assert clock.json()["time_limit"] == 45
    assert "+15 min" in staff.get(f"{path}/gradebook").text


def test_a_student_without_a_start_cannot_submit_through_the_form(app, client, engine) -> None:
    course, aid, page, path = student_at_assignment(app, client, engine, time_limit=30)
    page.get(path)
    refused = page.post(path, {KEY: RIGHT, "action": "submit"})
    assert refused.status_code == 409 and "start it first" in refused.text
    assert submissions(client, course, aid) == []
