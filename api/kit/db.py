"""Engine and sessions.

SQLite gets WAL (readers never wait for the writer), foreign keys and a busy timeout on every
connection. Requests that write open their SQLite transaction with ``BEGIN IMMEDIATE``: the write
lock is taken up front, so two writers queue on the busy timeout instead of one failing when it
upgrades a read snapshot that has gone stale; a POST that only reads is marked
:func:`reads_only`. PostgreSQL runs at READ COMMITTED; exactness under
concurrency comes from unique constraints (see :mod:`api.submissions.service`).

Pooled connections are not pinged before use (a round trip for every request): a connection the
database has dropped (a restart, an idle timeout) fails the request's first read, which
:func:`first_read` runs once more on a new connection.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.kit.config import Settings

#: Execution option asking SQLite to take the write lock when the transaction begins.
SQLITE_WRITE = "grader_sqlite_write"
#: Execution option of an engine whose statements each commit by themselves (:func:`autocommit`):
#: SQLite's ``begin`` listener then sends no BEGIN; on PostgreSQL it marks the engine whose
#: connections are in autocommit mode from the moment they connect.
AUTOCOMMIT = "grader_autocommit"
#: Attribute of an endpoint whose SQLite session only reads (see :func:`reads_only`).
READS_ONLY = "grader_reads_only"
#: Attribute of an endpoint whose one write is a single self-contained statement (see :func:`writes_once`).
WRITES_ONCE = "grader_writes_once"
#: Attribute of a GET endpoint that writes (see :func:`writes`).
WRITES = "grader_writes"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
Found = TypeVar("Found")
BUSY_TIMEOUT_MS = 30_000
#: The :func:`autocommit` engine of each engine :func:`make_engine` made.
_AUTOCOMMIT_OF: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def make_engine(settings: Settings, *, for_migrations: bool = False) -> Engine:
    """The engine of the service, whose sessions run in transactions; ``for_migrations`` leaves
    SQLite's foreign keys off, because a batch migration re-creates tables and must not cascade
    deletes while it copies them, and PostgreSQL's statements without a time limit.

    Its pool is shared with the engine :func:`autocommit` returns for it. On PostgreSQL the pool's
    connections are in autocommit mode from the moment they connect, and this engine sets a READ
    COMMITTED transaction on a connection as it checks one out: the requests that run without a
    transaction, most of them, then pay nothing for it (see :func:`autocommit`)."""
    if settings.is_sqlite:
        pool = create_engine(
            settings.database_url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        _configure_sqlite(pool, foreign_keys=not for_migrations)
        engine = pool.execution_options()
    else:
        pool = create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            connect_args=_connect_args(settings, statement_timeout=not for_migrations),
            isolation_level="AUTOCOMMIT",
        )
        engine = pool.execution_options(isolation_level="READ COMMITTED")
    _AUTOCOMMIT_OF[engine] = pool.execution_options(**{AUTOCOMMIT: True})
    return engine


#: Seconds to wait for PostgreSQL to accept a connection. Without a limit, a database host that
#: stops answering (rather than refusing) would hold each request, and its database slot, forever.
CONNECT_TIMEOUT_SECONDS = 10


def _connect_args(settings: Settings, *, statement_timeout: bool = True) -> dict[str, Any]:
    """A connect timeout; the statement timeout of the settings (a statement, or a wait for a lock
    held by a migration or an administrator, must not hold a request's database slot for long);
    and the session's time zone UTC, unless the URL sets its own (``connect_timeout``,
    ``options``). Migrations get no statement timeout: rebuilding a large table may take longer.

    Timestamps are stored with their zone, so the session's zone changes no value: it is the zone
    the driver hands them back in, which the service turns into UTC (:class:`api.models.UTCDateTime`).
    In UTC already, that costs nothing; in a named zone (a server's default, ``Etc/UTC`` say) it
    cost 5 µs a timestamp, most of a big course's dashboard (``bench/course_views.py``)."""
    query = make_url(settings.database_url).query
    args: dict[str, Any] = {}
    if "connect_timeout" not in query:
        args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    if "options" not in query:
        options = ["-c timezone=UTC"]
        if statement_timeout and settings.db_statement_timeout_ms:
            options.append(f"-c statement_timeout={settings.db_statement_timeout_ms}")
        args["options"] = " ".join(options)
    return args


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
        options = connection.get_execution_options()
        if options.get(AUTOCOMMIT, False):
            return  # the sqlite3 module, with isolation_level None, then commits each statement
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(SQLITE_WRITE, False) else "BEGIN")


