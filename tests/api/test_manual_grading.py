"""Written parts graded by hand, over the API on SQLite and PostgreSQL: upload, submit (pending),
queue, rubric, grade, a stale write (409), a rubric change that re-scores, regrouping, release,
regrade requests, and the totals that include manual points."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from written_course import COMPARE, SHAPE, WHY, grade, queue_of, written_course

from factories import finished_job


def test_the_whole_flow_from_pending_to_a_released_grade(client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine)
    (alice, alice_h), (bob, bob_h) = course.students(2)
    first = course.submit(aid, alice_h, {WHY: "The kernel covers 3 pixels, so W - K + 1.", SHAPE: "30x30x16"})
    assert first.status_code == 201, first.text
    graded = first.json()
    assert graded["parts"][WHY] == {**graded["parts"][WHY], "status": "pending", "score": None}
    assert (graded["score"], graded["max_score"]) == (1.0, 6.0)
    second = course.submit(aid, bob_h, {WHY: "no idea", SHAPE: "32x32x16"}).json()

    book = client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor).json()
    rows = {row["student"]: row for row in book["students"]}
    assert (rows[alice]["pending"], rows[alice]["parts"][WHY], rows[alice]["score"]) == ([WHY], None, 1.0)
    assert rows[bob]["pending"] == [WHY]  # the blank q2.compare is unanswered, not pending
    queue = queue_of(course, aid)
    assert (queue["total"], queue["graded"], queue["max_score"]) == (2, 0, 2.0)
    assert {e["student"] for e in queue["entries"]} == {alice, bob}
    items = queue["rubric"]["items"]
    assert [(i["points"], i["key"]) for i in items] == [(1.0, "1"), (1.0, "f"), (-0.5, "2")]
    assert items[1]["note"] == "W - K + 1"

    done = grade(course, graded["id"], [items[0]["id"], items[1]["id"]], comment="Well put.")
    assert done.status_code == 200, done.text
    assert done.headers["ETag"] == '"1"'
    part = done.json()
    assert (part["score"], part["status"], part["comment"]) == (2.0, "correct", "Well put.")
    assert [i["text"] for i in part["rubric"]] == ["Names the kernel's extent", "Gives the formula"]
    assert grade(course, second["id"], [], adjustment=0.25).json()["score"] == 0.25

    # staff see the grade and the total at once; the student sees pending until release
    staff_view = client.get(f"/api/v1/submissions/{graded['id']}", headers=course.instructor).json()
    assert (staff_view["score"], staff_view["parts"][WHY]["grading"]["version"]) == (3.0, 1)
    mine = client.get(f"/api/v1/submissions/{graded['id']}", headers=alice_h).json()
    assert (mine["score"], mine["parts"][WHY]["status"], mine["parts"][WHY]["score"]) == (1.0, "pending", None)
    assert "rubric" not in mine["parts"][WHY] and "grading" not in mine["parts"][WHY]
    assert queue_of(course, aid)["graded"] == 2

    released = client.post(f"{course.path}/assignments/{aid}/grading/release", headers=course.instructor)
    assert released.status_code == 200, released.text
    assert released.json()["students"] == 2
    mine = client.get(f"/api/v1/submissions/{graded['id']}", headers=alice_h).json()
    assert (mine["score"], mine["final_score"], mine["parts"][WHY]["score"]) == (3.0, 3.0, 2.0)
    assert mine["parts"][WHY]["comment"] == "Well put." and "grading" not in mine["parts"][WHY]

    book = client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor).json()
    rows = {row["student"]: row for row in book["students"]}
    assert (rows[alice]["score"], rows[alice]["parts"][WHY]) == (3.0, 2.0)
    assert rows[bob]["parts"][COMPARE] == 0.0  # unanswered
    assert rows[alice]["pending"] == [] and rows[bob]["score"] == 0.25
    csv = client.get(f"{course.path}/assignments/{aid}/gradebook?format=csv", headers=course.instructor).text
    assert f"{alice}," in csv and ",3,6," in csv  # the total counted includes the manual points
    stats = client.get(f"{course.path}/assignments/{aid}/stats", headers=course.instructor).json()
    assert stats["keys"][WHY]["rubric_items"] == {"Names the kernel's extent": 1, "Gives the formula": 1}
    assert stats["keys"][WHY]["statuses"] == {"correct": 1, "partial": 1}


def test_two_graders_never_overwrite_each_other_unseen(client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine)
    ((_, headers),) = course.students(1)
    submission = course.submit(aid, headers, {WHY: "Because of the kernel."}).json()["id"]
    items = [item["id"] for item in queue_of(course, aid)["rubric"]["items"]]
    assert grade(course, submission, [items[0]]).status_code == 200  # version 1
    stale = grade(course, submission, [items[1]])  # no If-Match: would overwrite version 1
    assert stale.status_code == 409 and "version 1" in stale.json()["detail"]
    assert grade(course, submission, [items[1]], version=1).status_code == 200  # version 2
    late = grade(course, submission, [], version=1)  # the second grader read version 1
    assert late.status_code == 409, late.text
    assert grade(course, submission, [items[0]], version=0).status_code == 409
    bad = grade(course, submission, [items[0]], version=None, key=WHY)
    assert bad.status_code == 409
    assert grade(course, submission, [999_999], version=2).status_code == 422
    entry = queue_of(course, aid)["entries"][0]
    assert (entry["grading"]["version"], entry["grading"]["items"]) == (2, [items[1]])


def test_changing_an_items_points_rescores_every_grading_that_applied_it(client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine)
    students = course.students(3)
    ids = [course.submit(aid, h, {WHY: f"Answer {n}"}).json()["id"] for n, (_, h) in enumerate(students)]
    rubric = queue_of(course, aid)["rubric"]["items"]
    first, second, third = (item["id"] for item in rubric)
    grade(course, ids[0], [first])
    grade(course, ids[1], [first, second])
    grade(course, ids[2], [second])
    url = f"{course.path}/assignments/{aid}/rubrics/{WHY}"
    changed = [
        {"id": first, "points": 0.5, "text": "Names the kernel's extent"},
        {"id": third, "points": -0.5, "text": "Confuses stride and padding"},
        {"points": 0.25, "text": "Draws a picture", "key": "p"},
    ]  # the second item is removed
    response = client.put(url, json={"items": changed}, headers=course.instructor)
    assert response.status_code == 200, response.text
    assert [i["text"] for i in response.json()["items"]] == [c["text"] for c in changed]
    scores = {e["submission"]: e["grading"] for e in queue_of(course, aid)["entries"]}
    assert [scores[i]["score"] for i in ids] == [0.5, 0.5, 0.0]
    assert [scores[i]["version"] for i in ids] == [2, 2, 2]
    history = client.get(f"/api/v1/submissions/{ids[1]}/parts/{WHY}/grading", headers=course.instructor).json()
    assert [(e["version"], e["reason"], e["score"]) for e in history["history"]] == [
        (1, "graded", 2.0),
        (2, "rubric changed", 0.5),
    ]
    assert history["history"][0]["graded_by"] is not None and history["history"][1]["graded_by"] is None
    assert [i["points"] for i in history["history"][0]["items"]] == [1.0, 1.0]  # as they were then
    assert history["grading"]["version"] == 2
    totals = {i: client.get(f"/api/v1/submissions/{i}", headers=course.instructor).json()["score"] for i in ids}
    assert [totals[i] for i in ids] == [0.5, 0.5, 0.0]
    assert client.get(url, headers=course.instructor).json() == response.json()
    # a TA grades but does not change the rubric
    _, ta = course.member("ta")
    assert client.put(url, json={"items": changed}, headers=ta).status_code == 403
    assert client.get(url, headers=ta).status_code == 200
    unknown = client.put(url, json={"items": [{"id": 123456, "points": 1, "text": "x"}]}, headers=course.instructor)
    assert unknown.status_code == 422


def test_a_regrade_keeps_the_grades_by_hand(client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine)
    ((_, headers),) = course.students(1)
    submission = course.submit(aid, headers, {WHY: "kernel", SHAPE: "30x30x16"}).json()["id"]
    item = queue_of(course, aid)["rubric"]["items"][0]["id"]
    assert grade(course, submission, [item]).status_code == 200
    job = client.post(f"{course.path}/assignments/{aid}/regrade", headers=course.instructor)
    assert job.status_code == 202, job.text
    assert finished_job(client, job.json()["job"], course.instructor)["status"] == "done"
    after = client.get(f"/api/v1/submissions/{submission}", headers=course.instructor).json()
    assert (after["score"], after["parts"][WHY]["score"], after["parts"][WHY]["status"]) == (2.0, 1.0, "partial")


def test_groups_are_suggested_then_confirmed_split_and_moved(client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine)
    answers = [
        "Fewer multiplications.",
        "fewer multiplications",
        "Fewer multiplication.",
        "It mixes channels without looking at neighbours.",
        "",
    ]
    students = course.students(len(answers))
    ids = [
        course.submit(aid, h, {WHY: a, SHAPE: "1"}).json()["id"] for a, (_, h) in zip(answers, students, strict=True)
    ]
    queue = queue_of(course, aid)
    group_of = {entry["submission"]: entry["group"] for entry in queue["entries"]}
    assert group_of[ids[0]] == group_of[ids[1]] == group_of[ids[2]] != group_of[ids[3]]
    assert group_of[ids[4]] != group_of[ids[0]]  # the blank one
    url = f"{course.path}/assignments/{aid}/grading/{WHY}/groups"
    moved = client.put(url, json={"groups": [[ids[0], ids[1]], [ids[2], ids[3]]]}, headers=course.instructor)
    assert moved.status_code == 200, moved.text
    confirmed = [g for g in moved.json()["groups"] if g["how"] == "confirmed"]
    assert [g["members"] for g in confirmed] == [sorted([ids[0], ids[1]]), sorted([ids[2], ids[3]])]
    twice = client.put(url, json={"groups": [[ids[0]], [ids[0]]]}, headers=course.instructor)
    assert twice.status_code == 422
    stranger = client.put(url, json={"groups": [[10**9]]}, headers=course.instructor)
    assert stranger.status_code == 422


def test_a_regrade_request_after_release_reaches_the_queue_and_is_answered(client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine)
    (student, headers), (_, other) = course.students(2)
    submission = course.submit(aid, headers, {WHY: "kernel"}).json()["id"]
    url = f"/api/v1/submissions/{submission}/parts/{WHY}/regrade-request"
    assert client.post(url, json={"message": "Please look again."}, headers=headers).status_code == 409  # not graded
    grade(course, submission, [])
    assert client.post(url, json={"message": "Please look again."}, headers=headers).status_code == 409  # unreleased
    client.post(f"{course.path}/assignments/{aid}/grading/release", headers=course.instructor)
    assert client.post(url, json={"message": "  "}, headers=headers).status_code == 422
    assert client.post(url, json={"message": "Not mine"}, headers=other).status_code == 403
    asked = client.post(url, json={"message": "I named the kernel's extent."}, headers=headers)
    assert asked.status_code == 201, asked.text
    assert client.post(url, json={"message": "Again"}, headers=headers).status_code == 409  # one open at a time
    entry = next(e for e in queue_of(course, aid)["entries"] if e["student"] == student)
    assert entry["regrade_requests"][0]["message"] == "I named the kernel's extent."
    assert client.post(url + "/reply", json={"reply": "Agreed"}, headers=headers).status_code == 403
    replied = client.post(url + "/reply", json={"reply": "Agreed, see the new grade."}, headers=course.instructor)
    assert replied.status_code == 200 and replied.json()["reply"] == "Agreed, see the new grade."


def test_a_dropped_student_files_no_regrade_request(client: TestClient, engine: Any) -> None:
    """Their work stays readable for the record, but nobody on the course would see the request."""
    course, aid = written_course(client, engine)
    ((student, headers),) = course.students(1)
    submission = course.submit(aid, headers, {WHY: "kernel"}).json()["id"]
    grade(course, submission, [])
    client.post(f"{course.path}/assignments/{aid}/grading/release", headers=course.instructor)
    assert client.delete(f"{course.path}/members/{student}", headers=course.instructor).status_code == 204
    assert client.get(f"/api/v1/submissions/{submission}", headers=headers).status_code == 200
    url = f"/api/v1/submissions/{submission}/parts/{WHY}/regrade-request"
    refused = client.post(url, json={"message": "Please look again."}, headers=headers)
    assert refused.status_code == 403 and "no longer a member" in refused.json()["detail"]
    assert all(not e["regrade_requests"] for e in queue_of(course, aid)["entries"])


@pytest.mark.parametrize(
    ("method", "path", "who", "status"),
    [
        ("get", "/grading/q1.why", "student", 403),
        ("get", "/grading/q1.why", "ta", 200),
        ("get", "/grading/q1.shape", "ta", 404),  # computed: graded by the service
        ("get", "/grading/q9.nope", "ta", 404),
        ("get", "/rubrics/q1.why", "student", 403),
        ("post", "/grading/release", "ta", 403),
        ("post", "/grading/release", "student", 403),
        ("post", "/grading/release", "instructor", 200),
    ],
)
def test_who_may_grade(client: TestClient, engine: Any, method: str, path: str, who: str, status: int) -> None:
    course, aid = written_course(client, engine)
    headers = course.instructor if who == "instructor" else course.member(who)[1]
    response = getattr(client, method)(f"{course.path}/assignments/{aid}{path}", headers=headers)
    assert response.status_code == status, response.text


def test_students_cannot_grade_even_their_own_answer(client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine)
    ((_, headers),) = course.students(1)
    submission = course.submit(aid, headers, {WHY: "kernel"}).json()["id"]
    own = client.put(f"/api/v1/submissions/{submission}/parts/{WHY}/grading", json={"items": []}, headers=headers)
    assert own.status_code == 403


async def _put_together(app: Any, url: str, requests: list[dict[str, Any]]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as client:
        return await asyncio.gather(*(client.put(url, **request) for request in requests))


def test_graders_racing_on_one_answer_make_one_grading_and_the_rest_409(
    app: Any, client: TestClient, engine: Any
) -> None:
    course, aid = written_course(client, engine)
    ((_, headers),) = course.students(1)
    submission = course.submit(aid, headers, {WHY: "Because of the kernel."}).json()["id"]
    items = [item["id"] for item in queue_of(course, aid)["rubric"]["items"]]
    url = f"/api/v1/submissions/{submission}/parts/{WHY}/grading"
    requests = [{"json": {"items": [items[n % 2]]}, "headers": course.instructor} for n in range(8)]
    responses = asyncio.run(_put_together(app, url, requests))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 7, [r.text for r in responses]
    # and once graded, writers naming version 1 race: one makes version 2
    requests = [{**request, "headers": {**course.instructor, "If-Match": '"1"'}} for request in requests]
    responses = asyncio.run(_put_together(app, url, requests))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 7
    entry = queue_of(course, aid)["entries"][0]
    assert entry["grading"]["version"] == 2
    history = client.get(f"/api/v1/submissions/{submission}", headers=course.instructor).json()
    assert history["parts"][WHY]["grading"]["version"] == 2


def test_the_late_penalty_applies_to_the_whole_score_manual_points_included(client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine, due_at="2020-01-01T00:00:00Z", late_penalty={"factor": 0.5})
    ((student, headers),) = course.students(1)
    submission = course.submit(aid, headers, {WHY: "kernel", SHAPE: "30x30x16"}).json()["id"]
    items = [item["id"] for item in queue_of(course, aid)["rubric"]["items"][:2]]
    assert grade(course, submission, items).status_code == 200
    client.post(f"{course.path}/assignments/{aid}/grading/release", headers=course.instructor)
    mine = client.get(f"/api/v1/submissions/{submission}", headers=headers).json()
    assert (mine["late"], mine["score"], mine["final_score"]) == (True, 3.0, 1.5)
    book = client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor).json()
    (row,) = [row for row in book["students"] if row["student"] == student]
    assert (row["raw_score"], row["score"]) == (3.0, 1.5)
