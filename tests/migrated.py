"""A SQLite database migrated once per test process and copied wherever one is needed: the
migrations take seconds, a copy of the file milliseconds. The fixtures' databases
(``tests/conftest.py``) and the live services' (``live_service``, ``hostile_service``) start from it."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from api.kit import migrate


@cache
def template() -> Path:
    """The migrated file (the engine disposed, so no journal is left beside it); removed at exit."""
    directory = Path(tempfile.mkdtemp(prefix="grader-template-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = directory / "grader.db"
    migrate.upgrade_database(f"sqlite:///{path}")
    return path


def migrated_sqlite(path: Path) -> str:
    """The URL of a migrated, empty database at ``path`` (a copy of :func:`template`)."""
    shutil.copyfile(template(), path)
    return f"sqlite:///{path}"
