"""Question pools through the REST API, on both databases (the set of ``examples/pooled-quiz.yaml``:
`intro`, one of three pooling problems, two of four size problems, shuffled per student): a student
reads only the problems drawn for them, in their order, and no one else's; an answer to a problem
not drawn is refused (no attempt used); each student's assignment is worth the same; staff read a
student's draw with ``?student=ID``; the gradebooks list each student's problems; the statistics
count a key over the students who drew it."""

from __future__ import annotations

import csv as csv_module
import io
from collections import Counter
from typing import Any

from fastapi.testclient import TestClient
from pooled_course import EVERY, POOLS, SET, part_keys, pooled_course, problem_ids, read_detail
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.models import Assignment

from factories import Course, finished_job


def csv_rows(text: str) -> list[list[str]]:
    return list(csv_module.reader(io.StringIO(text.lstrip("\ufeff"))))


def _right(course: Course, aid: str, student: str) -> dict[str, Any]:
    """The student's reference answers as they send them (``intro.learns`` by their own letter):
    every one scores full points."""
    return course.right_answers(aid, student)


def test_a_student_reads_only_their_own_draw_in_their_own_order(client: TestClient, engine: Any) -> None:
    course = pooled_course(client, engine)
    aid = course.assignment(problem_set="pooled-quiz")
    students = course.students(10)
    draws = {}
    for student, headers in students:
        mine = read_detail(course, aid, headers)
        ids = problem_ids(mine)
        assert mine["drawn"] == ids and problem_ids(read_detail(course, aid, headers)) == ids  # the same every time
        assert len(ids) == 4 and "intro" in ids
        assert len(set(ids) & POOLS[0]) == 1 and len(set(ids) & POOLS[1]) == 2
        assert mine["max_score"] == 5.0  # every student's quiz is worth the same
        assert mine["reference"] is None  # (not released)
        draws[student] = ids
    assert len({tuple(sorted(ids)) for ids in draws.values()}) > 1  # drawn per student
    assert any(ids != sorted(ids, key=EVERY.index) for ids in draws.values())  # shuffled (1 in 24 keeps the file's)
    (first, _), (_, other_headers) = students[0], students[1]
    peeked = client.get(f"{course.path}/assignments/{aid}?student={first}", headers=other_headers)
    assert peeked.status_code == 403 and peeked.json()["detail"] == "Students see only their own variant."
    theirs = read_detail(course, aid, course.instructor, f"?student={first}")
    assert problem_ids(theirs) == theirs["drawn"] == draws[first]  # staff read the student's draw
    assert set(theirs["reference"]) == set(part_keys(theirs))  # and the references of those problems alone
    whole = read_detail(course, aid, course.instructor)
    assert problem_ids(whole) == EVERY and whole["drawn"] is None and whole["max_score"] == 5.0
    preview = f"{course.path}/problem-sets/pooled-quiz/preview"
    previewed = client.get(f"{preview}?student={first}&assignment={aid}", headers=course.instructor).json()
    assert problem_ids(previewed) == draws[first]  # the set's preview of the student in that assignment
    assert problem_ids(client.get(preview, headers=course.instructor).json()) == EVERY


def test_the_draw_comes_from_the_assignments_secret(client: TestClient, engine: Any) -> None:
    course = pooled_course(client, engine)
    one, two = course.assignment(problem_set="pooled-quiz"), course.assignment(problem_set="pooled-quiz")
    students = course.students(12)
    differ = [
        problem_ids(read_detail(course, one, headers)) != problem_ids(read_detail(course, two, headers))
        for _, headers in students
    ]
    assert sum(differ) > len(students) / 2  # another assignment, another secret: other draws


def test_an_answer_to_a_problem_not_drawn_is_refused_without_using_an_attempt(client: TestClient, engine: Any) -> None:
    course = pooled_course(client, engine)
    aid = course.assignment(problem_set="pooled-quiz", max_attempts=1)
    student, headers = course.student()
    mine = read_detail(course, aid, headers)
    undrawn = next(key for key in ("max2.max", "max3.max", "avg2.avg") if key not in part_keys(mine))
    right = _right(course, aid, student)
    refused = course.submit(aid, headers, {**right, undrawn: "[[1, 2], [3, 4]]"})
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert f"{undrawn} belong(s) to problems not drawn for you" in detail["message"]
    assert detail["not_drawn_keys"] == [undrawn] and sorted(detail["known_keys"]) == sorted(part_keys(mine))
    assert read_detail(course, aid, headers)["attempts_used"] == 0
    sent = course.submit(aid, headers, right)
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert sorted(body["parts"]) == sorted(part_keys(mine))  # graded on their problems alone
    assert (body["score"], body["max_score"]) == (5.0, 5.0)


