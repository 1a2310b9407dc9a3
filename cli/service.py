"""``grader serve``, ``grader db upgrade``, ``grader users create`` and ``grader users token``: the web
service's commands.

The embedded SQLite default is migrated by ``serve`` and ``users`` themselves, so a fresh
checkout needs no setup; a database named by ``DATABASE_URL`` is migrated only by
``grader db upgrade`` (deployments decide when schemas change; replicas may all run it at once),
and ``serve`` refuses to start on one that is behind, or whose connections the replicas' pools
could exhaust (:mod:`api.kit.budget`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import tempfile
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from api.kit.collector import collector_paused

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from api.kit.config import Settings

Changed = TypeVar("Changed")

console = Console(stderr=True, soft_wrap=True)
#: How long uvicorn's supervisor lets a worker process take to answer its first health check before
#: it kills and replaces it (its default, 5 s): a worker imports the service and reads the problem
#: bank first, which on a loaded machine took longer, and every replacement was killed in turn
#: (a two-worker service took 64 s to answer; each worker was started nine times).
WORKER_START_SECONDS = 120
db_app = typer.Typer(help="The service's database.", no_args_is_help=True)
users_app = typer.Typer(help="Accounts of the service.", no_args_is_help=True)


class RoleChoice(StrEnum):
    admin = "admin"
    instructor = "instructor"
    student = "student"


def _settings() -> Settings:
    from pydantic import ValidationError

    from api.kit.config import Settings

    try:
        return Settings.from_env()
    except ValidationError as error:
        console.print(f"[red]Invalid configuration:[/red] {error}", highlight=False)
        raise typer.Exit(code=2) from None


def _ready_database(settings: Settings, *, migrate_embedded: bool = True) -> Engine:
    """The migrated database: the embedded one is migrated here, any other must already be at head."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.kit import migrate
    from api.kit.db import make_engine

    engine = make_engine(settings, for_migrations=True)
    try:
        if settings.is_embedded and migrate_embedded:
            migrate.upgrade(engine)
        elif not migrate.is_current(engine):
            console.print(
                f"[red]The database is not migrated[/red] (at {migrate.current(engine) or 'no revision'}, code expects "
                f"{migrate.head()}). Run [bold]grader db upgrade[/bold] first."
            )
            raise typer.Exit(code=1)
    except SQLAlchemyError as error:
        console.print(f"[red]Cannot use the database:[/red] {error}", highlight=False)
        raise typer.Exit(code=1) from None
    return engine


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply the migrations to the configured database (DATABASE_URL, default ./grader.db), one process
    at a time: replicas started together queue on a lock, and only the first finds work to do."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.kit import migrate
    from api.kit.db import make_engine

    settings = _settings()
    engine = make_engine(settings, for_migrations=True)
    try:
        with _migrations_shown():
            before, after = migrate.upgrade(engine, revision)
    except SQLAlchemyError as error:
        console.print(f"[red]Migration failed:[/red] {error}", highlight=False)
        raise typer.Exit(code=1) from None
    finally:
        engine.dispose()
    print(f"database at {after}" + ("" if before == after else f" (was {before or 'empty'})"))


@contextlib.contextmanager
def _migrations_shown() -> Iterator[None]:
    """Alembic's own account of what it does ("Running upgrade a -> b") on stderr meanwhile: with
    several replicas starting at once, the one that migrated says so and the others say nothing."""
    import logging
    import sys

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    alembic_log = logging.getLogger("alembic.runtime.migration")
    level = alembic_log.level
    alembic_log.addHandler(handler)
    alembic_log.setLevel(logging.INFO)
    try:
        yield
    finally:
        alembic_log.removeHandler(handler)
        alembic_log.setLevel(level)


@users_app.command("create")
def users_create(
    role: Annotated[
        RoleChoice, typer.Option("--role", help="admin (anything, anywhere), instructor (creates courses), student")
    ],
    name: Annotated[str, typer.Option("--name", help="The person's name.")],
    user_id: Annotated[str | None, typer.Option("--id", help="The account id (default: made from the name).")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"id": ..., "token": ...}.')] = False,
) -> None:
    """Create an account and print its API token (shown this once; only its hash is stored)."""
    from api.kit.schemas import Email, Identifier, Name
    from api.models import Role
    from api.users.service import create_user, id_from_name

    name = _valid(Name, name)
    user_id = None if user_id is None else _valid(Identifier, user_id)
    email = None if email is None else _valid(Email, email)
    issued = _account_change(
        lambda session: create_user(session, name=name, role=Role(role.value), user_id=user_id, email=email)
    )
    assert issued.token is not None
    if user_id is None and issued.user.id != (wanted := id_from_name(name)):
        console.print(
            f"The id {wanted!r} is taken: the new account is {issued.user.id!r} (--id chooses one).", highlight=False
        )
    _print_token(issued.user.id, issued.token, as_json=as_json, done=f"created {role.value} {issued.user.id}")


