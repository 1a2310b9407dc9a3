"""The code job, one function for both runners (``grader worker --queue code`` on PostgreSQL, the
service's own runner process on SQLite): :func:`run_code`.

1. **Claim**, in a short transaction: the submission's :class:`api.models.CodeRun` row marked
   ``running`` (and its count of runs grown), its waiting code parts shown ``running``, and what
   grading needs read (the answers, the variant, the set version).
   The student's budget of sandbox wall time on the assignment is read too
   (:mod:`api.code_runs.budget`): the run may use what is left, and runs nothing if nothing is.
2. **Grade**, holding no session nor connection: the student's code runs in the process's warm
   sandboxes, seconds at worst, while submissions go on being stored; stopped when its allowance
   is spent (a grader that can be stopped: :class:`Stoppable`).
3. **Write**, in one transaction: the wall time charged to the student (none when the sandbox
   failed before the student's module was loaded: that run is the sandbox's); the row deleted, only if
   it still names the version that was graded (``DELETE ... RETURNING``); then the code parts'
   results, the score summed again, and the change announced (:mod:`api.kit.score_changes`: the LMS is
   sent the new score). A runner that finds no row to delete writes nothing: another runner of the
   same row (a worker taken for dead, a service restarted) wrote first, or a regrade queued the
   submission again for a new version.

A runner killed anywhere leaves the row behind, and the row is run again (procrastinate's stalled
jobs on PostgreSQL, the service's start on SQLite); after :data:`MAX_RUNS` starts the parts are
given up on (``invalid``, with a sentence) rather than retried forever.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, cast, runtime_checkable

from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from api.code_runs.budget import Allowance, charge, counted
from api.code_runs.queueing import CODE_RUNS, waiting_keys
from api.code_runs.shares import CodeLimits
from api.kit import metrics, score_changes
from api.kit.db import SQLITE_WRITE
from api.library.course_sets import Library
from api.models import CodeRunStatus, Submission
from grader.code import RUNNING, SANDBOX_FAILED
from grader.results import GradedPart, Status
from grader.written import total
from problems.sets import ProblemSet

log = logging.getLogger("grader.code")

SUBMISSIONS = cast(Table, Submission.__table__)

#: Starts of one run after which its parts are given up on: a submission whose grading kills its
#: runner every time (or a set whose tests do) must not hold a worker forever.
MAX_RUNS = 3

#: How the code parts of a submission are graded: (set, answers, variant) → key → part JSON.
GradeCode = Callable[[ProblemSet, dict[str, Any], str | None], dict[str, dict[str, Any]]]


@runtime_checkable
class Stoppable(Protocol):
    """A :data:`GradeCode` that can be held to a run's allowance of sandbox wall time
    (:func:`api.code_runs.grading.sandboxed`); a plain one is only timed."""

    def __call__(
        self, problem_set: ProblemSet, answers: dict[str, Any], variant: str | None
    ) -> dict[str, dict[str, Any]]: ...

    def within(self, seconds: float, reason: str) -> GradeCode:
        """The same grader, its sandbox calls stopped once ``seconds`` are spent (``reason``: why,
        for the calls not made)."""
        ...


@dataclass(frozen=True)
class CodeRuntime:
    """What the code job needs from the process that runs it."""

    sessions: sessionmaker[Session]
    library: Library
    grade: GradeCode
    #: Tells the process's LMS score sender that a transaction wrote scores to send.
    scores_due: Callable[[], None] | None = None
    #: The session ``info`` key that marks scores to send (:data:`api.lti.outbox.SCORES_DUE`).
    scores_key: str | None = None
    #: Each student's share: here, the budget of sandbox wall time (:mod:`api.code_runs.budget`).
    limits: CodeLimits = field(default_factory=CodeLimits)
    #: Counts each run's outcome and its student's wait (:func:`api.kit.metrics.graded`; the SQLite
    #: service's runner process relays them to the service's figures).
    graded: Callable[[str, float | None], None] = metrics.graded


@dataclass(frozen=True)
class _Claimed:
    submission_id: int
    set_version: str
    runs: int
    answers: dict[str, Any]
    variant: str | None
    #: The code parts that wait, with their points.
    waiting: dict[str, float]
    course_id: str
    assignment_id: str
    student_id: str
    #: The sandbox wall time the run may use (the student's budget left), read as it was claimed.
    allowance: Allowance
    started_at: datetime
    #: When the run was queued (with its submission, or by a regrade): its results' latency counts from it.
    queued_at: datetime


def run_code(runtime: CodeRuntime, submission_id: int) -> str:
    """Runs the submission's queued code parts and writes their results once. Returns
    ``written``; ``gone`` (nothing queued: written already, or the submission deleted); or
    ``superseded`` (graded, but someone else wrote first or the submission was queued again for
    another version: nothing written)."""
    with runtime.sessions.begin() as session:
        claimed = _claim(session, submission_id, runtime.limits)
    if claimed is None:
        return "gone"
    with runtime.sessions() as session:
        session.connection(execution_options={SQLITE_WRITE: False})
        problem_set = runtime.library.version(session, claimed.set_version)
    results, spent = _graded(runtime, claimed, problem_set)  # (no session held)
    with runtime.sessions.begin() as session:
        if spent > 0:
            charge(
                session,
                course_id=claimed.course_id,
                assignment_id=claimed.assignment_id,
                student_id=claimed.student_id,
                seconds=spent,
                started_at=claimed.started_at,
                limits=runtime.limits,
            )
        written = _write(session, claimed, results)
        scores = bool(runtime.scores_key and session.info.get(runtime.scores_key))
    if scores and runtime.scores_due is not None:
        runtime.scores_due()
    outcome = "written" if written else "superseded"
    runtime.graded(outcome, (datetime.now(UTC) - claimed.queued_at).total_seconds() if written else None)
    return outcome


def _claim(session: Session, submission_id: int, limits: CodeLimits) -> _Claimed | None:
    now = datetime.now(UTC)
    run = session.execute(  # (the row locked by its UPDATE: one round trip, not a SELECT ... FOR UPDATE before it)
        CODE_RUNS.update()
        .where(CODE_RUNS.c.submission_id == submission_id)
        .values(status=CodeRunStatus.RUNNING.value, started_at=now, runs=CODE_RUNS.c.runs + 1)
        .returning(CODE_RUNS.c.set_version, CODE_RUNS.c.runs, CODE_RUNS.c.queued_at)
    ).first()
    if run is None:
        return None
    row = session.execute(
        select(
            SUBMISSIONS.c.answers,
            SUBMISSIONS.c.parts,
            SUBMISSIONS.c.variant,
            SUBMISSIONS.c.course_id,
            SUBMISSIONS.c.assignment_id,
            SUBMISSIONS.c.student_id,
            # (the student's sandbox time, read with it: a trip less per run)
            *counted(SUBMISSIONS.c.course_id, SUBMISSIONS.c.assignment_id, SUBMISSIONS.c.student_id),
        )
        .where(SUBMISSIONS.c.id == submission_id)
        .with_for_update(key_share=True, of=SUBMISSIONS)
    ).one()
    waiting = waiting_keys(row.parts)
    if any(row.parts[key].get("status") != Status.RUNNING.value for key in waiting):
        parts = {
            key: {**part, "status": Status.RUNNING.value, "feedback": RUNNING} if key in waiting else part
            for key, part in row.parts.items()
        }
        session.execute(SUBMISSIONS.update().where(SUBMISSIONS.c.id == submission_id).values(parts=parts))
    points = {key: float(row.parts[key].get("max_score") or 0.0) for key in waiting}
    left = Allowance.of(row.window_started_at, row.seconds, limits, now)
    return _Claimed(
        submission_id,
        run.set_version,
        run.runs,
        dict(row.answers),
        row.variant,
        points,
        row.course_id,
        row.assignment_id,
        row.student_id,
        left,
        now,
        run.queued_at,
    )


def _graded(
    runtime: CodeRuntime, claimed: _Claimed, problem_set: ProblemSet | None
) -> tuple[dict[str, dict[str, Any]], float]:
    """The parts' results, and the wall seconds the grading took (0 where nothing ran)."""
    if not claimed.waiting:  # (nothing of it waits: the row is only to be cleared)
        return {}, 0.0
    if problem_set is None:
        reason = f"Not graded: version {claimed.set_version} of the problem set is no longer stored."
        return _given_up(claimed, reason), 0.0
    if claimed.runs > MAX_RUNS:
        log.error("submission %s: its code run was started %s times; given up", claimed.submission_id, MAX_RUNS)
        return _given_up(claimed, f"Not graded: grading this code stopped the grader {MAX_RUNS} times."), 0.0
    if claimed.allowance.seconds <= 0:
        return _given_up(claimed, f"Not run: {claimed.allowance.reason()}. Submit again then."), 0.0
    grade = runtime.grade
    if isinstance(grade, Stoppable):
        grade = grade.within(claimed.allowance.seconds, f"stopped: {claimed.allowance.reason()}")
    started = time.monotonic()
    try:
        results = grade(problem_set, claimed.answers, claimed.variant)
    except Exception:
        # a bug of ours, not the student's: logged, and the parts say so rather than wait forever
        log.exception("submission %s: grading its code failed", claimed.submission_id)
        results = _given_up(claimed, "Not graded: the grader failed on this code; the course staff can regrade it.")
    if any(_sandbox_failed(part) for part in results.values()):
        return results, 0.0  # the sandbox's failure costs the student none of their time
    return results, time.monotonic() - started


