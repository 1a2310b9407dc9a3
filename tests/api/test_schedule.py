"""An assignment's schedule, over REST and on the pages: ``opens_at`` and ``published`` (students
neither see nor open it before, staff do), ``closes_at`` (after it a submission is 409 with a
sentence, unless an extension moves the student's close), archiving (hidden from students, nothing
deleted, restorable), and terms that cannot be set refused with the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from factories import Course, make_instructor
from page_client import Browser

ANSWER = {"ex4.conv1_params": "3640"}


def _in(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _seen(client, course: Course, headers: dict[str, str], aid: str) -> dict[str, Any]:
    """What a caller is told of the assignment, by every door that names it."""
    listed = {a["id"] for a in client.get(f"{course.path}/assignments", headers=headers).json()}
    return {
        "listed": aid in listed,
        "detail": client.get(f"{course.path}/assignments/{aid}", headers=headers).status_code,
        "submit": course.submit(aid, headers, ANSWER).status_code,
    }


@pytest.mark.parametrize(
    ("fields", "visible"),
    [
        ({"opens_at": _in(1)}, False),
        ({"opens_at": _in(-1)}, True),
        ({"published": False}, False),
        ({"published": False, "opens_at": _in(-1)}, False),
        ({}, True),
    ],
)
def test_students_neither_see_nor_open_an_assignment_before_it_opens_or_while_a_draft(
    app, client, engine, fields, visible
) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(**fields)
    (_, headers) = course.student()
    if visible:
        assert _seen(client, course, headers, aid) == {"listed": True, "detail": 200, "submit": 201}
    else:
        assert _seen(client, course, headers, aid) == {"listed": False, "detail": 404, "submit": 404}
        page = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
        assert page.get(f"/courses/{course.id}/assignments/{aid}").status_code == 404
        assert aid not in page.get(f"/courses/{course.id}").text
    # staff see it whatever its state, with its terms
    staff = client.get(f"{course.path}/assignments/{aid}", headers=course.instructor)
    assert staff.status_code == 200 and aid in {
        a["id"] for a in client.get(f"{course.path}/assignments", headers=course.instructor).json()
    }
    assert staff.json()["published"] is fields.get("published", True)


def test_after_the_close_a_submission_is_refused_with_a_sentence_and_nothing_stored(client, engine) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(due_at=_in(-2), closes_at=_in(-1))
    (_, headers) = course.student()
    refused = course.submit(aid, headers, ANSWER)
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith(f"Assignment {aid!r} closed at ")
    assert "no submission is accepted after it" in refused.json()["detail"]
    preview = client.post(f"{course.path}/assignments/{aid}/preview", json={"answers": ANSWER}, headers=headers)
    assert preview.status_code == 200 and "closed at" in preview.json()["obstacle"]
    assert client.get(f"{course.path}/assignments/{aid}/submissions", headers=headers).json() == []


def test_an_extension_moves_one_students_close(client, engine) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(due_at=_in(-2), closes_at=_in(-1), late_penalty={"per_day": 10})
    (extended, mine), (_, theirs) = course.students(2)
    later = {"due_at": _in(1)}  # past the close: the student's close moves to it
    assert client.put(f"{course.path}/assignments/{aid}/extensions/{extended}", json=later, headers=course.instructor)
    stored = course.submit(aid, mine, ANSWER)
    assert stored.status_code == 201 and stored.json()["late"] is False
    assert course.submit(aid, theirs, ANSWER).status_code == 409
    # a close of its own, later than the due date
    own = {"due_at": _in(-1.5), "closes_at": _in(1)}  # two started days late
    (other, others) = course.student()
    assert client.put(f"{course.path}/assignments/{aid}/extensions/{other}", json=own, headers=course.instructor)
    late = course.submit(aid, others, ANSWER)
    assert late.status_code == 201 and late.json()["late"] is True and late.json()["penalty"] == 0.8
    # and not before it
    bad = {"due_at": _in(2), "closes_at": _in(1)}
    refused = client.put(f"{course.path}/assignments/{aid}/extensions/{other}", json=bad, headers=course.instructor)
    assert refused.status_code == 422 and "before their due date" in refused.json()["detail"]


def test_archiving_hides_an_assignment_from_students_keeps_everything_and_restores(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment()
    (student, headers) = course.student()
    assert course.submit(aid, headers, ANSWER).status_code == 201
    path = f"{course.path}/assignments/{aid}"
    assert client.delete(path, headers=headers).status_code == 403  # a student may not
    assert client.delete(path, headers=course.instructor).status_code == 204
    assert client.delete(path, headers=course.instructor).status_code == 204  # again: nothing changes
    assert _seen(client, course, headers, aid) == {"listed": False, "detail": 404, "submit": 404}
    staff_list = client.get(f"{course.path}/assignments", headers=course.instructor).json()
    assert aid not in {a["id"] for a in staff_list}
    archived = client.get(f"{course.path}/assignments?archived=true", headers=course.instructor).json()
    assert {a["id"]: a["archived_at"] is not None for a in archived}[aid] is True
    assert client.get(f"{course.path}/assignments?archived=true", headers=headers).status_code == 403
    # nothing deleted: the submission and the gradebook are there for staff
    kept = client.get(f"{path}/submissions", headers=course.instructor).json()
    assert [s["student"] for s in kept] == [student]
    assert client.get(f"{path}/gradebook", headers=course.instructor).status_code == 200
    restored = client.patch(path, json={"archived": False}, headers=course.instructor)
    assert restored.status_code == 200 and restored.json()["archived_at"] is None
    assert _seen(client, course, headers, aid)["detail"] == 200


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"due_at": _in(2), "closes_at": _in(1)}, "is before the due date"),
        ({"opens_at": _in(3), "closes_at": _in(2)}, "is not before the close"),
        ({"opens_at": _in(3), "due_at": _in(2)}, "is not before the due date"),
        ({"release_answers": "after_due", "due_at": _in(2)}, "while late work is still accepted"),
        ({"release_answers": "after_due", "due_at": _in(2), "closes_at": _in(3)}, "while late work is still accepted"),
    ],
)
def test_terms_that_cannot_be_set_are_refused_with_the_reason(client, engine, fields, words) -> None:
    course = Course(client, make_instructor(engine))
    body = {"id": "a1", "problem_set": "conv-pool-basics", **fields}
    refused = client.post(f"{course.path}/assignments", json=body, headers=course.instructor)
    assert refused.status_code == 422 and words in refused.json()["detail"]
    aid = course.assignment()
    patched = client.patch(f"{course.path}/assignments/{aid}", json=fields, headers=course.instructor)
    assert patched.status_code == 422 and words in patched.json()["detail"]
    assert client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["closes_at"] is None


def test_answers_at_the_due_date_are_allowed_where_the_due_date_is_the_close(client, engine) -> None:
    course = Course(client, make_instructor(engine))
    due = _in(1)
    aid = course.assignment(release_answers="after_due", due_at=due, closes_at=due)
    assert (
        client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["release_answers"]
        == "after_due"
    )


def test_the_student_page_says_the_assignment_closed_and_offers_no_submit(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(due_at=_in(-2), closes_at=_in(-1))
    (_, headers) = course.student()
    page = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    shown = page.get(f"/courses/{course.id}/assignments/{aid}")
    assert shown.status_code == 200 and 'id="closed"' in shown.text
    assert 'value="submit"' not in shown.text and 'value="check"' in shown.text
    open_ = course.assignment(due_at=_in(-2), closes_at=_in(1))
    late = page.get(f"/courses/{course.id}/assignments/{open_}")
    assert 'id="closed"' not in late.text and 'value="submit"' in late.text and "marked late" in late.text
