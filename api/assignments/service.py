"""Assignments: creation and changes, extensions, statements and references of one variant (the
rules that read an assignment's terms are :mod:`api.terms`')."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.assignments.lms_dates import SENT_DATES, dates_moved
from api.assignments.options import choice_statement
from api.categories.store import require_category
from api.exam_room.rules import changed as access_changed
from api.kit import score_changes
from api.kit.db import is_unique_violation, upsert
from api.kit.errors import Conflict, NotFound, Unprocessable
from api.kit.ids import may_exist
from api.models import (
    DEFAULT_CATEGORY,
    Assignment,
    CourseRole,
    Extension,
    Feedback,
    Membership,
    Practice,
    Submission,
)
from api.terms.accommodations import StudentTerms, read_allowances, with_allowances
from api.terms.clock import follow_moved_close
from api.terms.releases import MOVES_RELEASE, everyones_changed, release_moved
from api.terms.rows import ExtensionRow, Terms
from api.terms.rules import iso, schedule_problems
from problems.parts import WrittenPart
from problems.render import to_json
from problems.sets import ProblemSet
from problems.solutions import solutions
from problems.variants import variant_key


def create_assignment(
    session: Session,
    *,
    problem_set: ProblemSet,
    course_id: str,
    created_by: str | None,
    assignment_id: str,
    title: str | None,
    due_at: datetime | None,
    max_attempts: int | None,
    release_answers: str,
    grade_policy: str,
    late_penalty: dict[str, Any] | None = None,
    practice: str = Practice.AFTER_DUE.value,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    published: bool = True,
    grace_minutes: int = 0,
    category: str = DEFAULT_CATEGORY,
    feedback: str = Feedback.FULL.value,
    time_limit: int | None = None,
    access: dict[str, Any] | None = None,
) -> Assignment:
    """A new assignment of ``problem_set`` (its version pinned); :class:`Unprocessable` with every
    reason if its dates are out of order or its answers would be released while work is accepted
    (:func:`api.terms.rules.schedule_problems`), or its category is not one of the course's."""
    if session.get(Assignment, (course_id, assignment_id)) is not None:
        raise Conflict(f"There is already an assignment {assignment_id!r} in course {course_id!r}.")
    require_category(session, course_id=course_id, name=category)
    due_at, opens_at, closes_at = (_in_utc(moment) for moment in (due_at, opens_at, closes_at))
    assignment = Assignment(
        course_id=course_id,
        id=assignment_id,
        problem_set=problem_set.id,
        set_version=problem_set.version,
        title=title or problem_set.title,
        due_at=due_at,
        max_attempts=max_attempts,
        release_answers=release_answers,
        grade_policy=grade_policy,
        created_by=created_by,
        variant_secret=secrets.token_urlsafe(24),
        late_penalty=late_penalty,
        practice=practice,
        opens_at=opens_at,
        closes_at=closes_at,
        published=published,
        archived_at=None,
        grace_minutes=grace_minutes,
        category=category,
        feedback=feedback,
        time_limit=time_limit,
        access=access_changed(None, access) if access is not None else None,
    )
    _check_schedule(assignment, from_now=True)
    session.add(assignment)
    try:
        session.flush()
    except IntegrityError as error:
        # created by a simultaneous request after the look-up above (PostgreSQL: this INSERT waited
        # for that request's commit); SQLite's write lock serializes such requests
        if is_unique_violation(error):
            raise Conflict(f"There is already an assignment {assignment_id!r} in course {course_id!r}.") from None
        raise
    return assignment


#: What ``PATCH`` may change besides the set (see :func:`update_assignment`).
CHANGEABLE = (
    *("title", "due_at", "max_attempts", "release_answers", "grade_policy", "late_penalty", "practice"),
    *("opens_at", "closes_at", "published", "archived", "grace_minutes", "category", "feedback", "time_limit"),
    "access",
)


def _in_utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


#: The fields whose change checks a time limit against the time left from now (a limit past the
#: close is refused as it is set; another change of a running exam near its close is not).
TIMING = frozenset({"time_limit", "opens_at", "closes_at"})


