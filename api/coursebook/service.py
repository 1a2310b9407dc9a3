"""The course gradebook, read in a fixed number of statements whatever the course's size: its
students, its assignments, the columns of its submissions that scores need, its extensions. Each
student's score per assignment is the one the assignment's own gradebook counts (best or last
attempt, after the late penalty under their extension: :func:`api.terms.counted.counted_attempt`),
so the two gradebooks cannot disagree; the categories and total are
:func:`api.categories.weights.standing` of those scores."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from api.assignments.draws import drawn_ids
from api.assignments.service import list_assignments
from api.categories.store import categories_of
from api.categories.weights import Category, Points, standing
from api.kit.statements import Prepared
from api.library.course_sets import Sets
from api.models import Assignment, CourseRole, Extension, Membership, Submission, User
from api.terms.accommodations import CourseTerms, read_allowances
from api.terms.counted import best_score_counts, counted_attempt
from api.terms.rows import AssignmentRow, ExtensionRow, with_extension
from problems.sets import ProblemSet


@dataclass(frozen=True, slots=True)
class Column:
    """One assignment of the gradebook: what it is worth (None: its set is gone, it counts nothing)."""

    id: str
    title: str
    category: str
    max_score: float | None


@dataclass(frozen=True, slots=True)
class StudentRow:
    id: str
    name: str
    email: str | None
    #: The counted score per assignment id (None: nothing submitted).
    scores: dict[str, float | None]
    #: The percent per category (None: nothing to grade in it yet).
    categories: dict[str, float | None]
    total: float | None
    #: Assignment id → the ids of the problems drawn for the student, for those whose set has pools or shuffle.
    problems: dict[str, list[str]] | None = None


@dataclass(frozen=True, slots=True)
class CourseBook:
    course: str
    categories: tuple[Category, ...]
    assignments: list[Column]
    students: list[StudentRow]


class ScoredAttempt(NamedTuple):
    """What :func:`api.terms.counted.counted_attempt` needs of a submission, and its id."""

    id: int
    attempt: int
    score: float
    submitted_at: datetime


#: The columns of a course's submissions that scores need (not their answers or parts).
_SCORED_COLUMNS = (
    Submission.assignment_id,
    Submission.student_id,
    Submission.id,
    Submission.attempt,
    Submission.score,
    Submission.submitted_at,
)
#: Every attempt's score and time of a course, on the driver's cursor (a big course has tens of
#: thousands: SQLAlchemy's result rows cost more than the counting; those of assignments counted from
#: the maximum alone are passed over, cheaper than a statement per set of assignments).
_SCORED = Prepared(select(*_SCORED_COLUMNS).where(Submission.course_id == bindparam("course_id")))
#: Each student's best score and number of attempts per assignment of a course, read from the index
#: ``ix_submissions_scores`` alone, in its order.
_BEST = Prepared(
    select(Submission.assignment_id, Submission.student_id, func.max(Submission.score), func.count())
    .where(Submission.course_id == bindparam("course_id"))
    .group_by(Submission.assignment_id, Submission.student_id)
)


@dataclass(frozen=True, slots=True)
class CourseCounts:
    """What each student's gradebook counts, by assignment id then student id (students without
    attempts absent): the score, their attempts, and the counted attempt's id where it was chosen
    attempt by attempt. Three plain dictionaries rather than a record per student: a big course
    has 30,000 of them, and building a record each cost more than reading them."""

    scores: dict[str, dict[str, float]]
    attempts: dict[str, dict[str, int]]
    chosen: dict[str, dict[str, int]]


def counted_scores(
    session: Session,
    *,
    course_id: str,
    assignments: Sequence[Assignment],
    extended: CourseTerms,
    by_attempt: Collection[str] = (),
) -> CourseCounts:
    """What the gradebook counts for each student of each of ``assignments``, under their
    extension (``extended``: :func:`extensions_by_student`). Where the best raw score counts
    whatever the times (:func:`api.terms.counted.best_score_counts`), the database gives each
    student's maximum (no attempt is chosen); the other assignments, and those in ``by_attempt``
    (whose counted attempt is wanted), are read attempt by attempt, as rows at once, and counted
    with :func:`api.terms.counted.counted_attempt`. Two statements, whatever the course's size; the
    terms are read as plain values once (an ORM attribute costs more, 30,000 times over)."""
    best_alone = {
        a.id for a in assignments if a.id not in by_attempt and best_score_counts(a, extended=extended.extends(a.id))
    }
    scores: dict[str, dict[str, float]] = {a.id: {} for a in assignments}
    tries: dict[str, dict[str, int]] = {a.id: {} for a in assignments}
    chosen: dict[str, dict[str, int]] = {a.id: {} for a in assignments}
    counts = CourseCounts(scores, tries, chosen)
    if best_alone:
        rounded: dict[float, float] = {}  # (a course's scores take few values, and round() is slow)
        for assignment_id, student, best, count in _BEST.tuples(session, {"course_id": course_id}):
            if assignment_id in best_alone:
                score = rounded.get(best)
                if score is None:
                    score = rounded[best] = round(best, 6)  # (as the late penalty's ``applied`` rounds)
                scores[assignment_id][student] = score
                tries[assignment_id][student] = count
    rest = {a.id: AssignmentRow.of(a) for a in assignments if a.id not in best_alone}
    if not rest:
        return counts
    attempts: dict[tuple[str, str], list[ScoredAttempt]] = defaultdict(list)
    for assignment_id, student, number, attempt, score, at in _SCORED.tuples(session, {"course_id": course_id}):
        if assignment_id in rest:
            attempts[(assignment_id, student)].append(ScoredAttempt(number, attempt, score, at))
    for (assignment_id, student), tried in attempts.items():
        found = counted_attempt(tried, with_extension(rest[assignment_id], extended.get((assignment_id, student))))
        if found is not None:
            counted, late = found
            scores[assignment_id][student] = late.applied(counted.score)
            tries[assignment_id][student] = len(tried)
            chosen[assignment_id][student] = counted.id
    return counts


def extensions_by_student(session: Session, *, course_id: str) -> CourseTerms:
    """(Assignment id, student id) → their extension, every one of the course in one statement,
    with each student's accommodations (:class:`api.terms.accommodations.CourseTerms`)."""
    own = {
        (assignment_id, student): ExtensionRow(due_at, limit, closes)
        for assignment_id, student, due_at, limit, closes in session.execute(
            select(
                Extension.assignment_id,
                Extension.student_id,
                Extension.due_at,
                Extension.max_attempts,
                Extension.closes_at,
            ).where(Extension.course_id == course_id)
        )
    }
    return CourseTerms(own, read_allowances(session, course_id=course_id))


