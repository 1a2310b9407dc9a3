"""The proctor's routes (issue 66): every roster student's attempt in one read, time added to every
running clock or one (its end moved, past the close too), an attempt ended by staff, the attempt's
event log in order with who acted, and the exam page's signals, recorded and never enforced; on
both databases. Time passes by ageing a clock's start or by giving the sweep its ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from api.kit.db import writer
from api.models import Assignment, Clock, Submission
from api.terms.rows import AssignmentRow
from api.terms.standing import closes_for_everyone
from api.timed.sweep import sweep
from tests.pages.test_student_pages import token_of

from factories import Course, auth, counted, engines_of
from page_client import Browser

RIGHT = {"ex4.conv1_params": "3640", "ex5.params": "1810"}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _second_token(client: TestClient, student: dict[str, str]) -> dict[str, str]:
    made = client.post("/api/v1/account/tokens", json={"name": "laptop"}, headers=student)
    assert made.status_code == 201, made.text
    return auth(made.json()["token"])


def _attempts(client: TestClient, course: Course, assignment: str, **params: str) -> dict[str, dict[str, Any]]:
    found = client.get(f"{course.path}/assignments/{assignment}/attempts", params=params, headers=course.instructor)
    assert found.status_code == 200, found.text
    return {row["student"]: row for row in found.json()}


def test_time_added_to_all_moves_every_running_clock_and_to_one_only_theirs(client: TestClient, course: Course) -> None:
    timed = course.assignment(time_limit=30)
    base = f"{course.path}/assignments/{timed}"
    (a, ha), (b, hb), (idle, _) = course.students(3)
    ends = {s: _at(client.post(f"{base}/start", headers=h).json()["ends_at"]) for s, h in ((a, ha), (b, hb))}

    added = client.post(f"{base}/time", json={"minutes": 10}, headers=course.instructor)
    assert added.status_code == 200, added.text
    moved = {row["student"]: _at(row["ends_at"]) for row in added.json()["students"]}
    assert moved == {s: end + timedelta(minutes=10) for s, end in ends.items()}  # (not the student not started)
    for student, headers in ((a, ha), (b, hb)):  # the student's own view, REST
        assert _at(client.get(f"{base}/clock", headers=headers).json()["ends_at"]) == moved[student]
        assert _at(client.get(f"{base}/draft", headers=headers).json()["ends_at"]) == moved[student]
    one = client.post(f"{base}/time", json={"minutes": 5, "student": a}, headers=course.instructor)
    assert [row["student"] for row in one.json()["students"]] == [a]
    assert _at(client.get(f"{base}/clock", headers=ha).json()["ends_at"]) == moved[a] + timedelta(minutes=5)
    assert _at(client.get(f"{base}/clock", headers=hb).json()["ends_at"]) == moved[b]
    table = _attempts(client, course, timed)
    assert _at(table[a]["ends_at"]) == moved[a] + timedelta(minutes=5) and table[idle]["state"] == "not_started"

    # a student without a running clock, and minutes out of bounds: refused with a sentence
    idle_one = client.post(f"{base}/time", json={"minutes": 5, "student": idle}, headers=course.instructor)
    assert idle_one.status_code == 409 and "no running clock" in idle_one.json()["detail"]
    for wrong in (0, -3, 601, "ten", None):
        bad = client.post(f"{base}/time", json={"minutes": wrong}, headers=course.instructor)
        assert bad.status_code == 422 and "detail" in bad.json(), wrong
    untimed = course.assignment()
    refused = client.post(f"{course.path}/assignments/{untimed}/time", json={"minutes": 5}, headers=course.instructor)
    assert refused.status_code == 409 and "not timed" in refused.json()["detail"]
    # students are refused on every staff door
    assert client.post(f"{base}/time", json={"minutes": 5}, headers=ha).status_code == 403
    assert client.get(f"{base}/attempts", headers=ha).status_code == 403
    assert client.post(f"{base}/attempts/{b}/end", headers=ha).status_code == 403


def test_added_time_takes_the_end_past_the_close_and_the_draft_is_submitted_there(
    app: Any, client: TestClient, course: Course, engine: Engine
) -> None:
    close = datetime.now(UTC) + timedelta(minutes=20)
    # (a 30-minute limit is refused 20 minutes before the close: made with a later one, then moved there)
    timed = course.assignment(
        time_limit=30, closes_at=_iso(close + timedelta(minutes=60)), release_answers="after_close"
    )
    with Session(writer(engine)) as session, session.begin():
        moved = update(Assignment).where(Assignment.course_id == course.id, Assignment.id == timed)
        session.execute(moved.values(closes_at=close))
    base = f"{course.path}/assignments/{timed}"
    (student, headers) = course.student()
    assert _at(client.post(f"{base}/start", headers=headers).json()["ends_at"]) == close  # (capped by the close)
    added = client.post(f"{base}/time", json={"minutes": 15}, headers=course.instructor)
    assert _at(added.json()["students"][0]["ends_at"]) == close + timedelta(minutes=15)
    assert _at(client.get(f"{base}/clock", headers=headers).json()["ends_at"]) == close + timedelta(minutes=15)
    assert client.put(f"{base}/draft", json={"answers": RIGHT}, headers=headers).status_code == 200
    with Session(engine) as session:  # (answers released after the close wait for the added time)
        terms = AssignmentRow.of(session.get_one(Assignment, (course.id, timed)))
        assert closes_for_everyone(session, assignment=terms) == close + timedelta(minutes=15)

    sweep(app.state.time_keeper.time_up, now=close + timedelta(minutes=5))  # past the close: still running
    with Session(engine) as session:
        assert session.scalar(select(Clock.submitted_at).where(Clock.student_id == student)) is None
    sweep(app.state.time_keeper.time_up, now=close + timedelta(minutes=16))
    with Session(engine) as session:
        stored = session.scalars(select(Submission).where(Submission.student_id == student)).one()
    assert stored.submitted_at == close + timedelta(minutes=15) and stored.score == 2
    table = _attempts(client, course, timed)
    assert table[student]["state"] == "auto_submitted"
    assert [e["kind"] for e in table[student]["events"]] == ["start", "time", "save", "auto_submission"]


def test_minutes_a_proctor_gave_past_the_close_stay_past_it_when_the_close_moves_later(
    client: TestClient, course: Course, engine: Engine
) -> None:
    close = datetime.now(UTC) + timedelta(minutes=20)
    timed = course.assignment(time_limit=30, closes_at=_iso(close + timedelta(minutes=60)))
    with Session(writer(engine)) as session, session.begin():  # (moved 20 minutes away: see above)
        moved = update(Assignment).where(Assignment.course_id == course.id, Assignment.id == timed)
        session.execute(moved.values(closes_at=close))
    base = f"{course.path}/assignments/{timed}"
    (capped, capped_headers) = course.student()
    assert _at(client.post(f"{base}/start", headers=capped_headers).json()["ends_at"]) == close
    given = client.post(f"{base}/time", json={"minutes": 15, "student": capped}, headers=course.instructor)
    assert _at(given.json()["students"][0]["ends_at"]) == close + timedelta(minutes=15)
    with Session(engine) as session:
        started = session.scalar(select(Clock.started_at).where(Clock.student_id == capped))
    assert started is not None

    # the close moved 20 minutes later for everyone: the student's own 30 minutes now fit, and the
    # proctor's 15 come on top of them (the old close's 15 past it would have been swallowed)
    patched = client.patch(base, json={"closes_at": _iso(close + timedelta(minutes=20))}, headers=course.instructor)
    assert patched.status_code == 200, patched.text
    given_end = started + timedelta(minutes=30 + 15)
    assert _at(client.get(f"{base}/clock", headers=capped_headers).json()["ends_at"]) == given_end
    assert _at(_attempts(client, course, timed)[capped]["ends_at"]) == given_end
    # moved earlier again: what the proctor gave stands
    earlier = close + timedelta(minutes=12)
    assert client.patch(base, json={"closes_at": _iso(earlier)}, headers=course.instructor).status_code == 200
    assert _at(client.get(f"{base}/clock", headers=capped_headers).json()["ends_at"]) == given_end


def test_the_proctor_sees_each_students_address_on_an_exam_without_session_rules(
    client: TestClient, course: Course
) -> None:
    """The address is kept with the start and the logged saves, so the proctor sees it whatever
    the exam's access rules (it was shown on one-session exams only)."""
    timed = course.assignment(time_limit=30)
    base = f"{course.path}/assignments/{timed}"
    (started, headers), (idle, _) = course.students(2)
    assert client.post(f"{base}/start", headers=headers).status_code == 200
    table = _attempts(client, course, timed)
    assert table[started]["address"] == "testclient" and table[idle]["address"] is None
    (start,) = table[started]["events"]
    assert start["kind"] == "start"
    assert client.put(f"{base}/draft", json={"answers": RIGHT}, headers=headers).status_code == 200
    assert [e["kind"] for e in _attempts(client, course, timed)[started]["events"]] == ["start", "save"]


