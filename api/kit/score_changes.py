"""Who hears that a student's counted score of an assignment may have changed.

A new attempt, a regrade, an extension, released grades or an assignment's new terms change what a
student's counted score is. The services that make such changes say so here, in the transaction
of the change; the listener the service was composed with (the LMS outbox,
:data:`api.lti.outbox.LMS_OUTBOX`, registered by :func:`api.app.create_app` and by the job
worker) writes what must leave. So assignments, submissions and grading depend on this small
module, not on LTI, and LTI on none of them.

With no listener registered (a tool that writes no passback), a change costs nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session


class Listener(Protocol):
    """What a listener does with a change: ``targets`` finds where one student's scores go (empty
    for most: one indexed query), read before a submission is stored so that a student with none
    stores in one statement; ``one`` and ``many`` write what must leave, in the session's
    transaction, and say how many rows they wrote."""

    def targets(self, session: Session, *, course_id: str, student_id: str) -> Sequence[object]: ...

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
    ) -> int: ...

    def many(
        self,
        session: Session,
        *,
        course_id: str,
        assignment_id: str,
        student_ids: Collection[str],
        now: datetime | None = None,
    ) -> int: ...


_listeners: dict[str, Listener] = {}


def listen(name: str, listener: Listener) -> None:
    """Registers ``listener`` under ``name`` (registering a name again replaces it: composing the
    service twice, as the tests do, adds nothing)."""
    _listeners[name] = listener


def targets(session: Session, *, course_id: str, student_id: str) -> list[tuple[str, Sequence[object]]]:
    """Where each listener sends this student's scores: only those with somewhere to send them."""
    found = []
    for name, listener in _listeners.items():
        where = listener.targets(session, course_id=course_id, student_id=student_id)
        if where:
            found.append((name, where))
    return found


def changed(
    session: Session,
    *,
    course_id: str,
    assignment_id: str,
    student_id: str,
    now: datetime | None = None,
    found: list[tuple[str, Sequence[object]]] | None = None,
    new_submission: bool = False,
) -> int:
    """One student's counted score may have changed (``found``: :func:`targets`, when the caller
    read them already; ``new_submission``: the change is the student's new attempt)."""
    if found is None:
        found = targets(session, course_id=course_id, student_id=student_id)
    return sum(
        _listeners[name].one(
            session,
            course_id=course_id,
            assignment_id=assignment_id,
            student_id=student_id,
            now=now,
            targets=where,
            new_submission=new_submission,
        )
        for name, where in found
        if name in _listeners
    )


def changed_for(
    session: Session,
    *,
    course_id: str,
    assignment_id: str,
    student_ids: Collection[str],
    now: datetime | None = None,
) -> int:
    """Several students' counted scores may have changed (a regrade's chunk, new terms)."""
    if not student_ids:
        return 0
    return sum(
        listener.many(session, course_id=course_id, assignment_id=assignment_id, student_ids=student_ids, now=now)
        for listener in _listeners.values()
    )
