"""0030: an assignment whose close had passed is marked released at its close (its scores were sent
as they changed, so nothing is sent again); one still open, or never closing, awaits its release; a
score row may hold no score; going down deletes only the rows without one; models and migrations
agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from api.kit import migrate
from api.models import Base

BEFORE = "0029_submission_scores"
REVISION = "0030_held_back_passback"
PAST = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
FUTURE = datetime.now(UTC) + timedelta(days=30)


def _naive(engine: Engine, moment: datetime) -> datetime:
    return moment.replace(tzinfo=None) if engine.dialect.name == "sqlite" else moment


def _insert(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO courses (id, title, created_at) VALUES ('c', 'A course', CURRENT_TIMESTAMP)")
        )
        connection.execute(
            text("INSERT INTO users (id, name, role, created_at) VALUES ('s', 'S', 'student', CURRENT_TIMESTAMP)")
        )
        for assignment, closes in (("closed", PAST), ("open", FUTURE), ("never", None)):
            connection.execute(
                text(
                    "INSERT INTO assignments (course_id, id, problem_set, title, release_answers, grade_policy, "
                    "created_at, practice, published, closes_at, feedback) VALUES ('c', :a, 'conv-basics', 'A', "
                    "'after_close', 'best', CURRENT_TIMESTAMP, 'after_due', :yes, :closes, 'none')"
                ),
                {"a": assignment, "yes": True, "closes": None if closes is None else _naive(engine, closes)},
            )
        connection.execute(
            text(
                "INSERT INTO lti_platforms (id, name, issuer, client_id, auth_url, token_url, jwks_url, created_at) "
                "VALUES ('p', 'LMS', 'https://lms', 'tool', 'https://lms/a', 'https://lms/t', 'https://lms/k', "
                "CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO lti_contexts (platform_id, context_id, course_id, linked_at) "
                "VALUES ('p', 'ctx', 'c', CURRENT_TIMESTAMP)"
            )
        )


def _score(engine: Engine, score: float | None) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO lti_scores (platform_id, context_id, course_id, assignment_id, student_id, sub, "
                "score_given, score_maximum, grading_progress, timestamp, new_submission, status, attempts, "
                "next_try_at) VALUES ('p', 'ctx', 'c', 'open', 's', 'sub', :score, 9, 'Pending', CURRENT_TIMESTAMP, "
                ":no, 'pending', 0, CURRENT_TIMESTAMP)"
            ),
            {"score": score, "no": False},
        )


def _released(engine: Engine) -> dict[str, datetime | None]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, scores_released_at FROM assignments"))
        found = {}
        for assignment, moment in rows:
            if isinstance(moment, str):  # (SQLite hands a plain query's datetimes back as text)
                moment = datetime.fromisoformat(moment)
            found[assignment] = None if moment is None else moment.replace(tzinfo=UTC)
        return found


def test_closed_assignments_are_marked_released_and_going_down_keeps_the_scores(migration_engine: Engine) -> None:
    migrate.downgrade(migration_engine, BEFORE)
    assert "scores_released_at" not in {c["name"] for c in inspect(migration_engine).get_columns("assignments")}
    _insert(migration_engine)
    _score(migration_engine, 3.0)

    migrate.upgrade(migration_engine, REVISION)
    assert _released(migration_engine) == {"closed": PAST, "open": None, "never": None}
    _score(migration_engine, None)  # "submitted", nothing graded: allowed now
    with migration_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM lti_scores")).scalar() == 2

    migrate.downgrade(migration_engine, BEFORE)
    assert "scores_released_at" not in {c["name"] for c in inspect(migration_engine).get_columns("assignments")}
    assert "submitted_at" not in {c["name"] for c in inspect(migration_engine).get_columns("lti_scores")}
    with migration_engine.connect() as connection:
        kept = connection.execute(text("SELECT score_given FROM lti_scores")).scalars().all()
    assert kept == [3.0]

    migrate.upgrade(migration_engine)
    with migration_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": migrate.include_name}
        )
        assert compare_metadata(context, Base.metadata) == []
