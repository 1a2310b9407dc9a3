"""``grader worker``: runs background jobs (regrades, code parts, set checks) from PostgreSQL, as
many processes as wanted, on as many machines; ``--queue code`` runs only code parts, so code
graders scale out on machines of their own (with bubblewrap, docs/sandbox.md), and ``--queue
checks`` instructors' set checks, one at a time in a sandbox of their own beside any other queue.
On the embedded SQLite default there is nothing to run: the service runs its jobs itself."""

from __future__ import annotations

import functools
import os
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from api.kit.collector import collector_paused
from cli.service import _ready_database, _settings, console


def default_concurrency() -> int:
    """The cores this process may use (its CPU affinity), from 1 to 32: a code job is a sandbox
    busy on one core, so one per core keeps a deadline's queue moving without oversubscribing
    (one sandbox on a 2-core machine kept up with under 6 four-part submissions a second)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(32, cores))


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            min=1,
            max=32,
            help="Jobs run at once by this process (and warm sandboxes per runtime). Default: the cores this "
            "process may use.",
        ),
    ] = None,
    heartbeat: Annotated[
        float, typer.Option("--heartbeat", min=0.2, max=600, help="Seconds between this worker's heartbeats.")
    ] = 10.0,
    stalled_after: Annotated[
        float,
        typer.Option(
            "--stalled-after",
            min=1,
            max=3600,
            help="Seconds without a heartbeat before a worker's jobs are taken back.",
        ),
    ] = 30.0,
    queue_names: Annotated[
        list[str] | None,
        typer.Option(
            "--queue",
            help="A queue to run: grader (regrades, LTI), code (students' code parts) or checks (instructors' "
            "set checks, one at a time beside the others); repeat for several. Default: all three.",
        ),
    ] = None,
) -> None:
    """Run background jobs (regrades, code parts, set checks) from the PostgreSQL of DATABASE_URL
    until stopped (SIGTERM, Ctrl-C). A job whose worker died is resumed by another once the dead
    one's heartbeat is `--stalled-after` seconds old. Code parts run in warm sandboxes,
    `--concurrency` of them; set checks in one more, one check at a time."""
    import asyncio
    import logging

    with collector_paused():  # the modules live as long as the worker (api.kit.collector)
        import httpx

        from api.code_runs.judges import JudgeProcesses
        from api.code_runs.run import CodeRuntime
        from api.code_runs.sandboxes import Sandboxes
        from api.code_runs.shares import CodeLimits
        from api.jobs.names import CHECK_QUEUE, CODE_QUEUE, QUEUES
        from api.jobs.queue import defer_code, make_queue, send_scores_soon, work
        from api.jobs.run import Runtime
        from api.kit.db import make_engine, make_sessionmaker
        from api.kit.priority import lower_priority
        from api.library.bank import Bank
        from api.library.course_sets import Library
        from api.lti.outbox import SCORES_DUE
        from api.lti.sender import next_due, send_round
        from api.set_checks.limits import CheckLimits
        from api.set_checks.run import CheckRuntime

    concurrency = concurrency or default_concurrency()
    settings = _settings()
    if settings.is_sqlite:
        console.print(
            "[red]grader worker runs jobs from PostgreSQL[/red] (DATABASE_URL=postgresql+psycopg://...); "
            "on SQLite, grader serve runs them itself.",
            highlight=False,
        )
        raise typer.Exit(code=2)
    queues = list(dict.fromkeys(queue_names or QUEUES))
    unknown = [name for name in queues if name not in QUEUES]
    if unknown:
        console.print(f"[red]No queue {', '.join(unknown)}:[/red] the queues are {', '.join(QUEUES)}.", highlight=False)
        raise typer.Exit(code=2)
    if stalled_after <= heartbeat:
        console.print("[red]--stalled-after must be longer than --heartbeat.[/red]")
        raise typer.Exit(code=2)
    # jobs are background work: on a host beside the service, its requests come first (before any thread starts)
    lower_priority()
    if CODE_QUEUE in queues or CHECK_QUEUE in queues:  # (instructors' solutions run walled too)
        _refuse_without_walls(settings.code_packages)
    _ready_database(settings).dispose()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = make_engine(settings)
    # LTI: grade passback's outbox, sent by a periodic task, and syncs, through one HTTP client
    http = httpx.Client(timeout=httpx.Timeout(10.0), follow_redirects=False)
    queue = make_queue(
        settings.database_url,
        listening=lambda: print(f"worker ready (concurrency {concurrency}, queues {' '.join(queues)})", flush=True),
    )
    runtime = Runtime(
        make_sessionmaker(engine),
        Library(Bank()),
        http=lambda: http,
        lti_key=settings.lti_key,
        scores_due=functools.partial(send_scores_soon, queue),
        defer_code=functools.partial(defer_code, queue),
    )
    sessions = make_sessionmaker(engine)
    if settings.metrics_port is not None:  # this worker's figures, and the queues', for Prometheus
        from api.kit import metrics
        from api.operations.queues import reader

        metrics.watch_queues(reader(sessions))
        metrics.serve_port(settings.metrics_port)
    # code is judged in `concurrency` processes of their own, each with its warm sandboxes (as the
    # SQLite service's is): this process's interpreter stays free for the queue and the database
    judges = JudgeProcesses(processes=concurrency, packages=settings.code_packages, warm="numpy")
    if CODE_QUEUE in queues:  # (up, with the default runtime warm, before the worker says it is ready)
        judges.start()
    code_runtime = CodeRuntime(
        sessions,
        runtime.library,
        judges,
        scores_due=functools.partial(send_scores_soon, queue),
        scores_key=SCORES_DUE,
        limits=CodeLimits.of(settings),
    )

    # instructors' set checks: a sandbox of their own, which no code job waits for
    check_sandboxes = Sandboxes(size=1, packages=settings.code_packages, counted=False)
    check_runtime = CheckRuntime(sessions, runtime.library, check_sandboxes.run, CheckLimits.of(settings))

    def send_lti_scores() -> datetime | None:
        """A round; then when to run again, if a retry falls due before the periodic round."""
        send_round(sessions, http, kek=settings.lti_key)
        with sessions() as db:
            due = next_due(db)
        now = datetime.now(UTC)
        if due is None or due - now >= timedelta(minutes=1):
            return None
        return max(due, now + timedelta(seconds=1))

    try:
        asyncio.run(
            work(
                queue,
                runtime,
                concurrency=concurrency,
                heartbeat=heartbeat,
                stalled_after=stalled_after,
                send_lti_scores=send_lti_scores,
                queues=queues,
                code_runtime=code_runtime,
                check_runtime=check_runtime if CHECK_QUEUE in queues else None,
            )
        )
    finally:
        judges.close()
        check_sandboxes.close()
        http.close()
        engine.dispose()


def _refuse_without_walls(packages: Collection[str] | None) -> None:
    """Exit 1, each failure in a sentence, where this host's sandbox cannot hold students' code
    (:mod:`api.code_runs.selfcheck`), probed with the sandbox every judging process then starts."""
    from api.code_runs import selfcheck
    from api.code_runs.sandboxes import Sandboxes

    sandboxes = Sandboxes(size=1, packages=packages, counted=False)
    try:
        found = selfcheck.problems(sandboxes)
    finally:
        sandboxes.close()
    if found:
        console.print("[red]This host cannot grade students' code:[/red]", highlight=False)
        for problem in found:
            console.print(f"- {problem}", highlight=False, markup=False)
        raise typer.Exit(code=1)
