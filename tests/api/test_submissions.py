"""Submitting: graded on arrival, stored for audit, attempts, idempotency, unreadable answers, preview."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assignments.service import reference_answers
from api.models import Submission
from api.submissions import views
from api.submissions.views import RELEASED_KEPT
from problems.variants import variant_key

from factories import counted, engines_of

RIGHT = {"ex4.conv1_params": "3640", "ex3.max": "[[9, 7], [8, 6]]"}
BIAS_OMITTED = {"ex4.conv1_params": "3600"}


def test_a_submission_is_graded_and_stored_with_everything_needed_to_audit_it(client, course, engine) -> None:
    aid = course.assignment()
    student, headers = course.student()
    answers = {**RIGHT, "ex5.params": 1810, "ex1.output": ""}
    response = course.submit(aid, headers, answers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["assignment"], body["student"], body["attempt"], body["late"]) == (aid, student, 1, False)
    assert body["score"] == 3 and body["max_score"] == 9
    parts = body["parts"]
    assert parts["ex4.conv1_params"]["status"] == "correct"
    assert parts["ex1.output"]["status"] == "unanswered"
    assert set(parts["ex3.max"]) >= {"score", "max_score", "status", "feedback", "misconception", "read_as"}
    assert body["answers"] == answers
    assert body["reference"] is None and body["earlier_grades"] == []
    with Session(engine) as session:
        row = session.get(Submission, body["id"])
        assert row.answers == answers and row.parts == parts
        assert row.set_version == course_set_version(client, course, aid)
        assert row.variant is None  # conv-pool-basics is not randomized
        assert row.submitted_at.tzinfo is not None


def course_set_version(client, course, aid: str) -> str:
    return client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["set_version"]


def test_a_submission_costs_two_statements_as_the_floor_does(client, course) -> None:
    """The submit path's round trips: the caller (with their course, assignment and whether they
    came from an LMS) in one statement, the stored attempt in another; nothing else."""
    assignment = course.assignment()
    _, headers = course.student()
    with counted(*engines_of(client.app)) as statements:
        assert course.submit(assignment, headers, {"ex4.conv1_params": "3640"}).status_code == 201
    sent = [s.split()[0].upper() for s in statements if s.split()[0].upper() not in ("BEGIN", "COMMIT")]
    assert sent == ["SELECT", "INSERT"], statements


def test_a_randomized_set_is_graded_against_the_students_variant(client, course) -> None:
    aid = course.assignment("conv-arithmetic")
    (first, first_headers), (second, second_headers) = course.students(2)
    reference, theirs_reference = course.reference(aid, first), course.reference(aid, second)
    # a key whose answer differs between the two variants (some keys coincide for some pairs)
    key = next(k for k, v in reference.items() if isinstance(v, int | float) and v != theirs_reference[k])
    mine = course.submit(aid, first_headers, {key: reference[key]}).json()
    secret = client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["variant_secret"]
    assert mine["parts"][key]["status"] == "correct"
    assert mine["variant"] == variant_key(student=first, secret=secret)  # the variant it was graded on
    theirs = course.submit(aid, second_headers, {key: reference[key]}).json()
    assert theirs["parts"][key]["status"] != "correct"


def test_mistakes_are_named(client, course) -> None:
    aid = course.assignment()
    _, headers = course.student()
    part = course.submit(aid, headers, BIAS_OMITTED).json()["parts"]["ex4.conv1_params"]
    assert (part["status"], part["misconception"]) == ("incorrect", "bias-omitted")


def test_unreadable_answers_are_refused_without_using_an_attempt(client, course) -> None:
    aid = course.assignment(max_attempts=1)
    _, headers = course.student()
    response = course.submit(aid, headers, {**RIGHT, "ex4.params": "ten or eleven thousand"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert list(detail["unreadable"]) == ["ex4.params"] and detail["unreadable"]["ex4.params"]
    assert detail["parts"]["ex4.conv1_params"]["read_as"].replace(",", "") == "3640"
    assert client.get(f"{course.path}/assignments/{aid}/submissions", headers=headers).json() == []
    # the one attempt is still there
    assert course.submit(aid, headers, RIGHT).status_code == 201


def test_unknown_keys_are_refused_and_named(client, course) -> None:
    aid = course.assignment()
    _, headers = course.student()
    response = course.submit(aid, headers, {**RIGHT, "ex9.nothing": "1"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["unknown_keys"] == ["ex9.nothing"] and "ex4.params" in detail["known_keys"]


def test_an_answer_that_was_read_but_could_not_be_graded_is_stored_as_invalid(client, course, monkeypatch) -> None:
    """Only unreadable answers are refused; a grading failure is the service's, not the student's."""
    import grader.engine

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug in a comparison")

    monkeypatch.setattr(grader.engine, "compare", broken)
    aid = course.assignment()
    _, headers = course.student()
    response = course.submit(aid, headers, {"ex4.conv1_params": "3641"})  # an answer no other test grades
    assert response.status_code == 201, response.text
    part = response.json()["parts"]["ex4.conv1_params"]
    assert part["status"] == "invalid" and "could not be graded" in part["feedback"]


def test_preview_reads_without_grading_or_storing(client, course) -> None:
    aid = course.assignment(max_attempts=1)
    _, headers = course.student()
    answers = {"ex4.conv1_params": "3,640", "ex4.params": "1O860", "ex0.x": "1"}
    response = client.post(f"{course.path}/assignments/{aid}/preview", json={"answers": answers}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    read = body["parts"]["ex4.conv1_params"]
    assert (read["readable"], read["read_as"].replace(",", ""), read["reason"], read["answered"]) == (
        True,
        "3640",
        None,
        True,
    )
    assert body["parts"]["ex4.params"]["readable"] is False and body["parts"]["ex4.params"]["reason"]
    assert body["parts"]["ex5.params"]["answered"] is False
    assert (body["unreadable"], body["unknown_keys"], body["ready"]) == (["ex4.params"], ["ex0.x"], False)
    assert "score" not in body
    assert client.get(f"{course.path}/assignments/{aid}/submissions", headers=headers).json() == []
    assert course.submit(aid, headers, RIGHT).status_code == 201


def test_the_attempt_limit_gives_409(client, course) -> None:
    aid = course.assignment(max_attempts=2)
    _, headers = course.student()
    assert [course.submit(aid, headers, RIGHT).status_code for _ in range(3)] == [201, 201, 409]
    _, other = course.student()
    assert course.submit(aid, other, RIGHT).json()["attempt"] == 1  # limits are per student


def test_late_submissions_are_accepted_and_marked(client, course) -> None:
    aid = course.assignment(due_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat())
    _, headers = course.student()
    response = course.submit(aid, headers, RIGHT)
    assert response.status_code == 201 and response.json()["late"] is True


def test_idempotency_key_replays_the_first_result(client, course, engine) -> None:
    aid = course.assignment()
    _, headers = course.student()
    first = course.submit(aid, headers, RIGHT, **{"Idempotency-Key": "retry-1"})
    again = course.submit(aid, headers, RIGHT, **{"Idempotency-Key": "retry-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = course.submit(aid, headers, BIAS_OMITTED, **{"Idempotency-Key": "retry-1"})
    assert changed.status_code == 422 and "Idempotency-Key" in changed.json()["detail"]
    other_key = course.submit(aid, headers, RIGHT, **{"Idempotency-Key": "retry-2"})
    assert other_key.json()["attempt"] == 2
    no_key = course.submit(aid, headers, RIGHT)
    assert no_key.json()["attempt"] == 3
    with Session(engine) as session:
        stored = session.execute(
            select(Submission.attempt, Submission.request_hash).where(Submission.assignment_id == aid)
        ).all()
    hashes = {attempt: request_hash for attempt, request_hash in stored}
    # the request's fingerprint, kept only where a retry may be compared with it (a key was sent)
    canonical = json.dumps(
        {"course": course.id, "assignment": aid, "answers": RIGHT}, sort_keys=True, separators=(",", ":")
    )
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    assert hashes == {1: expected, 2: expected, 3: None}


def test_the_same_key_for_two_students_is_two_submissions(client, course) -> None:
    aid = course.assignment()
    (_, first), (_, second) = course.students(2)
    a = course.submit(aid, first, RIGHT, **{"Idempotency-Key": "same"}).json()
    b = course.submit(aid, second, RIGHT, **{"Idempotency-Key": "same"}).json()
    assert a["id"] != b["id"]


def test_listing_and_reading_submissions(client, course) -> None:
    aid = course.assignment()
    (first, first_headers), (_, second_headers) = course.students(2)
    mine = course.submit(aid, first_headers, RIGHT).json()
    course.submit(aid, second_headers, BIAS_OMITTED)
    own = client.get(f"{course.path}/assignments/{aid}/submissions", headers=first_headers).json()
    assert [s["id"] for s in own] == [mine["id"]]
    everyone = client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor).json()
    assert len(everyone) == 2 and all(s["reference"] for s in everyone)
    only = client.get(f"{course.path}/assignments/{aid}/submissions?student={first}", headers=course.instructor).json()
    assert [s["id"] for s in only] == [mine["id"]]
    assert client.get(f"/api/v1/submissions/{mine['id']}", headers=first_headers).json() == mine
    assert client.get(f"/api/v1/submissions/{mine['id']}", headers=second_headers).status_code == 403
    assert client.get(f"/api/v1/submissions/{mine['id']}", headers=course.instructor).json()["reference"]
    assert client.get("/api/v1/submissions/999999999", headers=course.instructor).status_code == 404


def test_the_submissions_list_pages_in_a_stable_order(client, course) -> None:
    aid = course.assignment()
    students = course.students(2)
    for _, headers in students:
        for _ in range(3):
            assert course.submit(aid, headers, RIGHT).status_code == 201
    url = f"{course.path}/assignments/{aid}/submissions"
    everything = client.get(url, headers=course.instructor).json()
    order = [(s["student"], s["attempt"]) for s in everything]
    assert len(order) == 6 and order == sorted(order)
    pages = [
        client.get(url, params={"limit": 4, "offset": offset}, headers=course.instructor).json() for offset in (0, 4, 8)
    ]
    assert [len(page) for page in pages] == [4, 2, 0]
    assert [s["id"] for page in pages for s in page] == [s["id"] for s in everything]
    own = client.get(url, params={"limit": 2, "offset": 1}, headers=students[0][1]).json()
    assert [(s["student"], s["attempt"]) for s in own] == [(students[0][0], 2), (students[0][0], 3)]
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"limit": "x"}):
        response = client.get(url, params=bad, headers=course.instructor)
        assert response.status_code == 422, bad


@pytest.mark.parametrize("kept", [RELEASED_KEPT, 1])
def test_a_staff_list_works_each_variant_out_once_while_the_process_keeps_it(client, course, monkeypatch, kept) -> None:
    """Each student's references and worked steps, solved once per process rather than on every
    list (a big class's list solved 500 variants each time); forgotten past the process's bound."""
    aid = course.assignment("conv-arithmetic")  # (randomized: a variant per student)
    students = course.students(3)
    references = {student: course.reference(aid, student) for student, _ in students}
    for _, headers in students:
        for _ in range(2):
            assert course.submit(aid, headers, {"c1.shape": "1 × 1"}).status_code == 201
    solved: list[str | None] = []

    def counting(problem_set: Any, variant: str | None) -> dict[str, Any]:
        solved.append(variant)
        return reference_answers(problem_set, variant)

    monkeypatch.setattr(views, "reference_answers", counting)
    monkeypatch.setattr(views, "_released", OrderedDict())
    monkeypatch.setattr(views, "RELEASED_KEPT", kept)
    url = f"{course.path}/assignments/{aid}/submissions"
    lists = [client.get(url, headers=course.instructor).json() for _ in range(2)]
    assert lists[0] == lists[1] and len(lists[0]) == 6
    for submission in lists[0]:
        theirs = references[submission["student"]]
        assert submission["reference"] == theirs
        assert all(part["solution"] for key, part in submission["parts"].items() if key in theirs)
    assert len(solved) == (3 if kept > 1 else 6) and len(set(solved)) == 3


#: One module answering both code parts of numpy-convolution's problem ``conv``.
CONV_MODULE = (
    "def conv_forward(x, w, b, stride=1, pad=0):\n    return x\n\n\n"
    "def conv_backward(dout, x, w, b, stride=1, pad=0):\n    return x, w, b\n"
)


def test_a_problems_module_sent_once_answers_each_of_its_code_parts(client, course) -> None:
    """A problem's code parts share one module: sent once under the problem's id, it is stored and
    queued as each part's answer; sent once per part, as before, it is taken as it is; a part given a
    module of its own beside a different one for the problem is refused, no attempt used."""
    aid = course.assignment(problem_set="numpy-convolution")
    path = f"{course.path}/assignments/{aid}"
    (_, once), (_, per_part), (_, both) = course.students(3)

    read = client.post(f"{path}/preview", json={"answers": {"conv": CONV_MODULE}}, headers=once)
    assert read.status_code == 200, read.text
    assert read.json()["unknown_keys"] == [] and read.json()["ready"]

    sent = course.submit(aid, once, {"conv": CONV_MODULE})
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["answers"] == {"conv.forward": CONV_MODULE, "conv.backward": CONV_MODULE}
    assert body["parts"]["conv.forward"]["status"] == body["parts"]["conv.backward"]["status"] == "queued"
    assert body["parts"]["pool.forward"]["status"] == "unanswered"

    sent = course.submit(aid, per_part, {"conv.forward": CONV_MODULE})
    assert sent.status_code == 201, sent.text
    assert sent.json()["answers"] == {"conv.forward": CONV_MODULE}
    assert sent.json()["parts"]["conv.backward"]["status"] == "unanswered"

    refused = course.submit(aid, both, {"conv": CONV_MODULE, "conv.backward": "def conv_backward():\n    pass\n"})
    assert refused.status_code == 422, refused.text
    assert "'conv.backward' also has a module of its own" in refused.json()["detail"]
    listed = client.get(f"{path}/submissions", headers=course.instructor).json()
    assert len(listed) == 2
