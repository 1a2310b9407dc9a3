"""Alembic driven from code: ``grader db upgrade``, ``grader serve`` and the tests use these."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

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


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database of ``engine`` (on one connection, in one transaction where the backend allows)."""
    with engine.begin() as connection:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    with engine.begin() as connection:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: Engine) -> bool:
    return current(engine) == head()
