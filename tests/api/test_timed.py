"""Timed assignments (issue 48): a student's clock (started once, however many starts at once), their
draft saved and read back (never graded, never another's), work refused past the end, and the
time-up sweep that submits the last draft exactly once, also after a restart. Time is moved by
ageing a clock's start in the database or by giving the sweep its ``now``, never by sleeping."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pooled_course import EVERY, part_keys, pooled_course, problem_ids, read_detail
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from api.app import create_app
from api.kit.db import writer
from api.kit.errors import Conflict
from api.models import Assignment, Clock, Submission
from api.terms.rows import AssignmentRow
from api.timed import service
from api.timed.sweep import SUBMITTED, sweep

from factories import Course, together
from page_client import Browser
from staff_course import token

RIGHT = {"ex4.conv1_params": "3640", "ex5.params": "1810"}  # score 2


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _paths(course: Course, assignment: str) -> tuple[str, str, str]:
    base = f"{course.path}/assignments/{assignment}"
    return f"{base}/start", f"{base}/draft", f"{base}/clock"


def _age(engine: Engine, course: Course, assignment: str, student: str, minutes: float) -> None:
    """The student's clock started ``minutes`` earlier than it did: time passes for it."""
    with Session(writer(engine)) as session, session.begin():
        where = (Clock.course_id == course.id, Clock.assignment_id == assignment, Clock.student_id == student)
        started = session.scalar(select(Clock.started_at).where(*where))
        assert started is not None
        session.execute(update(Clock).where(*where).values(started_at=started - timedelta(minutes=minutes)))


def _close_at(engine: Engine, course: Course, assignment: str, close: datetime) -> None:
    """The assignment's close moved to ``close`` in the database, as time passing brings it nearer."""
    with Session(writer(engine)) as session, session.begin():
        where = (Assignment.course_id == course.id, Assignment.id == assignment)
        session.execute(update(Assignment).where(*where).values(closes_at=close))


def _submissions(engine: Engine, course: Course, assignment: str, student: str) -> list[Submission]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Submission).where(
                    Submission.course_id == course.id,
                    Submission.assignment_id == assignment,
                    Submission.student_id == student,
                )
            )
        )


def _clock_row(engine: Engine, course: Course, assignment: str, student: str) -> Clock:
    with Session(engine) as session:
        found = session.get(Clock, (course.id, assignment, student))
        assert found is not None
        session.expunge(found)
        return found


def test_time_limit_is_set_shown_changed_and_refused_where_it_cannot_fit(client: TestClient, course: Course) -> None:
    timed = course.assignment(time_limit=45)
    shown = client.get(f"{course.path}/assignments/{timed}", headers=course.instructor).json()
    assert shown["time_limit"] == 45
    changed = client.patch(f"{course.path}/assignments/{timed}", json={"time_limit": 30}, headers=course.instructor)
    assert changed.status_code == 200 and changed.json()["time_limit"] == 30
    cleared = client.patch(f"{course.path}/assignments/{timed}", json={"time_limit": None}, headers=course.instructor)
    assert cleared.json()["time_limit"] is None
    # longer than the assignment is open: refused with the reason
    opens = datetime.now(UTC) + timedelta(days=1)
    body = {"id": "tl-too-long", "problem_set": "conv-pool-basics", "time_limit": 90}
    body |= {"opens_at": _iso(opens), "closes_at": _iso(opens + timedelta(hours=1))}
    refused = client.post(f"{course.path}/assignments", json=body, headers=course.instructor)
    assert refused.status_code == 422
    assert "time limit (90 minutes) is longer than the assignment is open" in refused.json()["detail"]
    patched = client.patch(
        f"{course.path}/assignments/{timed}",
        json={"time_limit": 120, "opens_at": _iso(opens), "closes_at": _iso(opens + timedelta(minutes=60))},
        headers=course.instructor,
    )
    assert patched.status_code == 422 and "time limit" in patched.json()["detail"]
    for wrong in (0, -5, "ten"):
        bad = client.patch(f"{course.path}/assignments/{timed}", json={"time_limit": wrong}, headers=course.instructor)
        assert bad.status_code == 422 and "detail" in bad.json()


