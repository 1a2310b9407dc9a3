"""The course gradebook (``GET .../courses/{id}/gradebook``, ``.csv``, ``?format=canvas``): every
assignment that counts, the score each one's own gradebook counts (best attempt, late penalty), the
categories with drop-lowest and the weighted total; for the course's staff only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.coursebook.service import counted_scores, extensions_by_student
from api.models import Assignment, Submission
from api.pages.kit.render import points
from api.terms.counted import counted_attempt
from api.terms.lateness import steps
from api.terms.rows import with_extension

from factories import Course, counted, engines_of, make_instructor
from page_client import Browser

RIGHT = {"ex4.conv1_params": "3640"}  # score 1 of 9
TWO_RIGHT = {"ex4.conv1_params": "3640", "ex5.params": "1810"}  # score 2 of 9
CATEGORIES = [{"name": "homework", "weight": 40, "drop_lowest": 1}, {"name": "exams", "weight": 60}]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def term(client, engine):
    """A course of its own: two homeworks and a late exam, a draft and an archived one that do not
    count; one student who worked (``worker``), one who did not (``idle``)."""
    course = Course(client, make_instructor(engine))
    assert client.patch(course.path, json={"categories": CATEGORIES}, headers=course.instructor).status_code == 200
    hw1, hw2 = course.assignment(title="Homework 1"), course.assignment(title="Homework 2")
    exam = course.assignment(
        title="Midterm",
        category="exams",
        due_at=_iso(datetime.now(UTC) - timedelta(hours=2, minutes=30)),
        late_penalty={"per_hour": 10},
    )
    draft = course.assignment(published=False)
    archived = course.assignment()
    (worker, worker_headers), (idle, _) = course.students(2)
    for aid, answers in ((hw1, TWO_RIGHT), (hw1, RIGHT), (hw2, RIGHT), (exam, TWO_RIGHT), (archived, TWO_RIGHT)):
        assert course.submit(aid, worker_headers, answers).status_code == 201
    assert client.delete(f"{course.path}/assignments/{archived}", headers=course.instructor).status_code in (200, 204)
    return course, (hw1, hw2, exam, draft), (worker, worker_headers, idle)


def test_scores_categories_and_total(client, term) -> None:
    course, (hw1, hw2, exam, _draft), (worker, _, idle) = term
    response = client.get(f"{course.path}/gradebook", headers=course.instructor)
    assert response.status_code == 200, response.text
    book = response.json()
    assert book["categories"] == [
        {"name": "homework", "weight": 40.0, "drop_lowest": 1},
        {"name": "exams", "weight": 60.0, "drop_lowest": 0},
    ]
    # the draft and the archived assignment count for nobody
    assert book["assignments"] == [
        {"id": hw1, "title": "Homework 1", "category": "homework", "max_score": 9.0},
        {"id": hw2, "title": "Homework 2", "category": "homework", "max_score": 9.0},
        {"id": exam, "title": "Midterm", "category": "exams", "max_score": 9.0},
    ]
    rows = {row["id"]: row for row in book["students"]}
    assert list(rows) == sorted([worker, idle])
    mine = rows[worker]
    # the best of hw1's two attempts; the exam's 2 after 3 started hours late at 10% an hour
    assert mine["scores"] == {hw1: 2.0, hw2: 1.0, exam: pytest.approx(1.4)}
    # homework drops its lowest (hw2): 2 of 9
    assert mine["categories"] == {
        "homework": pytest.approx(100 * 2 / 9, abs=1e-4),
        "exams": pytest.approx(100 * 1.4 / 9, abs=1e-4),
    }
    assert mine["total"] == pytest.approx(0.4 * 100 * 2 / 9 + 0.6 * 100 * 1.4 / 9, abs=1e-3)
    # nothing submitted counts 0
    assert rows[idle]["scores"] == {hw1: None, hw2: None, exam: None}
    assert (rows[idle]["categories"], rows[idle]["total"]) == ({"homework": 0.0, "exams": 0.0}, 0.0)
    # the same score as the exam's own gradebook counts
    own = client.get(f"{course.path}/assignments/{exam}/gradebook", headers=course.instructor).json()
    assert [r["score"] for r in own["students"] if r["student"] == worker] == [mine["scores"][exam]]


def test_the_csv_and_the_canvas_import(client, term) -> None:
    course, (hw1, hw2, exam, _draft), (worker, _, idle) = term
    response = client.get(f"{course.path}/gradebook.csv", headers=course.instructor)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert f'filename="{course.id}-gradebook.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0] == ["student", "name", "email", hw1, hw2, exam, "homework (%)", "exams (%)", "total (%)"]
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id[worker][3:] == ["2", "1", "1.4", "22.22", "15.56", "18.22"]
    assert by_id[idle][3:] == ["", "", "", "0", "0", "0"]

    canvas = client.get(f"{course.path}/gradebook.csv?format=canvas", headers=course.instructor)
    assert canvas.status_code == 200, canvas.text
    assert f'filename="{course.id}-canvas.csv"' in canvas.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(canvas.text)))
    assert table[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "Homework 1",
        "Homework 2",
        "Midterm",
    ]
    assert table[1] == ["Points Possible", "", "", "", "", "9", "9", "9"]
    assert [r for r in table[2:] if r[2] == worker] == [["Student 0", "", worker, worker, "", "2", "1", "1.4"]]
    assert client.get(f"{course.path}/gradebook.csv?format=xlsx", headers=course.instructor).status_code == 422
    # the JSON endpoint gives the same files
    for query, text in (("csv", response.text), ("canvas", canvas.text)):
        assert client.get(f"{course.path}/gradebook?format={query}", headers=course.instructor).text == text


def test_staff_only(client, term) -> None:
    course, _assignments, (_, worker_headers, _) = term
    (_, ta) = course.member("ta")
    assert client.get(f"{course.path}/gradebook", headers=ta).status_code == 200
    for path in ("/gradebook", "/gradebook.csv", "/gradebook.csv?format=canvas"):
        refused = client.get(course.path + path, headers=worker_headers)
        assert refused.status_code == 403 and refused.json()["detail"]
    other = Course(client, course.instructor["Authorization"].removeprefix("Bearer "))
    (_, outsider) = other.student()
    assert client.get(f"{course.path}/gradebook", headers=outsider).status_code == 404
    assert client.get(f"{course.path}/gradebook").status_code == 401


def test_a_course_without_students_or_assignments(client, engine) -> None:
    course = Course(client, make_instructor(engine))
    book = client.get(f"{course.path}/gradebook", headers=course.instructor).json()
    assert book == {
        "course": course.id,
        "categories": [{"name": "homework", "weight": 100.0, "drop_lowest": 0}],
        "assignments": [],
        "students": [],
    }
    text = client.get(f"{course.path}/gradebook.csv", headers=course.instructor).text
    assert text == "\ufeffstudent,name,email,homework (%),total (%)\r\n"


def test_the_statements_do_not_grow_with_the_course(app, client, engine) -> None:
    """A fixed number of statements whatever the number of students and assignments (a big
    course's gradebook is timed in bench/course_views.py)."""

    def statements_for(students: int, assignments: int) -> int:
        course = Course(client, make_instructor(engine))
        made = [course.assignment() for _ in range(assignments)]
        for _, headers in course.students(students):
            for aid in made:
                assert course.submit(aid, headers, RIGHT).status_code == 201
        with counted(*engines_of(app)) as statements:
            assert client.get(f"{course.path}/gradebook", headers=course.instructor).status_code == 200
        return len(statements)

    assert statements_for(1, 1) == statements_for(4, 3)


#: Every kind of terms the counting distinguishes: (grade policy, late penalty, whether the due
#: date falls between each student's two attempts, whether one student's extension gives the due date).
TERMS = [
    ("best", None, True, False),  # lateness takes nothing off: the database's maximum
    ("best", {"per_hour": 60}, True, False),  # the late better attempt (0.8) loses to the earlier one
    ("best", {"factor": 0.9}, False, True),  # no due date but one student's extended one
    ("best", {"per_day": 10}, False, False),  # a penalty, but no due date: nothing taken off
    ("last", None, True, False),
    ("last", {"per_hour": 40}, True, False),
]


def test_the_course_gradebook_counts_what_each_assignment_gradebook_counts(app, client, engine) -> None:
    """The course gradebook reads the best score from the database where lateness takes nothing off,
    and counts each attempt elsewhere: on every kind of terms, each student's score is the one the
    assignment's own gradebook counts (which counts every attempt), late penalty and extension
    included; and the staff dashboard's mean per assignment is the mean of those scores."""
    course = Course(client, make_instructor(engine))
    students = course.students(3)
    made = []
    for policy, penalty, due_between, extended in TERMS:
        aid = course.assignment(grade_policy=policy, late_penalty=penalty)
        made.append(aid)
        for _, headers in students:  # a first attempt right on one part, a second on two
            assert course.submit(aid, headers, RIGHT).status_code == 201
        between = _iso(datetime.now(UTC))
        for _, headers in students:
            assert course.submit(aid, headers, TWO_RIGHT).status_code == 201
        if due_between:
            patched = client.patch(
                f"{course.path}/assignments/{aid}", json={"due_at": between}, headers=course.instructor
            )
            assert patched.status_code == 200, patched.text
        if extended:
            granted = client.put(
                f"{course.path}/assignments/{aid}/extensions/{students[0][0]}",
                json={"due_at": between},
                headers=course.instructor,
            )
            assert granted.status_code == 200, granted.text
    book = client.get(f"{course.path}/gradebook", headers=course.instructor).json()
    rows = {row["id"]: row["scores"] for row in book["students"]}
    for aid, (policy, penalty, *_) in zip(made, TERMS, strict=True):
        own = client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor).json()
        counted = {row["student"]: row["score"] for row in own["students"]}
        assert {student: rows[student][aid] for student, _ in students} == counted, (policy, penalty)
    dashboard = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer ")).get(course.path[7:])
    for aid in made:
        html = dashboard.text
        start = html.rindex("<tr", 0, html.index(f"/assignments/{aid}"))
        row = html[start : html.index("</tr>", start)]
        mean = sum(rows[student][aid] for student, _ in students) / len(students)
        assert f"{points(mean)} / 9" in row and "6 attempts" in row, (aid, row)
    # the cases are what they claim: a late better attempt lost to the earlier one, where penalized
    first = students[0][0]
    assert [rows[first][aid] for aid in made] == [2.0, 1.0, 1.8, 2.0, 2.0, pytest.approx(1.2)]
    assert rows[students[1][0]][made[2]] == 2.0  # (not extended: no due date, nothing late)


