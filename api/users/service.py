"""Accounts and their tokens. Services flush; the caller's session commits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.orm import Session

from api.kit.errors import Conflict, NotFound
from api.kit.ids import may_exist
from api.models import ApiToken, Role, User
from api.users.tokens import TokenSeen, hash_token, new_token


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


def issue_token(session: Session, *, user: User, name: str = "first token") -> str:
    token = new_token()
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), name=name))
    session.flush()
    return token


#: The most personal tokens an account may hold (each is a way in: a list, not a pile).
MAX_TOKENS = 20


def create_personal_token(session: Session, *, caller: Caller, name: str) -> tuple[ApiToken, str]:
    """A new token for the caller's own account, named (its value is seen only now)."""
    count = session.scalar(select(func.count()).where(ApiToken.user_id == caller.id)) or 0
    if count >= MAX_TOKENS:
        raise Conflict(f"An account holds at most {MAX_TOKENS} tokens: revoke one first.")
    token = new_token()
    row = ApiToken(user_id=caller.id, token_hash=hash_token(token), name=name)
    session.add(row)
    session.flush()
    return row, token


def personal_tokens(session: Session, *, caller: Caller) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == caller.id).order_by(ApiToken.id)))


def revoke_personal_token(session: Session, *, caller: Caller, token_id: int) -> None:
    """Revokes one of the caller's own tokens (the sessions it opened end with it); another
    account's token is :class:`NotFound`, as if it did not exist."""
    mine = select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == caller.id)
    row = session.scalar(mine) if may_exist(token_id) else None
    if row is None:
        raise NotFound(f"You have no token {token_id}.")
    session.delete(row)
    session.flush()


def revoke_tokens(session: Session, *, user: User) -> None:
    for token in list(user.tokens):
        session.delete(token)
    session.flush()


def replace_token(session: Session, *, user_id: str) -> tuple[User, str]:
    """Revokes every token of the account and issues a new one: only hashes are stored, so a lost
    token cannot be shown again, only replaced (``grader users token``). An unknown id is
    :class:`NotFound`. The account's row is locked (``FOR UPDATE``; SQLite serializes writers
    anyway) so that two replacements at once leave one token, not one each."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"No account {user_id!r}.")
    revoke_tokens(session, user=user)
    return user, issue_token(session, user=user)


def authenticate(session: Session, *, token: str) -> tuple[Caller, TokenSeen] | None:
    """The owner of ``token`` and the token as read, or None."""
    row = session.connection().execute(_CALLER, {"token_hash": hash_token(token)}).first()
    return None if row is None else (Caller(row.id, row.role), TokenSeen(row.token_id, row.last_used_at))


#: Built once: building and caching-key a statement per request cost more than running it.
#: (Core columns, run on the connection: no ORM compile state or result processing.)
_USERS, _TOKENS = cast(Table, User.__table__), cast(Table, ApiToken.__table__)
_CALLER = (
    select(_USERS.c.id, _USERS.c.role, _TOKENS.c.id.label("token_id"), _TOKENS.c.last_used_at)
    .select_from(_TOKENS.join(_USERS, _USERS.c.id == _TOKENS.c.user_id))
    .where(_TOKENS.c.token_hash == bindparam("token_hash"))
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
    session: Session,
    *,
    name: str,
    role: Role,
    user_id: str | None = None,
    email: str | None = None,
    created_in: str | None = None,
) -> Issued:
    """A new account with a fresh token (``created_in``: the course whose roster import made it);
    an id already taken is a :class:`Conflict`."""
    user_id = user_id or free_id(session, name=name)
    if session.get(User, user_id) is not None:
        raise Conflict(f"There is already an account {user_id!r}.")
    user = User(id=user_id, name=name, role=role.value, email=email, created_in=created_in)
    session.add(user)
    session.flush()
    return Issued(user, issue_token(session, user=user), created=True)