def test_start_returns_one_clock_however_often_and_the_end_is_start_plus_limit(
    client: TestClient, course: Course
) -> None:
    timed = course.assignment(time_limit=45)
    (_student, headers) = course.student()
    start, _, clock = _paths(course, timed)
    first = client.post(start, headers=headers)
    assert first.status_code == 200, first.text
    started, ends = _at(first.json()["started_at"]), _at(first.json()["ends_at"])
    assert ends - started == timedelta(minutes=45)
    assert abs(started - datetime.now(UTC)) < timedelta(minutes=1)
    again = client.post(start, headers=headers)
    assert again.json() == first.json()
    assert client.get(clock, headers=headers).json() == first.json()


def test_the_questions_of_a_timed_assignment_are_shown_once_the_student_starts(
    client: TestClient, course: Course
) -> None:
    timed = course.assignment(time_limit=30)
    (_, headers) = course.student()
    url = f"{course.path}/assignments/{timed}"
    assert client.get(url, headers=headers).json()["problems"] == []
    assert client.get(url, headers=course.instructor).json()["problems"]  # staff always
    client.post(f"{url}/start", headers=headers)
    assert client.get(url, headers=headers).json()["problems"]


def test_concurrent_starts_give_one_clock(app: Any, client: TestClient, course: Course, engine: Engine) -> None:
    timed = course.assignment(time_limit=30)
    (_student, headers) = course.student()
    start, _, _ = _paths(course, timed)
    responses = asyncio.run(together(app, [(start, {"headers": headers})] * 12))
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["started_at"] for r in responses}) == 1
    with Session(engine) as session:
        rows = session.scalars(select(Clock).where(Clock.course_id == course.id, Clock.assignment_id == timed))
        assert len(list(rows)) == 1


def test_a_draft_is_saved_read_back_never_graded_and_no_one_elses(
    client: TestClient, course: Course, engine: Engine
) -> None:
    timed = course.assignment(time_limit=30)
    (student, headers), (_other, other_headers) = course.students(2)
    start, draft, clock = _paths(course, timed)
    # before the start: nothing to read, nothing to save, nothing to submit
    assert client.get(draft, headers=headers).status_code == 404
    early = client.put(draft, json={"answers": {"ex4.conv1_params": "36"}}, headers=headers)
    assert early.status_code == 409 and "start it" in early.json()["detail"]
    refused = course.submit(timed, headers, RIGHT)
    assert refused.status_code == 409 and "start it first" in refused.json()["detail"]
    client.post(start, headers=headers)
    for typed in ({"ex4.conv1_params": "36"}, {"ex4.conv1_params": "3640", "ex5.params": "18"}):
        saved = client.put(draft, json={"answers": typed}, headers=headers)
        assert saved.status_code == 200, saved.text
        assert saved.json()["answers"] == typed
    read = client.get(draft, headers=headers).json()
    assert read["answers"] == {"ex4.conv1_params": "3640", "ex5.params": "18"} and read["saved_at"]
    assert _submissions(engine, course, timed, student) == []  # never graded
    # another student reads only their own (not started: none), never this one's
    assert client.get(draft, headers=other_headers).status_code == 404
    assert client.get(f"{clock}?student={student}", headers=other_headers).status_code == 403
    # staff see the student's clock, not a draft of their own
    seen = client.get(f"{clock}?student={student}", headers=course.instructor)
    assert seen.status_code == 200 and seen.json()["student"] == student
    assert client.get(draft, headers=course.instructor).status_code == 403
    # a draft is held to a submission's limits, and to the assignment's keys
    too_many = client.put(draft, json={"answers": {f"k{i}": "1" for i in range(501)}}, headers=headers)
    assert too_many.status_code == 422 and "detail" in too_many.json()
    unknown = client.put(draft, json={"answers": {"nope.key": "1"}}, headers=headers)
    assert unknown.status_code == 422 and "nope.key" in unknown.json()["detail"]
    huge = client.put(draft, json={"answers": {"ex4.conv1_params": "1" * 70_000}}, headers=headers)
    assert huge.status_code == 413 and "detail" in huge.json()
    assert client.get(draft, headers=headers).json()["answers"] == read["answers"]  # kept