#: Each student's three attempts as (score, hours after the first's time), in attempt order: equal
#: scores, a later better one, attempts numbered out of their times' order, a zero, scores a hair
#: apart that round alike.
ATTEMPTS = [
    [(5.0, 0), (5.0, 1), (5.0, 2)],
    [(3.0, 0), (7.0, 1), (7.0, 2)],
    [(9.0, 2), (5.0, 0), (9.0, 1)],
    [(0.0, 0), (0.0, 3), (2.0, 1)],
    [(4.0000001, 0), (4.0, 1), (4.00000004, 0)],
    [(6.0, 1), (8.0, 1), (7.0, 1)],
]
#: (grade policy, late penalty, grace minutes) of each assignment; the due date is the first
#: attempt's time plus 30 minutes.
NARROWED_TERMS = [
    ("best", {"per_hour": 10, "floor": 50}, 0),
    ("best", {"per_day": 20}, 0),
    ("best", {"factor": 0.5}, 0),
    ("best", None, 0),
    ("last", {"per_hour": 25}, 0),
    ("best", {"per_hour": 10}, 45),  # (the attempts half an hour late are on time)
    ("last", {"factor": 0.5}, 0),
    ("best", {"per_day": 0.5}, 0),  # (200 steps: counted attempt by attempt)
]