def test_released_answers_and_worked_solutions_are_of_the_students_problems(client: TestClient, engine: Any) -> None:
    course = pooled_course(client, engine)
    aid = course.assignment(problem_set="pooled-quiz", release_answers="immediately")
    student, headers = course.student()
    mine = read_detail(course, aid, headers)
    assert sorted(mine["reference"]) == sorted(part_keys(mine))
    sent = course.submit(aid, headers, {"intro.learns": _right(course, aid, student)["intro.learns"]})
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert sorted(body["reference"]) == sorted(part_keys(mine))
    assert body["max_score"] == 5.0 and body["score"] == 1.0


def test_the_gradebooks_list_each_students_problems(client: TestClient, engine: Any) -> None:
    course = pooled_course(client, engine)
    aid = course.assignment(problem_set="pooled-quiz")
    students = course.students(4)
    draws = {student: problem_ids(read_detail(course, aid, headers)) for student, headers in students}
    keys = {student: part_keys(read_detail(course, aid, headers)) for student, headers in students}
    for student, headers in students[:3]:
        assert course.submit(aid, headers, _right(course, aid, student)).status_code == 201
    book = client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor).json()
    rows = {row["student"]: row for row in book["students"]}
    assert {student: rows[student]["problems"] for student in draws} == draws
    for student, _ in students[:3]:
        assert sorted(rows[student]["parts"]) == sorted(keys[student])
        assert (rows[student]["score"], rows[student]["max_score"]) == (5.0, 5.0)
    assert rows[students[3][0]]["parts"] == {} and rows[students[3][0]]["score"] is None
    csv = client.get(f"{course.path}/assignments/{aid}/gradebook?format=csv", headers=course.instructor).text
    header, *lines = csv.lstrip("\ufeff").splitlines()
    assert header.split(",")[10] == "problems"
    assert any(" ".join(draws[students[0][0]]) in line for line in lines)
    whole = client.get(f"{course.path}/gradebook", headers=course.instructor).json()
    assert [(a["id"], a["max_score"]) for a in whole["assignments"]] == [(aid, 5.0)]
    course_rows = {row["id"]: row for row in whole["students"]}
    assert {student: course_rows[student]["problems"] for student in draws} == {s: {aid: d} for s, d in draws.items()}
    assert all(course_rows[student]["total"] == 100.0 for student, _ in students[:3])
    course_csv = client.get(f"{course.path}/gradebook.csv", headers=course.instructor).text
    course_header, *course_lines = csv_rows(course_csv)
    assert course_header[-1] == f"{aid} problems"
    assert {line[0]: line[-1].split() for line in course_lines} == draws  # each student's own, in order
    plain = course.assignment()  # a set without pools: a column of scores, none of problems
    header_now = csv_rows(client.get(f"{course.path}/gradebook.csv", headers=course.instructor).text)[0]
    assert plain in header_now and [h for h in header_now if h.endswith(" problems")] == [f"{aid} problems"]


def test_statistics_count_each_key_over_the_students_who_drew_it(client: TestClient, engine: Any) -> None:
    course = pooled_course(client, engine)
    aid = course.assignment(problem_set="pooled-quiz")
    students = course.students(8)
    drew: Counter[str] = Counter()
    for student, headers in students:
        keys = part_keys(read_detail(course, aid, headers))
        drew.update(keys)
        assert course.submit(aid, headers, _right(course, aid, student)).status_code == 201
    stats = client.get(f"{course.path}/assignments/{aid}/stats", headers=course.instructor).json()
    assert stats["students"] == 8
    for key, found in stats["keys"].items():
        assert (found["submissions"], found["students"]) == (drew[key], drew[key]), key
        assert found["share_correct"] == (1.0 if drew[key] else None)
    assert stats["keys"]["intro.learns"]["students"] == 8
    assert sum(stats["keys"][key]["students"] for key in ("max2.max", "max3.max", "avg2.avg")) == 8


