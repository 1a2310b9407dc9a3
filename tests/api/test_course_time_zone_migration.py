"""0020: courses made before it are in UTC, the zone their pages always used; going down drops the
zone and keeps the courses; up again, they are in UTC once more; models and migrations agree."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from api.kit import migrate
from api.models import Base

BEFORE = "0019_lti_signed_login_state"
REVISION = "0020_course_time_zone"


def _courses(engine: Engine) -> list[tuple[str, ...]]:
    columns = "id, title, time_zone" if _has_zone(engine) else "id, title"
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(f"SELECT {columns} FROM courses ORDER BY id"))]


def _has_zone(engine: Engine) -> bool:
    return "time_zone" in {column["name"] for column in inspect(engine).get_columns("courses")}


def test_courses_made_before_are_in_utc_and_going_down_keeps_them(migration_engine: Engine) -> None:
    migrate.downgrade(migration_engine, BEFORE)
    assert not _has_zone(migration_engine)
    with migration_engine.begin() as connection:
        connection.execute(
            text("INSERT INTO courses (id, title, created_at) VALUES ('old', 'Made before', CURRENT_TIMESTAMP)")
        )

    migrate.upgrade(migration_engine, REVISION)
    assert _courses(migration_engine) == [("old", "Made before", "UTC")]
    with migration_engine.begin() as connection:
        connection.execute(text("UPDATE courses SET time_zone = 'America/Chicago' WHERE id = 'old'"))
        connection.execute(
            text("INSERT INTO courses (id, title, created_at) VALUES ('new-one', 'Made after', CURRENT_TIMESTAMP)")
        )
    assert _courses(migration_engine) == [("new-one", "Made after", "UTC"), ("old", "Made before", "America/Chicago")]

    migrate.downgrade(migration_engine, BEFORE)
    assert migrate.current(migration_engine) == BEFORE
    assert _courses(migration_engine) == [("new-one", "Made after"), ("old", "Made before")]

    migrate.upgrade(migration_engine, REVISION)
    assert _courses(migration_engine) == [("new-one", "Made after", "UTC"), ("old", "Made before", "UTC")]
    migrate.upgrade(migration_engine)
    with migration_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": migrate.include_name}
        )
        assert compare_metadata(context, Base.metadata) == []
