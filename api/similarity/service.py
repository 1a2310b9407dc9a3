"""Asking for an assignment's similarity report and reading it back, for the REST API and the pages.

**One report job per assignment at a time**, as a regrade (:mod:`api.jobs.service`): asked again
while one is queued or running, the answer is that job, which compares what was asked first.
The report row keeps what was asked (parts, starter) for the job to read, and the last report
until the next one is done. **Who looked** is logged (``grader.similarity``): the report is
evidence about students, read by staff only.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from api.kit.db import dialect_insert
from api.kit.errors import Unprocessable
from api.models import ACTIVE_JOB, Job, JobKind, JobStatus, SimilarityReport, Submission
from api.reports.service import spreadsheet_cell
from api.similarity.run import code_answers
from api.terms.rows import Terms
from api.users.service import Caller
from grader.code_similarity.report import Submission as Code
from grader.code_similarity.report import read
from problems.sets import ProblemSet

log = logging.getLogger("grader.similarity")

JOBS, REPORTS, SUBMISSIONS = (cast(Table, m.__table__) for m in (Job, SimilarityReport, Submission))

#: Defers the procrastinate job of a new jobs row on the session's connection (PostgreSQL); its id.
Deferrer = Callable[[Session, int, str], int]
#: The starter code's size at most, in characters.
MAX_STARTER = 200_000
#: Rounds of "another job is active, read its id" (it may finish in between: then insert again).
MAX_START_ROUNDS = 20


def start_report(
    session: Session,
    *,
    assignment: Terms,
    problem_set: ProblemSet,
    caller: Caller,
    parts: Sequence[str] | None,
    starter: str | None,
    defer: Deferrer | None,
) -> int:
    """The id of the assignment's similarity job: a new one (deferred with ``defer`` on PostgreSQL,
    in this transaction) comparing ``parts`` (all code parts if None) with ``starter`` weighing
    nothing, or the one already queued or running. 422 for a part that is not a code part."""
    code_keys = list(problem_set.code())
    if not code_keys:
        raise Unprocessable("This assignment has no code parts: there is no code to compare.")
    unknown = sorted(set(parts or ()) - set(code_keys))
    if unknown:
        raise Unprocessable(
            f"No code part {', '.join(unknown)} in this assignment. Code parts: {', '.join(code_keys)}."
        )
    values = {
        "kind": JobKind.SIMILARITY.value,
        "course_id": assignment.course_id,
        "assignment_id": assignment.id,
        "created_by": caller.id,
        "status": JobStatus.QUEUED.value,
        "done": 0,
        "total": 0,
        "changed": 0,
        "set_version": problem_set.version,
    }
    for _ in range(MAX_START_ROUNDS):
        inserted = session.execute(
            dialect_insert(session, JOBS)
            .values(values)
            .on_conflict_do_nothing(index_elements=["kind", "course_id", "assignment_id"], index_where=text(ACTIVE_JOB))
            .returning(JOBS.c.id)
        ).scalar()
        if inserted is not None:
            job_id = int(inserted)
            asked = {"job_id": job_id, "parts": list(parts) if parts else None, "starter": starter or None}
            session.execute(
                dialect_insert(session, REPORTS)
                .values(
                    course_id=assignment.course_id,
                    assignment_id=assignment.id,
                    submissions=0,
                    last_submission=0,
                    requested_by=caller.id,
                    **asked,
                )
                .on_conflict_do_update(
                    index_elements=["course_id", "assignment_id"], set_={**asked, "requested_by": caller.id}
                )
            )
            if defer is not None:
                lock = f"{JobKind.SIMILARITY.value}:{assignment.course_id}:{assignment.id}"
                queue_job_id = defer(session, job_id, lock)
                session.execute(JOBS.update().where(JOBS.c.id == job_id).values(queue_job_id=queue_job_id))
            return job_id
        active = session.scalar(
            select(JOBS.c.id).where(
                JOBS.c.kind == JobKind.SIMILARITY.value,
                JOBS.c.course_id == assignment.course_id,
                JOBS.c.assignment_id == assignment.id,
                text(ACTIVE_JOB),
            )
        )
        if active is not None:
            return int(active)
    raise RuntimeError("could not start or find the assignment's similarity job")


def read_report(session: Session, *, assignment: Terms, caller: Caller, part: str | None = None) -> dict[str, Any]:
    """The report as ``GET .../similarity`` shows it, its pairs those of ``part`` if given; who
    looked is logged. ``status``: ``none`` (never asked for), the job's while one is queued or
    running or failed (with the last report, if any), else ``done``."""
    log.info("similarity report of %s/%s read by %s", assignment.course_id, assignment.id, caller.id)
    row = session.get(SimilarityReport, (assignment.course_id, assignment.id))
    job = session.get(Job, row.job_id) if row is not None and row.job_id is not None else None
    report: dict[str, Any] = dict(row.report) if row is not None and row.report else {}
    pairs = list(report.get("pairs", []))
    if part is not None:
        pairs = [pair for pair in pairs if part in pair.get("parts", [])]
    since = 0
    if row is not None and row.report:
        latest = (
            select(func.max(SUBMISSIONS.c.id).label("id"))
            .where(SUBMISSIONS.c.course_id == assignment.course_id, SUBMISSIONS.c.assignment_id == assignment.id)
            .group_by(SUBMISSIONS.c.student_id)
            .subquery()
        )
        since = session.scalar(select(func.count()).select_from(latest).where(latest.c.id > row.last_submission)) or 0
    return {
        "status": job.status if job is not None else ("done" if report else "none"),
        "job": job.id if job is not None else None,
        "error": job.error if job is not None else None,
        "computed_at": row.computed_at if row is not None else None,
        "parts": report.get("parts", []),
        "students": report.get("students", 0),
        "pairs_compared": report.get("pairs_compared", 0),
        "new_submissions": since,
        "pairs": pairs,
        "clusters": report.get("clusters", []),
        "submissions": report.get("submissions", {}),
    }


#: The CSV export's columns.
CSV_COLUMNS = ("rank", "first", "second", "score", "shared_tokens", "parts", "same_mistakes", "rarest_fragment")


def report_csv(report: dict[str, Any]) -> str:
    """The ranked pairs as a spreadsheet reads them (a cell a spreadsheet would run is quoted)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for rank, pair in enumerate(report["pairs"], 1):
        fragments = pair.get("fragments") or [""]
        row = (
            rank,
            *pair["students"],
            pair["score"],
            pair["shared_tokens"],
            " ".join(pair["parts"]),
            "; ".join(pair["same_mistakes"]),
            fragments[0],
        )
        writer.writerow([spreadsheet_cell(cell) for cell in row])
    return out.getvalue()


