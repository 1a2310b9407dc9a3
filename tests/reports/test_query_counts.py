"""The views of a course read it in a bounded number of statements: the count does not grow with
its students or its assignments (no statement per student, none per assignment)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from written_course import WHY, grade, written_course

from api.models import Membership, User
from api.users.service import issue_token
from harness.regrade import Stored, store_for_regrade

from factories import counted, engines_of
from page_client import Browser

#: (students' submissions per assignment, assignments): the small course, then twice its size on both.
SIZES = ((6, 2), (12, 4))
ATTEMPTS = 2


@pytest.fixture(scope="module")
def courses(engine: Engine) -> list[Stored]:
    return [store_for_regrade(engine, submissions=n, assignments=a, attempts=ATTEMPTS) for n, a in SIZES]


VIEWS = {
    "dashboard page": "/courses/{c}",
    "gradebook page": "/courses/{c}/assignments/{a}/gradebook",
    "statistics page": "/courses/{c}/assignments/{a}/stats",
    "gradebook": "/api/v1/courses/{c}/assignments/{a}/gradebook",
    "gradebook csv": "/api/v1/courses/{c}/assignments/{a}/gradebook?format=csv",
    "gradebook canvas": "/api/v1/courses/{c}/assignments/{a}/gradebook?format=canvas",
    "statistics": "/api/v1/courses/{c}/assignments/{a}/stats",
    "statistics of counted attempts": "/api/v1/courses/{c}/assignments/{a}/stats?attempts=counted",
    "a student's gradebook page": "/courses/{c}/assignments/{a}/gradebook/students/{s}",
    "submissions": "/api/v1/courses/{c}/assignments/{a}/submissions",
    "members": "/api/v1/courses/{c}/members",
}


def test_a_students_course_page_reads_the_same_number_of_statements_at_any_size(app, engine: Engine, courses) -> None:
    """A student's assignments with the score that counts for each: not a statement per assignment."""
    counts = []
    for stored in courses:
        with Session(engine) as session:
            student = session.scalars(
                select(Membership.user_id).where(Membership.course_id == stored.course, Membership.role == "student")
            ).first()
            assert student is not None
            token = issue_token(session, user=session.get(User, student), name="test")
            session.commit()
        browser = Browser(app).signed_in(token)
        browser.get(f"/courses/{stored.course}")
        with counted(*engines_of(app)) as statements:
            response = browser.get(f"/courses/{stored.course}")
        assert response.status_code == 200 and "/ 2" in response.text  # a score out of 2, counted
        counts.append(len(statements))
    small, large = counts
    assert small > 0, "no statement counted: the counter does not see the view's engine"
    assert large == small, f"{small} statements for the small course, {large} for the large one"


@pytest.mark.parametrize("view", VIEWS)
def test_a_view_reads_the_same_number_of_statements_at_any_size(app, engine: Engine, courses, view: str) -> None:
    counts = []
    for stored in courses:
        path = VIEWS[view].format(c=stored.course, a=stored.assignments[0], s=stored.student)
        browser = Browser(app)
        if not path.startswith("/api/"):
            browser.signed_in(stored.token)
        headers = {"Authorization": f"Bearer {stored.token}"} if path.startswith("/api/") else {}
        browser.get(path, headers=headers)  # (warm: the set's first use parses it)
        with counted(*engines_of(app)) as statements:
            response = browser.get(path, headers=headers)
        assert response.status_code == 200, response.text
        counts.append(len(statements))
    small, large = counts
    assert small > 0, f"{view}: no statement counted: the counter does not see the view's engine"
    assert large == small, f"{view}: {small} statements for the small course, {large} for the large one"


@pytest.mark.parametrize("view", ["queue", "page"])
def test_the_grading_queue_reads_the_same_number_of_statements_at_any_size(
    app, client, engine: Engine, view: str
) -> None:
    """A written part's queue (REST and page), for 3 then 6 students who answered, some graded."""
    counts = []
    for size in (3, 6):
        course, aid = written_course(client, engine)
        ids = [
            course.submit(aid, h, {WHY: f"Answer {n}."}).json()["id"] for n, (_, h) in enumerate(course.students(size))
        ]
        grade(course, ids[0], [])
        path = (
            f"{course.path}/assignments/{aid}/grading/{WHY}"
            if view == "queue"
            else f"/courses/{course.id}/assignments/{aid}/grading?key={WHY}"
        )
        browser = Browser(app)
        token = course.instructor["Authorization"].removeprefix("Bearer ")
        if view == "page":
            browser.signed_in(token)
        headers = course.instructor if view == "queue" else {}
        browser.get(path, headers=headers)  # (warm: the rubric is copied on first need)
        with counted(*engines_of(app)) as statements:
            response = browser.get(path, headers=headers)
        assert response.status_code == 200, response.text
        counts.append(len(statements))
    small, large = counts
    assert small > 0, f"grading {view}: no statement counted: the counter does not see the view's engine"
    assert large == small, f"grading {view}: {small} statements for 3 students, {large} for 6"