def test_an_untimed_assignment_has_no_clock(client: TestClient, course: Course) -> None:
    untimed = course.assignment()
    (_, headers) = course.student()
    start, _draft, _ = _paths(course, untimed)
    refused = client.post(start, headers=headers)
    assert refused.status_code == 409 and "not timed" in refused.json()["detail"]
    assert course.submit(untimed, headers, RIGHT).status_code == 201
    assert client.post(start, headers=course.instructor).status_code == 403


def test_after_the_end_work_is_refused_with_a_sentence(client: TestClient, course: Course, engine: Engine) -> None:
    timed = course.assignment(time_limit=20)
    (student, headers) = course.student()
    start, draft, _ = _paths(course, timed)
    client.post(start, headers=headers)
    assert course.submit(timed, headers, RIGHT).status_code == 201  # within the time: as usual
    _age(engine, course, timed, student, 21)
    late = course.submit(timed, headers, RIGHT)
    assert late.status_code == 409
    assert late.json()["detail"].startswith(f"Your time on assignment '{timed}' ended at ")
    assert client.put(draft, json={"answers": RIGHT}, headers=headers).status_code == 409
    assert len(_submissions(engine, course, timed, student)) == 1


def test_a_refusal_past_the_end_says_it_in_the_courses_time_and_what_becomes_of_the_draft(
    app: Any, client: TestClient, course: Course, engine: Engine
) -> None:
    """The end as the course's pages write it (its zone, to the second where it falls between
    minutes), never UTC to the microsecond; and what time-up does with the saved answers, as it does
    it: submits a draft once, nothing without one."""
    chicago = ZoneInfo("America/Chicago")
    moved = client.patch(course.path, json={"time_zone": chicago.key}, headers=course.instructor)
    assert moved.status_code == 200, moved.text
    timed = course.assignment(time_limit=20)
    (saver, saver_headers), (idle, idle_headers) = course.students(2)
    start, draft, clock = _paths(course, timed)
    for headers in (saver_headers, idle_headers):
        assert client.post(start, headers=headers).status_code == 200
    assert client.put(draft, json={"answers": RIGHT}, headers=saver_headers).status_code == 200
    for student in (saver, idle):
        _age(engine, course, timed, student, 21)

    def refusal(headers: dict[str, str]) -> str:
        late = course.submit(timed, headers, RIGHT)
        assert late.status_code == 409
        detail: str = late.json()["detail"]
        return detail

    def local(headers: dict[str, str]) -> str:
        ends = _at(client.get(clock, headers=headers).json()["ends_at"]).astimezone(chicago)
        assert ends.microsecond  # (a clock ends between seconds: the refusal says the second)
        return ends.strftime("%Y-%m-%d %H:%M:%S ") + (ends.tzname() or "")

    ended = f"Your time on assignment '{timed}' ended at {local(saver_headers)}: nothing is accepted after it; "
    assert refusal(saver_headers) == ended + "your last saved answers are submitted for you (within a minute)."
    assert refusal(idle_headers) == (
        f"Your time on assignment '{timed}' ended at {local(idle_headers)}: nothing is accepted after it; "
        "you saved no answers, so nothing is submitted for you."
    )
    sweep(app.state.time_keeper.time_up, now=datetime.now(UTC))
    assert refusal(saver_headers) == ended + "your last saved answers were submitted for you."
    assert client.put(draft, json={"answers": RIGHT}, headers=saver_headers).json()["detail"] == (
        ended + "your last saved answers were submitted for you."
    )
    assert refusal(idle_headers).endswith("; nothing more was submitted for you.")
    assert len(_submissions(engine, course, timed, saver)) == 1 and _submissions(engine, course, timed, idle) == []