def test_the_event_log_holds_each_act_in_order_with_who(client: TestClient, course: Course, engine: Engine) -> None:
    exam = course.assignment(time_limit=30, access={"one_session": True}, max_attempts=1)
    base = f"{course.path}/assignments/{exam}"
    (student, first), (other, other_headers) = course.students(2)
    second = _second_token(client, first)
    assert client.post(f"{base}/start", headers=first).status_code == 200
    draft = {"answers": {"ex4.conv1_params": "36"}}
    for _ in range(3):  # saves as the page makes them: logged once a minute
        assert client.put(f"{base}/draft", json=draft, headers=first).status_code == 200
    assert client.post(f"{base}/start", headers=second).status_code == 403  # locked
    assert client.post(f"{base}/start", headers=second).status_code == 403  # (still the one lock)
    assert _attempts(client, course, exam)[student]["state"] == "locked"
    unlock = client.post(f"{base}/attempts/{student}/unlock", headers=course.instructor)
    assert unlock.status_code == 204
    assert client.post(f"{base}/time", json={"minutes": 5, "student": student}, headers=course.instructor).is_success
    assert client.get(f"{base}/draft", headers=second).json()["answers"] == draft["answers"]  # intact
    assert client.post(f"{base}/start", headers=second).status_code == 200
    assert client.post(f"{base}/submissions", json={"answers": RIGHT}, headers=second).status_code == 201

    row = _attempts(client, course, exam, student=student)[student]
    members = client.get(f"{course.path}/members", headers=course.instructor).json()
    staff = next(member["id"] for member in members if member["role"] == "owner")
    assert [(e["kind"], e.get("by")) for e in row["events"]] == [
        ("start", None),
        ("save", None),
        ("lock", None),
        ("unlock", staff),
        ("time", staff),
        ("submission", None),
    ]
    assert row["events"][4]["detail"]["minutes"] == 5 and row["state"] == "submitted" and row["sessions"] == 2
    times = [_at(e["at"]) for e in row["events"]]
    assert times == sorted(times)

    # staff end another's running attempt: their draft submitted, as time-up would
    assert client.post(f"{base}/start", headers=other_headers).status_code == 200
    assert client.put(f"{base}/draft", json={"answers": RIGHT}, headers=other_headers).status_code == 200
    ended = client.post(f"{base}/attempts/{other}/end", headers=course.instructor)
    assert ended.status_code == 200, ended.text
    assert ended.json()["outcome"] == "submitted" and ended.json()["submission_id"] is not None
    again = client.post(f"{base}/attempts/{other}/end", headers=course.instructor)
    assert again.status_code == 409 and "nothing to end" in again.json()["detail"]
    after = _attempts(client, course, exam, student=other)[other]
    assert after["state"] == "auto_submitted"
    assert [(e["kind"], e.get("by")) for e in after["events"]][-1] == ("end", staff)
    with Session(engine) as session:
        assert session.scalar(select(Submission.score).where(Submission.student_id == other)) == 2
    assert client.put(f"{base}/draft", json=draft, headers=other_headers).status_code == 409  # over for them