@dataclass(frozen=True)
class Line:
    """A line of a side: its number, its text, and the matching blocks it is in."""

    number: int
    text: str
    blocks: tuple[int, ...]


@dataclass(frozen=True)
class Compared:
    """Two students' code side by side (as the report compared it), with the pair's evidence."""

    students: tuple[str, str]
    pair: dict[str, Any]
    sides: tuple[list[Line], list[Line]]


def compare(
    session: Session, *, assignment: Terms, problem_set: ProblemSet, caller: Caller, first: str, second: str
) -> Compared | None:
    """Two students of the report side by side, their matching blocks numbered on each line; None
    if the report does not hold the pair. Who looked is logged."""
    report = read_report(session, assignment=assignment, caller=caller)
    students = tuple(sorted((first, second)))
    pair = next((p for p in report["pairs"] if tuple(p["students"]) == students), None)
    ids = report["submissions"]
    if pair is None or any(student not in ids for student in students):
        return None
    log.info("similarity of %s and %s in %s/%s read by %s", *students, assignment.course_id, assignment.id, caller.id)
    rows = session.execute(
        select(SUBMISSIONS.c.id, SUBMISSIONS.c.answers).where(SUBMISSIONS.c.id.in_(ids[s] for s in students))
    )
    answers = {int(row.id): dict(row.answers or {}) for row in rows}
    sides = []
    for place, student in enumerate(students):
        document = read(
            Code(student, code_answers(problem_set, answers.get(ids[student], {}))), report["parts"] or None
        )
        spans = [(block["number"], block["first" if place == 0 else "second"]) for block in pair["blocks"]]
        sides.append(
            [
                Line(number, text, tuple(n for n, (a, b) in spans if a <= number <= b))
                for number, text in enumerate(document.text.split("\n"), 1)
            ]
        )
    return Compared((students[0], students[1]), pair, (sides[0], sides[1]))
