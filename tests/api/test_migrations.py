"""The models and the migrations agree, and the migrations go down and up again, on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from api.app import create_app
from api.kit import migrate
from api.kit.config import Settings
from api.kit.db import make_engine
from api.models import Base
from api.users.tokens import hash_token
from grader.engine import grade_submission

from factories import auth


@pytest.fixture
def migration_engine(database_url: str):
    engine = make_engine(Settings(database_url=database_url), for_migrations=True)
    yield engine
    engine.dispose()


def _diff(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": migrate.include_name}
        )
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


def test_students_stored_before_0002_become_members_of_the_one_course(migration_engine) -> None:
    migrate.downgrade(migration_engine, "base")
    migrate.upgrade(migration_engine, "0001_initial")
    with migration_engine.begin() as connection:
        connection.execute(
            text("INSERT INTO users (id, name, role, created_at) VALUES ('early', 'M', 'student', CURRENT_TIMESTAMP)")
        )
    migrate.upgrade(migration_engine)
    with migration_engine.connect() as connection:
        rows = connection.execute(text("SELECT course_id, role FROM memberships WHERE user_id = 'early'")).all()
    assert [tuple(r) for r in rows] == [("default", "student")]
    assert _diff(migration_engine) == []


def _sql(connection, statement: str, **values) -> None:
    connection.execute(text(statement), values)


def test_a_single_course_database_upgrades_with_its_data_into_one_course(
    migration_engine, database_url, shared_bank
) -> None:
    """The schema and data of the single-course version (0003): two instructors, students on the
    roster and one dropped, an assignment with graded submissions (one regraded), tokens. After
    ``grader db upgrade`` it is one course that works through the API as before."""
    migrate.downgrade(migration_engine, "base")
    migrate.upgrade(migration_engine, "0003_variant_secret")
    problem_set = shared_bank.sets()["conv-pool-basics"]
    graded = grade_submission(problem_set, {"ex4.conv1_params": "3640"}, student=None)
    then = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    tokens = {"prof-a": "token-of-prof-a-" + "x" * 30, "s1": "token-of-s1-" + "y" * 30, "gone": "old-" + "z" * 40}
    with migration_engine.begin() as connection:
        for user, role, on_roster, minutes in (
            ("prof-b", "instructor", True, 5),
            ("prof-a", "instructor", True, 0),
            ("s1", "student", True, 1),
            ("s2", "student", True, 2),
            ("gone", "student", False, 3),
        ):
            _sql(
                connection,
                "INSERT INTO users (id, name, email, role, created_at, on_roster) "
                "VALUES (:id, :id, NULL, :role, :at, :r)",
                id=user,
                role=role,
                at=(then + timedelta(minutes=minutes)).replace(tzinfo=None),
                r=on_roster,
            )
        for user in ("prof-a", "s1"):
            _sql(
                connection,
                "INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES (:u, :h, CURRENT_TIMESTAMP)",
                u=user,
                h=hash_token(tokens[user]),
            )
        _sql(
            connection,
            "INSERT INTO assignments (id, problem_set, title, due_at, max_attempts, release_answers, grade_policy, "
            "created_by, created_at, variant_secret) VALUES ('hw1', 'conv-pool-basics', 'Homework 1', NULL, 3, "
            "'never', 'best', 'prof-a', CURRENT_TIMESTAMP, NULL)",
        )
        for number, student in enumerate(("s1", "s2", "gone"), start=1):
            _sql(
                connection,
                "INSERT INTO submissions (id, assignment_id, student_id, attempt, idempotency_key, request_hash, "
                "answers, parts, score, max_score, set_version, variant, submitted_at, graded_at, late) VALUES "
                "(:id, 'hw1', :s, 1, NULL, 'h', :answers, :parts, :score, :max, :version, NULL, :at, :at, :late)",
                id=number * 10,
                s=student,
                answers=json.dumps({"ex4.conv1_params": "3640"}),
                parts=json.dumps(graded.parts_json()),
                score=graded.score,
                max=graded.max_score,
                version=problem_set.version,
                at=then.replace(tzinfo=None),
                late=False,
            )
        _sql(
            connection,
            "INSERT INTO earlier_grades (submission_id, parts, score, max_score, set_version, graded_at, replaced_at, "
            "note) VALUES (10, '{}', 0, 9, 'old', :at, :at, 'regrade')",
            at=then.replace(tzinfo=None),
        )

    migrate.upgrade(migration_engine)
    assert _diff(migration_engine) == []

    app = create_app(Settings(database_url=database_url), bank=shared_bank)
    client = TestClient(app)
    try:
        owner, s1 = auth(tokens["prof-a"]), auth(tokens["s1"])
        assert client.get("/api/v1/courses", headers=owner).json()[0] | {"created_at": None} == {
            "id": "default",
            "title": "Default course",
            "role": "owner",
            "time_zone": "UTC",  # (0020: every course made before it)
            "categories": [{"name": "homework", "weight": 100.0, "drop_lowest": 0}],  # (0026: the default)
            "dates_from": "grader",  # (0035: every course made before it)
            "created_at": None,
        }
        roster = {m["id"]: m["role"] for m in client.get("/api/v1/courses/default/members", headers=owner).json()}
        assert roster == {"prof-a": "owner", "prof-b": "instructor", "s1": "student", "s2": "student"}
        hw1 = "/api/v1/courses/default/assignments/hw1"
        # pinned to the built-in set's version as the files are now (0005)
        assert client.get(hw1, headers=owner).json()["set_version"] == problem_set.version
        book = client.get(f"{hw1}/gradebook", headers=owner).json()
        assert {row["student"]: row["score"] for row in book["students"]} == {"s1": graded.score, "s2": graded.score}
        stored = client.get(f"{hw1}/submissions", headers=owner).json()
        assert [(s["id"], s["student"], s["attempt"]) for s in stored] == [
            (30, "gone", 1),
            (10, "s1", 1),
            (20, "s2", 1),
        ]
        assert [e["set_version"] for e in stored[1]["earlier_grades"]] == ["old"]
        # the student's token still works; the next attempt is numbered after the stored one
        again = client.post(f"{hw1}/submissions", json={"answers": {"ex4.conv1_params": "3640"}}, headers=s1)
        assert again.status_code == 201 and again.json()["attempt"] == 2 and again.json()["course"] == "default"
        assert client.get("/api/v1/submissions/10", headers=s1).json()["parts"] == graded.parts_json()
    finally:
        app.state.engine.dispose()
    # and back down: the single-course schema with the same rows
    migrate.downgrade(migration_engine, "0003_variant_secret")
    with migration_engine.connect() as connection:
        users = dict(connection.execute(text("SELECT id, on_roster FROM users")).all())
        count = connection.execute(text("SELECT count(*) FROM submissions")).scalar()
    assert {k: bool(v) for k, v in users.items()} == {
        "prof-a": True, "prof-b": True, "s1": True, "s2": True, "gone": False
    }  # fmt: skip
    assert count == 4
    migrate.upgrade(migration_engine)


def test_sessions_opened_before_0009_keep_their_account_and_token(migration_engine) -> None:
    """0009: a stored session takes its token's account and ``via = 'token'``; going down, a session
    opened without a token (an LTI launch) ends, the others stay."""
    migrate.downgrade(migration_engine, "base")
    migrate.upgrade(migration_engine, "0008_account_origin")
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
    with migration_engine.begin() as connection:
        _sql(connection, "INSERT INTO users (id, name, role, created_at) VALUES ('u9', 'U', 'student', :at)", at=later)
        _sql(
            connection,
            "INSERT INTO api_tokens (id, user_id, token_hash, created_at) VALUES (9, 'u9', 'h9', :at)",
            at=later,
        )
        _sql(connection, "INSERT INTO sessions VALUES ('s9', 9, :at, :at)", at=later)
    migrate.upgrade(migration_engine)
    with migration_engine.begin() as connection:
        row = connection.execute(text("SELECT user_id, token_id, via FROM sessions WHERE id_hash = 's9'")).one()
        assert tuple(row) == ("u9", 9, "token")
        _sql(
            connection,
            "INSERT INTO sessions (id_hash, user_id, token_id, via, created_at, expires_at) "
            "VALUES ('l9', 'u9', NULL, 'lti', :at, :at)",
            at=later,
        )
    assert _diff(migration_engine) == []
    migrate.downgrade(migration_engine, "0008_account_origin")
    with migration_engine.connect() as connection:
        assert [r[0] for r in connection.execute(text("SELECT id_hash FROM sessions"))] == ["s9"]
    migrate.upgrade(migration_engine)