def test_signals_are_recorded_and_bounded_never_enforced(client: TestClient, course: Course, engine: Engine) -> None:
    exam = course.assignment(time_limit=30)
    base = f"{course.path}/assignments/{exam}"
    (student, headers) = course.student()
    not_yet = client.post(f"{base}/signals", json={"signal": "paste"}, headers=headers)
    assert not_yet.status_code == 409 and "not running" in not_yet.json()["detail"]
    client.post(f"{base}/start", headers=headers)
    for signal in ("focus_loss", "paste", "paste"):  # (the second paste within 2 s: not kept)
        assert client.post(f"{base}/signals", json={"signal": signal}, headers=headers).status_code == 204
    for wrong in ({"signal": "screenshot"}, {"signal": "paste", "text": "x" * 100}, {}):
        assert client.post(f"{base}/signals", json=wrong, headers=headers).status_code == 422
    assert client.post(f"{base}/signals", json={"signal": "paste"}, headers=course.instructor).status_code == 403
    row = _attempts(client, course, exam, student=student)[student]
    signals = [e["detail"]["signal"] for e in row["events"] if e["kind"] == "signal"]
    assert signals == ["focus_loss", "paste"]
    # nothing enforced: the student still saves and submits
    assert client.put(f"{base}/draft", json={"answers": RIGHT}, headers=headers).status_code == 200
    assert client.post(f"{base}/submissions", json={"answers": RIGHT}, headers=headers).status_code == 201


