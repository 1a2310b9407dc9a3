"""The views of a big course: 1,000 students with 2 attempts at each of 8 assignments (16,000
submissions: issue 70's course, every view ≤ 200 ms, no page over 400 kB), then at each of 30
(60,000: issue 48's), each course on a throwaway PostgreSQL database served by ``grader serve``;
each view's first time, its median time over a few rounds after it, and its size.

The course is a term's (``harness.term_course``: a quiz drawn from pools with each student's own
numbers, first attempts with mistakes, a per-hour penalty, feedback held back, extensions, the
last attempt counted, two categories), written straight into the database; an assignment's views
are of its first assignment, the one with every rule. The views are asked for as their users ask:
the REST API with the owner's token, the pages with a session opened by signing in. Run: ``make
bench`` (or ``python -m bench.course_views --students N --assignments M [M ...]``). After the bulk
write the database is vacuumed and analysed, as autovacuum leaves a table that has grown: the
planner's statistics, and the visibility that lets an index be read alone.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from api.kit import migrate
from api.kit.config import Settings
from api.kit.db import make_engine
from harness.postgres import PostgresServer
from harness.server import ServerProcess, free_port
from harness.term_course import Term, store_term

ROUNDS = 5
VIEWS = {
    "dashboard page": "/courses/{c}",
    "gradebook page": "/courses/{c}/assignments/{a}/gradebook",
    "statistics page": "/courses/{c}/assignments/{a}/stats",
    "gradebook (JSON)": "/api/v1/courses/{c}/assignments/{a}/gradebook",
    "gradebook (CSV)": "/api/v1/courses/{c}/assignments/{a}/gradebook?format=csv",
    "gradebook (Canvas)": "/api/v1/courses/{c}/assignments/{a}/gradebook?format=canvas",
    "statistics page, counted attempts": "/courses/{c}/assignments/{a}/stats?attempts=counted",
    "statistics (JSON)": "/api/v1/courses/{c}/assignments/{a}/stats",
    "statistics (JSON, counted attempts)": "/api/v1/courses/{c}/assignments/{a}/stats?attempts=counted",
    "a student's gradebook page": "/courses/{c}/assignments/{a}/gradebook/students/{s}",
    "submissions (JSON, a page of 1,000)": "/api/v1/courses/{c}/assignments/{a}/submissions?limit=1000",
    "members (JSON)": "/api/v1/courses/{c}/members",
    "course gradebook page": "/courses/{c}/gradebook",
    "course gradebook page, by total": "/courses/{c}/gradebook?sort=total&order=desc",
    "course gradebook (JSON)": "/api/v1/courses/{c}/gradebook",
    "course gradebook (CSV)": "/api/v1/courses/{c}/gradebook.csv",
    "course gradebook (Canvas)": "/api/v1/courses/{c}/gradebook.csv?format=canvas",
}


def signed_in(base_url: str, token: str) -> httpx.Client:
    """A client holding a page session, opened through the sign-in form as a browser opens it."""
    client = httpx.Client(base_url=base_url, timeout=120)
    form = client.get("/")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    assert csrf, "no sign-in form"
    response = client.post("/sign-in", data={"token": token, "csrf": csrf.group(1), "next": "/"})
    assert response.status_code == 303, response.text
    return client


def measure(base_url: str, stored: Term) -> list[tuple[str, float, float, int, int]]:
    """Each view's first time (ms: the set parsed, nothing yet kept by the service), its median
    time over :data:`ROUNDS` after it (ms), its size (bytes), and the bytes sent (compressed, as
    a browser accepts it: :mod:`api.kit.compression`). Every view is asked once before any is
    timed over its rounds, so that the service's start (the grouping's libraries imported beside it
    for seconds, :func:`api.app.create_app_from_env`) is over: the first view measured, the
    dashboard, was timed beside it."""
    pages = signed_in(base_url, stored.token)
    api = httpx.Client(base_url=base_url, timeout=120, headers={"Authorization": f"Bearer {stored.token}"})
    paths = {
        view: template.format(c=stored.course, a=stored.assignments[0], s=stored.student)
        for view, template in VIEWS.items()
    }

    def timed(path: str) -> tuple[float, httpx.Response]:
        client = api if path.startswith("/api/") else pages
        started = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, f"{path}: {response.status_code}"
        return elapsed, response

    first = {view: timed(path)[0] for view, path in paths.items()}  # (the set's first use parses it)
    times: dict[str, list[float]] = {view: [] for view in paths}
    sizes: dict[str, tuple[int, int]] = {}
    for view, path in paths.items():
        for _ in range(ROUNDS):
            elapsed, response = timed(path)
            times[view].append(elapsed)
            sizes[view] = (len(response.content), response.num_bytes_downloaded)
    return [(view, first[view] * 1000, statistics.median(times[view]) * 1000, *sizes[view]) for view in paths]


def course_views(server: PostgresServer, *, students: int, assignments: int, attempts: int) -> None:
    """A course of that size in a database of its own, served, measured and printed as a table."""
    with tempfile.TemporaryDirectory() as workdir:
        url = server.create_database(f"course_views_{assignments}")
        engine = make_engine(Settings(database_url=migrate.upgrade_database(url)))
        stored = store_term(engine, students=students, assignments=assignments, attempts=attempts)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        engine.dispose()
        with ServerProcess.grader_serve(url, port=free_port(), workdir=Path(workdir)) as service:
            service.wait_healthy()
            rows = measure(service.base_url, stored)
    total = students * assignments * attempts
    print(
        f"\nviews of a course of {students:,} students, {assignments} assignments, "
        f"{attempts} attempts ({total:,} submissions; PostgreSQL, grader serve; median of {ROUNDS})"
    )
    print("| view | first ms | ms | kB | kB sent |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for view, first, ms, size, sent in rows:
        print(f"| {view} | {first:,.0f} | {ms:,.0f} | {size / 1000:,.0f} | {sent / 1000:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--assignments", type=int, nargs="+", default=[8, 30], help="one course per number")
    parser.add_argument("--attempts", type=int, default=2)
    options = parser.parse_args()
    with PostgresServer(durable=True) as server:
        for assignments in options.assignments:
            course_views(server, students=options.students, assignments=assignments, attempts=options.attempts)


if __name__ == "__main__":
    main()
