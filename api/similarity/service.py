"""Asking for an assignment's similarity report and reading it back, for the REST API and the pages.

**One report job per assignment at a time**, as a regrade (started by :mod:`api.jobs.service`,
which runs this package's job): asked again while one is queued or running, the answer is that
job, which compares what was asked first. The report row keeps what was asked (parts, starter)
for the job to read, and the last report until the next one is done. **Who looked** is logged
(``grader.similarity``): the report is evidence about students, read by staff only.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from api.access import Member
from api.kit.db import dialect_insert
from api.kit.errors import NotFound, Unprocessable
from api.models import Job, SimilarityReport, Submission
from api.reports.service import spreadsheet_cell
from api.similarity.run import code_answers
from api.similarity.written import WrittenSides, merged, sides_of
from api.terms.rows import Terms
from api.users.service import Caller
from grader.code_similarity.report import Submission as Code
from grader.code_similarity.report import read
from problems.sets import ProblemSet

log = logging.getLogger("grader.similarity")

REPORTS, SUBMISSIONS = (cast(Table, m.__table__) for m in (SimilarityReport, Submission))

#: The starter code's size at most, in characters.
MAX_STARTER = 200_000


def staff_or_not_found(member: Member) -> Member:
    """The course's staff; anyone else 404, students included: the report's existence is not told."""
    if not member.is_staff:
        raise NotFound("Not found.")
    return member


def check_parts(problem_set: ProblemSet, parts: Sequence[str] | None) -> None:
    """422 for a part that is neither a code part nor a written one, or an assignment with
    neither: there is nothing to compare."""
    keys = [*problem_set.code(), *problem_set.written()]
    if not keys:
        raise Unprocessable("This assignment has no code or written parts: there is nothing to compare.")
    unknown = sorted(set(parts or ()) - set(keys))
    if unknown:
        raise Unprocessable(
            f"No code or written part {', '.join(unknown)} in this assignment. "
            f"Code and written parts: {', '.join(keys)}."
        )


def record_asked(
    session: Session,
    *,
    assignment: Terms,
    job_id: int,
    caller: Caller | None,
    parts: Sequence[str] | None,
    starter: str | None,
    references: Sequence[Mapping[str, str]] | None = None,
) -> None:
    """What a new report job compares (``parts``: all code and written parts if None; ``starter``
    weighing nothing; ``references``: earlier assignments compared against, checked already), kept
    on the assignment's report row for the job to read, beside the last report. ``caller`` None: the
    report started at the assignment's close (:mod:`api.jobs.similarity_due`)."""
    asked = {
        "job_id": job_id,
        "parts": list(parts) if parts else None,
        "starter": starter or None,
        "reference_assignments": [dict(reference) for reference in references] if references else None,
    }
    session.execute(
        dialect_insert(session, REPORTS)
        .values(
            course_id=assignment.course_id,
            assignment_id=assignment.id,
            submissions=0,
            last_submission=0,
            requested_by=caller.id if caller is not None else None,
            **asked,
        )
        .on_conflict_do_update(
            index_elements=["course_id", "assignment_id"],
            set_={**asked, "requested_by": caller.id if caller is not None else None},
        )
    )


def read_report(session: Session, *, assignment: Terms, caller: Caller, part: str | None = None) -> dict[str, Any]:
    """The report as ``GET .../similarity`` shows it, its pairs those of ``part`` if given; who
    looked is logged. ``status``: ``none`` (never asked for), the job's while one is queued or
    running or failed (with the last report, if any), else ``done``."""
    log.info("similarity report of %s/%s read by %s", assignment.course_id, assignment.id, caller.id)
    row = session.get(SimilarityReport, (assignment.course_id, assignment.id))
    job = session.get(Job, row.job_id) if row is not None and row.job_id is not None else None
    report: dict[str, Any] = dict(row.report) if row is not None and row.report else {}
    pairs = merged(report.get("pairs", []), report.get("written", []))
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
        "references": report.get("references", []),
    }


#: The CSV export's columns.
CSV_COLUMNS = ("rank", "first", "second", "score", "shared_tokens", "parts", "same_mistakes", "rarest_fragment")


def report_csv(report: dict[str, Any]) -> str:
    """The ranked pairs as a spreadsheet reads them (a cell a spreadsheet would run is quoted)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for rank, pair in enumerate(report["pairs"], 1):
        passages = [passage["text"] for part in pair.get("written", []) for passage in part["passages"]]
        fragments = pair.get("fragments") or passages or [""]
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
    """Two students' code (as the report compared it) and written answers side by side, with the
    pair's evidence."""

    students: tuple[str, str]
    pair: dict[str, Any]
    sides: tuple[list[Line], list[Line]]
    #: The written parts whose answers share rare passages, side by side.
    written: list[WrittenSides]


def compare(
    session: Session, *, assignment: Terms, problem_set: ProblemSet, caller: Caller, first: str, second: str
) -> Compared | None:
    """Two students of the report side by side, their matching blocks numbered on each line and
    their written answers cut at the shared passages; None if the report does not hold the pair.
    Who looked is logged."""
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
    written = sides_of(pair, [answers.get(ids[student], {}) for student in students])
    return Compared((students[0], students[1]), pair, (sides[0], sides[1]), written)