def test_the_attempts_are_read_in_the_same_statements_for_any_roster(
    app: Any, client: TestClient, course: Course, engine: Engine
) -> None:
    counts = []
    for size in (2, 8):
        exam = course.assignment(time_limit=30, access={"one_session": True})
        for _student, headers in course.students(size):
            client.post(f"{course.path}/assignments/{exam}/start", headers=headers)
            client.put(f"{course.path}/assignments/{exam}/draft", json={"answers": RIGHT}, headers=headers)
        _attempts(client, course, exam)  # (warm)
        with counted(*engines_of(app)) as statements:
            found = _attempts(client, course, exam)
        assert sum(row["state"] == "in_progress" for row in found.values()) == size
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_a_clock_aged_past_its_end_is_not_given_time(client: TestClient, course: Course, engine: Engine) -> None:
    timed = course.assignment(time_limit=30)
    base = f"{course.path}/assignments/{timed}"
    (student, headers) = course.student()
    client.post(f"{base}/start", headers=headers)
    with Session(writer(engine)) as session, session.begin():
        where = (Clock.assignment_id == timed, Clock.student_id == student)
        session.execute(update(Clock).where(*where).values(started_at=datetime.now(UTC) - timedelta(minutes=31)))
    over = client.post(f"{base}/time", json={"minutes": 5, "student": student}, headers=course.instructor)
    assert over.status_code == 409
    assert client.post(f"{base}/time", json={"minutes": 5}, headers=course.instructor).json()["students"] == []


def test_the_proctor_sees_each_clock_under_the_students_accommodations(
    client: TestClient, course: Course, engine: Engine
) -> None:
    """A label ×1.5 gives a 60-minute exam 90 minutes: 70 minutes in, its holder is still writing
    (and the table says why), the student beside them is out of time."""
    slower = f"slower-{course.id[-6:]}"
    made = client.put(
        f"{course.path}/accommodations/{slower}", json={"time_multiplier": 1.5}, headers=course.instructor
    )
    assert made.status_code in (200, 201), made.text
    timed = course.assignment(time_limit=60)
    base = f"{course.path}/assignments/{timed}"
    (held, held_headers), (other, other_headers) = course.students(2)
    given = client.put(f"{course.path}/students/{held}/accommodations", json=[slower], headers=course.instructor)
    assert given.status_code == 200, given.text
    started = {}
    for student, headers in ((held, held_headers), (other, other_headers)):
        assert client.post(f"{base}/start", headers=headers).status_code in (200, 201)
        started[student] = datetime.now(UTC) - timedelta(minutes=70)
        with Session(writer(engine)) as session, session.begin():
            where = (Clock.assignment_id == timed, Clock.student_id == student)
            session.execute(update(Clock).where(*where).values(started_at=started[student]))
    table = _attempts(client, course, timed)
    assert table[held]["accommodations"] == [slower] and table[other]["accommodations"] == []
    assert table[held]["state"] == "in_progress"
    assert _at(table[held]["ends_at"]) == started[held] + timedelta(minutes=90)
    assert table[other]["state"] == "auto_submitted"
    staff = Browser(client.app).signed_in(token_of(course.instructor))
    shown = staff.get(f"/courses/{course.id}/assignments/{timed}/proctor/table")
    assert shown.status_code == 200, shown.text
    row = shown.text.split(f'id="attempt-{held}"')[1].split("</tr>")[0]
    assert slower in row and "in progress" in row