def test_a_close_refused_is_the_close_in_the_courses_time(client: TestClient, course: Course, engine: Engine) -> None:
    chicago = ZoneInfo("America/Chicago")
    assert client.patch(course.path, json={"time_zone": chicago.key}, headers=course.instructor).status_code == 200
    plain = course.assignment()
    (_, headers) = course.student()
    close = datetime(2026, 1, 10, 18, 0, tzinfo=UTC)  # noon in Chicago (CST, UTC−6)
    _close_at(engine, course, plain, close)
    late = course.submit(plain, headers, RIGHT)
    assert late.status_code == 409
    assert late.json()["detail"] == (
        f"Assignment '{plain}' closed at 2026-01-10 12:00 CST: no submission is accepted after it (no attempt used)."
    )
    preview = client.post(f"{course.path}/assignments/{plain}/preview", json={"answers": RIGHT}, headers=headers)
    assert preview.json()["obstacle"].startswith(f"Assignment '{plain}' closed at 2026-01-10 12:00 CST: ")


def test_a_start_after_the_close_or_before_the_opening_is_refused(
    client: TestClient, course: Course, engine: Engine
) -> None:
    now = datetime.now(UTC)
    closed = course.assignment(time_limit=20, closes_at=_iso(now - timedelta(minutes=1)))
    (_, headers) = course.student()
    refused = client.post(_paths(course, closed)[0], headers=headers)
    assert refused.status_code == 409 and "can no longer be started" in refused.json()["detail"]
    # before it opens a student does not see it (404, as if it did not exist); the rule says 409
    later = course.assignment(time_limit=20, opens_at=_iso(now + timedelta(hours=1)))
    assert client.post(_paths(course, later)[0], headers=headers).status_code == 404
    terms = AssignmentRow(**{**_row_fields(), "opens_at": now + timedelta(hours=1), "time_limit": 20})
    with Session(engine) as session, pytest.raises(Conflict, match="cannot be started before"):
        service.start(session, terms=terms, student_id="s", now=now)


def _row_fields() -> dict[str, Any]:
    now = datetime.now(UTC)
    names = AssignmentRow.__dataclass_fields__
    values: dict[str, Any] = dict.fromkeys(names)
    values |= {"course_id": "c", "id": "a", "problem_set": "p", "title": "t", "release_answers": "never"}
    values |= {"grade_policy": "best", "created_at": now, "practice": "never", "published": True}
    return values | {"category": "homework", "grace_minutes": 0}


def test_the_end_is_never_past_the_close_and_extra_minutes_extend_it(
    client: TestClient, course: Course, engine: Engine
) -> None:
    close = (datetime.now(UTC) + timedelta(minutes=30)).replace(microsecond=0)
    # (a limit longer than is left before the close is refused as it is set: the close comes nearer
    # later, as it does for a student who starts late)
    timed = course.assignment(time_limit=60, closes_at=_iso(close + timedelta(hours=1)))
    _close_at(engine, course, timed, close)
    (_student, headers), (other, other_headers) = course.students(2)
    start, _, _clock = _paths(course, timed)
    assert _at(client.post(start, headers=headers).json()["ends_at"]) == close  # not start + 60
    roomy = course.assignment(time_limit=20)
    granted = client.put(
        f"{course.path}/assignments/{roomy}/extensions/{other}", json={"extra_minutes": 15}, headers=course.instructor
    )
    assert granted.status_code == 200 and granted.json()["extra_minutes"] == 15
    began = client.post(_paths(course, roomy)[0], headers=other_headers).json()
    assert _at(began["ends_at"]) - _at(began["started_at"]) == timedelta(minutes=35)
    assert began["time_limit"] == 35
    # at 25 minutes the student still has time (20 would have ended it)
    _age(engine, course, roomy, other, 25)
    assert course.submit(roomy, other_headers, RIGHT).status_code == 201
    shown = client.get(f"{course.path}/assignments/{roomy}", headers=other_headers).json()
    assert shown["extension"]["extra_minutes"] == 15
    bad = client.put(
        f"{course.path}/assignments/{roomy}/extensions/{other}", json={"extra_minutes": 0}, headers=course.instructor
    )
    assert bad.status_code == 422


