"""Mistakes users found trying the service, one test each: simultaneous creates of one id, an
empty submission, a re-import that loses an email."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models import Submission, User

from factories import together, unique


def test_simultaneous_creates_of_one_assignment_id_are_one_201_and_409s(app, engine, course) -> None:
    """On PostgreSQL 26 of 240 such requests answered 500 (a unique violation at commit)."""
    body = {"id": unique("a"), "problem_set": "conv-pool-basics"}
    responses = asyncio.run(
        together(app, [(f"{course.path}/assignments", {"json": body, "headers": course.instructor})] * 12)
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 11, [r.text for r in responses]
    assert all("already" in r.json()["detail"] for r in responses if r.status_code == 409)


def test_simultaneous_imports_of_one_new_student_make_one_account_with_one_token(app, engine, course) -> None:
    student = {"id": unique("s"), "name": "Grace Hopper", "email": "grace@example.edu"}
    request = {"json": {"members": [student]}, "headers": course.instructor}
    responses = asyncio.run(together(app, [(f"{course.path}/members", request)] * 12))
    assert [r.status_code for r in responses] == [200] * 12, [r.text for r in responses]
    replies = [r.json()["members"][0] for r in responses]
    assert sum(reply["created"] for reply in replies) == 1
    tokens = [reply["token"] for reply in replies if reply["token"] is not None]
    assert len(tokens) == 1, "the account is made once, and its token shown once"
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.id == student["id"])) == 1


def test_an_empty_submission_is_refused_and_uses_no_attempt(client, engine, course) -> None:
    aid = course.assignment(max_attempts=1)
    _, headers = course.student()
    for answers in ({}, {"ex4.conv1_params": ""}, {"ex4.conv1_params": "   ", "ex5.params": None}):
        response = course.submit(aid, headers, answers)
        assert response.status_code == 422, response.text
        assert "no answer" in str(response.json()["detail"]).lower()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Submission).where(Submission.assignment_id == aid)) == 0
    assert course.submit(aid, headers, {"ex4.conv1_params": "3640"}).status_code == 201  # the one attempt is left


def test_a_re_import_keeps_the_stored_name_and_email(client, course) -> None:
    """An import names an account; it never changes it (an account belongs to its holder)."""
    student_id = unique("s")
    first = client.post(
        f"{course.path}/members",
        json={"members": [{"id": student_id, "name": "Ada", "email": "ada@example.edu"}]},
        headers=course.instructor,
    )
    assert first.status_code == 200 and first.json()["members"][0]["token"]
    again = client.post(
        f"{course.path}/members", json={"members": [{"id": student_id, "name": "Ada L."}]}, headers=course.instructor
    )
    assert again.status_code == 200, again.text
    reply = again.json()["members"][0]
    assert (reply["name"], reply["email"], reply["created"], reply["token"]) == (
        "Ada",
        "ada@example.edu",
        False,
        None,
    )


def test_preview_says_when_no_attempt_is_left_or_nothing_is_answered(client, course) -> None:
    aid = course.assignment(max_attempts=1)
    _, headers = course.student()
    url = f"{course.path}/assignments/{aid}/preview"
    fresh = client.post(url, json={"answers": {"ex4.conv1_params": "3640"}}, headers=headers).json()
    assert (fresh["ready"], fresh["attempts_left"], fresh["obstacle"]) == (True, 1, None)
    empty = client.post(url, json={"answers": {}}, headers=headers).json()
    assert empty["ready"] is False and "No answer given" in empty["obstacle"]
    assert course.submit(aid, headers, {"ex4.conv1_params": "3640"}).status_code == 201
    used = client.post(url, json={"answers": {"ex4.conv1_params": "3640"}}, headers=headers).json()
    assert (used["ready"], used["attempts_left"]) == (False, 0)
    assert "attempts" in used["obstacle"] and "used" in used["obstacle"]
