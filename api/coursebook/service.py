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

from sqlalchemy import ColumnElement, CompoundSelect, bindparam, case, func, literal, or_, select, tuple_, union_all
from sqlalchemy.orm import Session

from api.assignments.draws import drawn_ids
from api.assignments.service import list_assignments
from api.categories.store import categories_of
from api.categories.weights import Category, Points, standing
from api.library.course_sets import Sets
from api.models import (
    Assignment,
    CourseRole,
    Extension,
    GradePolicy,
    Membership,
    StudentAccommodation,
    Submission,
    User,
)
from api.terms.accommodations import CourseTerms, read_allowances
from api.terms.counted import best_score_counts, counted_attempt
from api.terms.lateness import Steps, steps
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
#: A student whose terms of an assignment are their own (an extension of it, or an accommodation):
#: their attempts are counted by the rules.
_OWN_TERMS = or_(
    tuple_(Submission.assignment_id, Submission.student_id).in_(
        select(Extension.assignment_id, Extension.student_id).where(Extension.course_id == bindparam("course_id"))
    ),
    Submission.student_id.in_(
        select(StudentAccommodation.student_id).where(StudentAccommodation.course_id == bindparam("course_id"))
    ),
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
    extension (``extended``: :func:`extensions_by_student`), as
    :func:`api.terms.counted.counted_attempt` counts it. Under ``best`` the database gives each
    student's best score after the penalty, told as steps in time (:func:`api.terms.lateness.steps`);
    under ``last`` the last attempt's; the attempts of the rest (a penalty of too many steps, a
    student with terms of their own, and ``by_attempt``, whose counted attempt is wanted) are read
    and counted here (:func:`_kept_scores`). Two statements, three with ``by_attempt``, whatever the
    course's size; the terms are read as plain values once (an ORM attribute costs more, 30,000
    times over)."""
    scores: dict[str, dict[str, float]] = {a.id: {} for a in assignments}
    tries: dict[str, dict[str, int]] = {a.id: {} for a in assignments}
    chosen: dict[str, dict[str, int]] = {a.id: {} for a in assignments}
    counts = CourseCounts(scores, tries, chosen)
    rows = {a.id: AssignmentRow.of(a) for a in assignments}
    best_alone: list[str] = []  # (the best raw score counts, whoever the student)
    stepped: dict[str, Steps] = {}  # (the penalty told in steps: for a student without terms of their own)
    ruled: list[str] = []
    for a in assignments:
        terms = rows[a.id]
        if a.id in by_attempt:
            continue
        told = steps(terms.due_at, terms.late_penalty, terms.grace_minutes)
        if best_score_counts(terms, extended=extended.extends(a.id)):
            best_alone.append(a.id)
        elif told is not None:
            stepped[a.id] = told
        else:
            ruled.append(a.id)
    parameters = {"course_id": course_id}
    rounded: dict[float, float] = {}  # (a course's scores take few values, and round() is slow)
    if best_alone or stepped:
        kept_scores = session.execute(_kept_scores(best_alone, stepped, rows), parameters).all()  # (fetched at once)
        for assignment_id, student, kept, count in kept_scores:
            score = rounded.get(kept)
            if score is None:
                score = rounded[kept] = round(kept, 6)  # (as the late penalty's ``applied`` rounds)
            scores[assignment_id][student] = score
            tries[assignment_id][student] = count
    attempts: dict[tuple[str, str], list[ScoredAttempt]] = defaultdict(list)
    if by_attempt:
        for assignment_id, student, number, attempt, score, at in session.execute(
            select(*_SCORED_COLUMNS).where(
                Submission.course_id == bindparam("course_id"), Submission.assignment_id.in_(sorted(by_attempt))
            ),
            parameters,
        ).all():
            attempts[(assignment_id, student)].append(ScoredAttempt(number, attempt, score, at))
    if ruled or stepped:
        for assignment_id, student, number, attempt, score, at in session.execute(
            select(*_SCORED_COLUMNS).where(
                Submission.course_id == bindparam("course_id"),
                Submission.assignment_id.in_(ruled) | (Submission.assignment_id.in_(list(stepped)) & _OWN_TERMS),
            ),
            parameters,
        ).all():
            attempts[(assignment_id, student)].append(ScoredAttempt(number, attempt, score, at))
    for (assignment_id, student), tried in attempts.items():
        found = counted_attempt(tried, with_extension(rows[assignment_id], extended.get((assignment_id, student))))
        if found is not None:
            counted, late = found
            scores[assignment_id][student] = late.applied(counted.score)
            tries[assignment_id][student] = len(tried)
            chosen[assignment_id][student] = counted.id
    return counts


def _kept_scores(
    best_alone: list[str], stepped: dict[str, Steps], rows: dict[str, AssignmentRow]
) -> CompoundSelect[str, str, float, int]:
    """Each student's counted score (before rounding) and number of attempts, by assignment and
    student, as the database works them out: the best raw score of the assignments of
    ``best_alone``; of those ``stepped``, for each student without terms of their own, the best or
    the last attempt's score times what the late penalty leaves of it."""
    kept = Submission.score * _factor(stepped)
    ours = Submission.course_id == bindparam("course_id")
    best = [a for a, row in rows.items() if a in stepped and row.grade_policy == GradePolicy.BEST.value]
    last = [a for a in stepped if a not in best]
    highest = (
        select(Submission.assignment_id, Submission.student_id, func.max(kept), func.count())
        .where(ours, Submission.assignment_id.in_(best_alone) | (Submission.assignment_id.in_(best) & ~_OWN_TERMS))
        .group_by(Submission.assignment_id, Submission.student_id)
    )
    # the last attempt is each student's first by number, down (rather than a join back to the
    # table on the highest number, which probed the index once a student)
    by_student = (Submission.assignment_id, Submission.student_id)
    ranked = (
        select(
            Submission.assignment_id,
            Submission.student_id,
            kept.label("kept"),
            func.row_number().over(partition_by=by_student, order_by=Submission.attempt.desc()).label("rank"),
            func.count().over(partition_by=by_student).label("n"),
        )
        .where(ours, Submission.assignment_id.in_(last), ~_OWN_TERMS)
        .subquery()
    )
    latest = select(ranked.c.assignment_id, ranked.c.student_id, ranked.c.kept, ranked.c.n).where(ranked.c.rank == 1)
    return union_all(highest, latest)


def _factor(stepped: dict[str, Steps]) -> ColumnElement[float]:
    """What an attempt keeps of its score after its assignment's late penalty (``stepped``), as the
    database works it out from its time alone (1 for any other assignment)."""
    if not stepped:
        return literal(1.0)
    by_time = {
        assignment_id: case(
            *(
                (Submission.submitted_at <= until, factor)
                for until, factor in zip(told.until, told.factors, strict=True)
            ),
            else_=told.after,
        )
        if told.until
        else literal(told.after)
        for assignment_id, told in stepped.items()
    }
    return case(by_time, value=Submission.assignment_id, else_=1.0)


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
        ).all()
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