def test_time_up_submits_the_last_draft_exactly_once(
    app: Any, client: TestClient, course: Course, engine: Engine
) -> None:
    timed = course.assignment(time_limit=10)
    (student, headers) = course.student()
    start, draft, clock = _paths(course, timed)
    ends = _at(client.post(start, headers=headers).json()["ends_at"])
    client.put(draft, json={"answers": {"ex4.conv1_params": "36"}}, headers=headers)
    client.put(draft, json={"answers": RIGHT}, headers=headers)
    time_up = app.state.time_keeper.time_up
    # before the end, nothing happens
    sweep(time_up, now=ends - timedelta(seconds=1))
    assert _submissions(engine, course, timed, student) == []
    # at the end: the last draft, graded like any submission, made at the end; a second sweep adds nothing
    sweep(time_up, now=ends + timedelta(seconds=5))
    sweep(time_up, now=ends + timedelta(seconds=30))
    (made,) = _submissions(engine, course, timed, student)
    assert made.answers == RIGHT and made.score == 2 and made.submitted_at == ends
    row = _clock_row(engine, course, timed, student)
    assert (row.outcome, row.submission_id) == (SUBMITTED, made.id)
    assert row.answers == RIGHT  # the draft is kept
    seen = client.get(clock, headers=headers).json()
    assert seen["outcome"] == SUBMITTED and seen["submission_id"] == made.id
    listed = client.get(f"{course.path}/assignments/{timed}/submissions", headers=headers).json()
    assert [s["id"] for s in listed] == [made.id]


def test_concurrent_sweeps_store_one_submission(app: Any, client: TestClient, course: Course, engine: Engine) -> None:
    timed = course.assignment(time_limit=10)
    students = course.students(3)
    time_up = app.state.time_keeper.time_up
    ends = []
    for _, headers in students:
        start, draft, _ = _paths(course, timed)
        ends.append(_at(client.post(start, headers=headers).json()["ends_at"]))
        client.put(draft, json={"answers": RIGHT}, headers=headers)
    now = max(ends) + timedelta(seconds=5)
    gate = threading.Barrier(4)

    def run() -> None:
        gate.wait()
        sweep(time_up, now=now)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for student, _ in students:
        assert len(_submissions(engine, course, timed, student)) == 1


def test_nothing_is_submitted_without_a_draft_or_over_the_students_own_submission(
    app: Any, client: TestClient, course: Course, engine: Engine
) -> None:
    timed = course.assignment(time_limit=10)
    (idle, idle_headers), (done, done_headers) = course.students(2)
    start, draft, _ = _paths(course, timed)
    ends = _at(client.post(start, headers=idle_headers).json()["ends_at"])
    client.post(start, headers=done_headers)
    client.put(draft, json={"answers": RIGHT}, headers=done_headers)
    assert course.submit(timed, done_headers, RIGHT).status_code == 201  # submitted what they had typed
    sweep(app.state.time_keeper.time_up, now=ends + timedelta(minutes=1))
    assert _submissions(engine, course, timed, idle) == []
    assert "Nothing was saved" in (_clock_row(engine, course, timed, idle).outcome or "")
    assert len(_submissions(engine, course, timed, done)) == 1
    assert "after their last draft" in (_clock_row(engine, course, timed, done).outcome or "")


def test_unreadable_answers_are_left_out_and_the_readable_ones_submitted(
    app: Any, client: TestClient, course: Course, engine: Engine
) -> None:
    timed = course.assignment(time_limit=10)
    (student, headers) = course.student()
    start, draft, _ = _paths(course, timed)
    ends = _at(client.post(start, headers=headers).json()["ends_at"])
    client.put(draft, json={"answers": {"ex4.conv1_params": "3640", "ex5.params": "18**("}}, headers=headers)
    sweep(app.state.time_keeper.time_up, now=ends + timedelta(seconds=2))
    (made,) = _submissions(engine, course, timed, student)
    assert made.answers == {"ex4.conv1_params": "3640"} and made.score == 1