def _check_schedule(assignment: Assignment, *, from_now: bool) -> None:
    problems = schedule_problems(
        due_at=assignment.due_at,
        opens_at=assignment.opens_at,
        closes_at=assignment.closes_at,
        release_answers=assignment.release_answers,
        time_limit=assignment.time_limit,
        now=datetime.now(UTC) if from_now else None,
    )
    if problems:
        raise Unprocessable(" ".join(message for _, message in problems))


def update_assignment(
    session: Session,
    *,
    course_id: str,
    assignment_id: str,
    changes: dict[str, Any],
    problem_set: ProblemSet | None = None,
) -> Assignment:
    """Applies ``changes`` (any of :data:`CHANGEABLE`; None clears a date, limit or penalty;
    ``archived`` archives or restores), and pins ``problem_set`` (its version); the terms that result
    are checked as a new assignment's are. Another version of the same set may be pinned at any
    time (then a regrade moves the stored grades to it); another set only while nothing is
    submitted. The row is locked, so two changes at once are applied one after the other."""
    assignment = session.get(Assignment, (course_id, assignment_id), with_for_update=True)
    if assignment is None:
        raise NotFound(f"No assignment {assignment_id!r} in course {course_id!r}.")
    if problem_set is not None:
        if problem_set.id != assignment.problem_set and _submitted(session, assignment):
            raise Conflict(
                f"Assignment {assignment_id!r} has submissions graded against {assignment.problem_set!r}; "
                "it can move to another version of that set, not to another set (create a new assignment instead)."
            )
        assignment.problem_set, assignment.set_version = problem_set.id, problem_set.version
    if "category" in changes:
        require_category(session, course_id=course_id, name=changes["category"])
    dates_before = (assignment.opens_at, assignment.due_at)
    close_before = assignment.closes_at
    for name, value in changes.items():
        if name not in CHANGEABLE:
            raise ValueError(name)
        if name == "archived":
            if bool(value) != (assignment.archived_at is not None):
                assignment.archived_at = datetime.now(UTC) if value else None
        elif name == "access":  # (the rules sent, the others kept; a password is hashed)
            assignment.access = access_changed(assignment.access, value)
        else:
            setattr(assignment, name, _in_utc(value) if isinstance(value, datetime) else value)
    _check_schedule(assignment, from_now=bool(TIMING.intersection(changes)))
    session.flush()
    if close_before is not None and assignment.closes_at is not None:  # (a proctor's time past it follows it)
        moved = assignment.closes_at - close_before
        follow_moved_close(session, course_id=course_id, assignment_id=assignment_id, by=moved)
    if MOVES_RELEASE.intersection(changes):
        release_moved(session, assignment, sent=True)
    if SENT.intersection(changes):  # every student's counted score may change, or be seen: to their LMS (LTI)
        everyones_changed(session, course_id=course_id, assignment_id=assignment_id)
    if SENT_DATES.intersection(changes) and dates_before != (assignment.opens_at, assignment.due_at):
        dates_moved(session, course_id=course_id, assignment_ids=[assignment_id])  # to the LMS's line items
    return assignment


#: The assignment's fields that decide which attempt counts and its penalty.
COUNTING = frozenset({"due_at", "late_penalty", "grade_policy", "grace_minutes"})
#: Those whose change may change what the LMS is sent: the counted score, or whether its student
#: may see it yet (:mod:`api.terms.releases`).
SENT = COUNTING | MOVES_RELEASE | {"max_attempts"}


def _submitted(session: Session, assignment: Assignment) -> bool:
    found = session.scalar(
        select(Submission.id)
        .where(Submission.course_id == assignment.course_id, Submission.assignment_id == assignment.id)
        .limit(1)
    )
    return found is not None


