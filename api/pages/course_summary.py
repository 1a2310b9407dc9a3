"""One line per assignment for the staff's dashboard: its set and version, and how it is going
(submissions, students who submitted, the mean of the scores the gradebook counts)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.assignments.service import list_assignments, max_score
from api.library import Sets
from api.models import Assignment
from api.reports.service import gradebook


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


def summarize(session: Session, sets: Sets, *, course_id: str) -> list[AssignmentSummary]:
    """Every assignment of the course, oldest first, read from the gradebook of each."""
    summaries = []
    for assignment in list_assignments(session, course_id=course_id):
        rows = gradebook(session, assignment=assignment, keys=[])["students"]
        counted = [row["score"] for row in rows if row["score"] is not None]
        problem_set = sets.of(assignment)
        summaries.append(
            AssignmentSummary(
                assignment=assignment,
                set_title=problem_set.title if problem_set else None,
                max_score=max_score(problem_set) if problem_set else None,
                submissions=sum(row["attempts"] for row in rows),
                submitted=len(counted),
                students=len(rows),
                mean_score=sum(counted) / len(counted) if counted else None,
            )
        )
    return summaries
