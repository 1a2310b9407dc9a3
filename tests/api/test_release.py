"""One rule for releasing reference answers (``api.terms.rules.references_shown``): a
student sees them under their own terms, extension included, alike in every reply of the REST API
and on the assignment page; staff always see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factories import Course, auth, make_instructor
from page_client import Browser

ANSWER = {"ex4.conv1_params": "3640"}  # conv-pool-basics: 3·3·10·40 + 40


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
    seen = {
        detail["reference"] is not None,
        detail["answers_released"],
        listed["answers_released"],
        mine[0]["reference"] is not None,
        one["reference"] is not None,
    }
    return seen


@pytest.mark.parametrize(
    ("release", "due_in_days", "extension_in_days", "shown"),
    [
        # the general due date has passed: released to a student without an extension, not to one with
        ("after_due", -1, None, True),
        ("after_due", -1, 2, False),
        # an extension that has passed too releases them
        ("after_due", -2, -1, True),
        # an extension of the attempts only keeps the general due date
        ("after_due", -1, "attempts", True),
        ("after_due", 1, None, False),
        ("immediately", 1, 2, True),
        ("never", -1, -1, False),
    ],
)
def test_references_follow_the_students_own_terms_everywhere(
    app, client, engine, release, due_in_days, extension_in_days, shown
) -> None:
    course = Course(client, make_instructor(engine))
    now = datetime.now(UTC)
    aid = course.assignment(release_answers=release, due_at=(now + timedelta(days=due_in_days)).isoformat())
    (student, headers) = course.student()
    if extension_in_days is not None:
        extension = (
            {"max_attempts": 9}
            if extension_in_days == "attempts"
            else {"due_at": (now + timedelta(days=extension_in_days)).isoformat()}
        )
        granted = client.put(
            f"{course.path}/assignments/{aid}/extensions/{student}", json=extension, headers=course.instructor
        )
        assert granted.status_code == 200, granted.text
    assert course.submit(aid, headers, ANSWER).status_code == 201
    assert _rest_shows_references(client, headers, course, aid) == {shown}
    assert _page_shows_references(app, headers, course, aid) is shown
    # staff see them whatever the terms
    staff = client.get(f"{course.path}/assignments/{aid}?student={student}", headers=course.instructor).json()
    assert staff["reference"] is not None
    listed = client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor).json()
    assert all(s["reference"] is not None for s in listed)


def test_a_student_with_an_extension_cannot_read_the_references_and_submit_them_on_time(client, engine) -> None:
    """The attack found: the general due date past, the references read from the REST API, then
    submitted before the extension ends for full marks."""
    course = Course(client, make_instructor(engine))
    now = datetime.now(UTC)
    aid = course.assignment(release_answers="after_due", due_at=(now - timedelta(hours=1)).isoformat())
    (student, headers) = course.student()
    later = {"due_at": (now + timedelta(days=3)).isoformat()}
    assert client.put(f"{course.path}/assignments/{aid}/extensions/{student}", json=later, headers=course.instructor)
    detail = client.get(f"{course.path}/assignments/{aid}", headers=headers).json()
    assert detail["reference"] is None and detail["answers_released"] is False
    assert client.get(f"{course.path}/assignments/{aid}", headers=auth("nope")).status_code == 401