@users_app.command("token")
def users_token(
    user_id: Annotated[str, typer.Argument(help="The account's id.")],
    as_json: Annotated[bool, typer.Option("--json", help='Print {"id": ..., "token": ...}.')] = False,
) -> None:
    """Replace an account's API tokens with a new one and print it (shown this once): a lost token
    cannot be shown again, as only its hash is stored. For instructors and students alike."""
    from api.kit.schemas import Identifier
    from api.users.service import replace_token

    user_id = _valid(Identifier, user_id)
    user, token = _account_change(lambda session: replace_token(session, user_id=user_id))
    _print_token(user_id, token, as_json=as_json, done=f"replaced the tokens of {user.role} {user_id}")


def _valid(kind: Any, value: str) -> Any:
    """``value`` checked (and normalised) as the API checks it; exit 2 with the reason otherwise."""
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError as error:
        reason = error.errors()[0]["msg"].removeprefix("Value error, ")
        console.print(f"[red]Invalid value:[/red] {reason}", highlight=False)
        raise typer.Exit(code=2) from None


def _account_change(change: Callable[[Session], Changed]) -> Changed:
    """``change`` in one transaction on the configured database (the embedded one is migrated
    first); a change the service refuses (an id taken, no such account) exits 1 with the reason."""
    from api.kit.db import make_engine, make_sessionmaker
    from api.kit.errors import DomainError

    settings = _settings()
    _ready_database(settings).dispose()
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine).begin() as session:
            return change(session)
    except DomainError as error:
        console.print(f"[red]{error.detail}[/red]", highlight=False)
        raise typer.Exit(code=1) from None
    finally:
        engine.dispose()


def _print_token(user_id: str, token: str, *, as_json: bool, done: str) -> None:
    if as_json:
        print(json.dumps({"id": user_id, "token": token}))
    else:
        print(done)
        print(f"token (shown once): {token}")


def _demo(settings: Settings) -> None:
    from api.code_runs.queueing import Deferrer
    from api.demo.course import load_demo
    from api.kit.db import make_engine, make_sessionmaker
    from api.kit.errors import Conflict
    from api.library.bank import Bank
    from api.library.course_sets import Library

    engine = make_engine(settings)
    library = Library(Bank())
    bank = library.built_in()
    defer_code: Deferrer | None = None
    if not settings.is_sqlite:
        # (the service's own deferrer: the demo's code runs go to a `grader worker --queue code`)
        import functools

        from api.jobs.queue import defer_code as defer_on_queue
        from api.jobs.queue import make_queue

        defer_code = functools.partial(defer_on_queue, make_queue(settings.database_url))
    try:
        with make_sessionmaker(engine)() as session:  # (load_demo commits as it goes)
            course = load_demo(session, library=library, defer_code=defer_code)
            session.commit()
    except Conflict as error:
        console.print(f"[red]{error.detail}[/red]", highlight=False)
        raise typer.Exit(code=1) from None
    finally:
        engine.dispose()
    base = settings.public_url
    print(f"Demo course {course.course!r} loaded: assignments " + ", ".join(course.assignments))
    if course.submissions:
        print(
            f"The demo students' work: {course.submissions} submissions stored (their code parts are "
            "graded in the sandbox once the service, or on PostgreSQL a code worker, runs)."
        )
    print("Tokens (re-issued on every --demo start):")
    for user_id, token in course.tokens.items():
        print(f"  {user_id:16} {token}")
    if "conv-pool-basics" in bank:
        # one right answer and one that omits the bias: the reply names the mistake
        assignment, answers = "conv-pool-basics", {"ex4.conv1_params": "3640", "ex5.params": "1800"}
    else:
        assignment = course.assignments[0]
        answers = {bank[assignment].answer_keys()[0]: "42"}
    body = json.dumps({"answers": answers})
    student = course.tokens["alice"]
    print("\nTry (as alice):")
    path = f"{base}/api/v1/courses/{course.course}/assignments/{assignment}"
    print(f"  curl -s {path} -H 'Authorization: Bearer {student}'")
    print(
        f"  curl -s -X POST {path}/submissions "
        f"-H 'Authorization: Bearer {student}' -H 'Content-Type: application/json' -d {shlex.quote(body)}"
    )
    print(
        f"\nOr in a browser: {base}/ and sign in as a demo account with one click "
        "(alice to answer, demo-instructor for the dashboard, demo-ta for the grading queue)."
    )
    print(f"API docs: {base}/docs\n", flush=True)


