"""The instructor's everyday operations: changing an assignment, per-student extensions that the
attempt check and the late flag honour, and late penalties applied in the gradebook and shown on
the submission."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

RIGHT = {"ex4.conv1_params": "3640"}  # one part right: score 1
TWO_RIGHT = {"ex4.conv1_params": "3640", "ex5.params": "1810"}  # score 2


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _extend(client, course, aid, student, **terms):
    return client.put(f"{course.path}/assignments/{aid}/extensions/{student}", json=terms, headers=course.instructor)


def test_an_attempt_extension_is_honoured_by_the_limit_and_the_preview(client, course) -> None:
    aid = course.assignment(max_attempts=1)
    (extended, more), (_, plain) = course.students(2)
    (_, ta) = course.member("ta")
    granted = client.put(f"{course.path}/assignments/{aid}/extensions/{extended}", json={"max_attempts": 3}, headers=ta)
    assert granted.status_code == 200, granted.text
    assert granted.json() == {
        "student": extended,
        "due_at": None,
        "max_attempts": 3,
        "closes_at": None,
        "extra_minutes": None,
    }
    preview = client.post(f"{course.path}/assignments/{aid}/preview", json={"answers": RIGHT}, headers=more).json()
    assert preview["attempts_left"] == 3
    assert [course.submit(aid, more, RIGHT).status_code for _ in range(4)] == [201, 201, 201, 409]
    assert [course.submit(aid, plain, RIGHT).status_code for _ in range(2)] == [201, 409]
    mine = client.get(f"{course.path}/assignments/{aid}", headers=more).json()
    assert mine["extension"] == {
        "student": None,
        "due_at": None,
        "max_attempts": 3,
        "closes_at": None,
        "extra_minutes": None,
    }
    assert mine["max_attempts"] == 1
    # withdrawn: the assignment's limit applies again (and the attempts stored stay)
    url = f"{course.path}/assignments/{aid}/extensions/{extended}"
    assert client.delete(url, headers=ta).status_code == 204
    assert client.delete(url, headers=ta).status_code == 404
    assert course.submit(aid, more, RIGHT).status_code == 409


def test_extensions_need_a_student_of_the_course_and_some_terms(client, course) -> None:
    aid = course.assignment()
    (ta, _) = course.member("ta")
    (student, _) = course.student()
    assert _extend(client, course, aid, "nobody", max_attempts=2).status_code == 404
    assert _extend(client, course, aid, ta, max_attempts=2).status_code == 404  # staff are not students
    for terms in ({}, {"max_attempts": 0}, {"due_at": 0}, {"due_at": "soon"}, {"days": 2}):
        assert _extend(client, course, aid, student, **terms).status_code == 422, terms
    (_, student_headers) = course.student()
    url = f"{course.path}/assignments/{aid}/extensions/{student}"
    assert client.put(url, json={"max_attempts": 2}, headers=student_headers).status_code == 403


def test_late_work_loses_what_the_penalty_says_unless_the_student_has_an_extension(client, course) -> None:
    now = datetime.now(UTC)
    aid = course.assignment(due_at=_iso(now - timedelta(days=2, hours=1)), late_penalty={"per_day": 20, "floor": 30})
    (late, late_headers), (excused, excused_headers), (idle, _) = course.students(3)
    assert _extend(client, course, aid, excused, due_at=_iso(now + timedelta(days=1))).status_code == 200
    submitted = course.submit(aid, late_headers, TWO_RIGHT).json()
    # 2 days and an hour late: 3 started days, 60% off
    assert (submitted["late"], submitted["days_late"], submitted["penalty"]) == (True, 3, 0.4)
    assert (submitted["score"], submitted["final_score"]) == (2, pytest.approx(0.8))
    on_time = course.submit(aid, excused_headers, TWO_RIGHT).json()
    assert (on_time["late"], on_time["days_late"], on_time["penalty"], on_time["final_score"]) == (False, 0, 1, 2)

    book = client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor).json()
    rows = {row["student"]: row for row in book["students"]}
    assert (rows[late]["raw_score"], rows[late]["score"], rows[late]["days_late"]) == (2, pytest.approx(0.8), 3)
    assert rows[late]["extension"] is None
    assert (rows[excused]["score"], rows[excused]["late"]) == (2, False)
    assert rows[excused]["extension"]["due_at"].startswith(_iso(now + timedelta(days=1))[:16])
    assert rows[idle]["score"] is None
    csv_rows = client.get(f"{course.path}/assignments/{aid}/gradebook?format=csv", headers=course.instructor).text
    assert f"{late},Student 0,,1,1,yes,3,2,0.8,9" in csv_rows
    canvas = client.get(f"{course.path}/assignments/{aid}/gradebook?format=canvas", headers=course.instructor).text
    assert f",{late},{late},,0.8" in canvas

    # an extension granted afterwards: the work already stored is on time under it
    assert _extend(client, course, aid, late, due_at=_iso(now + timedelta(days=1))).status_code == 200
    again = client.get(f"{course.path}/assignments/{aid}/submissions", headers=late_headers).json()
    assert [(s["late"], s["final_score"]) for s in again] == [(False, 2)]


def test_the_floor_and_the_fixed_factor(client, course) -> None:
    long_ago = _iso(datetime.now(UTC) - timedelta(days=30))
    floored = course.assignment(due_at=long_ago, late_penalty={"per_day": 10, "floor": 25})
    halved = course.assignment(due_at=long_ago, late_penalty={"factor": 0.5})
    unpenalized = course.assignment(due_at=long_ago)
    (_, headers) = course.student()
    assert course.submit(floored, headers, TWO_RIGHT).json()["final_score"] == pytest.approx(0.5)
    assert course.submit(halved, headers, TWO_RIGHT).json()["final_score"] == pytest.approx(1.0)
    plain = course.submit(unpenalized, headers, TWO_RIGHT).json()
    assert (plain["late"], plain["penalty"], plain["final_score"]) == (True, 1, 2)
    for penalty in ({"per_day": 0}, {"per_day": 10, "floor": 101}, {"factor": 1.5}, {"factor": 0.5, "per_day": 5}, {}):
        body = {"id": "x1", "problem_set": "conv-pool-basics", "late_penalty": penalty}
        assert client.post(f"{course.path}/assignments", json=body, headers=course.instructor).status_code == 422


def test_best_counts_the_best_score_after_the_penalty(client, course) -> None:
    aid = course.assignment(late_penalty={"factor": 0.25})
    (student, headers) = course.student()
    assert course.submit(aid, headers, RIGHT).status_code == 201  # on time: 1
    changed = client.patch(
        f"{course.path}/assignments/{aid}", json={"due_at": _iso(datetime.now(UTC))}, headers=course.instructor
    )
    assert changed.status_code == 200
    late = course.submit(aid, headers, TWO_RIGHT).json()  # late: 2 × 0.25
    assert (late["late"], late["final_score"]) == (True, 0.5)
    (row,) = [
        r
        for r in client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor).json()["students"]
        if r["student"] == student
    ]
    assert (row["attempt"], row["score"], row["late"]) == (1, 1, False)
    # the statistics of counted attempts take the same attempt: the on-time one, where ex5 is unanswered
    stats = client.get(
        f"{course.path}/assignments/{aid}/stats", params={"attempts": "counted"}, headers=course.instructor
    ).json()
    assert stats["submissions"] == 1
    assert stats["keys"]["ex5.params"]["statuses"] == {"unanswered": 1}


def test_an_assignment_changes_field_by_field(client, course) -> None:
    aid = course.assignment(max_attempts=1, due_at="2030-01-01T00:00:00Z")
    url = f"{course.path}/assignments/{aid}"
    (_, headers) = course.student()
    assert course.submit(aid, headers, RIGHT).status_code == 201
    assert course.submit(aid, headers, RIGHT).status_code == 409
    changed = client.patch(url, json={"max_attempts": 2, "release_answers": "immediately"}, headers=course.instructor)
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["max_attempts"], body["release_answers"], body["due_at"]) == (2, "immediately", "2030-01-01T00:00:00Z")
    assert course.submit(aid, headers, RIGHT).status_code == 201
    assert client.get(url, headers=headers).json()["reference"] is not None  # released now
    cleared = client.patch(
        url, json={"due_at": None, "max_attempts": None, "title": "Renamed"}, headers=course.instructor
    )
    assert (cleared.json()["due_at"], cleared.json()["max_attempts"], cleared.json()["title"]) == (
        None,
        None,
        "Renamed",
    )
    assert course.submit(aid, headers, RIGHT).status_code == 201
    for body in ({}, {"title": None}, {"grade_policy": "worst"}, {"problem_set": "no-such-set"}, {"id": "other"}):
        assert client.patch(url, json=body, headers=course.instructor).status_code == 422, body
    moved = client.patch(url, json={"problem_set": "rgb-convolution"}, headers=course.instructor)
    assert moved.status_code == 409 and "submissions" in moved.json()["detail"]
    fresh = course.assignment()
    moved = client.patch(
        f"{course.path}/assignments/{fresh}", json={"problem_set": "rgb-convolution"}, headers=course.instructor
    )
    assert moved.status_code == 200 and moved.json()["problem_set"] == "rgb-convolution"
    (_, ta) = course.member("ta")
    assert client.patch(url, json={"title": "By a TA"}, headers=ta).status_code == 403