def writer(engine: Engine) -> Engine:
    """``engine`` for a request that may write: on SQLite its transactions take the write lock as
    they begin (the same pool, with an execution option the ``begin`` listener reads)."""
    return engine.execution_options(**{SQLITE_WRITE: True}) if engine.dialect.name == "sqlite" else engine


def autocommit(engine: Engine) -> Engine:
    """``engine``'s pool committing every statement by itself, for a request that reads only or
    whose one write is a single self-contained statement: a transaction would add nothing but
    ``BEGIN`` and ``COMMIT``, two round trips to PostgreSQL. ``engine`` is one :func:`make_engine` made.

    On PostgreSQL the pool's connections are in autocommit mode already: set as each connection is
    checked out and set back as it is returned, the mode cost about 5% of a submission's CPU
    (``bench/service.py``). On SQLite an option of our own, which the ``begin`` listener reads
    (SQLAlchemy's ``AUTOCOMMIT`` level would, when the connection goes back to the pool, hand
    transaction control back to the sqlite3 module)."""
    try:
        return _AUTOCOMMIT_OF[engine]
    except KeyError:
        raise ValueError("autocommit() takes an engine of make_engine()") from None


def is_autocommit(session: Session) -> bool:
    """Whether the session commits each statement by itself (:func:`autocommit`)."""
    return bool(session.get_bind().get_execution_options().get(AUTOCOMMIT))


@contextlib.contextmanager
def atomic(session: Session, *, needed: bool = True) -> Iterator[None]:
    """The statements of the block in one transaction, also on a session of :func:`autocommit`
    (where the block's statements would each commit alone): an explicit ``BEGIN`` … ``COMMIT``
    (``BEGIN IMMEDIATE`` on SQLite: the block writes). On a session in a transaction already, or
    when not ``needed``, the block runs as it is: a request that rarely writes more than one row
    pays the two round trips only when it does."""
    if not needed or not is_autocommit(session):
        yield
        return
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    connection.exec_driver_sql("BEGIN IMMEDIATE" if sqlite else "BEGIN")
    try:
        yield
    except BaseException:
        connection.exec_driver_sql("ROLLBACK")
        raise
    connection.exec_driver_sql("COMMIT")


def first_read(session: Session, read: Callable[[], Found]) -> Found:
    """What ``read`` (the first statement of a request, which must not write) found, read once
    more on a new connection if the database had dropped the pooled one: optimistic disconnect
    handling instead of a ping at every checkout. The pool then discards its other old
    connections too. Only a read is retried: after a write, a lost connection may or may not have
    committed it."""
    try:
        return read()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        session.rollback()
    return read()


def is_unique_violation(error: IntegrityError) -> bool:
    """Whether a write failed on a unique key (another transaction stored the same key first), as
    opposed to a missing reference or a NULL."""
    code = getattr(error.orig, "sqlstate", None)  # psycopg
    return code == "23505" if code is not None else "UNIQUE constraint failed" in str(error.orig)


def dialect_insert(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """The ``INSERT`` of the session's backend, the one that has ``ON CONFLICT`` (both of ours do)."""
    return insert_of(session.get_bind().dialect.name, table)


def insert_of(dialect: str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """The ``INSERT`` of the backend named ``dialect``: for a statement built once per backend."""
    match dialect:
        case "postgresql":
            return postgresql.insert(table)
        case "sqlite":
            return sqlite.insert(table)
        case other:
            raise NotImplementedError(f"no INSERT ... ON CONFLICT for {other}")


def upsert(session: Session, model: type[Any], values: dict[str, Any], *, keys: tuple[str, ...]) -> None:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE``: the row of ``keys`` with ``values``, in one
    statement whether it existed or not (no read-then-write race)."""
    statement = dialect_insert(session, model.__table__).values(values)
    changed = {name: statement.excluded[name] for name in values if name not in keys}
    session.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changed))


def reads_only(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint that only reads although its method may write (a POST that computes):
    its SQLite session does not take the write lock."""
    setattr(endpoint, READS_ONLY, True)
    return endpoint


def writes(endpoint: Endpoint) -> Endpoint:
    """Mark a GET endpoint that writes (following a one-time sign-in link): its session is a
    transaction, and on SQLite takes the write lock as it begins, like a POST's."""
    setattr(endpoint, WRITES, True)
    return endpoint


def writes_once(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint whose only write is one self-contained statement (storing a submission):
    its session runs on :func:`autocommit`, like a read's."""
    setattr(endpoint, WRITES_ONCE, True)
    return endpoint


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)
