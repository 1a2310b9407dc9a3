"""0026: courses made before it have the default category (null), their assignments count in
``homework`` with no grace period, so late work stays as late as it was; going down drops the three
columns and keeps the rows; models and migrations agree."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from api.kit import migrate
from api.models import Base

BEFORE = "0025_code_fair_share"
REVISION = "0026_course_gradebook"


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


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


def _rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT courses.id, courses.categories, assignments.category, assignments.grace_minutes "
                    "FROM courses JOIN assignments ON assignments.course_id = courses.id ORDER BY courses.id"
                )
            )
        ]


def test_assignments_made_before_count_in_homework_on_time_and_going_down_keeps_them(
    migration_engine: Engine,
) -> None:
    migrate.downgrade(migration_engine, BEFORE)
    assert "grace_minutes" not in _columns(migration_engine, "assignments")
    _insert_course_and_assignment(migration_engine, "old")

    migrate.upgrade(migration_engine, REVISION)
    assert _rows(migration_engine) == [("old", None, "homework", 0)]
    weights = [{"name": "exams", "weight": 100, "drop_lowest": 0}]
    with migration_engine.begin() as connection:
        connection.execute(text("UPDATE courses SET categories = :w WHERE id = 'old'"), {"w": json.dumps(weights)})
        connection.execute(text("UPDATE assignments SET category = 'exams', grace_minutes = 10"))
    _insert_course_and_assignment(migration_engine, "new-one")
    rows = _rows(migration_engine)
    assert rows[0] == ("new-one", None, "homework", 0)
    assert rows[1][0] == "old" and rows[1][2:] == ("exams", 10)
    stored = rows[1][1]
    assert (json.loads(stored) if isinstance(stored, str) else stored) == weights

    migrate.downgrade(migration_engine, BEFORE)
    assert migrate.current(migration_engine) == BEFORE
    assert not {"category", "grace_minutes"} & _columns(migration_engine, "assignments")
    assert "categories" not in _columns(migration_engine, "courses")
    with migration_engine.connect() as connection:
        kept = connection.execute(text("SELECT course_id, id FROM assignments ORDER BY course_id")).all()
    assert [tuple(row) for row in kept] == [("new-one", "hw1"), ("old", "hw1")]

    migrate.upgrade(migration_engine)
    assert _rows(migration_engine) == [("new-one", None, "homework", 0), ("old", None, "homework", 0)]
    with migration_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": migrate.include_name}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_a_negative_grace_period_is_refused_by_the_database(migration_engine: Engine) -> None:
    _insert_course_and_assignment(migration_engine, "c")
    try:
        with migration_engine.begin() as connection:
            connection.execute(text("UPDATE assignments SET grace_minutes = -1"))
    except Exception as error:  # the check constraint, on either backend
        assert "grace_minutes" in str(error)
    else:
        raise AssertionError("a negative grace period was stored")
