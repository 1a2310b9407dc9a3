"""0028: assignments made before it are untimed (null) and extensions have no extra minutes;
``clocks`` is one row per assignment and student; going down drops the columns and the table and
keeps the assignments; models and migrations agree."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from api.kit import migrate
from api.models import Base

BEFORE = "0027_feedback_held_back"
REVISION = "0028_timed_assignments"


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def _insert(engine: Engine, course: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO courses (id, title, created_at) VALUES (:c, 'A course', CURRENT_TIMESTAMP)"),
            {"c": course},
        )
        connection.execute(
            text(
                "INSERT INTO assignments (course_id, id, problem_set, title, release_answers, grade_policy, "
                "created_at, practice, published) VALUES (:c, 'hw1', 'conv-basics', 'Homework 1', 'after_close', "
                "'best', CURRENT_TIMESTAMP, 'after_due', :yes)"
            ),
            {"c": course, "yes": True},
        )
        connection.execute(
            text("INSERT INTO users (id, name, role, created_at) VALUES (:u, 'S', 'student', CURRENT_TIMESTAMP)"),
            {"u": f"s-{course}"},
        )


def test_assignments_made_before_are_untimed_and_going_down_keeps_them(migration_engine: Engine) -> None:
    migrate.downgrade(migration_engine, BEFORE)
    assert "time_limit" not in _columns(migration_engine, "assignments")
    assert "clocks" not in inspect(migration_engine).get_table_names()
    _insert(migration_engine, "old")

    migrate.upgrade(migration_engine, REVISION)
    with migration_engine.begin() as connection:
        assert connection.execute(text("SELECT time_limit FROM assignments")).scalar_one() is None
        connection.execute(text("UPDATE assignments SET time_limit = 45"))
        clock = {"c": "old", "s": "s-old"}
        insert = (
            "INSERT INTO clocks (course_id, assignment_id, student_id, started_at) "
            "VALUES (:c, 'hw1', :s, CURRENT_TIMESTAMP)"
        )
        connection.execute(text(insert), clock)
    with pytest.raises(IntegrityError), migration_engine.begin() as connection:  # one clock per student
        connection.execute(text(insert), clock)
    with pytest.raises(IntegrityError), migration_engine.begin() as connection:
        connection.execute(text("UPDATE assignments SET time_limit = 0"))
    assert "extra_minutes" in _columns(migration_engine, "extensions")

    migrate.downgrade(migration_engine, BEFORE)
    assert "time_limit" not in _columns(migration_engine, "assignments")
    assert "extra_minutes" not in _columns(migration_engine, "extensions")
    assert "clocks" not in inspect(migration_engine).get_table_names()
    with migration_engine.connect() as connection:
        assert connection.execute(text("SELECT course_id, id FROM assignments")).all() == [("old", "hw1")]

    migrate.upgrade(migration_engine)
    with migration_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": migrate.include_name}
        )
        assert compare_metadata(context, Base.metadata) == []
