"""Settings from the environment, and the bank reloading a changed set file (or keeping the last good one)."""

from __future__ import annotations

import os
import shutil

import pytest
from pydantic import ValidationError

from api.kit.config import DB_CONCURRENCY, DEFAULT_DATABASE_URL, Settings
from api.library.bank import Bank
from problems.loader import BUILT_IN


def test_defaults_and_environment() -> None:
    assert Settings.from_env({}).database_url == DEFAULT_DATABASE_URL
    assert Settings.from_env({}).is_embedded
    settings = Settings.from_env({"DATABASE_URL": "postgresql://u:p@db/grader", "GRADER_MAX_BODY_BYTES": "2048"})
    assert settings.database_url == "postgresql+psycopg://u:p@db/grader"
    assert settings.max_body_bytes == 2048 and not settings.is_sqlite
    assert Settings.from_env({"DATABASE_URL": "postgres://h/d"}).database_url == "postgresql+psycopg://h/d"
    assert Settings.from_env({}).db_statement_timeout_ms == 30_000
    assert Settings.from_env({"GRADER_DB_STATEMENT_TIMEOUT_MS": "0"}).db_statement_timeout_ms == 0


def test_postgresql_connections_carry_the_timeouts_and_utc() -> None:
    """What psycopg is given: the session's time zone UTC and the statement timeout as startup
    options, the timeout unless the settings turn it off or the engine is for migrations; neither
    when the URL sets its own options."""
    from api.kit.db import _connect_args

    url = "postgresql://u@h/d"
    assert _connect_args(Settings(database_url=url)) == {
        "connect_timeout": 10,
        "options": "-c timezone=UTC -c statement_timeout=30000",
    }
    utc_only = {"connect_timeout": 10, "options": "-c timezone=UTC"}
    assert _connect_args(Settings(database_url=url, db_statement_timeout_ms=0)) == utc_only
    assert _connect_args(Settings(database_url=url), statement_timeout=False) == utc_only
    assert _connect_args(Settings(database_url=url + "?options=-c%20search_path%3Dx&connect_timeout=3")) == {}


@pytest.mark.parametrize(
    "environ",
    [
        {"GRADER_MAX_BODY_BYTES": "many"},
        {"GRADER_MAX_BODY_BYTES": "10"},
        {"DATABASE_URL": "   "},
        {"GRADER_DB_POOL_SIZE": "0"},
        {"GRADER_DB_STATEMENT_TIMEOUT_MS": "-1"},
    ],
)
def test_invalid_environment_is_refused(environ) -> None:
    with pytest.raises(ValidationError):
        Settings.from_env(environ)


def test_a_process_uses_the_database_in_as_many_requests_at_once_as_its_pool_allows() -> None:
    assert Settings().db_slots == DB_CONCURRENCY == 8  # (10 kept + 20 overflow)
    small = Settings.from_env({"GRADER_DB_POOL_SIZE": "2", "GRADER_DB_MAX_OVERFLOW": "1"})
    assert small.db_slots == 3  # (no request holding a slot waits for a connection)


def test_bank_reloads_a_changed_set_and_keeps_the_last_good_one(tmp_path) -> None:
    shutil.copy(BUILT_IN / "fc-vs-conv.yaml", tmp_path)
    bank = Bank(tmp_path)
    first = bank.sets()["fc-vs-conv"].version
    assert bank.sets()["fc-vs-conv"] is bank.sets()["fc-vs-conv"]  # no reload without a change

    path = tmp_path / "fc-vs-conv.yaml"
    path.write_text(path.read_text() + "\n# edited\n")
    second = bank.sets()["fc-vs-conv"].version
    assert second != first

    path.write_text("id: fc-vs-conv\ntitle: [broken\n")
    os.utime(path, ns=(1, 1))
    assert bank.sets()["fc-vs-conv"].version == second


def test_a_bad_set_file_never_stops_the_service_and_is_reported_once(tmp_path, caplog) -> None:
    shutil.copy(BUILT_IN / "fc-vs-conv.yaml", tmp_path)
    (tmp_path / "broken.yaml").write_text("id: broken\ntitle: [unclosed\n")
    with caplog.at_level("ERROR", logger="grader.api"):
        bank = Bank(tmp_path)
        for _ in range(3):
            assert set(bank.sets()) == {"fc-vs-conv"}
    reports = [r.getMessage() for r in caplog.records if "broken.yaml" in r.getMessage()]
    assert len(reports) == 1 and "left out" in reports[0] and "\n" not in reports[0].split(":")[0]
