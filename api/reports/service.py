"""The gradebook (one attempt per student: best or last, as the assignment says) and the
per-key statistics, computed from the stored grades."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assignments.draws import own_set
from api.assignments.service import extensions
from api.models import CourseRole, Membership, Submission, User
from api.submissions.service import list_submissions
from api.terms.counted import counted_attempt
from api.terms.rows import ExtensionRow, Terms, with_extension
from grader.awaiting import awaiting
from grader.comparison.meaning import WrongAnswers
from grader.results import Status
from grader.written import is_manual
from problems.sets import ProblemSet

#: Spreadsheets run a cell that starts with one of these as a formula; such text gets a leading '.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
COMMONEST = 5
#: The gradebook CSV's columns before the keys'.
CSV_COLUMNS = (
    *("student", "name", "email", "attempts", "attempt"),
    *("late", "days_late", "raw_score", "score", "max_score"),
)


def _by_student(submissions: list[Submission]) -> dict[str, list[Submission]]:
    grouped: dict[str, list[Submission]] = {}
    for submission in submissions:
        grouped.setdefault(submission.student_id, []).append(submission)
    return grouped


def stored_submissions(session: Session, *, assignment: Terms) -> list[Submission]:
    """Every stored submission of the assignment, as the gradebook and the statistics read them
    (a page that shows both reads them once)."""
    return list_submissions(session, assignment=assignment, earlier_grades=False)


def gradebook(
    session: Session,
    *,
    assignment: Terms,
    keys: list[str],
    submissions: list[Submission] | None = None,
    problem_set: ProblemSet | None = None,
) -> dict[str, Any]:
    """Every student of the course, with or without submissions (dropped students are not), with
    the attempt that counts under their terms (the assignment with their extension): its score
    after the late penalty, and the score before it. ``submissions``: those of
    :func:`stored_submissions`, if already read. For a ``problem_set`` with pools or shuffle, each
    student's problems (their draw, in their order) and their keys alone."""
    students = session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.course_id == assignment.course_id, Membership.role == CourseRole.STUDENT)
        .order_by(User.id)
    )
    if submissions is None:
        submissions = stored_submissions(session, assignment=assignment)
    by_student = _by_student(submissions)
    extended = extensions(session, assignment=assignment)
    rows = []
    for student in students:
        mine = by_student.get(student.id, [])
        extension = extended.get(student.id)
        chosen, counted = counted_attempt(mine, with_extension(assignment, extension)) or (None, None)
        waiting = awaiting(chosen.parts) if chosen else None
        own = own_set(problem_set, assignment, student.id) if problem_set and problem_set.draws_problems else None
        held = set(own.answer_keys()) if own is not None else set()
        theirs = keys if own is None else [key for key in keys if key in held]
        rows.append(
            {
                "student": student.id,
                "name": student.name,
                "email": student.email,
                "extension": _extension(extension),
                "attempts": len(mine),
                "attempt": chosen.attempt if chosen else None,
                "submission": chosen.id if chosen else None,
                "late": counted.late if counted else None,
                "days_late": counted.days_late if counted else None,
                "penalty": counted.factor if counted else None,
                "raw_score": chosen.score if chosen else None,
                "score": counted.applied(chosen.score) if chosen and counted else None,
                "max_score": chosen.max_score if chosen else None,
                "problems": own.problem_ids() if own is not None else None,
                "parts": {key: _part_score(chosen, key) for key in theirs} if chosen else {},
                "pending": _pending(chosen) if chosen else [],
                "graded_max_score": waiting.graded_max_score if waiting else None,
                "awaiting_points": waiting.points if waiting else None,
                "awaiting_parts": list(waiting.keys) if waiting else [],
            }
        )
    return {
        "course": assignment.course_id,
        "assignment": assignment.id,
        "policy": assignment.grade_policy,
        "keys": keys,
        "students": rows,
    }


def _extension(extension: ExtensionRow | None) -> dict[str, Any] | None:
    if extension is None:
        return None
    own = {"due_at": extension.due_at, "max_attempts": extension.max_attempts}
    # (the gradebook page shows a timed assignment's extra minutes; the REST gradebook's rows keep
    # their two fields, as its schema says)
    return own | {"extra_minutes": extension.extra_minutes}


def _part_score(submission: Submission, key: str) -> float | None:
    part = submission.parts.get(key)
    return part.get("score") if isinstance(part, dict) else None


def _pending(submission: Submission) -> list[str]:
    return [
        key
        for key, part in submission.parts.items()
        if isinstance(part, dict) and part.get("status") == Status.PENDING.value
    ]


