"""0021: assignments made before it are published, open, never close and are not archived, as
before; those that released their answers ``after_due`` (while late work was accepted) release
them ``after_close``; going down maps the new rules to the nearest old ones that show nothing
earlier, and keeps every row; models and migrations agree at the head."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from api.kit import migrate
from api.models import Base

BEFORE = "0020_course_time_zone"
REVISION = "0021_assignment_schedule"


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def _assignments(engine: Engine) -> list[tuple[object, ...]]:
    new = "opens_at" in _columns(engine, "assignments")
    columns = "id, release_answers" + (", opens_at, closes_at, published, archived_at" if new else "")
    with engine.connect() as connection:
        rows = [list(row) for row in connection.execute(text(f"SELECT {columns} FROM assignments ORDER BY id"))]
    for row in rows:
        if new:
            row[4] = bool(row[4])  # (SQLite says 1)
    return [tuple(row) for row in rows]


def _insert(engine: Engine, release: dict[str, str]) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO courses (id, title, created_at) VALUES ('c', 'C', CURRENT_TIMESTAMP)"))
        connection.execute(
            text("INSERT INTO users (id, name, role, created_at) VALUES ('s', 'S', 'student', CURRENT_TIMESTAMP)")
        )
        for assignment, rule in release.items():
            connection.execute(
                text(
                    "INSERT INTO assignments (course_id, id, problem_set, title, release_answers, grade_policy, "
                    "created_at, practice) VALUES ('c', :id, 'conv-pool-basics', 'A', :rule, 'best', "
                    "CURRENT_TIMESTAMP, 'after_due')"
                ),
                {"id": assignment, "rule": rule},
            )
        if "due" in release:
            connection.execute(
                text(
                    "INSERT INTO extensions (course_id, assignment_id, student_id, max_attempts, granted_at) "
                    "VALUES ('c', 'due', 's', 3, CURRENT_TIMESTAMP)"
                )
            )


def test_assignments_made_before_keep_their_behaviour_and_stop_leaking_answers(migration_engine: Engine) -> None:
    migrate.downgrade(migration_engine, BEFORE)
    assert "closes_at" not in _columns(migration_engine, "assignments")
    _insert(migration_engine, {"due": "after_due", "never": "never", "now": "immediately"})

    migrate.upgrade(migration_engine, REVISION)
    assert _assignments(migration_engine) == [
        ("due", "after_close", None, None, True, None),
        ("never", "never", None, None, True, None),
        ("now", "immediately", None, None, True, None),
    ]
    assert "closes_at" in _columns(migration_engine, "extensions")
    with migration_engine.begin() as connection:
        connection.execute(text("UPDATE assignments SET release_answers = 'after_attempts' WHERE id = 'never'"))
        connection.execute(text("UPDATE assignments SET published = :no WHERE id = 'now'"), {"no": False})

    migrate.downgrade(migration_engine, BEFORE)
    assert migrate.current(migration_engine) == BEFORE
    assert _assignments(migration_engine) == [("due", "after_due"), ("never", "never"), ("now", "immediately")]
    assert "closes_at" not in _columns(migration_engine, "extensions")
    with migration_engine.connect() as connection:
        assert connection.execute(text("SELECT max_attempts FROM extensions")).scalar_one() == 3

    migrate.upgrade(migration_engine)
    assert [row[:2] for row in _assignments(migration_engine)] == [
        ("due", "after_close"),
        ("never", "never"),
        ("now", "immediately"),
    ]
    with migration_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": migrate.include_name}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_the_database_refuses_a_close_before_the_due_date(migration_engine: Engine) -> None:
    migrate.upgrade(migration_engine)
    _insert(migration_engine, {"a": "never"})
    with pytest.raises(Exception, match=r"(?i)check"), migration_engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE assignments SET due_at = :due, closes_at = :closes WHERE id = 'a'",
            ),
            {"due": "2030-01-02 00:00:00+00:00", "closes": "2030-01-01 00:00:00+00:00"},
        )
