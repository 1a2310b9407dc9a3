"""An assignment's ``feedback`` through the REST API, on both databases: set on create and
``PATCH`` (an unknown level is a 422 naming the allowed ones), and what a student reads of an
attempt before the answers are released to them in every reply that carries one (the submission's
201, the list of their submissions, ``GET /submissions/{id}`` with ``?wait``), while staff read
everything, and everything once the answers are released."""

from __future__ import annotations

import json
from typing import Any

import pytest
from choice_course import MOST, POOLING, choice_course, letters_of
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from written_course import COMPARE, SHAPE, WHY, grade, queue_of, written_course

from api.kit.db import writer
from api.models import EarlierGrade, Submission

from factories import Course
from page_client import Browser

WRONG_KEY, RIGHT_KEY = "ex4.conv1_params", "ex3.max"  # conv-pool-basics, a fixed set
WRONG = "3600"  # 3·3·10·40, the biases left out: bias-omitted
#: What the wrong part's full feedback says (the named mistake, its explanation, the step).
HIDDEN = ("bias-omitted", "biases are missing", "worked solution")
LEVELS = ("full", "correctness", "score", "none")


def _submit(course: Course, headers: dict[str, str], feedback: str) -> tuple[str, dict[str, Any]]:
    aid = course.assignment(feedback=feedback, release_answers="never")
    right = course.reference(aid)[RIGHT_KEY]
    sent = course.submit(aid, headers, {WRONG_KEY: WRONG, RIGHT_KEY: right})
    assert sent.status_code == 201, sent.text
    return aid, sent.json()


def _replies(client: TestClient, course: Course, aid: str, headers: dict[str, str], first: dict) -> list[dict]:
    """Every REST reply carrying the student's attempt, as the student reads it."""
    (listed,) = client.get(f"{course.path}/assignments/{aid}/submissions", headers=headers).json()
    one = client.get(f"/api/v1/submissions/{first['id']}", headers=headers).json()
    waited = client.get(f"/api/v1/submissions/{first['id']}?wait=1", headers=headers).json()
    return [first, listed, one, waited]


def _assert_full(reply: dict) -> None:
    wrong, right = reply["parts"][WRONG_KEY], reply["parts"][RIGHT_KEY]
    assert reply["feedback"] == "full" and reply["score"] == 1.0 and reply["final_score"] == 1.0
    assert (wrong["status"], wrong["score"], wrong["misconception"]) == ("incorrect", 0.0, "bias-omitted")
    assert "biases are missing" in wrong["feedback"]
    assert (right["status"], right["score"]) == ("correct", 1.0)


def _assert_held(reply: dict, level: str) -> None:
    wrong, right = reply["parts"][WRONG_KEY], reply["parts"][RIGHT_KEY]
    text = json.dumps(reply)
    assert not [words for words in HIDDEN if words in text], level
    assert reply["feedback"] == level and reply["submitted_at"]
    assert reply["reference"] is None and "solution" not in wrong
    assert {WRONG_KEY, RIGHT_KEY} <= set(reply["parts"])  # every part listed
    if level == "correctness":
        assert (wrong["status"], wrong["score"], wrong["feedback"], wrong["misconception"]) == (
            "incorrect",
            0.0,
            "Not correct.",
            None,
        )
        assert (right["status"], right["score"], right["feedback"]) == ("correct", 1.0, "Correct.")
        assert reply["score"] == 1.0
    else:
        for part in (wrong, right):
            assert (part["status"], part["score"], part["feedback"], part["misconception"]) == (None, None, "", None)
            assert part["max_score"] == 1.0
        if level == "score":
            assert (reply["score"], reply["final_score"]) == (1.0, 1.0)
        else:
            assert (reply["score"], reply["final_score"]) == (None, None)


@pytest.mark.parametrize("level", LEVELS)
def test_each_level_holds_through_every_reply_until_the_answers_are_released(
    client: TestClient, course: Course, level: str
) -> None:
    _, headers = course.student()
    aid, first = _submit(course, headers, level)
    for reply in _replies(client, course, aid, headers, first):
        if level == "full":
            _assert_full(reply)
        else:
            _assert_held(reply, level)
    # staff read everything, whatever the level
    (staff_view,) = client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor).json()
    _assert_full(staff_view)
    _assert_full(client.get(f"/api/v1/submissions/{first['id']}", headers=course.instructor).json())
    # released answers (immediately included) show everything
    changed = client.patch(
        f"{course.path}/assignments/{aid}", json={"release_answers": "immediately"}, headers=course.instructor
    )
    assert changed.status_code == 200, changed.text
    for reply in _replies(client, course, aid, headers, first)[1:]:
        _assert_full(reply)
        assert reply["reference"] is not None and reply["parts"][WRONG_KEY]["solution"]


def test_feedback_is_set_on_create_and_patch_and_read_back(client: TestClient, course: Course) -> None:
    made = course.assignment()
    path = f"{course.path}/assignments/{made}"
    assert client.get(path, headers=course.instructor).json()["feedback"] == "full"  # the default
    held = course.assignment(feedback="correctness")
    assert client.get(f"{course.path}/assignments/{held}", headers=course.instructor).json()["feedback"] == (
        "correctness"
    )
    changed = client.patch(path, json={"feedback": "none"}, headers=course.instructor)
    assert changed.status_code == 200 and changed.json()["feedback"] == "none"
    listed = {a["id"]: a for a in client.get(f"{course.path}/assignments", headers=course.instructor).json()}
    assert listed[made]["feedback"] == "none"
    _, headers = course.student()
    assert client.get(path, headers=headers).json()["feedback"] == "none"  # students may know the rule