def _end_demo(settings: Settings) -> None:
    """A start without ``--demo`` ends the demo: its accounts' tokens, printed by the last
    ``--demo``, stop working with its one-click sign-in (:func:`api.demo.course.end_demo`); said only when
    there was something to end."""
    from api.demo.course import end_demo
    from api.kit.db import make_engine, make_sessionmaker

    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            ended = end_demo(session)
    finally:
        engine.dispose()
    if ended:
        print(
            "Started without --demo: the demo's accounts can no longer sign in (their tokens, sessions and "
            f"sign-in links revoked: {', '.join(ended)}); grader serve --demo brings them back.",
            flush=True,
        )


def _default_public_url(host: str, port: int) -> None:
    """``GRADER_PUBLIC_URL`` (:mod:`api.kit.public_url`), set here for a loopback interface, where the
    browser on this machine reaches the service at exactly ``host:port``; on any other interface
    the address people reach is the operator's to say (a proxy, a name, https), so the service
    refuses to start without it rather than make links from what each request claims. Set in the
    environment, so that every worker process reads the same."""
    import ipaddress
    import os

    if os.environ.get("GRADER_PUBLIC_URL"):
        return
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        console.print(
            f"[red]GRADER_PUBLIC_URL is not set.[/red] Listening on {host}, the service needs the address "
            "browsers, mail readers and LMS platforms reach it at, to make the links it mails and gives "
            "to an LMS (never from a request's Host header): set GRADER_PUBLIC_URL, e.g. "
            "GRADER_PUBLIC_URL=https://grader.example.edu",
            highlight=False,
        )
        raise typer.Exit(code=2)
    shown = f"[{host}]" if ":" in host else host
    os.environ["GRADER_PUBLIC_URL"] = f"http://{shown}:{port}"


def _check_connection_budget(engine: Engine, settings: Settings, workers: int) -> None:
    """Exit 1 when the replicas' pools cannot all fit PostgreSQL's connections (:mod:`api.kit.budget`)."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.kit.budget import ConnectionBudget, server_settings

    try:
        with engine.connect() as connection:
            server = server_settings(connection)
    except SQLAlchemyError as error:
        console.print(f"[red]Cannot use the database:[/red] {error}", highlight=False)
        raise typer.Exit(code=1) from None
    budget = ConnectionBudget.of(settings, workers=workers, server=server)
    if not budget.fits:
        console.print(
            f"[red]Too many database connections:[/red] {budget.explain()}. Lower --workers or the pool "
            "settings, or raise PostgreSQL's max_connections (docs/operator.md: Deploying at scale).",
            highlight=False,
        )
        raise typer.Exit(code=1)


def _serve_metrics(settings: Settings, port: int) -> None:
    """The metrics on their own port, from this process: the sum of the service's processes, and
    the queues read from the database."""
    from api.kit import metrics
    from api.kit.db import make_engine, make_sessionmaker
    from api.operations.queues import reader

    metrics.watch_queues(reader(make_sessionmaker(make_engine(settings))))
    try:
        metrics.serve_port(port)
    except OSError as error:
        console.print(f"[red]Cannot serve the metrics on port {port}:[/red] {error}", highlight=False)
        raise typer.Exit(code=1) from None


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on (0.0.0.0: all).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes.")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo course, print its tokens, offer one-click sign-in as them.")
    ] = False,
) -> None:
    """Run the web service (embedded SQLite ./grader.db unless DATABASE_URL says otherwise)."""
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # the processes count their metrics in files of one directory, summed by any that is scraped;
        # set before anything imports the client (api.kit.metrics), a new one at each start
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="grader-metrics-")
    import uvicorn

    from api.kit.logs import uvicorn_log_config

    if workers == 1:  # uvicorn builds the app in this process: its modules imported as the command's are
        with collector_paused():
            import api.app  # noqa: F401
    _default_public_url(host, port)
    settings = _settings()
    engine = _ready_database(settings)
    try:
        if not settings.is_sqlite:
            _check_connection_budget(engine, settings, workers)
    finally:
        engine.dispose()
    if demo:
        _demo(settings)
    else:
        _end_demo(settings)
    # the worker processes read it (api.kit.config.Settings.demo): one-click sign-in as the demo's
    # accounts is offered by a service started with --demo, and by no other
    if demo:
        os.environ["GRADER_DEMO"] = "1"
    else:
        os.environ.pop("GRADER_DEMO", None)
    if settings.metrics_port is not None:
        _serve_metrics(settings, settings.metrics_port)
    uvicorn.run(
        "api.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_config=uvicorn_log_config(),  # no query strings in the access log: they may hold tokens
        timeout_worker_healthcheck=WORKER_START_SECONDS,
    )
