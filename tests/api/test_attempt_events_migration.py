"""0035: clocks made before it have no added time; the event log's table comes and goes; going down
keeps the clocks."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from api.kit import migrate

BEFORE = "0034_accommodations"
REVISION = "0035_attempt_events"


def test_clocks_made_before_have_no_added_time_and_going_down_keeps_them(migration_engine: Engine) -> None:
    migrate.downgrade(migration_engine, BEFORE)
    assert "attempt_events" not in inspect(migration_engine).get_table_names()
    with migration_engine.begin() as connection:
        connection.execute(text("INSERT INTO courses (id, title, created_at) VALUES ('c', 'C', CURRENT_TIMESTAMP)"))
        connection.execute(
            text(
                "INSERT INTO assignments (course_id, id, problem_set, title, release_answers, grade_policy, "
                "created_at, practice, published, time_limit) VALUES ('c', 'exam', 'conv-basics', 'Exam', "
                "'after_close', 'best', CURRENT_TIMESTAMP, 'after_due', :yes, 30)"
            ),
            {"yes": True},
        )
        connection.execute(
            text("INSERT INTO users (id, name, role, created_at) VALUES ('s', 'S', 'student', CURRENT_TIMESTAMP)")
        )
        connection.execute(
            text(
                "INSERT INTO clocks (course_id, assignment_id, student_id, started_at) "
                "VALUES ('c', 'exam', 's', CURRENT_TIMESTAMP)"
            )
        )
    migrate.upgrade(migration_engine, REVISION)
    with migration_engine.begin() as connection:
        assert connection.execute(text("SELECT added_minutes, closes_at FROM clocks")).one() == (0, None)
        connection.execute(
            text(
                "INSERT INTO attempt_events (course_id, assignment_id, student_id, at, kind) "
                "VALUES ('c', 'exam', 's', CURRENT_TIMESTAMP, 'start')"
            )
        )
    migrate.downgrade(migration_engine, BEFORE)
    assert "attempt_events" not in inspect(migration_engine).get_table_names()
    assert "added_minutes" not in {column["name"] for column in inspect(migration_engine).get_columns("clocks")}
    with migration_engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM clocks")).scalar_one() == 1
    migrate.upgrade(migration_engine)
