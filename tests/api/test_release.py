"""One rule for releasing reference answers and worked solutions (``api.terms.rules``): a student
sees them under their own terms, extension included, alike in every reply of the REST API and on
the assignment page; staff always see them. ``after_close`` waits until the assignment is closed
for everyone, so that no student who may still submit sees answers a classmate was shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from factories import Course, auth, make_instructor
from page_client import Browser

ANSWER = {"ex4.conv1_params": "3640"}  # conv-pool-basics: 3·3·10·40 + 40 (one part of several)


def _page_shows_references(app, headers: dict[str, str], course: Course, aid: str) -> bool:
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    page = browser.get(f"/courses/{course.id}/assignments/{aid}")
    assert page.status_code == 200
    return "Reference answer" in page.text


def _rest_shows_references(client, headers: dict[str, str], course: Course, aid: str) -> set[bool]:
    """Whether each REST reply that can carry references does, for the student with ``headers``."""
    detail = client.get(f"{course.path}/assignments/{aid}", headers=headers).json()
    listed = {a["id"]: a for a in client.get(f"{course.path}/assignments", headers=headers).json()}[aid]
    mine = client.get(f"{course.path}/assignments/{aid}/submissions", headers=headers).json()
    one = client.get(f"/api/v1/submissions/{mine[0]['id']}", headers=headers).json()
    return {
        detail["reference"] is not None,
        detail["answers_released"],
        listed["answers_released"],
        mine[0]["reference"] is not None,
        "solution" in next(iter(mine[0]["parts"].values())),
        one["reference"] is not None,
    }


def _days(now: datetime, days: float | None) -> str | None:
    return None if days is None else (now + timedelta(days=days)).isoformat()


#: (release, due, close, whose extension, the extension, attempt limit, shown): days from now.
CASES: list[tuple[str, float | None, float | None, str | None, dict[str, float] | None, int | None, bool]] = [
    # after_close: once closed for everyone...
    ("after_close", -2, -1, None, None, None, True),
    ("after_close", -2, None, None, None, None, False),  # never closes: never released
    ("after_close", -2, 1, None, None, None, False),  # late work still accepted
    # ...extensions included: the student's own, and a classmate's
    ("after_close", -3, -1, "self", {"due_at": 2}, None, False),
    ("after_close", -3, -1, "other", {"due_at": 2}, None, False),
    ("after_close", -3, -2, "other", {"closes_at": -1}, None, True),
    ("after_close", -3, -2, "other", {"closes_at": 1}, None, False),
    ("after_close", -3, -2, "self", {"max_attempts": 9}, None, True),  # attempts only: the close stands
    # after_due: allowed only where the due date is the close; a classmate's extension holds it back
    ("after_due", -1, -1, None, None, None, True),
    ("after_due", -1, -1, "other", {"due_at": 2}, None, False),
    ("after_due", 1, 1, None, None, None, False),
    # after_attempts: to a student with no attempt left (or a full score), before any close
    ("after_attempts", 3, None, None, None, 1, True),
    ("after_attempts", 3, None, None, None, 2, False),
    ("after_attempts", 3, None, "self", {"max_attempts": 2}, 1, False),
    ("immediately", 1, 2, "self", {"due_at": 2}, None, True),
    ("never", -2, -1, None, None, None, False),
]


@pytest.mark.parametrize(("release", "due", "close", "whose", "extension", "limit", "shown"), CASES)
def test_references_follow_the_release_rule_everywhere(
    app, client, engine, release, due, close, whose, extension, limit, shown
) -> None:
    course = Course(client, make_instructor(engine))
    now = datetime.now(UTC)
    # submitted while open, then the dates moved to the case's (a submission after the close is refused)
    aid = course.assignment(release_answers="never", max_attempts=limit)
    (student, headers) = course.student()
    (classmate, _) = course.student()
    assert course.submit(aid, headers, ANSWER).status_code == 201
    terms: dict[str, Any] = {"release_answers": release, "due_at": _days(now, due), "closes_at": _days(now, close)}
    changed = client.patch(f"{course.path}/assignments/{aid}", json=terms, headers=course.instructor)
    assert changed.status_code == 200, changed.text
    if extension is not None:
        body = {name: value if name == "max_attempts" else _days(now, value) for name, value in extension.items()}
        whom = student if whose == "self" else classmate
        granted = client.put(f"{course.path}/assignments/{aid}/extensions/{whom}", json=body, headers=course.instructor)
        assert granted.status_code == 200, granted.text
    assert _rest_shows_references(client, headers, course, aid) == {shown}
    assert _page_shows_references(app, headers, course, aid) is shown
    # staff see them whatever the terms
    staff = client.get(f"{course.path}/assignments/{aid}?student={student}", headers=course.instructor).json()
    assert staff["reference"] is not None
    listed = client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor).json()
    assert all(s["reference"] is not None for s in listed)


def test_a_full_score_releases_the_answers_after_attempts(client, engine) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(release_answers="after_attempts", max_attempts=5)
    (_, headers) = course.student()
    full = course.reference(aid)  # the declared numbers: a fixed set, every student's
    assert client.get(f"{course.path}/assignments/{aid}", headers=headers).json()["reference"] is None
    assert course.submit(aid, headers, ANSWER).status_code == 201
    assert client.get(f"{course.path}/assignments/{aid}", headers=headers).json()["reference"] is None
    stored = course.submit(aid, headers, {key: str(value) for key, value in full.items()})
    assert stored.status_code == 201 and stored.json()["score"] == stored.json()["max_score"]
    assert stored.json()["reference"] is not None  # the reply to the submission that finished it
    assert client.get(f"{course.path}/assignments/{aid}", headers=headers).json()["reference"] is not None


def test_a_late_student_sees_no_answers_a_classmate_could_copy(client, engine) -> None:
    """The attack found: answers released at the general due date while a late (or extended)
    student could still submit them, for full marks less the penalty."""
    course = Course(client, make_instructor(engine))
    now = datetime.now(UTC)
    aid = course.assignment(due_at=_days(now, -1), closes_at=_days(now, 2))  # the default: after_close
    (_, headers) = course.student()
    detail = client.get(f"{course.path}/assignments/{aid}", headers=headers).json()
    assert detail["release_answers"] == "after_close"
    assert detail["reference"] is None and detail["answers_released"] is False
    assert course.submit(aid, headers, ANSWER).status_code == 201  # late work is accepted...
    assert client.get(f"{course.path}/assignments/{aid}", headers=headers).json()["reference"] is None
    assert client.get(f"{course.path}/assignments/{aid}", headers=auth("nope")).status_code == 401


@pytest.mark.parametrize("close", [None, 1])
def test_answers_at_the_due_date_are_refused_while_late_work_is_accepted(client, engine, close) -> None:
    course = Course(client, make_instructor(engine))
    now = datetime.now(UTC)
    body = {"id": "a1", "problem_set": "conv-pool-basics", "release_answers": "after_due", "due_at": _days(now, -1)}
    body["closes_at"] = _days(now, close)
    refused = client.post(f"{course.path}/assignments", json=body, headers=course.instructor)
    assert refused.status_code == 422
    assert "after_due would show the answers while late work is still accepted" in refused.json()["detail"]
    aid = course.assignment(due_at=_days(now, 1))
    patched = client.patch(
        f"{course.path}/assignments/{aid}", json={"release_answers": "after_due"}, headers=course.instructor
    )
    assert patched.status_code == 422 and "after_close" in patched.json()["detail"]