@pytest.mark.parametrize("sent", ["partial", "", 3, None, "FULL"])
def test_an_unknown_level_is_refused_with_the_allowed_ones_named(client: TestClient, course: Course, sent) -> None:
    made = client.post(
        f"{course.path}/assignments",
        json={"id": "fb-refused", "problem_set": "conv-pool-basics", "feedback": sent},
        headers=course.instructor,
    )
    assert made.status_code == 422, made.text
    named = json.dumps(made.json()["detail"])
    assert all(level in named for level in ("full", "correctness", "score", "none")) or sent is None
    assert client.get(f"{course.path}/assignments/fb-refused", headers=course.instructor).status_code == 404
    aid = course.assignment()
    changed = client.patch(f"{course.path}/assignments/{aid}", json={"feedback": sent}, headers=course.instructor)
    assert changed.status_code == 422 and changed.json()["detail"]
    assert client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["feedback"] == "full"


def test_earlier_grades_are_held_back_alike(client: TestClient, course: Course, engine: Engine) -> None:
    """A grade a regrade replaced is kept with the submission: the student reads it under the same level."""
    _, headers = course.student()
    _, first = _submit(course, headers, "none")
    with Session(writer(engine)) as session, session.begin():
        stored = session.get(Submission, first["id"])
        assert stored is not None
        session.add(
            EarlierGrade(
                submission_id=stored.id,
                parts=stored.parts,
                score=stored.score,
                max_score=stored.max_score,
                set_version=stored.set_version,
                graded_at=stored.graded_at,
            )
        )
    (staff_earlier,) = client.get(f"/api/v1/submissions/{first['id']}", headers=course.instructor).json()[
        "earlier_grades"
    ]
    assert staff_earlier["score"] == 1.0 and staff_earlier["parts"][WRONG_KEY]["misconception"] == "bias-omitted"
    mine = client.get(f"/api/v1/submissions/{first['id']}", headers=headers).json()
    (earlier,) = mine["earlier_grades"]
    assert earlier["score"] is None and {part["status"] for part in earlier["parts"].values()} == {None}
    assert not [words for words in HIDDEN if words in json.dumps(mine)]


@pytest.mark.parametrize("level", ["correctness", "score"])
def test_a_wrong_options_named_mistake_and_feedback_are_held_back(
    client: TestClient, engine: Engine, level: str
) -> None:
    """A choice part's wrong option names its mistake like any other part: held back alike, on the
    REST reply and on the page."""
    course, aid = choice_course(client, engine, feedback=level, release_answers="never")
    _, headers = course.student()
    detail = client.get(f"{course.path}/assignments/{aid}", headers=headers).json()
    sent = course.submit(aid, headers, {MOST: letters_of(detail, MOST)[POOLING]})  # pooling-has-weights
    assert sent.status_code == 201, sent.text
    staff = client.get(f"/api/v1/submissions/{sent.json()['id']}", headers=course.instructor).json()
    assert staff["parts"][MOST]["misconception"] == "pooling-has-weights"
    page = Browser(client.app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    shown = page.get(f"/courses/{course.id}/assignments/{aid}").text
    for text in (sent.text, shown):
        assert "pooling-has-weights" not in text and "Pooling has no weights." not in text
    part = sent.json()["parts"][MOST]
    assert (part["status"], part["feedback"]) == (
        ("incorrect", "Not correct.") if level == "correctness" else (None, "")
    )


def test_a_grade_by_hand_shows_its_score_but_not_its_rubric_or_comment_under_correctness(
    client: TestClient, engine: Engine
) -> None:
    """The rubric items applied and the grader's comment are feedback: once the grade by hand is
    released, ``correctness`` shows its status and score alone (and no regrade form, which quotes them)."""
    course, aid = written_course(client, engine, feedback="correctness", release_answers="never")
    _, headers = course.student()
    answers = {WHY: "The kernel's extent", SHAPE: "30x30x16", COMPARE: "Both add."}
    submitted = course.submit(aid, headers, answers).json()["id"]
    items = [item["id"] for item in queue_of(course, aid)["rubric"]["items"][:1]]
    comment = "Say which sizes the kernel spans."
    assert grade(course, submitted, items, comment=comment).status_code == 200
    released = client.post(f"{course.path}/assignments/{aid}/grading/release?force=true", headers=course.instructor)
    assert released.status_code == 200, released.text
    staff = client.get(f"/api/v1/submissions/{submitted}", headers=course.instructor).json()["parts"][WHY]
    assert staff["comment"] == comment and staff["rubric"]
    mine = client.get(f"/api/v1/submissions/{submitted}", headers=headers).json()["parts"][WHY]
    assert mine["status"] == staff["status"] and mine["score"] == staff["score"] and mine["score"] is not None
    assert "rubric" not in mine and "comment" not in mine
    assert mine["feedback"] in ("Correct.", "Not correct.")
    page = Browser(client.app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    shown = page.get(f"/courses/{course.id}/assignments/{aid}").text
    assert comment not in shown and staff["rubric"][0]["text"] not in shown
    # no regrade of the written part, whose grade is held back (a computed part, shown right or not, takes one)
    assert f'name="key" value="{WHY}"' not in shown and f'name="key" value="{SHAPE}"' in shown