def test_a_regrade_grades_each_submission_on_its_students_own_problems(client: TestClient, engine: Any) -> None:
    course = pooled_course(client, engine)
    aid = course.assignment(problem_set="pooled-quiz")
    stored = []
    for student, headers in course.students(3):
        sent = course.submit(aid, headers, _right(course, aid, student))
        assert sent.status_code == 201, sent.text
        stored.append((sent.json()["id"], headers, sorted(sent.json()["parts"])))
    # a new version of the set (its title reworded): every submission is graded again and stored
    reworded = SET.replace("title: Pooling and convolution sizes", "title: Pooling and output sizes")
    uploaded = client.post(
        f"{course.path}/problem-sets",
        content=reworded.encode(),
        headers={**course.instructor, "Content-Type": "application/yaml"},
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    version = uploaded.json()["version"]
    moved = client.patch(f"{course.path}/assignments/{aid}", json={"version": version}, headers=course.instructor)
    assert moved.status_code == 200, moved.text
    started = client.post(f"{course.path}/assignments/{aid}/regrade", headers=course.instructor)
    assert started.status_code == 202, started.text
    job = finished_job(client, started.json()["job"], course.instructor)
    assert (job["status"], job["done"]) == ("done", 3)
    for submission_id, headers, keys in stored:
        now = client.get(f"/api/v1/submissions/{submission_id}", headers=headers).json()
        assert now["set_version"] == version  # graded again, on the student's own problems alone
        assert (now["score"], now["max_score"], sorted(now["parts"])) == (5.0, 5.0, keys)


WRITTEN = """\
id: pooled-essays
title: One essay of two
problems:
  - pool:
      choose: 1
      problems:
        - id: a
          type: prose
          text: Why pool?
          parts:
            - {key: why, answer: text, points: 2}
        - id: b
          type: prose
          text: Why convolve?
          parts:
            - {key: why, answer: text, points: 2}
"""


def test_a_written_parts_grading_queue_holds_only_the_students_who_drew_it(client: TestClient, engine: Any) -> None:
    course = pooled_course(client, engine)
    uploaded = client.post(
        f"{course.path}/problem-sets",
        content=WRITTEN.encode(),
        headers={**course.instructor, "Content-Type": "application/yaml"},
    )
    assert uploaded.status_code == 201, uploaded.text
    aid = course.assignment(problem_set="pooled-essays")
    drew: dict[str, list[str]] = {"a": [], "b": []}
    for student, headers in course.students(24):
        (problem,) = problem_ids(read_detail(course, aid, headers))
        drew[problem].append(student)
        sent = course.submit(aid, headers, {f"{problem}.why": "Fewer weights."})
        assert sent.status_code == 201 and sent.json()["max_score"] == 2.0, sent.text
    assert drew["a"] and drew["b"]  # (24 students: both drawn but for 1 in 8 million; 8 missed one in a make test)
    for problem, students in drew.items():
        listed = client.get(f"{course.path}/assignments/{aid}/grading/{problem}.why", headers=course.instructor)
        assert listed.status_code == 200, listed.text
        assert sorted(entry["student"] for entry in listed.json()["entries"]) == sorted(students)


def test_an_assignment_without_a_secret_cannot_take_a_set_with_pools(client: TestClient, engine: Any) -> None:
    """An assignment made before assignments had secrets would draw its students' problems from
    their ids alone: it is refused a set with pools (a new assignment draws with its own secret)."""
    course = pooled_course(client, engine)
    aid = course.assignment()  # (a built-in set without pools)
    with Session(engine) as session, session.begin():
        session.execute(
            update(Assignment)
            .where(Assignment.course_id == course.id, Assignment.id == aid)
            .values(variant_secret=None)
        )
    moved = client.patch(
        f"{course.path}/assignments/{aid}", json={"problem_set": "pooled-quiz"}, headers=course.instructor
    )
    assert moved.status_code == 422, moved.text
    assert "students' problems would be drawn from their ids alone" in moved.json()["detail"]
    assert client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["problem_set"] != (
        "pooled-quiz"
    )
