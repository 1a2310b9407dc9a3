"""The outbox of grade passback: :func:`record_score` writes one :class:`api.models.LtiScore` row per
LMS course the student's account came from, in the transaction of the change of their counted
score (a submission, a regrade, an extension); :func:`api.lti.ags.send_due` sends them. The
services that change scores say so through :mod:`api.kit.score_changes`, which :data:`LMS_OUTBOX`
listens to.

A student who never launched from an LMS costs one indexed query and writes nothing.

A session that wrote rows is marked (:data:`SCORES_DUE` in its ``info``): once the request has
committed, the sender is told at once (:func:`api.deps.get_session`), so a score leaves when it
changes rather than at the sender's next round.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.code_runs.queueing import waiting_keys
from api.models import Assignment, LtiAccount, LtiContext, LtiScore, ScoreStatus, Submission
from api.terms.accommodations import own_extension
from api.terms.counted import counted_attempt
from api.terms.feedback import shows_score
from api.terms.grades import as_student_sees
from api.terms.lateness import Lateness
from api.terms.rows import AssignmentRow, Terms, with_extension
from api.terms.standing import feedback_to
from grader.written import awaits_grader

#: The key in a session's ``info`` of "this transaction wrote scores to send" (see the module).
SCORES_DUE = "grader_lti_scores_due"

#: Where a student's scores go: (platform id, the student's ``sub`` there, the LMS course's id).
Targets = Sequence[tuple[str, str, str]]


def lms_targets(db: Session, *, course_id: str, student_id: str) -> Targets:
    """The linked LMS courses of the course that the student's LTI account came from: empty for a
    student who never launched from an LMS (one indexed query)."""
    found = db.execute(
        select(LtiAccount.platform_id, LtiAccount.sub, LtiContext.context_id)
        .join(LtiContext, LtiContext.platform_id == LtiAccount.platform_id)
        .where(LtiAccount.user_id == student_id, LtiContext.course_id == course_id)
    )
    return [(platform_id, sub, context_id) for platform_id, sub, context_id in found]


def record_scores(
    db: Session, *, course_id: str, assignment_id: str, student_ids: Collection[str], now: datetime | None = None
) -> int:
    """:func:`record_score` for those of ``student_ids`` who came from an LMS (one query finds
    them): a regrade's chunk, or every student of an extension's assignment."""
    if not student_ids:
        return 0
    from_lms = db.scalars(
        select(LtiAccount.user_id)
        .join(LtiContext, LtiContext.platform_id == LtiAccount.platform_id)
        .where(LtiAccount.user_id.in_(sorted(set(student_ids))), LtiContext.course_id == course_id)
        .distinct()
    ).all()
    return sum(
        record_score(db, course_id=course_id, assignment_id=assignment_id, student_id=student, now=now)
        for student in from_lms
    )


def record_score(
    db: Session,
    *,
    course_id: str,
    assignment_id: str,
    student_id: str,
    now: datetime | None = None,
    targets: Targets | None = None,
    new_submission: bool = False,
) -> int:
    """Rows for the student's counted score of the assignment now (after the late penalty), one per
    linked LMS course of the student's LTI account (``targets``, when the caller has read them
    already: :func:`lms_targets`); how many were written. ``new_submission``: the change is the
    student's new attempt (not a regrade, an extension or a policy)."""
    if targets is None:
        targets = lms_targets(db, course_id=course_id, student_id=student_id)
    if not targets:
        return 0
    assignment = db.get(Assignment, (course_id, assignment_id))
    if assignment is None:
        return 0
    own = own_extension(db, course_id=course_id, assignment_id=assignment_id, student_id=student_id)
    terms = with_extension(AssignmentRow.of(assignment), own)
    submissions = list(
        db.scalars(
            select(Submission).where(
                Submission.course_id == course_id,
                Submission.assignment_id == assignment_id,
                Submission.student_id == student_id,
            )
        )
    )
    if not submissions:
        return 0
    counted = counted_attempt(submissions, terms)
    if counted is None:
        return 0
    chosen, late = counted
    now = now or datetime.now(UTC)
    score_given, progress = _as_student_sees(db, terms, student_id, chosen, late)
    for platform_id, sub, context_id in targets:
        db.add(
            LtiScore(
                platform_id=platform_id,
                context_id=context_id,
                course_id=course_id,
                assignment_id=assignment_id,
                student_id=student_id,
                sub=sub,
                score_given=score_given,
                score_maximum=chosen.max_score,
                grading_progress=progress,
                timestamp=now,
                submitted_at=chosen.submitted_at,
                new_submission=new_submission,
                status=ScoreStatus.PENDING.value,
                attempts=0,
                next_try_at=now,
            )
        )
    db.flush()
    db.info[SCORES_DUE] = True
    return len(targets)


def _as_student_sees(
    db: Session, terms: Terms, student_id: str, chosen: Submission, late: Lateness
) -> tuple[float | None, str]:
    """The score the LMS is sent and its ``gradingProgress``: what the service shows the student
    (the LMS's gradebook is the student's too). Under ``feedback: none``, until the answers are
    released to them, nothing graded: no score, ``Pending``. Otherwise the counted score after the
    late penalty, without the grades by hand not yet released."""
    if not shows_score(feedback_to(db, terms=terms, student_id=student_id)):
        return None, "Pending"
    parts, score = as_student_sees(terms, chosen.parts, chosen.score)
    # a written part waits for a grader; code waits for its run, which needs no one
    progress = "PendingManual" if awaits_grader(parts) else "Pending" if waiting_keys(parts) else "FullyGraded"
    return late.applied(score), progress


class LmsOutbox:
    """The outbox as an :class:`api.kit.score_changes.Listener`."""

    def targets(self, session: Session, *, course_id: str, student_id: str) -> Targets:
        return lms_targets(session, course_id=course_id, student_id=student_id)

    def one(
        self,
        session: Session,
        *,
        course_id: str,
        assignment_id: str,
        student_id: str,
        now: datetime | None = None,
        targets: Sequence[object] | None = None,
        new_submission: bool = False,
    ) -> int:
        return record_score(
            session,
            course_id=course_id,
            assignment_id=assignment_id,
            student_id=student_id,
            now=now,
            targets=cast(Targets | None, targets),
            new_submission=new_submission,
        )

    def many(
        self,
        session: Session,
        *,
        course_id: str,
        assignment_id: str,
        student_ids: Collection[str],
        now: datetime | None = None,
    ) -> int:
        return record_scores(
            session, course_id=course_id, assignment_id=assignment_id, student_ids=student_ids, now=now
        )


#: Registered with :func:`api.kit.score_changes.listen` where the service is composed.
LMS_OUTBOX = LmsOutbox()