def set_extension(
    session: Session,
    *,
    assignment: Terms,
    student_id: str,
    due_at: datetime | None,
    max_attempts: int | None,
    granted_by: str | None,
    closes_at: datetime | None = None,
    extra_minutes: int | None = None,
) -> ExtensionRow:
    """One student's own due date, attempt limit and close (None: the assignment's), replacing any
    earlier extension. The student must be a student of the course; the close may not come before
    the due date it applies to. ``granted_by`` None: the student's due date in the LMS, read at
    their launch (:mod:`api.lti.dates`)."""
    require_student(session, course_id=assignment.course_id, student_id=student_id)
    due = due_at or assignment.due_at
    if closes_at is not None and due is not None and closes_at < due:
        raise Unprocessable(
            f"The student's close ({iso(closes_at)}) is before their due date ({iso(due)}): it must be at or after it."
        )
    values = {
        "course_id": assignment.course_id,
        "assignment_id": assignment.id,
        "student_id": student_id,
        "due_at": due_at,
        "max_attempts": max_attempts,
        "closes_at": closes_at,
        "extra_minutes": extra_minutes,
        "granted_by": granted_by,
        "granted_at": datetime.now(UTC),
    }
    # one statement, so that two grants at once leave the later one rather than a unique violation
    upsert(session, Extension, values, keys=("course_id", "assignment_id", "student_id"))
    _release_moved(session, assignment)
    # a new due date may change the late penalty: the score goes to the student's LMS (LTI)
    score_changes.changed(session, course_id=assignment.course_id, assignment_id=assignment.id, student_id=student_id)
    return ExtensionRow(due_at, max_attempts, closes_at, extra_minutes)


def _release_moved(session: Session, assignment: Terms) -> None:
    """An extension may move the close for everyone, so the release of held-back scores with it."""
    session.flush()
    row = session.get(Assignment, (assignment.course_id, assignment.id))
    if row is not None:
        release_moved(session, row, sent=False)


def require_student(session: Session, *, course_id: str, student_id: str) -> None:
    """:class:`NotFound` unless ``student_id`` is a student of the course."""
    membership = session.get(Membership, (course_id, student_id)) if may_exist(student_id) else None
    if membership is None or membership.role != CourseRole.STUDENT:
        raise NotFound(f"No student {student_id!r} in course {course_id!r}.")


def drop_extension(session: Session, *, assignment: Terms, student_id: str) -> None:
    extension = session.get(Extension, (assignment.course_id, assignment.id, student_id))
    if extension is None:
        raise NotFound(f"Student {student_id!r} has no extension of assignment {assignment.id!r}.")
    session.delete(extension)
    _release_moved(session, assignment)
    score_changes.changed(session, course_id=assignment.course_id, assignment_id=assignment.id, student_id=student_id)


def extensions(session: Session, *, assignment: Terms) -> dict[str, ExtensionRow]:
    """Every extension of the assignment, by student, each carrying the student's accommodations;
    and one for every student holding an accommodation without an extension (``granted`` tells
    the extensions granted: :mod:`api.terms.accommodations`)."""
    rows = session.execute(
        select(
            Extension.student_id, Extension.due_at, Extension.max_attempts, Extension.closes_at, Extension.extra_minutes
        ).where(Extension.course_id == assignment.course_id, Extension.assignment_id == assignment.id)
    ).all()
    own = {student: ExtensionRow(due_at, limit, closes, extra) for student, due_at, limit, closes, extra in rows}
    return with_allowances(own, read_allowances(session, course_id=assignment.course_id))


def archive_assignment(session: Session, *, course_id: str, assignment_id: str) -> Assignment:
    """Archives the assignment (again: nothing changes): hidden from students, nothing deleted
    (submissions, grades, LMS line items kept); ``archived: false`` restores it."""
    return update_assignment(session, course_id=course_id, assignment_id=assignment_id, changes={"archived": True})


def list_assignments(
    session: Session, *, course_id: str, students: bool = False, archived: bool = False
) -> list[Assignment]:
    """The course's assignments, oldest first: as ``students`` see them (published, open, not
    archived: :func:`api.terms.rules.visible_to_students`), or as staff do (every one, the archived
    only if asked)."""
    query = select(Assignment).where(Assignment.course_id == course_id)
    if students:
        now = datetime.now(UTC)
        query = query.where(
            Assignment.published.is_(True),
            Assignment.archived_at.is_(None),
            or_(Assignment.opens_at.is_(None), Assignment.opens_at <= now),
        )
    elif not archived:
        query = query.where(Assignment.archived_at.is_(None))
    return list(session.scalars(query.order_by(Assignment.created_at, Assignment.id)))


