"""Worked solutions go with the reference answers: under the same rule (a student's own terms,
extension included), in every REST reply that carries a graded part and on the assignment page,
typeset; staff always see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from factories import Course, make_instructor
from page_client import Browser

KEY = "ex4.conv1_params"
ANSWER = {KEY: "3640"}  # conv-pool-basics: 3·3·10·40 + 40


def _solutions(client, headers: dict[str, str], course: Course, aid: str, reply: dict) -> list[object]:
    """The solution of KEY in the submitting reply, the list and the single submission (None: absent)."""
    mine = client.get(f"{course.path}/assignments/{aid}/submissions", headers=headers).json()
    one = client.get(f"/api/v1/submissions/{mine[0]['id']}", headers=headers).json()
    return [found["parts"][KEY].get("solution") for found in (reply, mine[0], one)]


@pytest.mark.parametrize(
    ("release", "due_in_days", "extension_in_days", "shown"),
    [
        ("never", -1, None, False),
        ("after_close", 1, None, False),  # not yet closed (a day after the due date)
        ("after_close", -2, None, True),  # closed
        ("after_close", -2, 2, False),  # closed, but not for this student: their extension has not passed
        ("after_close", -3, -0.5, True),  # the extension has passed too
        ("immediately", 1, None, True),
    ],
)
def test_solutions_follow_the_release_of_references(
    app, client, engine, release, due_in_days, extension_in_days, shown
) -> None:
    course = Course(client, make_instructor(engine))
    now = datetime.now(UTC)
    aid = course.assignment(release_answers=release)
    (student, headers) = course.student()
    submitted = course.submit(aid, headers, ANSWER)  # (while open: the dates are set after it)
    assert submitted.status_code == 201
    due = now + timedelta(days=due_in_days)
    terms = {"due_at": due.isoformat(), "closes_at": (due + timedelta(days=1)).isoformat()}
    assert client.patch(f"{course.path}/assignments/{aid}", json=terms, headers=course.instructor).status_code == 200
    if extension_in_days is not None:
        extension = {"due_at": (now + timedelta(days=extension_in_days)).isoformat()}
        granted = client.put(
            f"{course.path}/assignments/{aid}/extensions/{student}", json=extension, headers=course.instructor
        )
        assert granted.status_code == 200, granted.text
    found = _solutions(client, headers, course, aid, submitted.json())
    if release == "after_close":
        found = found[1:]  # (the reply to the submission came before the dates were set)
    if not shown:
        assert found == [None] * len(found)
    else:
        reference = client.get(f"/api/v1/submissions/{submitted.json()['id']}", headers=headers).json()["reference"]
        for steps in found:
            assert isinstance(steps, list) and steps
            assert steps[-1]["value"] == reference[KEY] == 3640
            assert steps[-1]["text"] == "parameters = C_out·C_in·K·K + C_out = 40·10·3·3 + 40 = 3,640"
            assert steps[-1]["tex"].startswith(r"\text{parameters} = C_{out} \cdot C_{in}")
    page = (
        Browser(app)
        .signed_in(headers["Authorization"].removeprefix("Bearer "))
        .get(f"/courses/{course.id}/assignments/{aid}")
    )
    assert page.status_code == 200
    assert ("Worked solution" in page.text) is shown
    assert ('data-tex="\\text{parameters} = C_{out}' in page.text) is shown
    # staff see the solutions whatever the terms
    listed = client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor).json()
    assert all(s["parts"][KEY]["solution"][-1]["value"] == 3640 for s in listed)