def spreadsheet_cell(value: Any) -> Any:
    """A value as a CSV cell: blank for None, yes/no, whole numbers without .0, and text a spreadsheet
    would run as a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def gradebook_csv(book: dict[str, Any]) -> str:
    """One row per student: id, name, email, attempts, the attempt counted, late, days late, the
    score before the late penalty, the score counted, max, (of a set with pools or shuffle, the
    student's problems, in their order), then one column per key (before any penalty; blank for a
    key of a problem not drawn for the student). UTF-8 with a byte-order mark (so spreadsheets
    detect the encoding), CRLF rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    keys = book["keys"]
    columns = (
        "student",
        "name",
        "email",
        "attempts",
        "attempt",
        "late",
        "days_late",
        "raw_score",
        "score",
        "max_score",
    )
    drawn = any(row.get("problems") is not None for row in book["students"])  # (a set with pools or shuffle)
    writer.writerow([*columns, *(["problems"] if drawn else []), *keys])
    for row in book["students"]:
        fixed = [row[f] for f in columns] + ([" ".join(row["problems"] or [])] if drawn else [])
        writer.writerow(
            [spreadsheet_cell(v) for v in fixed] + [spreadsheet_cell(row["parts"].get(key)) for key in keys]
        )
    return "\ufeff" + out.getvalue()


#: The columns Canvas's gradebook import requires before the assignments', in its order. Canvas
#: matches a row to a student by ``ID`` (its own user id, unknown here), ``SIS User ID`` or
#: ``SIS Login ID``; an assignment column whose header carries no ``(canvas id)`` creates a new
#: assignment of that name, and the row starting ``Points Possible`` gives its points.
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def gradebook_canvas(book: dict[str, Any], *, title: str, points: float) -> str:
    """The gradebook as a file Canvas's gradebook import takes as it is: one assignment column named
    by the assignment's title, the counted score per student (blank: no submission), our student id
    as the SIS User ID and the email (or the id) as the SIS Login ID."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CANVAS_COLUMNS, spreadsheet_cell(title)])
    writer.writerow(["Points Possible", "", "", "", "", spreadsheet_cell(points)])
    for row in book["students"]:
        sis_login = row["email"] or row["student"]
        writer.writerow(
            [
                spreadsheet_cell(row["name"]),
                "",
                spreadsheet_cell(row["student"]),
                spreadsheet_cell(sis_login),
                "",
                spreadsheet_cell(row["score"]),
            ]
        )
    return out.getvalue()


def statistics(
    session: Session,
    *,
    assignment: Terms,
    keys: list[str],
    counted: bool = False,
    problem_set: ProblemSet | None = None,
    submissions: list[Submission] | None = None,
) -> dict[str, Any]:
    """Per key, over every stored submission (all attempts), or with ``counted`` over the attempt
    the gradebook counts for each student, under their extension and the late penalty (so a student
    who submits often weighs no more): how many answered it, the mean score, the share fully
    correct, the commonest wrong answers and the count per mistake code. Wrong answers are grouped
    as read, or for a randomized ``problem_set`` (where every student has other numbers) by what
    they mean against each student's own reference."""
    if submissions is None:
        submissions = stored_submissions(session, assignment=assignment)
    meanings = WrongAnswers(problem_set) if problem_set is not None and problem_set.randomized else None
    # a choice part's picks are letters of the file, the same for every variant: grouped as read
    picked = problem_set.choice() if problem_set is not None else {}
    if counted:
        extended = extensions(session, assignment=assignment)
        found = (
            counted_attempt(attempts, with_extension(assignment, extended.get(student)))
            for student, attempts in _by_student(submissions).items()
        )
        submissions = [chosen for chosen, _late in filter(None, found)]
    stats: dict[str, Any] = {}
    for key in keys:
        scores: list[float] = []
        statuses: Counter[str] = Counter()
        wrong: Counter[str] = Counter()
        examples: dict[str, str] = {}
        mistakes: Counter[str] = Counter()
        applied: Counter[str] = Counter()
        having: set[str] = set()
        for submission in submissions:
            part = submission.parts.get(key)
            if not isinstance(part, dict):  # (of a pool: a student who did not draw its problem)
                continue
            having.add(submission.student_id)
            scores.append(float(part.get("score") or 0.0))
            status = str(part.get("status"))
            statuses[status] += 1
            if is_manual(part):  # graded by hand: what counts is which items were applied
                applied.update(str(item.get("text")) for item in part.get("rubric") or [] if isinstance(item, dict))
            elif status in ("incorrect", "partial"):
                shown = str(part.get("read_as") or submission.answers.get(key))
                group = (
                    meanings.meaning(key, part, submission.variant).label if meanings and key not in picked else shown
                )
                wrong[group] += 1
                examples.setdefault(group, shown)
            if part.get("misconception"):
                mistakes[str(part["misconception"])] += 1
        count = len(scores)
        stats[key] = {
            "submissions": count,
            "students": len(having),
            "answered": count - statuses["unanswered"],
            "mean_score": round(sum(scores) / count, 6) if count else None,
            "share_correct": round(statuses["correct"] / count, 6) if count else None,
            "statuses": dict(statuses),
            "commonest_wrong_answers": [
                {"answer": a, "count": n, "example": examples[a]} for a, n in wrong.most_common(COMMONEST)
            ],
            "misconceptions": dict(mistakes.most_common()),
            "rubric_items": dict(applied.most_common()),
        }
    students = {s.student_id for s in submissions}
    return {
        "course": assignment.course_id,
        "assignment": assignment.id,
        "attempts": "counted" if counted else "all",
        "submissions": len(submissions),
        "students": len(students),
        "keys": stats,
    }
