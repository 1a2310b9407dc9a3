"""Alembic driven from code: ``grader db upgrade``, ``grader serve`` and the tests use these.

On PostgreSQL an upgrade holds a transaction-level advisory lock (:data:`MIGRATION_LOCK`) before it
reads the schema's revision: any number of replicas running ``grader db upgrade`` at once (each
container's entrypoint does) queue on it, the first migrates and commits, and the others then find
the schema at head and apply nothing. Without it they would all see an empty database and race to
create the same tables, all but one failing. On SQLite the transaction takes the write lock as it
begins (``BEGIN IMMEDIATE``), which serialises them the same way.
"""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from api.kit.config import Settings
from api.kit.db import make_engine, writer

#: ``migrations/`` is a package of its own, so it is installed with the service (wheel or editable).
MIGRATIONS = files("migrations")


#: The prefix of the objects procrastinate's schema makes (migration ``0007_jobs``): they are the
#: library's, not our models', and are left out when models and database are compared.
QUEUE_PREFIX = "procrastinate"


def include_name(name: str | None, type_: str, _parents: object = None) -> bool:
    """Whether a database object is one of our models' (``include_name`` of Alembic's comparison)."""
    return not (type_ == "table" and name is not None and name.startswith(QUEUE_PREFIX))


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a literal % in a URL (an escaped password) must be doubled.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


#: The key of PostgreSQL's advisory lock held while migrating (any 64-bit number; the same in every
#: replica and version, so that no two processes ever migrate one database at once).
MIGRATION_LOCK = 0x67726164_65726462  # "graderdb"


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the database of ``engine`` (on one connection, in one transaction where the backend
    allows), one process at a time; the revisions before and after, both read under the lock."""
    with writer(engine).begin() as connection:
        _lock_migrations(connection)
        before = MigrationContext.configure(connection).get_current_revision()
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        return before, MigrationContext.configure(connection).get_current_revision()


def upgrade_database(database_url: str) -> str:
    """Migrate the database at ``database_url`` to head, on an engine of its own for migrations
    (:func:`api.kit.db.make_engine`), disposed after; the URL, for the caller to use."""
    engine = make_engine(Settings(database_url=database_url), for_migrations=True)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return database_url


def _lock_migrations(connection: Connection) -> None:
    """Wait for any other migration of this database to commit (PostgreSQL; released at the end of
    this transaction). On SQLite, :func:`api.kit.db.writer` took the write lock already."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def downgrade(engine: Engine, revision: str = "base") -> None:
    with writer(engine).begin() as connection:
        _lock_migrations(connection)
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head() -> str | None:
    return script_directory().get_current_head()


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: Engine) -> bool:
    return current(engine) == head()
