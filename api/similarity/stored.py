"""Submissions read for a similarity report: in short sessions, each connection back in the pool at
its block's end (on SQLite without the write lock), so that no connection is held while the report
is computed; their answers in chunks of :data:`CHUNK` ids."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from api.kit.db import SQLITE_WRITE
from api.models import Submission

SUBMISSIONS = cast(Table, Submission.__table__)
#: Ids read per statement.
CHUNK = 500


@contextmanager
def reading(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A short read, its connection back in the pool at the block's end (on SQLite, no write lock)."""
    with sessions() as session:
        session.connection(execution_options={SQLITE_WRITE: False})
        yield session


def read_answers(sessions: sessionmaker[Session], ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Submissions' answers by id, a short session per chunk."""
    found: dict[int, dict[str, Any]] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), CHUNK):
        with reading(sessions) as session:
            chunk = wanted[start : start + CHUNK]
            rows = session.execute(select(SUBMISSIONS.c.id, SUBMISSIONS.c.answers).where(SUBMISSIONS.c.id.in_(chunk)))
            found.update((int(row.id), dict(row.answers or {})) for row in rows)
    return found
