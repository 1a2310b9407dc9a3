"""The gradebook (one attempt per student: best or last, as the assignment says) and the
per-key statistics, computed from the stored grades."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assignments.draws import Draw, draw_of
from api.assignments.service import extensions
from api.models import CourseRole, Membership, Submission, User
from api.reports.attempts import Attempt, counted_attempts, counted_scores, read_attempts
from api.reports.items import Response, option_items, problem_items
from api.reports.meanings import Meanings
from api.submissions.service import list_submissions
from api.terms.rows import ExtensionRow, Terms
from grader.awaiting import awaiting
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


def stored_submissions(session: Session, *, assignment: Terms) -> list[Submission]:
    """Every stored submission of the assignment, as an ORM object (the grading queue's)."""
    return list_submissions(session, assignment=assignment, earlier_grades=False)


def gradebook(
    session: Session,
    *,
    assignment: Terms,
    keys: list[str],
    problem_set: ProblemSet | None = None,
    attempts: list[Attempt] | None = None,
) -> dict[str, Any]:
    """Every student of the course, with or without submissions (dropped students are not), with
    the attempt that counts under their terms (the assignment with their extension): its score
    after the late penalty, and the score before it. ``attempts``: those of
    :func:`api.reports.attempts.read_attempts`, if already read (every one, or those that may
    count). For a ``problem_set`` with pools or shuffle, each student's problems (their draw, in
    their order) and their keys alone. A fixed number of statements, whatever the course's size."""
    students = _students(session, course_id=assignment.course_id)
    extended = extensions(session, assignment=assignment)
    if attempts is None:
        attempts = read_attempts(session, assignment=assignment, counted_only=True, extended=bool(extended))
    chosen = counted_attempts(attempts, assignment=assignment, extensions=extended)
    drawing = problem_set if problem_set is not None and problem_set.draws_problems else None
    rows = []
    for student, name, email in students:
        found = chosen.get(student)
        draw = draw_of(drawing, assignment, student) if drawing is not None else None
        theirs = keys if draw is None else [key for key in keys if key in draw.keys]
        extension = _extension(extended.get(student))
        labels = _labels(extended.get(student))
        if found is None:
            rows.append(_unsubmitted(student, name, email, extension, draw) | {"accommodations": labels})
            continue
        attempt, late = found.attempt, found.lateness
        parts = attempt.parts
        waiting = awaiting(parts)
        rows.append(
            {
                "student": student,
                "name": name,
                "email": email,
                "extension": extension,
                "accommodations": labels,
                "attempts": attempt.tries,
                "attempt": attempt.attempt,
                "submission": attempt.id,
                "late": late.late,
                "days_late": late.days_late,
                "minutes_late": late.minutes_late,
                "lateness": late.described or None,
                "penalty": late.factor,
                "raw_score": attempt.score,
                "score": late.applied(attempt.score),
                "max_score": attempt.max_score,
                "problems": list(draw.problems) if draw is not None else None,
                "parts": {key: _part_score(parts, key) for key in theirs},
                "pending": _pending(parts),
                "graded_max_score": waiting.graded_max_score,
                "awaiting_points": waiting.points,
                "awaiting_parts": list(waiting.keys),
            }
        )
    return {
        "course": assignment.course_id,
        "assignment": assignment.id,
        "policy": assignment.grade_policy,
        "keys": keys,
        "students": rows,
    }


def scores_book(session: Session, *, assignment: Terms, attempts: list[Attempt] | None = None) -> dict[str, Any]:
    """What :func:`gradebook` says of each student's counted score alone (``student``, ``name``,
    ``email``, ``score``), for the readers that need no more (the Canvas import, the statistics'
    histogram): read from the index where the rules allow (:func:`api.reports.attempts.counted_scores`),
    with no parts read and no draws. ``attempts``: those already read, if any."""
    students = _students(session, course_id=assignment.course_id)
    extended = extensions(session, assignment=assignment)
    scores = counted_scores(session, assignment=assignment, extensions=extended, attempts=attempts)
    rows = [
        {"student": student, "name": name, "email": email, "score": scores.get(student)}
        for student, name, email in students
    ]
    return {"course": assignment.course_id, "assignment": assignment.id, "students": rows}


def _students(session: Session, *, course_id: str) -> list[tuple[str, str, str | None]]:
    """The course's current students (id, name, email), by id."""
    rows = session.execute(
        select(User.id, User.name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.course_id == course_id, Membership.role == CourseRole.STUDENT)
        .order_by(User.id)
    ).all()
    return [(student, name, email) for student, name, email in rows]


def _unsubmitted(
    student: str, name: str, email: str | None, extension: dict[str, Any] | None, draw: Draw | None
) -> dict[str, Any]:
    """The row of a student without a submission."""
    return {
        "student": student,
        "name": name,
        "email": email,
        "extension": extension,
        "attempts": 0,
        "attempt": None,
        "submission": None,
        "late": None,
        "days_late": None,
        "minutes_late": None,
        "lateness": None,
        "penalty": None,
        "raw_score": None,
        "score": None,
        "max_score": None,
        "problems": list(draw.problems) if draw is not None else None,
        "parts": {},
        "pending": [],
        "graded_max_score": None,
        "awaiting_points": None,
        "awaiting_parts": [],
    }


def _extension(extension: ExtensionRow | None) -> dict[str, Any] | None:
    """The extension granted (None: none; accommodations alone are not one: :func:`_labels`)."""
    if extension is None or not extension.granted:
        return None
    own = {"due_at": extension.due_at, "max_attempts": extension.max_attempts}
    # (the gradebook page shows a timed assignment's extra minutes; the REST gradebook's rows keep
    # their two fields, as its schema says)
    return own | {"extra_minutes": extension.extra_minutes}


def _labels(extension: ExtensionRow | None) -> list[str]:
    """The names of the student's accommodations."""
    return [] if extension is None or extension.allowance is None else list(extension.allowance.names)


def _part_score(parts: dict[str, Any], key: str) -> float | None:
    part = parts.get(key)
    return part.get("score") if isinstance(part, dict) else None


def _pending(parts: dict[str, Any]) -> list[str]:
    return [key for key, part in parts.items() if isinstance(part, dict) and part.get("status") == Status.PENDING.value]


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
    attempts: list[Attempt] | None = None,
) -> dict[str, Any]:
    """Per key, over every stored submission (all attempts), or with ``counted`` over the attempt
    the gradebook counts for each student, under their extension and the late penalty (so a student
    who submits often weighs no more): how many answered it, the mean score, the share fully
    correct, the commonest wrong answers and the count per mistake code. Wrong answers are grouped
    as read, or for a randomized ``problem_set`` (where every student has other numbers) by what
    they mean against each student's own reference. ``attempts``: those of
    :func:`api.reports.attempts.read_attempts` with their answers, if already read (every one, or
    with ``counted`` those that may count). Item analysis (:mod:`api.reports.items`) over the same
    submissions: each problem's difficulty and discrimination, each choice option's count, share
    and discrimination."""
    extended = extensions(session, assignment=assignment) if counted else {}
    if attempts is None:
        attempts = read_attempts(
            session, assignment=assignment, counted_only=counted, extended=bool(extended), answers=True
        )
    meanings = Meanings(problem_set) if problem_set is not None and problem_set.randomized else None
    # a choice part's picks are letters of the file, the same for every variant: grouped as read
    picked = problem_set.choice() if problem_set is not None else {}
    submissions = attempts
    if counted:
        submissions = [
            found.attempt for found in counted_attempts(attempts, assignment=assignment, extensions=extended).values()
        ]
    read = [(submission, submission.parts) for submission in submissions]  # (each decoded once, read per key)
    stats: dict[str, Any] = {}
    for key in keys:
        scores: list[float] = []
        statuses: Counter[str] = Counter()
        wrong: Counter[str] = Counter()
        examples: dict[str, str] = {}
        mistakes: Counter[str] = Counter()
        applied: Counter[str] = Counter()
        having: set[str] = set()
        for submission, parts in read:
            part = parts.get(key)
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
            "options": [],  # (a choice part's: below)
        }
    responses = [_response(submission, picked) for submission in submissions]
    for key, part in picked.items():
        if key in stats:
            options = [(letter, letter in part.right) for letter in part.ids]
            stats[key]["options"] = [asdict(item) for item in option_items(responses, key, options)]
    students = {s.student_id for s in submissions}
    return {
        "course": assignment.course_id,
        "assignment": assignment.id,
        "attempts": "counted" if counted else "all",
        "submissions": len(submissions),
        "students": len(students),
        "keys": stats,
        "problems": {name: asdict(item) for name, item in problem_items(responses).items()},
    }


def _response(submission: Attempt, choice: Mapping[str, object]) -> Response:
    """A submission as item analysis reads it (:mod:`api.reports.items`): per problem (a key's first
    half) its parts' score and maximum (a score not given yet counts 0, as above), the choice
    parts' picks."""
    problems: dict[str, tuple[float, float]] = {}
    for key, part in submission.parts.items():
        if not isinstance(part, dict):
            continue
        name = key.partition(".")[0]
        score, top = problems.get(name, (0.0, 0.0))
        problems[name] = (score + float(part.get("score") or 0.0), top + float(part.get("max_score") or 0.0))
    picks = {}
    for key in choice:
        answer = submission.answers.get(key)
        letters = [answer] if isinstance(answer, str) else answer if isinstance(answer, list) else []
        picks[key] = frozenset(letter for letter in letters if isinstance(letter, str))
    return Response(problems, picks)
