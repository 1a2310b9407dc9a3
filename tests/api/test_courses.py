"""Two courses in one service never see each other's data, even with the same assignment id and
the same student in both."""

from __future__ import annotations

import asyncio

from factories import Course, make_instructor, together, unique

RIGHT = {"ex4.conv1_params": "3640"}
WRONG = {"ex4.conv1_params": "3600"}


def test_two_courses_with_the_same_assignment_id_and_student_never_see_each_other(client, engine) -> None:
    first, second = Course(client, make_instructor(engine)), Course(client, make_instructor(engine))
    shared = unique("s")
    (a,) = first.enrol([{"id": shared, "name": "Shared"}])
    (b,) = second.enrol([{"id": shared, "name": "Shared"}])
    headers = {"Authorization": f"Bearer {a['token']}"}
    assert b["token"] is None  # one account, one token, in both courses
    for course in (first, second):
        body = {"id": "hw1", "problem_set": "conv-arithmetic", "max_attempts": 1}
        assert client.post(f"{course.path}/assignments", json=body, headers=course.instructor).status_code == 201

    # one attempt in each course: submitting in the first uses none of the second's
    mine = first.submit("hw1", headers, {})
    assert mine.status_code == 422  # (nothing answered: refused, no attempt used)
    in_first = first.submit("hw1", headers, {"c1.shape": "1x1"})
    assert in_first.status_code == 201, in_first.text
    assert first.submit("hw1", headers, {"c1.shape": "2x2"}).status_code == 409
    in_second = second.submit("hw1", headers, {"c1.shape": "3x3"})
    assert in_second.status_code == 201 and in_second.json()["attempt"] == 1
    assert (in_first.json()["course"], in_second.json()["course"]) == (first.id, second.id)

    for course, own, other in ((first, in_first, in_second), (second, in_second, in_first)):
        hw1 = f"{course.path}/assignments/hw1"
        listed = client.get(f"{hw1}/submissions", headers=course.instructor).json()
        assert [s["id"] for s in listed] == [own.json()["id"]]
        assert [s["id"] for s in client.get(f"{hw1}/submissions", headers=headers).json()] == [own.json()["id"]]
        book = client.get(f"{hw1}/gradebook", headers=course.instructor).json()
        assert [(r["student"], r["submission"]) for r in book["students"]] == [(shared, own.json()["id"])]
        assert client.get(f"{hw1}/stats", headers=course.instructor).json()["submissions"] == 1
        # the other course's submission is not there for this course's staff
        other_id = other.json()["id"]
        assert client.get(f"/api/v1/submissions/{other_id}", headers=course.instructor).status_code == 404
    # each course draws its own variants
    secrets = {
        client.get(f"{c.path}/assignments/hw1", headers=c.instructor).json()["variant_secret"] for c in (first, second)
    }
    assert len(secrets) == 2
    own_variant = client.get(f"{first.path}/assignments/hw1", headers=headers).json()["problems"]
    other_variant = client.get(f"{second.path}/assignments/hw1", headers=headers).json()["problems"]
    assert own_variant != other_variant

    # an instructor of one course finds nothing of the other, whatever they try
    for path in ("", "/assignments", "/assignments/hw1", "/assignments/hw1/gradebook", "/members"):
        assert client.get(f"{second.path}{path}", headers=first.instructor).status_code == 404, path
    grant = client.put(
        f"{second.path}/assignments/hw1/extensions/{shared}", json={"max_attempts": 5}, headers=first.instructor
    )
    assert grant.status_code == 404
    # an extension in one course changes nothing in the other
    granted = client.put(
        f"{first.path}/assignments/hw1/extensions/{shared}", json={"max_attempts": 2}, headers=first.instructor
    )
    assert granted.status_code == 200
    assert first.submit("hw1", headers, {"c1.shape": "4x4"}).status_code == 201
    assert second.submit("hw1", headers, {"c1.shape": "5x5"}).status_code == 409
    # dropped from one course, still in the other
    assert client.delete(f"{first.path}/members/{shared}", headers=first.instructor).status_code == 204
    assert client.get(f"{first.path}/assignments", headers=headers).status_code == 404
    assert client.get(f"{second.path}/assignments", headers=headers).status_code == 200
    courses = {c["id"] for c in client.get("/api/v1/courses", headers=headers).json()}
    assert first.id not in courses and second.id in courses


def test_simultaneous_creates_of_one_course_id_give_one_course(app, engine, client) -> None:
    instructor = Course(client, make_instructor(engine)).instructor
    body = {"id": unique("c"), "title": "Race"}
    responses = asyncio.run(together(app, [("/api/v1/courses", {"json": body, "headers": instructor})] * 12))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 11, [r.text for r in responses]
    mine = [c for c in client.get("/api/v1/courses", headers=instructor).json() if c["id"] == body["id"]]
    assert [c["role"] for c in mine] == ["owner"]
