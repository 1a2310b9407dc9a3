"""Choice parts through the REST API, on both databases: each student's statements list the options
in an order of their own, lettered in that order (staff see it with ``?student=ID``, by the file's
letters), a student answers with their own letters, an answer not in the part's form is refused
with the form expected (no attempt used), scores and named mistakes are stored, and the gradebook
and exports carry the parts. (How a student's letters hide the file's order:
``test_choice_letters.py``.)"""

from __future__ import annotations

from typing import Any

from choice_course import LEARN, MOST, POOLING, RIGHT, SHAPE, WHY, choice_course, letters_of, parts_of
from fastapi.testclient import TestClient


def _detail(course: Any, aid: str, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    response = course.client.get(f"{course.path}/assignments/{aid}{query}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_each_student_reads_the_options_in_their_own_stable_order(client: TestClient, engine: Any) -> None:
    course, aid = choice_course(client, engine)
    students = course.students(12)
    orders = {}
    for student, headers in students:
        most = parts_of(_detail(course, aid, headers))[MOST]
        assert (most["kind"], most["multiple"], most["points"]) == ("choice", False, 2.0)
        assert [option["id"] for option in most["choices"]] == ["a", "b", "c"]  # lettered in the order shown
        orders[student] = [option["text"] for option in most["choices"]]
        assert [o["text"] for o in parts_of(_detail(course, aid, headers))[MOST]["choices"]] == orders[student]
        learn = parts_of(_detail(course, aid, headers))[LEARN]  # shuffle: false keeps the file's order
        assert [o["id"] for o in learn["choices"]] == ["a", "b", "c"] and learn["all_or_nothing"] is True
    assert len({tuple(order) for order in orders.values()}) > 1  # drawn per student
    student, _ = students[0]
    other_headers = students[1][1]
    peeked = client.get(f"{course.path}/assignments/{aid}?student={student}", headers=other_headers)
    assert peeked.status_code == 403 and "detail" in peeked.json()  # a student never reads another's order
    staff_view = parts_of(_detail(course, aid, course.instructor, f"?student={student}"))[MOST]
    assert [o["text"] for o in staff_view["choices"]] == orders[student]  # staff see the student's order
    declared = parts_of(_detail(course, aid, course.instructor))[MOST]
    assert [o["id"] for o in declared["choices"]] == ["a", "b", "c"]  # and the file's without one
    texts = {o["id"]: o["text"] for o in declared["choices"]}
    assert texts == {"a": RIGHT, "b": POOLING, "c": "[[1, 0], [0, 1]]"}
    # staff name each option by the file's letter, in the student's order too
    assert [texts[o["id"]] for o in staff_view["choices"]] == orders[student]
    assert _detail(course, aid, course.instructor)["reference"][MOST] == "a"
    assert _detail(course, aid, course.instructor)["reference"][LEARN] == ["a", "c"]


def test_picks_are_graded_by_letter_with_the_wrong_options_mistake_named(client: TestClient, engine: Any) -> None:
    course, aid = choice_course(client, engine)
    (_, headers), (_, other) = course.students(2)
    mine, theirs = (letters_of(_detail(course, aid, h), MOST) for h in (headers, other))
    sent = course.submit(aid, headers, {SHAPE: "30x30x16", MOST: mine[POOLING], LEARN: ["c", "a"], WHY: "Kernels."})
    assert sent.status_code == 201, sent.text
    body = sent.json()
    most, learn = body["parts"][MOST], body["parts"][LEARN]
    assert (most["status"], most["score"], most["misconception"]) == ("incorrect", 0.0, "pooling-has-weights")
    assert most["feedback"] == "Pooling has no weights."
    assert (learn["status"], learn["score"], learn["read_as"]) == ("correct", 1.0, "a, c")
    assert body["score"] == 2.0 and body["max_score"] == 5.0
    partly = course.submit(aid, other, {MOST: theirs[RIGHT], LEARN: ["a"]}).json()
    assert (partly["parts"][MOST]["status"], partly["parts"][LEARN]["status"]) == ("correct", "incorrect")
    assert partly["parts"][LEARN]["score"] == 0.0  # all or nothing
    listed = client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor)
    assert listed.status_code == 200
    assert {s["answers"].get(LEARN) and tuple(s["answers"][LEARN]) for s in listed.json()} >= {("c", "a")}
    assert sorted(s["answers"][MOST] for s in listed.json()) == ["a", "b"]  # staff read the file's letters


def test_an_answer_not_in_the_parts_form_is_refused_with_the_form_expected(client: TestClient, engine: Any) -> None:
    course, aid = choice_course(client, engine)
    _, headers = course.student()
    cases = [
        ({LEARN: "a, c"}, LEARN, 'Send a list of the letters you pick, e.g. ["a", "c"]'),
        ({MOST: ["a"]}, MOST, 'Send the letter of one option, e.g. "b"'),
        ({MOST: "z"}, MOST, "“z” is not one of this part's options"),
        ({LEARN: ["a", "a"]}, LEARN, "“a” is picked twice"),
    ]
    for answers, key, reason in cases:
        refused = course.submit(aid, headers, answers)
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"]
        assert reason in detail["unreadable"][key]
    previewed = client.post(f"{course.path}/assignments/{aid}/preview", json={"answers": {MOST: "q"}}, headers=headers)
    assert (
        previewed.status_code == 200 and "not one of this part's options" in previewed.json()["parts"][MOST]["reason"]
    )
    malformed = course.submit(aid, headers, {MOST: {"id": "a"}})  # not an answer at all: the request's schema
    assert malformed.status_code == 422 and "detail" in malformed.json()
    first = course.submit(aid, headers, {MOST: "A"})
    assert first.status_code == 201 and first.json()["attempt"] == 1  # no refusal used an attempt


def test_the_gradebook_and_exports_carry_the_choice_parts(client: TestClient, engine: Any) -> None:
    course, aid = choice_course(client, engine)
    student, headers = course.student()
    right = letters_of(_detail(course, aid, headers), MOST)[RIGHT]
    assert course.submit(aid, headers, {MOST: right, LEARN: ["a", "c"]}).status_code == 201
    book = client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor)
    assert book.status_code == 200, book.text
    row = next(r for r in book.json()["students"] if r["student"] == student)
    assert row["score"] == 3.0
    exported = client.get(f"{course.path}/assignments/{aid}/gradebook?format=csv", headers=course.instructor)
    assert exported.status_code == 200, exported.text
    header, *rows = exported.text.splitlines()
    assert MOST in header and LEARN in header
    line = next(r for r in rows if student in r)
    columns = dict(zip(header.split(","), line.split(","), strict=False))
    assert (columns[MOST], columns[LEARN]) == ("2", "1")