def test_the_course_counts_what_the_rules_count_of_every_attempt(client, engine) -> None:
    """On attempts of equal scores, later better ones, numbers out of their times' order and scores
    that round alike, under each penalty and with one student's extension, what the course's
    counting gives (score, attempts, the attempt chosen) is what the rules count of every attempt."""
    course = Course(client, make_instructor(engine))
    students = course.students(len(ATTEMPTS))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    made = []
    for policy, penalty, grace in NARROWED_TERMS:
        due = _iso(start + timedelta(minutes=30))
        aid = course.assignment(grade_policy=policy, late_penalty=penalty, due_at=due, grace_minutes=grace)
        made.append(aid)
        for _, headers in students:
            for _ in range(3):
                assert course.submit(aid, headers, RIGHT).status_code == 201
    extended = students[2][0]
    granted = client.put(
        f"{course.path}/assignments/{made[0]}/extensions/{extended}",
        json={"due_at": _iso(start + timedelta(hours=1, minutes=30))},
        headers=course.instructor,
    )
    assert granted.status_code == 200, granted.text
    with Session(engine) as session, session.begin():
        for aid in made:
            for (student, _), theirs in zip(students, ATTEMPTS, strict=True):
                for number, (score, hours) in enumerate(theirs, start=1):
                    session.execute(
                        update(Submission)
                        .where(
                            Submission.course_id == course.id,
                            Submission.assignment_id == aid,
                            Submission.student_id == student,
                            Submission.attempt == number,
                        )
                        .values(score=score, submitted_at=start + timedelta(hours=hours))
                    )
    with Session(engine) as session:
        assignments = [session.get_one(Assignment, (course.id, aid)) for aid in made]
        terms = extensions_by_student(session, course_id=course.id)
        counts = counted_scores(session, course_id=course.id, assignments=assignments, extended=terms)
        by_attempt = counted_scores(
            session, course_id=course.id, assignments=assignments, extended=terms, by_attempt=made
        )
        every = session.execute(select(Submission).where(Submission.course_id == course.id)).scalars().all()
        for assignment in assignments:
            scores, tries, chosen = {}, {}, {}
            for student, _ in students:
                theirs = [s for s in every if s.assignment_id == assignment.id and s.student_id == student]
                found = counted_attempt(theirs, with_extension(assignment, terms.get((assignment.id, student))))
                assert found is not None
                scores[student] = found[1].applied(found[0].score)
                tries[student] = len(theirs)
                chosen[student] = found[0].id
            assert counts.scores[assignment.id] == scores, assignment.id
            assert counts.attempts[assignment.id] == tries, assignment.id
            assert by_attempt.scores[assignment.id] == scores, assignment.id
            assert by_attempt.attempts[assignment.id] == tries, assignment.id
            assert by_attempt.chosen[assignment.id] == chosen, assignment.id
        # (the last penalty is one the database is not told: too many steps)
        assert steps(assignments[-1].due_at, assignments[-1].late_penalty) is None
    # the cases are what they claim: of equal scores the first counts; the third attempt, on time
    # under the extension, beats the first's score submitted after it, an hour late
    first, out_of_order = students[0][0], students[2][0]
    assert counts.scores[made[0]][first] == 5.0
    assert counts.scores[made[0]][out_of_order] == 9.0
    assert counts.scores[made[1]][out_of_order] == 7.2  # (the first of two 9s a day late, × 80 %)
    assert counts.scores[made[5]][students[1][0]] == 7.0  # (half an hour late, within the grace)
    assert counts.scores[made[6]][students[3][0]] == 1.0  # (the last attempt, numbered after a later one: 2 halved)
