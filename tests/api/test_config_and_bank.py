"""Settings from the environment, and the bank reloading a changed set file (or keeping the last good one)."""

from __future__ import annotations

import os
import shutil

import pytest
from pydantic import ValidationError

from api.bank import Bank
from api.config import DEFAULT_DATABASE_URL, Settings
from problems.loader import BUILT_IN


def test_defaults_and_environment() -> None:
    assert Settings.from_env({}).database_url == DEFAULT_DATABASE_URL
    assert Settings.from_env({}).is_embedded
    settings = Settings.from_env({"DATABASE_URL": "postgresql://u:p@db/grader", "GRADER_MAX_BODY_BYTES": "2048"})
    assert settings.database_url == "postgresql+psycopg://u:p@db/grader"
    assert settings.max_body_bytes == 2048 and not settings.is_sqlite
    assert Settings.from_env({"DATABASE_URL": "postgres://h/d"}).database_url == "postgresql+psycopg://h/d"


@pytest.mark.parametrize(
    "environ",
    [
        {"GRADER_MAX_BODY_BYTES": "many"},
        {"GRADER_MAX_BODY_BYTES": "10"},
        {"DATABASE_URL": "   "},
        {"GRADER_DB_POOL_SIZE": "2", "GRADER_DB_MAX_OVERFLOW": "0"},
    ],
)
def test_invalid_environment_is_refused(environ) -> None:
    with pytest.raises(ValidationError):
        Settings.from_env(environ)


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
