"""The models and the migrations agree, and the migrations go down and up again, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from api import migrate
from api.config import Settings
from api.db import make_engine
from api.models import Base


@pytest.fixture
def migration_engine(database_url: str):
    engine = make_engine(Settings(database_url=database_url), for_migrations=True)
    yield engine
    engine.dispose()


def _diff(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_fresh_database_is_at_head_and_matches_the_models(migration_engine) -> None:
    assert migrate.current(migration_engine) == migrate.head()
    assert _diff(migration_engine) == []


def test_downgrade_to_base_and_upgrade_again(migration_engine) -> None:
    migrate.downgrade(migration_engine, "base")
    assert migrate.current(migration_engine) is None
    assert set(inspect(migration_engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(migration_engine)
    assert migrate.is_current(migration_engine)
    assert _diff(migration_engine) == []


def test_migration_files_are_named_by_date_and_slug() -> None:
    versions = (migrate.MIGRATIONS / "versions").iterdir()
    names = [p.name for p in versions if p.name.endswith(".py") and p.name != "__init__.py"]  # the package marker
    assert names
    for name in names:
        assert name[:10].replace("_", "").isdigit() and name[10] == "-", name


def test_students_stored_before_0002_are_on_the_roster_after_it(migration_engine) -> None:
    from sqlalchemy import text

    migrate.downgrade(migration_engine, "0001_initial")
    student = "migrated-student"
    with migration_engine.begin() as connection:
        connection.execute(
            text("INSERT INTO users (id, name, role, created_at) VALUES (:id, 'M', 'student', CURRENT_TIMESTAMP)"),
            {"id": student},
        )
    migrate.upgrade(migration_engine)
    with migration_engine.connect() as connection:
        on_roster = connection.execute(text("SELECT on_roster FROM users WHERE id = :id"), {"id": student}).scalar()
    assert on_roster == 1  # True on PostgreSQL, 1 on SQLite
    assert _diff(migration_engine) == []
