"""The similarity report started by itself when an assignment closes, once, so that staff find it
ready: :func:`reports_due` runs in the service's time-keeper rounds (:mod:`api.timed.keeper`), on
SQLite and PostgreSQL alike, beside the scores released at a close.

An assignment is due a report when it has closed for everyone (extensions, accommodations and
proctors' added time included: :func:`api.terms.standing.closes_for_everyone`), within the last
:data:`RECENT` (an assignment closed long before this was deployed is not reported on by
surprise), has code or written parts and two students or more who submitted, and no similarity
job was started for it since that close (by staff or by this sweep: the job itself is the mark,
so a report asked for after the close is not made twice). The job compares what was asked last
(parts, starter, and the references of courses its asker still staffs), or everything. Several
processes may sweep at once: the unique index on active jobs lets one start, and the check is
made again in the transaction that starts it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, exists, func, select
from sqlalchemy.orm import Session

from api.access import member_of
from api.jobs.service import Deferrer, start_similarity
from api.library.course_sets import Library, Sets
from api.models import Assignment, Job, JobKind, SimilarityReport, Submission, User
from api.similarity.service import record_asked
from api.terms.rows import AssignmentRow
from api.terms.standing import closes_for_everyone
from api.users.service import Caller

log = logging.getLogger("grader.similarity")

ASSIGNMENTS, JOBS, SUBMISSIONS = (cast(Table, m.__table__) for m in (Assignment, Job, Submission))

#: How long after its close an assignment is still due its report (a service down that long
#: starts it when it is back).
RECENT = timedelta(days=14)


def candidates(session: Session, *, now: datetime) -> list[tuple[str, str]]:
    """The assignments closed (their own close) within :data:`RECENT` with no similarity job
    started since, and two students or more who submitted: (course, assignment), few at any time."""
    since_close = exists().where(
        JOBS.c.kind == JobKind.SIMILARITY.value,
        JOBS.c.course_id == ASSIGNMENTS.c.course_id,
        JOBS.c.assignment_id == ASSIGNMENTS.c.id,
        JOBS.c.created_at >= ASSIGNMENTS.c.closes_at,
    )
    students = (
        select(func.count(func.distinct(SUBMISSIONS.c.student_id)))
        .where(SUBMISSIONS.c.course_id == ASSIGNMENTS.c.course_id, SUBMISSIONS.c.assignment_id == ASSIGNMENTS.c.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(ASSIGNMENTS.c.course_id, ASSIGNMENTS.c.id).where(
            ASSIGNMENTS.c.closes_at.is_not(None),
            ASSIGNMENTS.c.closes_at < now,
            ASSIGNMENTS.c.closes_at >= now - RECENT,
            ASSIGNMENTS.c.archived_at.is_(None),
            ~since_close,
            students >= 2,
        )
    )
    return [(course_id, assignment_id) for course_id, assignment_id in rows]


def reports_due(
    sessions: Callable[[], Session],
    *,
    reads: Callable[[], Session],
    library: Library,
    defer: Deferrer | None,
    wake: Callable[[], None] | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Starts the report of every assignment due one (see the module), one transaction each; the
    jobs started. ``wake``: the service's own runner (SQLite), told once they are committed. What
    is due is read without a write lock; only an assignment due a report opens a transaction."""
    now = now or datetime.now(UTC)
    with reads() as session:
        due = [
            _due(session, library, course_id, assignment_id, now)
            for course_id, assignment_id in candidates(session, now=now)
        ]
    started: list[int] = []
    for found in due:
        if found is None:
            continue
        terms, last, version = found
        try:
            with sessions() as session:
                job_id = _start(session, terms, last=last, set_version=version, defer=defer)
                if job_id is not None:
                    session.commit()
                    started.append(job_id)
                    log.info(
                        "similarity report of %s/%s started at its close (job %s)", terms.course_id, terms.id, job_id
                    )
        except Exception:  # (one assignment's failure must not stop the others; the next round tries it again)
            log.exception("similarity report of %s/%s at its close failed to start", terms.course_id, terms.id)
    if started and wake is not None:
        wake()
    return started


def _due(
    session: Session, library: Library, course_id: str, assignment_id: str, now: datetime
) -> tuple[AssignmentRow, datetime, str] | None:
    """The assignment, its close for everyone and its set's version, if it has closed for everyone
    and has code or written parts to compare; None otherwise."""
    row = session.get(Assignment, (course_id, assignment_id))
    if row is None:
        return None
    terms = AssignmentRow.of(row)
    last = closes_for_everyone(session, assignment=terms)
    if last is None or now <= last:
        return None  # (an extension's close is still to come: a later round starts it)
    problem_set = Sets(library, session).of(terms)
    if problem_set is None or not (problem_set.code() or problem_set.written()):
        return None
    return terms, last, problem_set.version


def _start(
    session: Session, terms: AssignmentRow, *, last: datetime, set_version: str, defer: Deferrer | None
) -> int | None:
    """The report's job started, unless one was started since the close (read again here)."""
    started_since = session.scalar(
        select(func.count()).where(
            JOBS.c.kind == JobKind.SIMILARITY.value,
            JOBS.c.course_id == terms.course_id,
            JOBS.c.assignment_id == terms.id,
            JOBS.c.created_at >= last,
        )
    )
    if started_since:
        return None
    job = start_similarity(session, assignment=terms, set_version=set_version, caller=None, defer=defer)
    if job.new:
        asked = session.get(SimilarityReport, (terms.course_id, terms.id))
        record_asked(
            session,
            assignment=terms,
            job_id=job.id,
            caller=None,
            parts=asked.parts if asked is not None else None,
            starter=asked.starter if asked is not None else None,
            references=_still_theirs(session, asked),
        )
    return job.id


def _still_theirs(session: Session, asked: SimilarityReport | None) -> list[dict[str, str]] | None:
    """The earlier assignments the last report was asked to compare against, those of courses its
    asker still staffs: the sweep compares another course's work only as they could ask it now
    (one who lost that course since, or a report asked by nobody, brings none)."""
    if asked is None or not asked.reference_assignments or asked.requested_by is None:
        return None
    account = session.get(User, asked.requested_by)
    if account is None:
        return None
    caller = Caller(account.id, account.role)
    kept = []
    for reference in asked.reference_assignments:
        member = member_of(session, caller, reference["course"])
        if member is not None and member.is_staff:
            kept.append(reference)
    return kept or None
