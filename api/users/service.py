"""Accounts and their tokens. Services flush; the caller's session commits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import is_unique_violation
from api.errors import Conflict, NotFound
from api.models import ApiToken, Role, User
from api.users.tokens import hash_token, new_token


@dataclass(frozen=True, slots=True)
class Caller:
    """The account making a request: two columns of one query rather than an ORM object, which
    cost more to build than the query itself on the busiest endpoint (``bench/service.py``)."""

    id: str
    role: str


@dataclass(frozen=True)
class Issued:
    """An account and, when one was issued now, its token (the only time it is ever seen)."""

    user: User
    token: str | None
    created: bool


def issue_token(session: Session, *, user: User) -> str:
    token = new_token()
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    session.flush()
    return token


def revoke_tokens(session: Session, *, user: User) -> None:
    for token in list(user.tokens):
        session.delete(token)
    session.flush()


def replace_token(session: Session, *, user_id: str, role: Role | None = None) -> tuple[User, str]:
    """Revokes every token of the account and issues a new one: only hashes are stored, so a lost
    token cannot be shown again, only replaced. An unknown id, or one not in ``role``, is
    :class:`NotFound`.

    The account's row is locked (``FOR UPDATE``; SQLite serializes writers anyway) so that two
    replacements at once leave one token, not one each."""
    user = _locked(session, user_id, role)
    if not user.on_roster:
        raise NotFound(f"Student {user_id!r} was dropped from the roster; importing them again brings them back.")
    revoke_tokens(session, user=user)
    return user, issue_token(session, user=user)


def drop_student(session: Session, *, student_id: str) -> User:
    """Takes a student off the roster: their tokens stop working and they leave the gradebook; their
    submissions stay, for the record (regrades and statistics still see them). Dropping a dropped
    student changes nothing; importing them again brings them back with a new token."""
    user = _locked(session, student_id, Role.STUDENT)
    revoke_tokens(session, user=user)
    user.on_roster = False
    session.flush()
    return user


def _locked(session: Session, user_id: str, role: Role | None) -> User:
    """The account, its row locked for this transaction; :class:`NotFound` if none is in ``role``."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None or (role is not None and user.role != role):
        raise NotFound(f"No {role.value if role else 'account'} {user_id!r}.")
    return user


def authenticate(session: Session, *, token: str) -> Caller | None:
    """The owner of ``token`` if it is on the roster (a dropped student's tokens no longer work)."""
    row = session.connection().execute(_CALLER, {"token_hash": hash_token(token)}).first()
    return None if row is None else Caller(row.id, row.role)


#: Built once: building and caching-key a statement per request cost more than running it.
#: (Core columns, run on the connection: no ORM compile state or result processing.)
_USERS, _TOKENS = cast(Table, User.__table__), cast(Table, ApiToken.__table__)
_CALLER = (
    select(_USERS.c.id, _USERS.c.role)
    .select_from(_TOKENS.join(_USERS, _USERS.c.id == _TOKENS.c.user_id))
    .where(_TOKENS.c.token_hash == bindparam("token_hash"), _USERS.c.on_roster.is_(True))
)


def id_from_name(name: str) -> str:
    """``Ada Lovelace`` → ``ada-lovelace``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:56] or "user"


def free_id(session: Session, *, name: str) -> str:
    """An unused id made from a name: :func:`id_from_name`, with ``-2``, ... if that is taken."""
    base = id_from_name(name)
    candidate, n = base, 1
    while session.get(User, candidate) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def create_user(
    session: Session, *, name: str, role: Role, user_id: str | None = None, email: str | None = None
) -> Issued:
    """A new account with a fresh token; an id already taken is a :class:`Conflict`."""
    user_id = user_id or free_id(session, name=name)
    if session.get(User, user_id) is not None:
        raise Conflict(f"There is already an account {user_id!r}.")
    user = User(id=user_id, name=name, role=role.value, email=email)
    session.add(user)
    session.flush()
    return Issued(user, issue_token(session, user=user), created=True)


def _create_unless_taken(session: Session, *, name: str, user_id: str, email: str | None) -> Issued | None:
    """A new student account, or None if a simultaneous request created ``user_id`` first: in a
    savepoint, so that the import goes on (PostgreSQL aborts a transaction at its first error)."""
    try:
        with session.begin_nested():
            return create_user(session, name=name, role=Role.STUDENT, user_id=user_id, email=email)
    except IntegrityError as error:
        if is_unique_violation(error):
            return None
        raise
    except Conflict:  # (seen by the look-up in create_user: committed before it)
        return None


def import_roster(session: Session, *, students: list[tuple[str, str, str | None]]) -> list[Issued]:
    """Students by (id, name, email). New ones get a token; known ones get their name and email
    updated and no new token (tokens are shown once), unless they had been dropped: they are back on
    the roster with a new token (dropping revoked theirs); an email left out keeps the stored one. A
    student that a simultaneous import creates is a known one here. An instructor's id is a
    :class:`Conflict`."""
    ids = [student_id for student_id, _, _ in students]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise Conflict(f"The roster lists these ids more than once: {', '.join(repeated)}.")
    existing = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    staff = sorted(i for i, u in existing.items() if u.role != Role.STUDENT)
    if staff:
        raise Conflict(f"These ids belong to instructors: {', '.join(staff)}.")
    result = []
    for student_id, name, email in students:
        user = existing.get(student_id)
        if user is None:
            issued = _create_unless_taken(session, name=name, user_id=student_id, email=email)
            if issued is not None:
                result.append(issued)
                continue
            # made by a simultaneous import meanwhile: from now on the same as a known student
            user = session.get(User, student_id)
            assert user is not None
            if user.role != Role.STUDENT:
                raise Conflict(f"These ids belong to instructors: {student_id}.")
        user.name = name
        if email is not None:  # an import without emails keeps the ones stored
            user.email = email
        returning = not user.on_roster
        user.on_roster = True
        result.append(Issued(user, issue_token(session, user=user) if returning else None, created=False))
    session.flush()
    return result