def _sandbox_failed(part: Mapping[str, Any]) -> bool:
    """Whether a part was not graded because the sandbox failed before the module was loaded."""
    return part.get("status") == Status.INVALID.value and str(part.get("feedback", "")).startswith(SANDBOX_FAILED)


def _given_up(claimed: _Claimed, reason: str) -> dict[str, dict[str, Any]]:
    return {
        key: dict(GradedPart(key, 0.0, points, Status.INVALID, reason).to_json())
        for key, points in claimed.waiting.items()
    }


def _write(session: Session, claimed: _Claimed, results: Mapping[str, dict[str, Any]]) -> bool:
    mine = session.execute(
        CODE_RUNS.delete()
        .where(CODE_RUNS.c.submission_id == claimed.submission_id, CODE_RUNS.c.set_version == claimed.set_version)
        .returning(CODE_RUNS.c.submission_id)
    ).first()
    if mine is None:
        return False
    row = session.execute(
        select(
            SUBMISSIONS.c.parts,
            SUBMISSIONS.c.score,
            SUBMISSIONS.c.course_id,
            SUBMISSIONS.c.assignment_id,
            SUBMISSIONS.c.student_id,
        )
        .where(SUBMISSIONS.c.id == claimed.submission_id)
        .with_for_update(key_share=True)
    ).one()
    parts = dict(row.parts)
    for key in waiting_keys(parts):
        result = results.get(key)
        if result is None:  # (the engine grades every code part; a missing one is ours to fix)
            reason = "Not graded: the grader gave no result for this part."
            result = {**parts[key], "score": 0.0, "status": Status.INVALID.value, "feedback": reason}
        parts[key] = result
    score = total(parts)
    session.execute(
        SUBMISSIONS.update()
        .where(SUBMISSIONS.c.id == claimed.submission_id)
        .values(parts=parts, score=score, graded_at=datetime.now(UTC))
    )
    if score != row.score:
        score_changes.changed(
            session, course_id=row.course_id, assignment_id=row.assignment_id, student_id=row.student_id
        )
    return True
