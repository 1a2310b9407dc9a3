"""The demo course of ``grader serve --demo``: course ``demo`` with one instructor (its owner), one
TA, three students and one assignment per built-in problem set, with the students' work on some of
them (:mod:`api.demo.work`; code for the sandbox to grade: :mod:`api.demo.code`); one assignment is
past its due date, its answers released and its practice open; and a timed exam (``EXAM``) shows a
student only "submitted" until its answers are released, in the category ``exams``. Loading it
again creates nothing twice; it re-issues the demo accounts' tokens (tokens are stored only as
hashes, so the old ones cannot be shown again) and brings back a demo member dropped meanwhile.

The demo's pages offer one-click sign-in as each demo account (:mod:`api.pages.accounts.demo`), only while
the service runs with ``--demo`` (:attr:`api.kit.config.Settings.demo`), and only as an account
:func:`is_demo_account` recognises. Its accounts' tokens end with the demo: a start without
``--demo`` revokes them (:func:`end_demo`), since ``--demo`` printed them for anyone at the
terminal and the demo instructor's owns a course."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from api.assignments.service import create_assignment
from api.categories.store import categories_of
from api.categories.weights import Category
from api.code_runs.queueing import Deferrer
from api.courses.service import update_course
from api.demo.code import CODE_SETS, add_code_work
from api.demo.work import CLOSED, CLOSED_AGO, WORKED, WRITTEN_SET, add_work
from api.kit.db import upsert
from api.kit.errors import Conflict
from api.library.course_sets import Library, Sets
from api.models import (
    ApiToken,
    Assignment,
    Course,
    CourseRole,
    Feedback,
    GradePolicy,
    Membership,
    Practice,
    Release,
    Role,
    SignInLink,
    User,
    WebSession,
)
from api.users.service import issue_token, revoke_tokens
from problems.sets import ProblemSet

COURSE = ("demo", "Demo course: convolutional networks")
#: A timed exam whose results are held back until its answers are released: (its id, its set, its
#: title, its time limit in minutes). A student starts its clock on its page; nobody has worked on it.
EXAM = ("midterm", "classic-exam", "Midterm exam (timed, results held back)", 45)
#: The demo course's gradebook: homework (dropping its lowest) and the exam.
DEMO_CATEGORIES = (Category("homework", 60.0, drop_lowest=1), Category("exams", 40.0))
INSTRUCTOR = ("demo-instructor", "Demo Instructor")
TA = ("demo-ta", "Demo Assistant")
STUDENTS = (("alice", "Alice Example"), ("bob", "Bob Example"), ("carol", "Carol Example"))
#: (account, its account role, its role in the demo course)
PEOPLE = [
    (INSTRUCTOR, Role.INSTRUCTOR, CourseRole.OWNER),
    (TA, Role.STUDENT, CourseRole.TA),
    *((student, Role.STUDENT, CourseRole.STUDENT) for student in STUDENTS),
]


@dataclass(frozen=True)
class DemoCourse:
    course: str
    tokens: dict[str, str]
    assignments: list[str]
    #: Submissions made by this load (none when the demo students' work was there already).
    submissions: int = 0


@dataclass(frozen=True)
class DemoAccount:
    """A demo account as the demo's sign-in page offers it: its id, name and role in the course."""

    id: str
    name: str
    role: str


def demo_accounts() -> list[DemoAccount]:
    """The demo's accounts, its instructor first."""
    return [DemoAccount(user_id, name, course_role.value) for (user_id, name), _, course_role in PEOPLE]


def demo_email(user_id: str) -> str:
    return f"{user_id}@example.edu"


def is_demo_account(session: Session, user_id: str) -> bool:
    """Whether ``user_id`` is one of the demo's accounts as the demo made it (the demo's id, role and
    address, a member of the demo course that the demo instructor created): never a real account
    that happens to have a demo id."""
    for (demo_id, _), role, course_role in PEOPLE:
        if demo_id != user_id:
            continue
        user = session.get(User, user_id)
        course = session.get(Course, COURSE[0])
        membership = session.get(Membership, (COURSE[0], user_id))
        return (
            user is not None
            and user.role == role.value
            and user.email == demo_email(user_id)
            and course is not None
            and course.created_by == INSTRUCTOR[0]
            and membership is not None
            and membership.role == course_role.value
        )
    return False


def end_demo(session: Session) -> list[str]:
    """Ends the demo's accounts' ways in, at a start of the service without ``--demo``: their API
    tokens (the ones ``--demo`` printed), their page sessions and any sign-in links, so that what
    the demo handed out stops working with the one-click sign-in. Their rows and work stay, for
    ``--demo`` to bring back with new tokens. Only the accounts the demo made (its ids with its
    role and address, as :func:`load_demo` checks): a real account with a demo id keeps its tokens.
    Returns the accounts that had a way in (none: nothing to end). Flushes; the caller commits."""
    ended = []
    for (user_id, _), role, _ in PEOPLE:
        user = session.get(User, user_id)
        if user is None or user.role != role.value or user.email != demo_email(user_id):
            continue
        ways_in = [ApiToken.user_id == user_id, WebSession.user_id == user_id, SignInLink.user_id == user_id]
        if not any(session.scalar(select(exists().where(way))) for way in ways_in):
            continue
        revoke_tokens(session, user=user)
        session.execute(delete(WebSession).where(WebSession.user_id == user_id))
        session.execute(delete(SignInLink).where(SignInLink.user_id == user_id))
        ended.append(user_id)
    session.flush()
    return ended


