"""A past term's submissions as references of the similarity report, on both backends: the
instructor names last term's assignment (another course of theirs) when asking; a student's copy of
a past student's code is a pair that says it is with a reference, and two past students alike are
no pair; a course the caller does not staff, or an assignment it does not hold, is a 404.

The classes (``harness/cnn_class.py``) are stored as graded submissions: the sandbox is not what
is tested here."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from harness.cnn_class import make_class
from tests.api.test_similarity import SET, _store

from factories import Course, finished_job, make_instructor
from page_client import Browser


@pytest.fixture(scope="module")
def terms(app: Any, client: Any, course: Course) -> dict[str, Any]:
    """This term's class holds a copy whose source handed it in last term, in another course of the
    same instructor; two past students handed in the same code."""
    planted = make_class(8, copies=1, chains=0, seed=5)
    ((copy, source),) = planted.copies
    past = Course(client, course.instructor["Authorization"].removeprefix("Bearer "))
    past_assignment = past.assignment(SET)
    past_students = [sid for sid, _ in past.students(3)]
    (own,) = make_class(1, copies=0, chains=0, seed=6).texts.values()  # (a past student of their own)
    for sid, text in zip(past_students, (planted.texts[source], planted.texts[source], own), strict=True):
        _store(app, past, past_assignment, sid, text)
    assignment = course.assignment(SET)
    names = [name for name in planted.texts if name != source]
    current = dict(zip(names, (sid for sid, _ in course.students(len(names))), strict=True))
    for name, sid in current.items():
        _store(app, course, assignment, sid, planted.texts[name])
    return {
        "assignment": assignment,
        "past": past,
        "past_assignment": past_assignment,
        "past_students": past_students,
        "copy": current[copy],
    }


def test_a_copy_of_last_terms_code_is_a_pair_with_its_reference(
    app: Any, course: Course, terms: dict[str, Any]
) -> None:
    path = f"{course.path}/assignments/{terms['assignment']}/similarity"
    reference = {"course": terms["past"].id, "assignment": terms["past_assignment"]}
    started = course.client.post(path, json={"references": [reference]}, headers=course.instructor)
    assert started.status_code == 202, started.text
    assert finished_job(course.client, started.json()["job"], course.instructor)["status"] == "done"
    report = course.client.get(path, headers=course.instructor).json()
    names = [f"{terms['past'].id}/{terms['past_assignment']}/{sid}" for sid in terms["past_students"]]
    assert report["references"] == [reference] and report["students"] == 7
    best = report["pairs"][0]
    assert set(best["students"]) in ({terms["copy"], names[0]}, {terms["copy"], names[1]})
    assert best["score"] > 0.85 and best["blocks"] and best["reference"] in names[:2]
    assert all(not set(pair["students"]) <= set(names) for pair in report["pairs"])  # (never two references)
    assert all(pair["reference"] is None for pair in report["pairs"] if not set(pair["students"]) & set(names))
    assert all(pair["reference"] for pair in report["pairs"] if set(pair["students"]) & set(names))
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    side = staff.get(
        f"/courses/{course.id}/assignments/{terms['assignment']}/similarity/compare",
        params={"first": best["students"][0], "second": best["students"][1]},
    )
    assert side.status_code == 200 and side.text.count('class="match"') > 10  # (both sides' blocks)
    assert "earlier assignment" in side.text
    page = f"/courses/{course.id}/assignments/{terms['assignment']}/similarity"
    assert f'value="{reference["course"]}/{reference["assignment"]}"' in staff.get(page).text
    assert staff.post(page, {"reference": f"{reference['course']}/nope"}).status_code == 404


def test_a_course_not_staffed_is_not_a_reference(
    client: Any, engine: Engine, course: Course, terms: dict[str, Any]
) -> None:
    path = f"{course.path}/assignments/{terms['assignment']}/similarity"
    other = Course(client, make_instructor(engine))
    elsewhere = other.assignment(SET)
    for reference in (
        {"course": other.id, "assignment": elsewhere},  # (another instructor's course)
        {"course": terms["past"].id, "assignment": "no-such-assignment"},
        {"assignment": "no-such-assignment"},
    ):
        refused = course.client.post(path, json={"references": [reference]}, headers=course.instructor)
        assert refused.status_code == 404, refused.text
    itself = {"references": [{"assignment": terms["assignment"]}]}
    own = course.client.post(path, json=itself, headers=course.instructor)
    assert own.status_code == 422, own.text
    student = course.student()[1]
    assert course.client.post(path, json={"references": []}, headers=student).status_code == 404
