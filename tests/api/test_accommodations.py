"""Accommodations set once per course (issue 66): named labels given to students apply to every
assignment of the course, now and later, through every door (the clock, the time-up sweep, the
close, the attempt limit, the gradebook), unless the student's extension sets that field; and the
roster import gives them. Time passes by ageing a clock's start or giving the sweep its ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.models import Submission
from api.timed.sweep import sweep

from factories import Course, unique

RIGHT = {"ex4.conv1_params": "3640", "ex5.params": "1810"}  # score 2


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _label(client: TestClient, course: Course, **fields: Any) -> str:
    name = unique("label-")
    made = client.put(f"{course.path}/accommodations/{name}", json=fields, headers=course.instructor)
    assert made.status_code == 200, made.text
    return name


def _hold(client: TestClient, course: Course, student: str, *names: str) -> None:
    held = client.put(f"{course.path}/students/{student}/accommodations", json=list(names), headers=course.instructor)
    assert held.status_code == 200, held.text
    assert held.json() == {"student": student, "accommodations": sorted(names)}


def _submissions(engine: Engine, course: Course, assignment: str, student: str) -> list[Submission]:
    with Session(engine) as session:
        where = (Submission.course_id == course.id, Submission.assignment_id == assignment)
        return list(session.scalars(select(Submission).where(*where, Submission.student_id == student)))


def test_a_label_of_times_one_and_a_half_gives_a_60_minute_exam_90_minutes_and_time_up_waits_for_them(
    app: Any, client: TestClient, course: Course, engine: Engine
) -> None:
    slower = _label(client, course, time_multiplier=1.5)
    (held, held_headers), (_, plain_headers) = course.students(2)
    _hold(client, course, held, slower)
    exam = course.assignment(time_limit=60)
    start = f"{course.path}/assignments/{exam}/start"
    theirs = client.post(start, headers=held_headers).json()
    assert _at(theirs["ends_at"]) - _at(theirs["started_at"]) == timedelta(minutes=90)
    assert theirs["time_limit"] == 90
    other = client.post(start, headers=plain_headers).json()
    assert _at(other["ends_at"]) - _at(other["started_at"]) == timedelta(minutes=60)
    # the time-up sweep reads the same terms: at 61 minutes their draft is still theirs to change
    client.put(f"{course.path}/assignments/{exam}/draft", json={"answers": RIGHT}, headers=held_headers)
    time_up = app.state.time_keeper.time_up
    sweep(time_up, now=_at(theirs["started_at"]) + timedelta(minutes=61))
    assert _submissions(engine, course, exam, held) == []
    sweep(time_up, now=_at(theirs["ends_at"]) + timedelta(seconds=5))
    (made,) = _submissions(engine, course, exam, held)
    assert made.submitted_at == _at(theirs["ends_at"])
    # staff see the label beside the student in the assignment's gradebook
    book = client.get(f"{course.path}/assignments/{exam}/gradebook", headers=course.instructor).json()
    rows = {row["student"]: row for row in book["students"]}
    assert rows[held]["accommodations"] == [slower] and rows[held]["extension"] is None


def test_two_more_days_move_the_due_date_and_the_close_of_every_homework_made_before_or_after(
    client: TestClient, course: Course
) -> None:
    now = datetime.now(UTC)
    past = {"due_at": _iso(now - timedelta(days=1)), "closes_at": _iso(now - timedelta(hours=1))}
    before = course.assignment(**past)
    days = _label(client, course, extra_days=2)
    (held, held_headers), (_, plain_headers) = course.students(2)
    _hold(client, course, held, days)
    after = course.assignment(**past, max_attempts=1)  # made once the label is held
    for homework in (before, after):
        assert course.submit(homework, plain_headers, RIGHT).status_code == 409  # closed an hour ago
        mine = course.submit(homework, held_headers, RIGHT)
        assert mine.status_code == 201, mine.text
        assert mine.json()["late"] is False  # due a day ago, plus two days
        path = f"/api/v1/submissions/{mine.json()['id']}"
        for reader in (held_headers, course.instructor):  # read again, by either, under the student's terms
            read = client.get(path, headers=reader).json()
            assert (read["late"], read["days_late"]) == (False, 0), read
    shown = client.get(f"{course.path}/assignments", headers=held_headers).json()
    assert {a["id"] for a in shown} >= {before, after}
    assert all(a["extension"] is None for a in shown)  # an accommodation is no extension granted


def test_the_extension_wins_field_by_field_and_several_labels_give_the_largest_of_each(
    client: TestClient, course: Course
) -> None:
    names = (
        _label(client, course, time_multiplier=1.5, extra_minutes=30, extra_attempts=1),
        _label(client, course, time_multiplier=2, extra_minutes=10),
    )
    (held, headers), (excused, excused_headers) = course.students(2)
    _hold(client, course, held, *names)
    _hold(client, course, excused, *names)
    exam = course.assignment(time_limit=60, max_attempts=1)
    start = f"{course.path}/assignments/{exam}/start"
    # ×2 and +30: 150 minutes (the largest of each, not 1.5 × 2, nor 10 + 30)
    assert client.post(start, headers=headers).json()["time_limit"] == 150
    # their extension's minutes replace what the labels give the limit; its attempt limit replaces theirs
    granted = client.put(
        f"{course.path}/assignments/{exam}/extensions/{excused}",
        json={"extra_minutes": 10},
        headers=course.instructor,
    )
    assert granted.status_code == 200
    assert client.post(start, headers=excused_headers).json()["time_limit"] == 70
    # the attempt limit the extension left alone is the labels': 1 + 1
    assert [course.submit(exam, excused_headers, RIGHT).status_code for _ in range(3)] == [201, 201, 409]


def test_staff_define_and_give_labels_students_are_refused_and_bad_ones_are_told_why(
    client: TestClient, course: Course
) -> None:
    (student, student_headers) = course.student()
    (ta, ta_headers) = course.member("ta")
    base = f"{course.path}/accommodations"
    # students: refused on every staff route; a TA gives labels but does not define them
    assert client.get(base, headers=student_headers).status_code == 403
    assert client.put(f"{base}/mine", json={"extra_days": 9}, headers=student_headers).status_code == 403
    mine = f"{course.path}/students/{student}/accommodations"
    assert client.put(mine, json=[], headers=student_headers).status_code == 403
    assert client.put(f"{base}/ta-made", json={"extra_days": 1}, headers=ta_headers).status_code == 403
    bad_bodies = ({"time_multiplier": 0.5}, {"time_multiplier": 5}, {"extra_days": -1}, {"extra_days": True}, [])
    for body in bad_bodies:
        refused = client.put(f"{base}/x", json=body, headers=course.instructor)
        assert refused.status_code == 422 and refused.json()["detail"], body
    bad_name = client.put(f"{base}/a;b", json={"extra_days": 1}, headers=course.instructor)
    assert bad_name.status_code == 422 and "cannot name an accommodation" in bad_name.json()["detail"]
    days = _label(client, course, extra_days=2)
    unknown = client.put(mine, json=[days, "nope"], headers=ta_headers)
    assert unknown.status_code == 404 and "'nope'" in unknown.json()["detail"] and days in unknown.json()["detail"]
    assert client.put(f"{course.path}/students/{ta}/accommodations", json=[days], headers=ta_headers).status_code == 404
    assert client.put(mine, json=[days], headers=ta_headers).status_code == 200
    listed = {a["name"]: a for a in client.get(base, headers=ta_headers).json()}
    assert listed[days]["extra_days"] == 2 and listed[days]["students"] == [student]
    # removed: from every holder too
    assert client.delete(f"{base}/{days}", headers=course.instructor).status_code == 204
    assert client.delete(f"{base}/{days}", headers=course.instructor).status_code == 404
    assert days not in {a["name"] for a in client.get(base, headers=ta_headers).json()}


def test_the_roster_import_gives_labels_and_refuses_an_unknown_one_before_importing_anyone(
    client: TestClient, course: Course
) -> None:
    days = _label(client, course, extra_days=2)
    first, second = unique("s"), unique("s")
    refused = client.post(
        f"{course.path}/members",
        json={
            "members": [
                {"id": first, "name": "A", "accommodations": [days]},
                {"id": second, "name": "B", "accommodations": ["unheard-of"]},
            ]
        },
        headers=course.instructor,
    )
    assert (
        refused.status_code == 409 and second in refused.json()["detail"] and "'unheard-of'" in refused.json()["detail"]
    )
    roster = client.get(f"{course.path}/members", headers=course.instructor).json()
    assert first not in {m["id"] for m in roster}  # nobody imported
    course.enrol([{"id": first, "name": "A", "accommodations": [days]}])
    listed = {a["name"]: a for a in client.get(f"{course.path}/accommodations", headers=course.instructor).json()}
    assert listed[days]["students"] == [first]


def test_a_time_limit_longer_than_is_left_before_the_close_is_refused_as_documented(
    client: TestClient, course: Course, engine: Engine
) -> None:
    close = datetime.now(UTC) + timedelta(minutes=6)
    body = {"id": unique("a"), "problem_set": "conv-pool-basics", "time_limit": 30, "closes_at": _iso(close)}
    refused = client.post(f"{course.path}/assignments", json=body, headers=course.instructor)
    assert refused.status_code == 422, refused.text
    assert "time limit (30 minutes) is longer than the assignment is open (now to" in refused.json()["detail"]
    running = course.assignment(time_limit=5, closes_at=_iso(close))
    patched = client.patch(f"{course.path}/assignments/{running}", json={"time_limit": 30}, headers=course.instructor)
    assert patched.status_code == 422
    # another change of an exam near its close is not refused by it
    retitled = client.patch(f"{course.path}/assignments/{running}", json={"title": "Quiz"}, headers=course.instructor)
    assert retitled.status_code == 200
