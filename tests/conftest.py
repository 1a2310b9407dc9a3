"""Fixtures of the tests that use the service (API, command line, deployment): every such test
module runs against SQLite and PostgreSQL.

Each module gets a freshly migrated database (a SQLite file or a PostgreSQL database, each copied
from a template migrated once per worker) and one app; tests in a module share it, so each test makes its own
students and assignments (see :class:`Course`). The PostgreSQL server is started once per xdist
worker (:class:`harness.postgres.PostgresServer`) and only if a module asks for it.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from hypothesis import settings as hypothesis_settings

# No per-example deadline: hypothesis's 200 ms failed a reading test as flaky beside a loaded
# machine's other work (an example took 342 ms). What a property test proves is its property; the
# run's time is bounded by pytest-timeout.
hypothesis_settings.register_profile("grader", deadline=None)
hypothesis_settings.load_profile("grader")

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from api.app import create_app  # noqa: E402
from api.kit import migrate  # noqa: E402
from api.kit.config import Settings  # noqa: E402
from api.kit.db import make_engine  # noqa: E402
from api.kit.quotas import GradingBudget  # noqa: E402
from api.library.bank import Bank  # noqa: E402
from harness.postgres import PostgresServer, find_bin_dir  # noqa: E402
from problems.loader import load_bank  # noqa: E402

from factories import Course, make_instructor, unique  # noqa: E402
from migrated import migrated_sqlite  # noqa: E402

BACKENDS = ["sqlite", "postgresql"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "only_backend(name): a test about one database backend only")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``only_backend`` is not collected for the other backend (rather than skipped
    there: it does not exist for it, and a skip would look like a hidden failure)."""
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker("only_backend")
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        (dropped if marker and backend and backend != marker.args[0] else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def shared_bank() -> Bank:
    """The built-in bank, loaded once per process (apps share it)."""
    return Bank(preloaded=load_bank())


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    if find_bin_dir() is None:  # a failure, not a skip: CI must prove the PostgreSQL backend
        pytest.fail("PostgreSQL 15 binaries are needed (apt-get install postgresql-15)")
    server = PostgresServer().start()
    try:
        url = server.create_database("grader_template")
        migrate.upgrade_database(url)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def fresh_database(backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database of that backend; dropped at the end of the module."""
    if backend == "sqlite":
        return migrated_sqlite(tmp_path_factory.mktemp("db") / "grader.db")  # (a copy: migrated once per worker)
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = unique("t")
    url = server.create_database(name, template="grader_template")
    request.addfinalizer(lambda: server.drop_database(name))
    return url


@pytest.fixture(scope="module")
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    return fresh_database(backend, request, tmp_path_factory)


@pytest.fixture
def own_database(backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database for one test alone (of the module's backend), e.g. one no other app's runner drains."""
    return fresh_database(backend, request, tmp_path_factory)


@pytest.fixture
def migration_engine(own_database: str) -> Iterator[Engine]:
    """An engine for migrating a database of the test's own up and down (``test_migrations.py``
    migrates the module's shared one instead, with a fixture of its own)."""
    engine = make_engine(Settings(database_url=own_database), for_migrations=True)
    yield engine
    engine.dispose()


#: The key that encrypts the tool's LTI keys, for every test app (an admin may register a platform).
LTI_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, max_body_bytes=64 * 1024, lti_key=LTI_KEY, public_url="http://testserver"
    )


@pytest.fixture(scope="module")
def app(settings: Settings, shared_bank: Bank) -> Iterator[Any]:
    application = create_app(settings, bank=shared_bank)
    yield application
    application.state.engine.dispose()


@pytest.fixture(scope="module")
def engine(app: Any) -> Engine:
    return app.state.engine


@pytest.fixture(scope="module")
def client(app: Any) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def course(client: TestClient, engine: Engine) -> Course:
    return Course(client, make_instructor(engine))


@pytest.fixture
def costly_grading(app: Any) -> Iterator[GradingBudget]:
    """The app's budget of grading work replaced by one where every grading costs 5 s of CPU and
    time stands still, so the first grading puts the student in debt (told ``factories.OWING``)."""
    kept = app.state.grading_budget
    meter = itertools.count(step=5.0)  # read as each grading starts and as it ends
    app.state.grading_budget = GradingBudget(burst=3.0, refill=0.2, clock=lambda: 0.0, work=lambda: next(meter))
    try:
        yield app.state.grading_budget
    finally:
        app.state.grading_budget = kept
