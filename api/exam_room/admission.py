"""Who may work on an attempt: the access rules checked on each start, draft save and submission
(and on the page that shows the questions), in the order a proctor would check them at the door:
the room (network), the password, then the seat (the session the attempt is bound to).

A refusal is :class:`api.kit.errors.Refused`, a 403 with its ``reason``. A lock records when
another session was refused (``attempt_sessions.locked_at``), so the doors answer it as a response
(:func:`refusal`) rather than raise it: the request's transaction then commits that record. Nothing
saved is touched by a refusal: the draft stays, and the clock runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.exam_room import events, guesses
from api.exam_room.rules import AccessRules, in_networks, pass_token, password_matches
from api.kit.db import dialect_insert
from api.kit.errors import NotFound, Refused
from api.models import AttemptSession
from api.terms.rows import Terms

PASSWORD_MISSING = "This assignment asks for the exam password (the proctor gives it): it was not sent."
PASSWORD_WRONG = "The exam password is not right: ask the proctor for it (nothing was saved)."
LOCKED = (
    "This attempt is locked: it was started in another browser session or with another token. "
    "Ask the proctor to unlock it; nothing you saved is lost and your clock keeps running."
)


def outside(address: str | None) -> str:
    where = "an unknown address" if address is None else f"your address ({address})"
    return (
        f"This assignment may only be worked on from the exam room's network, and {where} is not in it: "
        "ask the proctor (nothing was saved)."
    )


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who knocks: the client address as the service determined it (uvicorn's, which believes
    ``X-Forwarded-For`` only from the trusted proxy), the key of their session (the hash of the
    page's session cookie or of the API token), the password they typed (REST: ``X-Exam-Password``;
    pages: the form), and a page's pass (:func:`api.exam_room.rules.pass_token`)."""

    address: str | None
    session_key: str
    password: str | None = None
    passed: str | None = None


def admit(
    session: Session, *, terms: Terms, student_id: str, visitor: Visitor, bind: bool = True, now: datetime | None = None
) -> None:
    """Nothing when the visitor may work on their attempt; :class:`Refused` otherwise. ``bind``:
    an attempt of a one-session assignment not bound yet (or unlocked) is bound to this session,
    and a refused session recorded as its lock (``False``: a read that binds nothing)."""
    rules = AccessRules.of(terms.access)
    if not rules:
        return
    if rules.networks and not in_networks(visitor.address, rules.networks):
        raise Refused(outside(visitor.address), reason="network")
    if rules.password_hash is not None:
        guesser = (terms.course_id, terms.id, student_id)
        if visitor.password is not None:
            guesses.check(guesser)
        if not password_passed(rules.password_hash, visitor):
            if visitor.password is not None:
                guesses.wrong(guesser)
            raise Refused(PASSWORD_MISSING if visitor.password is None else PASSWORD_WRONG, reason="password")
    if rules.one_session:
        _seat(session, terms=terms, student_id=student_id, visitor=visitor, bind=bind, now=now or datetime.now(UTC))


def password_passed(password_hash: str, visitor: Visitor) -> bool:
    """The password typed now, or a page's pass from when its session typed it."""
    if visitor.passed is not None and visitor.passed == pass_token(visitor.session_key, password_hash):
        return True
    return password_matches(password_hash, visitor.password)


def _seat(session: Session, *, terms: Terms, student_id: str, visitor: Visitor, bind: bool, now: datetime) -> None:
    """The attempt bound to the visitor's session, or :class:`Refused` (reason ``session``). The
    first binding is ``INSERT ... ON CONFLICT DO NOTHING`` on the row unique per assignment and
    student, and a rebinding after an unlock a conditional UPDATE: two sessions at once bind one."""
    keys = {"course_id": terms.course_id, "assignment_id": terms.id, "student_id": student_id}
    where = (
        AttemptSession.course_id == terms.course_id,
        AttemptSession.assignment_id == terms.id,
        AttemptSession.student_id == student_id,
    )
    mine = visitor.session_key
    if bind:
        session.execute(
            dialect_insert(session, AttemptSession)
            .values(**keys, session_key=mine, bound_at=now, address=visitor.address)
            .on_conflict_do_nothing()
        )
        session.execute(
            update(AttemptSession)
            .where(*where, AttemptSession.session_key.is_(None))
            .values(session_key=mine, bound_at=now, locked_at=None)
        )
    row = session.execute(select(AttemptSession.session_key, AttemptSession.address).where(*where)).one_or_none()
    if row is None or row.session_key is None:
        return  # (a read before the attempt is bound: the first start binds it)
    if row.session_key != mine:
        if bind:
            locked = session.execute(
                update(AttemptSession).where(*where, AttemptSession.locked_at.is_(None)).values(locked_at=now)
            )
            if locked.rowcount == 1:  # type: ignore[attr-defined]  # (a CursorResult: an UPDATE's)
                events.record(
                    session, terms=terms, student_id=student_id, kind=events.LOCK, detail=_where(visitor), at=now
                )
        raise Refused(LOCKED, reason="session")
    if bind and row.address != visitor.address:
        session.execute(update(AttemptSession).where(*where).values(address=visitor.address))


def unlock(session: Session, *, terms: Terms, student_id: str, by: str, now: datetime | None = None) -> None:
    """The attempt unbound: the next session that resumes it is bound to it (and must pass the
    password and the networks as any). :class:`NotFound` if the attempt was never bound."""
    now = now or datetime.now(UTC)
    unlocked = session.execute(
        update(AttemptSession)
        .where(
            AttemptSession.course_id == terms.course_id,
            AttemptSession.assignment_id == terms.id,
            AttemptSession.student_id == student_id,
        )
        .values(session_key=None, locked_at=None, unlocked_at=now, unlocked_by=by)
    )
    if unlocked.rowcount != 1:  # type: ignore[attr-defined]  # (a CursorResult: an UPDATE's)
        raise NotFound(
            f"{student_id!r} has no attempt bound to a session on assignment {terms.id!r}: nothing to unlock."
        )
    events.record(session, terms=terms, student_id=student_id, kind=events.UNLOCK, by=by, at=now)


def _where(visitor: Visitor) -> dict[str, str] | None:
    """What the log keeps of a refused session: its address (never its key)."""
    return None if visitor.address is None else {"address": visitor.address}