def load_demo(
    session: Session, *, library: Library, now: datetime | None = None, defer_code: Deferrer | None = None
) -> DemoCourse:
    """Loads the demo, or brings it back. The students' work is submitted as the service submits
    (:func:`api.submissions.service.submit`), which commits: so does this, as it goes, and the
    session must not be inside ``Session.begin()``; the caller commits what follows the last
    submission. Their code is queued for the service's runner; on PostgreSQL ``defer_code`` carries
    it to a code worker, and without it the code is left out (:func:`api.demo.code.add_code_work`)."""
    now = now or datetime.now(UTC)
    course_id, title = COURSE
    tokens: dict[str, str] = {}
    for (user_id, name), role, _ in PEOPLE:
        user = session.get(User, user_id)
        if user is not None and (user.role != role or user.email != demo_email(user_id)):
            raise Conflict(f"The account {user_id!r} exists and is not a demo account; --demo leaves it alone.")
        if user is None:
            user = User(id=user_id, name=name, role=role.value, email=demo_email(user_id))
            session.add(user)
            session.flush()
        revoke_tokens(session, user=user)
        tokens[user_id] = issue_token(session, user=user)
    course = session.get(Course, course_id)
    if course is None:
        session.add(Course(id=course_id, title=title, created_by=INSTRUCTOR[0]))
        session.flush()
    elif course.created_by != INSTRUCTOR[0]:
        raise Conflict(f"The course {course_id!r} exists and is not the demo course; --demo leaves it alone.")
    for (user_id, _), _, course_role in PEOPLE:
        upsert(
            session,
            Membership,
            {"course_id": course_id, "user_id": user_id, "role": course_role.value},
            keys=("course_id", "user_id"),
        )
    sets, bank = Sets(library, session), library.built_in()
    for set_id, problem_set in bank.items():
        if session.get(Assignment, (course_id, set_id)) is None:
            sets.pin(problem_set)
            closed = set_id == CLOSED
            create_assignment(
                session,
                problem_set=problem_set,
                course_id=course_id,
                created_by=INSTRUCTOR[0],
                assignment_id=set_id,
                title=problem_set.title,
                due_at=now - CLOSED_AGO if closed else now + timedelta(days=14),
                # (late work a day past the due date, then closed: the answers are released)
                closes_at=now - CLOSED_AGO + timedelta(days=1) if closed else None,
                max_attempts=5,
                release_answers=Release.AFTER_CLOSE.value,
                grade_policy=GradePolicy.BEST.value,
                late_penalty={"per_day": 10.0, "floor": 50.0},
                practice=Practice.AFTER_DUE.value,
            )
    _add_exam(session, sets, bank, course_id=course_id, now=now)
    made = 0
    for set_id in (*WORKED, WRITTEN_SET, *CODE_SETS):
        assignment = session.get(Assignment, (course_id, set_id))
        worked = bank.get(set_id)
        if assignment is None or worked is None or assignment.set_version != worked.version:
            continue  # (a demo loaded by an older version, on another version of the set: left as it is)
        if set_id in CODE_SETS:
            made += add_code_work(session, problem_set=worked, assignment=assignment, at=now, defer_code=defer_code)
            continue
        due = assignment.due_at
        at = due - timedelta(days=1) if set_id == CLOSED and due is not None else now
        made += add_work(session, problem_set=worked, assignment=assignment, at=at)
    return DemoCourse(course_id, tokens, sorted([*bank, EXAM[0]]), made)


def _add_exam(session: Session, sets: Sets, bank: dict[str, ProblemSet], *, course_id: str, now: datetime) -> None:
    """The timed exam, once: one attempt within its time limit over the coming week, graded out of
    sight (``feedback: none``) until its answers are released at its close; counted as an exam."""
    exam_id, set_id, title, minutes = EXAM
    problem_set = bank.get(set_id)
    if problem_set is None or session.get(Assignment, (course_id, exam_id)) is not None:
        return
    if "exams" not in {category.name for category in categories_of(session, course_id=course_id)}:
        update_course(session, course_id=course_id, categories=DEMO_CATEGORIES)
    sets.pin(problem_set)
    create_assignment(
        session,
        problem_set=problem_set,
        course_id=course_id,
        created_by=INSTRUCTOR[0],
        assignment_id=exam_id,
        title=title,
        due_at=now + timedelta(days=7),
        closes_at=now + timedelta(days=7),
        max_attempts=1,
        release_answers=Release.AFTER_CLOSE.value,
        grade_policy=GradePolicy.LAST.value,
        category="exams",
        feedback=Feedback.NONE.value,
        time_limit=minutes,
    )
