"""API tokens: random, shown once, stored only as a hash.

A token is ``secrets.token_urlsafe(32)``: 256 random bits. It is stored as its SHA-256 in hex,
which makes the lookup one indexed equality. A slow password hash (bcrypt, argon2) exists to
make guessing *low-entropy* secrets expensive; nobody can enumerate 2^256 tokens, so a fast
hash loses nothing here, while a leaked database still yields no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, update

from api.models import ApiToken

#: A token's ``last_used_at`` is kept to this: one write an hour per token, not one per request.
USE_GRANULARITY = timedelta(hours=1)
_TOKENS = cast(Table, ApiToken.__table__)
_NOTE_USE = update(_TOKENS).where(_TOKENS.c.id == bindparam("token_id")).values(last_used_at=bindparam("now"))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def note_use(connection: Connection, row: Any) -> None:
    """Records that the token of ``row`` (a caller's row with ``token_id``, ``last_used_at``) was
    used, when its record is an hour old or more. A request that reads only runs without a
    transaction, so the update commits by itself; in a request's transaction it commits with it."""
    now = datetime.now(UTC)
    last = row.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if last is None or now - last >= USE_GRANULARITY:
        connection.execute(_NOTE_USE, {"token_id": row.token_id, "now": now})
