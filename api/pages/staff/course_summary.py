"""One line per assignment for the staff's dashboard: its set and version, and how it is going
(submissions, students who submitted, the mean of the scores the gradebook counts, and for one
with written parts the answers left to grade)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assignments.service import list_assignments, max_score
from api.coursebook.service import counted_scores, extensions_by_student
from api.library.course_sets import Sets
from api.models import Assignment, CourseRole, Membership, Submission
from grader.results import Status
from problems.sets import ProblemSet


@dataclass(frozen=True)
class AssignmentSummary:
    assignment: Assignment
    set_title: str | None
    max_score: float | None
    #: Attempts stored by the course's students (a dropped student's are not counted here).
    submissions: int
    #: Students with at least one attempt, of ``students``.
    submitted: int
    students: int
    #: The mean, over the students who submitted, of the score the gradebook counts for each
    #: (best or last attempt, after any late penalty): the number the course's grades are made of.
    mean_score: float | None
    #: With written parts: the counted attempts' written answers no grader has graded yet (None:
    #: no written part), and the first part, in the set's order, with some left.
    to_grade: int | None = None
    to_grade_key: str | None = None


#: Counted attempts whose parts are read at once, to count the answers left to grade.
_PARTS_CHUNK = 500


def summarize(session: Session, sets: Sets, *, course_id: str) -> list[AssignmentSummary]:
    """Every assignment of the course, oldest first, with the score the gradebook counts for each of
    its students (:func:`api.terms.counted.counted_attempt`, under their extension). The whole
    course is read in a fixed number of statements, whatever its size: its students, the columns of
    its students' scores (:func:`api.coursebook.service.counted_scores`), and its extensions."""
    students = set(
        session.scalars(
            select(Membership.user_id).where(Membership.course_id == course_id, Membership.role == CourseRole.STUDENT)
        )
    )
    assignments = list_assignments(session, course_id=course_id)
    problem_sets = {assignment.id: sets.of(assignment) for assignment in assignments}
    written = {a for a, problem_set in problem_sets.items() if problem_set is not None and any(problem_set.written())}
    counts = counted_scores(
        session,
        course_id=course_id,
        assignments=assignments,
        extended=extensions_by_student(session, course_id=course_id),
        by_attempt=written,  # (their counted attempts' written answers are counted below)
    )
    summaries = []
    chosen_ids: dict[str, list[int]] = {}
    for assignment in assignments:
        mine = [student for student in counts.scores[assignment.id] if student in students]
        counted = [counts.scores[assignment.id][student] for student in mine]
        chosen = counts.chosen[assignment.id]
        chosen_ids[assignment.id] = [chosen[student] for student in mine if student in chosen]
        stored = sum(counts.attempts[assignment.id][student] for student in mine)
        problem_set = problem_sets[assignment.id]
        summaries.append(
            AssignmentSummary(
                assignment=assignment,
                set_title=problem_set.title if problem_set else None,
                max_score=max_score(problem_set) if problem_set else None,
                submissions=stored,
                submitted=len(counted),
                students=len(students),
                mean_score=sum(counted) / len(counted) if counted else None,
            )
        )
    return [
        _with_work_left(session, problem_sets[summary.assignment.id], summary, chosen_ids[summary.assignment.id])
        for summary in summaries
    ]


def _with_work_left(
    session: Session, problem_set: ProblemSet | None, summary: AssignmentSummary, counted: list[int]
) -> AssignmentSummary:
    """The summary with its counted attempts' written answers left to grade (``pending``), read
    only for an assignment with written parts, and only those attempts' parts."""
    written = list(problem_set.written()) if problem_set is not None else []
    if not written:
        return summary
    left = dict.fromkeys(written, 0)
    pending = Status.PENDING.value
    for start in range(0, len(counted), _PARTS_CHUNK):
        chunk = counted[start : start + _PARTS_CHUNK]
        for parts in session.scalars(select(Submission.parts).where(Submission.id.in_(chunk))):
            for key in written:
                part = parts.get(key)
                if isinstance(part, dict) and part.get("status") == pending:
                    left[key] += 1
    first = next((key for key, count in left.items() if count), None)
    return replace(summary, to_grade=sum(left.values()), to_grade_key=first)
