"""Engine and sessions.

SQLite gets WAL (readers never wait for the writer), foreign keys and a busy timeout on every
connection. Requests that write open their SQLite transaction with ``BEGIN IMMEDIATE``: the write
lock is taken up front, so two writers queue on the busy timeout instead of one failing when it
upgrades a read snapshot that has gone stale. An endpoint that computes for a while before it
writes (grading a submission) is marked :func:`deferred_write`: it reads in a plain transaction
and takes the lock only at :func:`begin_write`, so the grading of simultaneous submissions does
not queue behind one lock. PostgreSQL runs at READ COMMITTED; exactness under
concurrency comes from unique constraints (see :mod:`api.submissions.service`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings

#: Execution option asking SQLite to take the write lock when the transaction begins.
SQLITE_WRITE = "grader_sqlite_write"
#: Attribute of an endpoint whose SQLite session starts as a read (see :func:`deferred_write`).
DEFERRED_WRITE = "grader_deferred_write"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
BUSY_TIMEOUT_MS = 30_000


def make_engine(settings: Settings, *, for_migrations: bool = False) -> Engine:
    """The engine of the service; ``for_migrations`` leaves SQLite's foreign keys off, because a batch
    migration re-creates tables and must not cascade deletes while it copies them."""
    if settings.is_sqlite:
        engine = create_engine(
            settings.database_url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        _configure_sqlite(engine, foreign_keys=not for_migrations)
        return engine
    return create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
    )


def _configure_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(SQLITE_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def deferred_write(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint that writes, if at all, only after :func:`begin_write`."""
    setattr(endpoint, DEFERRED_WRITE, True)
    return endpoint


def begin_write(session: Session) -> None:
    """Make the session's transaction one that may write.

    On SQLite a transaction that has read cannot safely become a writer (if another connection
    committed since, the upgrade fails at once, whatever the busy timeout); so the read-only
    transaction so far is ended (it has written nothing) and a ``BEGIN IMMEDIATE`` one started.
    Elsewhere, and when the transaction already holds the lock, nothing happens.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite" or connection.get_execution_options().get(SQLITE_WRITE, False):
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("begin_write() after changes: they would be committed without the lock")
    session.commit()
    session.connection(execution_options={SQLITE_WRITE: True})


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)