#: Percents are given to this many decimals (a hundredth of a hundredth of a percent).
DIGITS = 4


def counted_assignments(session: Session, *, course_id: str) -> list[Assignment]:
    """The assignments a course's grades are made of: published and not archived (a draft or an
    archived one is nobody's grade), oldest first."""
    return [a for a in list_assignments(session, course_id=course_id) if a.published]


def course_gradebook(session: Session, sets: Sets, *, course_id: str) -> CourseBook:
    """Every current student of the course (by id) with their counted score on every assignment
    that counts (:func:`counted_assignments`), their percent per category and their total. A
    missing score counts 0 of the assignment's points (:mod:`api.categories.weights`)."""
    categories = categories_of(session, course_id=course_id)
    assignments = counted_assignments(session, course_id=course_id)
    columns = []
    # the assignments whose students each have their problems (their terms as plain values: read
    # for every student)
    drawing: list[tuple[AssignmentRow, ProblemSet]] = []
    for assignment in assignments:
        problem_set = sets.of(assignment)
        worth = problem_set.max_score() if problem_set is not None else None  # (the same for every draw)
        columns.append(Column(assignment.id, assignment.title, assignment.category, worth))
        if problem_set is not None and problem_set.draws_problems:
            drawing.append((AssignmentRow.of(assignment), problem_set))
    students = session.execute(
        select(User.id, User.name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.course_id == course_id, Membership.role == CourseRole.STUDENT)
        .order_by(User.id)
    ).all()
    extended = extensions_by_student(session, course_id=course_id)
    counted = counted_scores(session, course_id=course_id, assignments=assignments, extended=extended).scores
    by_column = [(column.id, column.category, column.max_score, counted[column.id]) for column in columns]
    rows = []
    for student_id, name, email in students:
        scores: dict[str, float | None] = {}
        points: dict[str, list[Points]] = defaultdict(list)
        for assignment_id, category, worth, theirs in by_column:
            score = scores[assignment_id] = theirs.get(student_id)
            if worth is not None:
                points[category].append(Points(score, worth))
        result = standing(categories, points)
        rows.append(
            StudentRow(
                student_id,
                name,
                email,
                scores,
                {c: _rounded(p) for c, p in result.categories.items()},
                _rounded(result.total),
                {a.id: ids for a, problem_set in drawing if (ids := drawn_ids(problem_set, a, student_id))} or None,
            )
        )
    return CourseBook(course_id, categories, columns, rows)


def _rounded(percent: float | None) -> float | None:
    return None if percent is None else round(percent, DIGITS)
