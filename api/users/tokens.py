"""API tokens: random, shown once, stored only as a hash.

A token is ``secrets.token_urlsafe(32)``: 256 random bits. It is stored as its SHA-256 in hex,
which makes the lookup one indexed equality. A slow password hash (bcrypt, argon2) exists to
make guessing *low-entropy* secrets expensive; nobody can enumerate 2^256 tokens, so a fast
hash loses nothing here, while a leaked database still yields no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Engine, Table, bindparam, update

from api.models import ApiToken

#: A token's ``last_used_at`` is kept to this: one write an hour per token, not one per request.
USE_GRANULARITY = timedelta(hours=1)
_TOKENS = cast(Table, ApiToken.__table__)
_NOTE_USE = update(_TOKENS).where(_TOKENS.c.id == bindparam("token_id")).values(last_used_at=bindparam("now"))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenSeen:
    """The token a request came with, as the caller's statement read it."""

    token_id: int
    last_used_at: datetime | None


class TokenUses:
    """When each token was last used, written off the request path: a request only notes it here
    (when the stored time is an hour old or more), and :meth:`flush`, run every few seconds by the
    service's own thread (:class:`api.users.usage.UseRecorder`), writes what was noted in one
    statement. A request that reads never writes for it (on SQLite it would wait for the write lock),
    and a busy token costs one write an hour."""

    def __init__(self) -> None:
        self._pending: dict[int, datetime] = {}
        self._lock = threading.Lock()

    def note(self, seen: TokenSeen, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        last = seen.last_used_at
        if last is None or now - last >= USE_GRANULARITY:
            with self._lock:
                self._pending[seen.token_id] = now

    def flush(self, engine: Engine) -> int:
        """Writes the uses noted so far; the number of tokens updated (a revoked one updates nothing)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if pending:
            with engine.begin() as connection:
                connection.execute(_NOTE_USE, [{"token_id": t, "now": at} for t, at in pending.items()])
        return len(pending)
