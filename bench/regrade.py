"""Regrade throughput of ``grader worker`` processes on a throwaway PostgreSQL: submissions regraded
per second with 1 and with 2 workers.

Submissions are stored in bulk (graded against an older version of the set, so every one changes),
the regrades are started as the API starts them (a jobs row and its procrastinate job in one
transaction), and the clock runs from then until the last job is done. A job runs on one worker
at a time (one regrade per assignment), so two workers speed up regrades of several assignments,
not one: both cases are measured.

Run: ``make bench`` (or ``python -m bench.regrade --submissions N``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.jobs.runners import job_runners
from api.jobs.service import start_regrade
from api.kit import migrate
from api.kit.config import Settings
from api.kit.db import make_engine
from api.library.bank import Bank
from api.library.course_sets import Library
from api.models import Assignment, Job, Role
from api.users.service import Caller
from harness.postgres import PostgresServer
from harness.regrade import store_for_regrade
from harness.server import WorkerProcess


def regrade_all(engine: Engine, settings: Settings, course: str, assignments: list[str], owner: str) -> list[int]:
    """The assignments' regrades, started as ``POST .../regrade`` starts them."""
    runners = job_runners(settings, engine, Library(Bank()))
    jobs = []
    with Session(engine) as session, session.begin():
        for name in assignments:
            assignment = session.get(Assignment, (course, name))
            assert assignment is not None and assignment.set_version is not None
            caller = Caller(owner, Role.INSTRUCTOR)
            jobs.append(
                start_regrade(
                    session,
                    assignment=assignment,
                    set_version=assignment.set_version,
                    caller=caller,
                    defer=runners.defer,
                )
            )
    return jobs


def wait_done(engine: Engine, jobs: list[int], timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with Session(engine) as session:
            statuses = list(session.scalars(select(Job.status).where(Job.id.in_(jobs))))
        if all(status == "done" for status in statuses):
            return
        if "failed" in statuses or time.monotonic() > deadline:
            raise SystemExit(f"regrades did not finish: {statuses}")
        time.sleep(0.1)


def measure(server: PostgresServer, workdir: Path, *, workers: int, assignments: int, submissions: int) -> float:
    """Submissions regraded per second, over ``assignments`` regrades of ``submissions`` each."""
    name = f"regrade_{workers}_{assignments}"
    url = server.create_database(name)
    settings = Settings(database_url=migrate.upgrade_database(url))
    engine = make_engine(settings)
    stored = store_for_regrade(engine, submissions=submissions, assignments=assignments)
    processes = [WorkerProcess.grader_worker(url, workdir=workdir) for _ in range(workers)]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready(timeout=120)
        started = time.monotonic()
        jobs = regrade_all(engine, settings, stored.course, stored.assignments, stored.owner)
        wait_done(engine, jobs)
        elapsed = time.monotonic() - started
    finally:
        for process in processes:
            process.kill()
        engine.dispose()
        server.drop_database(name)
    return assignments * submissions / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=20_000, help="Submissions regraded in each run.")
    parser.add_argument("--assignments", type=int, default=4, help="Assignments they are spread over (one job each).")
    options = parser.parse_args()
    cases = [(1, 1), (2, 1), (1, options.assignments), (2, options.assignments)]
    rows = []
    with PostgresServer(durable=True) as server, tempfile.TemporaryDirectory() as workdir:
        for workers, assignments in cases:
            rate = measure(
                server,
                Path(workdir),
                workers=workers,
                assignments=assignments,
                submissions=options.submissions // assignments,
            )
            rows.append((workers, assignments, rate))
            print(f"{workers} worker(s), {assignments} regrade(s): {rate:,.0f} submissions/s", flush=True)
    print(f"\nregrade throughput, {options.submissions:,} stored submissions (PostgreSQL, grader worker)")
    print("| workers | regrades at once | submissions/s |")
    print("| ---: | ---: | ---: |")
    for workers, assignments, rate in rows:
        print(f"| {workers} | {assignments} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