def attempts_used(session: Session, *, course_id: str, student_id: str) -> dict[str, int]:
    """Attempts the student stored so far, by assignment of the course."""
    rows = session.execute(
        select(Submission.assignment_id, func.count())
        .where(Submission.course_id == course_id, Submission.student_id == student_id)
        .group_by(Submission.assignment_id)
    )
    return {assignment_id: count for assignment_id, count in rows}


def student_extensions(session: Session, *, course_id: str, student_id: str) -> StudentTerms:
    """The student's extensions, by assignment of the course, with their accommodations (``get``
    gives each assignment's: :class:`api.terms.accommodations.StudentTerms`)."""
    rows = session.execute(
        select(Extension.assignment_id, Extension.due_at, Extension.max_attempts, Extension.closes_at)
        .add_columns(Extension.extra_minutes)
        .where(Extension.course_id == course_id, Extension.student_id == student_id)
    )
    own = {assignment: ExtensionRow(due_at, limit, closes, extra) for assignment, due_at, limit, closes, extra in rows}
    allowance = read_allowances(session, course_id=course_id, student_id=student_id).get(student_id)
    return StudentTerms(own, allowance)


def variant_of(problem_set: ProblemSet, assignment: Terms, student: str | None) -> str | None:
    """What a student's variant of a randomized set is drawn from (None: the declared numbers)."""
    if not problem_set.randomized:
        return None
    return variant_key(student=student, secret=assignment.variant_secret)


def statements(
    problem_set: ProblemSet, student: str | None, options_for: str | None = None, *, own_letters: bool = False
) -> list[dict[str, Any]]:
    """The problems of one variant with statements filled in; problems sharing an id are merged.
    A choice part's options are in the order of ``options_for`` (:func:`api.assignments.options.order_key`;
    None: the file's), known by the file's letters or, ``own_letters`` (a student reading), by the
    letters of that order."""
    merged: dict[str, dict[str, Any]] = {}
    solved, code, choice = problem_set.solve(student), problem_set.code(), problem_set.choice()
    for problem in problem_set.variant(student).problems:
        entry = merged.setdefault(
            problem.id, {"id": problem.id, "title": problem.title, "statement": problem.statement(), "parts": []}
        )
        for part in problem.in_order():
            key = f"{problem.id}.{part.key}"
            shown = {"key": key, "prompt": part.prompt, "points": part.points}
            if isinstance(part, WrittenPart):
                entry["parts"].append({**shown, "kind": "text", "max_length": part.max_length})
            elif key in choice:
                entry["parts"].append(
                    {**shown, **choice_statement(problem_set, key, choice[key], options_for, own_letters=own_letters)}
                )
            elif key in code:
                entry["parts"].append({**shown, "kind": "code", "max_length": None})
            else:
                kind = solved[key].kind.value if key in solved else None
                entry["parts"].append({**shown, "kind": kind, "max_length": None})
    return list(merged.values())


def reference_answers(problem_set: ProblemSet, student: str | None) -> dict[str, Any]:
    """Per key, the answer that scores full points: a computed part's value, a choice part's letters."""
    found: dict[str, Any] = {key: to_json(a.kind, a.value) for key, a in problem_set.solve(student).items()}
    found |= {key: part.right_answer for key, part in problem_set.choice().items()}
    return {key: found[key] for key in problem_set.answer_keys() if key in found}


def worked_solutions(problem_set: ProblemSet, student: str | None) -> dict[str, list[dict[str, Any]]]:
    """Per key, the worked steps of the variant (shown under the same rule as the references:
    :func:`references_shown`), from the solvers alone (no mistake is solved for them)."""
    found = solutions(problem_set, student)
    return {key: [step.to_json() for step in steps] for key, steps in found.items()}


def max_score(problem_set: ProblemSet) -> float:
    return problem_set.max_score()