def test_a_restart_submits_the_clocks_that_ended_while_the_service_was_down(
    settings: Any, shared_bank: Any, client: TestClient, course: Course, engine: Engine
) -> None:
    timed = course.assignment(time_limit=15)
    (student, headers) = course.student()
    start, draft, _ = _paths(course, timed)
    client.post(start, headers=headers)
    client.put(draft, json={"answers": RIGHT}, headers=headers)
    _age(engine, course, timed, student, 16)  # ended while no service ran its keeper
    restarted = create_app(settings, bank=shared_bank)
    try:
        with TestClient(restarted):  # (the lifespan: the keeper's first sweep)
            deadline = time.monotonic() + 30
            while not _submissions(engine, course, timed, student):
                assert time.monotonic() < deadline, "not submitted 30 s after the start"
                time.sleep(0.05)
        (made,) = _submissions(engine, course, timed, student)
        assert made.answers == RIGHT and made.score == 2
        assert _clock_row(engine, course, timed, student).outcome == SUBMITTED
    finally:
        restarted.state.engine.dispose()


def test_time_limit_is_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    for path, method in (("start", "post"), ("draft", "put"), ("draft", "get"), ("clock", "get")):
        assert method in paths[f"/api/v1/courses/{{course_id}}/assignments/{{assignment_id}}/{path}"]
    described = document["components"]["schemas"]["AssignmentCreate"]["properties"]["time_limit"]["description"]
    assert "timed assignment" in described


def test_a_timed_quiz_with_pools_keeps_the_draft_to_the_students_own_problems(
    app: Any, client: TestClient, engine: Engine
) -> None:
    """A draft may hold only the keys of the problems drawn for the student (as a submission may);
    time-up then submits their answers, graded on their own problems."""
    course = pooled_course(client, engine)
    timed = course.assignment(problem_set="pooled-quiz", time_limit=20)
    (student, headers) = course.student()
    start, draft, _ = _paths(course, timed)
    ends = _at(client.post(start, headers=headers).json()["ends_at"])
    mine = read_detail(course, timed, headers)
    keys = part_keys(mine)
    (other, *_) = [p for p in EVERY if p not in problem_ids(mine)]
    whole = read_detail(course, timed, course.instructor)
    undrawn = next(part["key"] for problem in whole["problems"] if problem["id"] == other for part in problem["parts"])
    refused = client.put(draft, json={"answers": {keys[0]: "1", undrawn: "1"}}, headers=headers)
    assert refused.status_code == 422 and "not drawn for you" in refused.json()["detail"], refused.text
    assert client.get(draft, headers=headers).json()["answers"] == {}  # nothing saved
    right = course.right_answers(timed, student)
    saved = client.put(draft, json={"answers": {key: str(right[key]) for key in keys}}, headers=headers)
    assert saved.status_code == 200, saved.text
    sweep(app.state.time_keeper.time_up, now=ends + timedelta(seconds=2))
    (made,) = _submissions(engine, course, timed, student)
    assert set(made.answers) == set(keys) and made.score == mine["max_score"] == 5.0


def test_once_the_attempts_are_used_the_draft_is_refused_and_the_page_says_so(
    app: Any, client: TestClient, course: Course
) -> None:
    """Time-up submits nothing past the attempt limit, so nothing more is saved nor promised."""
    timed = course.assignment(time_limit=30, max_attempts=1)
    (_student, headers) = course.student()
    start, draft, _ = _paths(course, timed)
    client.post(start, headers=headers)
    assert client.put(draft, json={"answers": {"ex4.conv1_params": "36"}}, headers=headers).status_code == 200
    assert course.submit(timed, headers, RIGHT).status_code == 201
    refused = client.put(draft, json={"answers": {"ex4.conv1_params": "3640"}}, headers=headers)
    assert refused.status_code == 409
    assert "used your 1 attempt" in refused.json()["detail"] and "nothing more is submitted" in refused.json()["detail"]
    page = Browser(app).signed_in(token(headers))
    html = page.get(f"/courses/{course.id}/assignments/{timed}").text
    assert "your answers are no longer saved, and nothing more is submitted for you" in html
    assert (
        "last saved answers are submitted for you" not in html and 'id="timed-answers"' not in html
    )  # no promise, no saving
    posted = page.post(f"/courses/{course.id}/assignments/{timed}/draft", {"ex4.conv1_params": "3640"})
    assert posted.status_code == 409 and "no longer saved" in posted.text
