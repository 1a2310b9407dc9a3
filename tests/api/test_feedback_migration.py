"""0027: assignments made before it show full feedback, as they did; the database refuses a level
it does not know; going down drops the column and keeps the rows; models and migrations agree."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from api.kit import migrate
from api.models import Base

BEFORE = "0026_course_gradebook"
REVISION = "0027_feedback_held_back"


def _insert_course_and_assignment(engine: Engine, course: str) -> None:
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


def _levels(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        query = text("SELECT course_id, feedback FROM assignments ORDER BY course_id")
        return [tuple(row) for row in connection.execute(query)]


def test_assignments_made_before_show_full_feedback_and_going_down_keeps_them(migration_engine: Engine) -> None:
    migrate.downgrade(migration_engine, BEFORE)
    assert "feedback" not in {column["name"] for column in inspect(migration_engine).get_columns("assignments")}
    _insert_course_and_assignment(migration_engine, "old")

    migrate.upgrade(migration_engine, REVISION)
    assert _levels(migration_engine) == [("old", "full")]
    with migration_engine.begin() as connection:
        connection.execute(text("UPDATE assignments SET feedback = 'none'"))
    _insert_course_and_assignment(migration_engine, "young")
    assert _levels(migration_engine) == [("old", "none"), ("young", "full")]

    migrate.downgrade(migration_engine, BEFORE)
    assert "feedback" not in {column["name"] for column in inspect(migration_engine).get_columns("assignments")}
    with migration_engine.connect() as connection:
        kept = connection.execute(text("SELECT course_id, id FROM assignments ORDER BY course_id")).all()
    assert [tuple(row) for row in kept] == [("old", "hw1"), ("young", "hw1")]

    migrate.upgrade(migration_engine)
    assert _levels(migration_engine) == [("old", "full"), ("young", "full")]
    with migration_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": migrate.include_name}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_a_level_the_service_does_not_know_is_refused_by_the_database(migration_engine: Engine) -> None:
    _insert_course_and_assignment(migration_engine, "c")
    with pytest.raises(Exception, match="feedback"), migration_engine.begin() as connection:  # the check constraint
        connection.execute(text("UPDATE assignments SET feedback = 'partial'"))
    assert _levels(migration_engine) == [("c", "full")]
