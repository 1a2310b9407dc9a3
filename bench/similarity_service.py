"""The service's similarity report of 1,000 submissions of the four-function CNN homework, as the
service runs it (:func:`api.similarity.run.run_similarity`, the job both runners call), on SQLite
and on a throwaway PostgreSQL: the first report's CPU seconds and peak memory, then the report
again after one late submission, and where the planted copies rank.

The class (``harness/cnn_class.py``: 10 planted copies and 2 copies of copies) is stored as graded
submissions of the ``numpy-convolution`` set, a module sent once per problem (``conv`` and
``pool``), written straight into the database; the planted chains fail one hidden test the same
way. Each job runs in a process of its own (``--job``), as a worker runs it, so that its CPU time
(``process_time`` around the job) and peak resident memory (``ru_maxrss``; the process's imports
and the problem sets loaded before the job, ``baseline``, counted in) are the job's. The database
server's own CPU (PostgreSQL's) is not counted; the wall time shows it. The load average is
printed with each figure: the machine is shared.

Targets (issue 67): the report in at most 30 s of CPU and 500 MB; a late submission in at most
1 s; every planted pair in the top 1 % of pairs, no honest pair above the lowest planted one.

Run: ``make bench`` (or ``python -m bench.similarity_service --students N --backend sqlite``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, configure_mappers

from api.courses.service import create_course
from api.jobs.service import start_similarity
from api.kit import migrate
from api.kit.config import Settings
from api.kit.db import make_engine, make_sessionmaker, writer
from api.library.bank import Bank
from api.library.course_sets import Library
from api.models import Assignment, Role, SimilarityReport, Submission
from api.similarity.service import record_asked
from api.users.service import Caller, create_user
from harness.cnn_class import Planted, make_class
from harness.postgres import PostgresServer
from harness.regrade import bulk_insert, enrol

SET = "numpy-convolution"
#: The same wrong values on a hidden test, for the planted chains only.
ODD = {"name": "hidden: stride 2", "status": "failed", "feedback": "expected shape (2, 3, 4, 4), got (2, 3, 3, 3)"}


def stored_class(engine: Engine, planted: Planted, version: str, keys: list[str]) -> tuple[str, str, str]:
    """The class stored as graded submissions: (course, assignment, owner)."""
    tag = uuid.uuid4().hex[:8]
    at = datetime.now(UTC) - timedelta(days=1)
    chained = {name for pair in planted.copies[-2:] for name in pair}
    with Session(writer(engine)) as session, session.begin():
        owner = create_user(session, name="Owner", role=Role.INSTRUCTOR, user_id=f"owner-{tag}").user.id
        course = create_course(session, course_id=f"c-{tag}", title="CNN", owner=Caller(owner, Role.INSTRUCTOR)).id
        session.add(Assignment(course_id=course, id="hw", problem_set=SET, title="CNN", set_version=version))
        enrol(session, course, list(planted.texts), at=at)
        session.flush()
        rows = [
            _submission(course, student, text, version, keys, at, [ODD] if student in chained else [])
            for student, text in planted.texts.items()
        ]
        bulk_insert(session, Submission, rows)
    return course, "hw", owner


def _submission(
    course: str, student: str, text: str, version: str, keys: list[str], at: datetime, tests: list[dict[str, Any]]
) -> dict[str, Any]:
    graded = {key: {"score": 1.0, "max_score": 1.0, "status": "correct", "tests": tests} for key in keys}
    return {
        "course_id": course,
        "assignment_id": "hw",
        "student_id": student,
        "attempt": 1,
        "request_hash": "0" * 64,
        "answers": {"conv": text, "pool": text},
        "parts": graded,
        "score": 4.0,
        "max_score": 4.0,
        "set_version": version,
        "submitted_at": at,
        "graded_at": at,
    }


def start(engine: Engine, course: str, assignment: str, owner: str, version: str) -> int:
    """A report job asked for as the REST API asks (every code part, no starter)."""
    with Session(writer(engine)) as session, session.begin():
        row = session.get_one(Assignment, (course, assignment))
        caller = Caller(owner, Role.INSTRUCTOR)
        started = start_similarity(session, assignment=row, set_version=version, caller=caller, defer=None)
        record_asked(session, assignment=row, job_id=started.id, caller=caller, parts=None, starter=None)
        return started.id


def run_job(url: str, job_id: int) -> dict[str, float | str]:
    """The job run in a process of its own (``--job``): its status, CPU and wall seconds, peak MB."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.similarity_service", "--job", url, str(job_id)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def job_main(url: str, job_id: int) -> None:
    """The child: a worker's setup (engine, problem sets), then the job alone measured."""
    from api.similarity.run import run_similarity

    engine = make_engine(Settings(database_url=url))
    library = Library(Bank())
    sessions = make_sessionmaker(writer(engine))
    configure_mappers()  # (as a worker's first job leaves them)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu, wall = time.process_time(), time.perf_counter()
    status = run_similarity(sessions, library, job_id)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    engine.dispose()
    print(json.dumps({"status": status, "cpu": cpu, "wall": wall, "peak": peak / 1024, "baseline": baseline / 1024}))


def _load() -> str:
    return "load average " + ", ".join(f"{load:.2f}" for load in os.getloadavg())


def _said(label: str, run: dict[str, Any]) -> str:
    return (
        f"  {label}: {run['cpu']:.1f} s CPU ({run['wall']:.1f} s wall), peak {run['peak']:.0f} MB "
        f"(baseline {run['baseline']:.0f} MB); {run['status']}; {_load()}"
    )


def measure(url: str, backend: str, planted: Planted) -> None:
    """One backend: the class stored, the first report, a late submission's report, the ranks."""
    engine = make_engine(Settings(database_url=migrate.upgrade_database(url)))
    problem_set = Bank().sets()[SET]
    keys = list(problem_set.code())
    course, assignment, owner = stored_class(engine, planted, problem_set.version, keys)
    print(f"\nsimilarity report through the service's job, {backend}, {len(planted.texts):,} students")
    first = run_job(url, start(engine, course, assignment, owner, problem_set.version))
    print(_said("first report", first))
    late_student = "late-" + uuid.uuid4().hex[:6]
    source = next(iter(planted.texts))
    with Session(writer(engine)) as session, session.begin():
        enrol(session, course, [late_student], at=datetime.now(UTC))
        session.flush()
        text = "# late\n" + planted.texts[source].replace(" * ", "*")  # (the first student's, respaced)
        bulk_insert(
            session,
            Submission,
            [_submission(course, late_student, text, problem_set.version, keys, datetime.now(UTC), [])],
        )
    late = run_job(url, start(engine, course, assignment, owner, problem_set.version))
    print(_said("after one late submission", late))
    with Session(engine) as session:
        report = session.scalar(
            select(SimilarityReport.report).where(
                SimilarityReport.course_id == course, SimilarityReport.assignment_id == assignment
            )
        )
    engine.dispose()
    assert report is not None
    pairs = [frozenset(pair["students"]) for pair in report["pairs"]]
    best = report["pairs"][0]
    print(f"    its best pair: {' and '.join(best['students'])}, {best['score']:.2f} (the late one: {late_student})")
    wanted = planted.planted_pairs()
    class_pairs = [
        (pair, p["score"]) for pair, p in zip(pairs, report["pairs"], strict=True) if late_student not in pair
    ]
    ranks = [rank for rank, (pair, _) in enumerate(class_pairs, 1) if pair in wanted]
    lowest = min((score for pair, score in class_pairs if pair in wanted), default=0.0)
    honest = max((score for pair, score in class_pairs if pair not in wanted), default=0.0)
    print(
        f"  planted pairs: {len(ranks)} of {len(wanted)} listed, ranked {min(ranks, default=0)} to "
        f"{max(ranks, default=0)} of {report['pairs_compared']:,}; lowest planted {lowest:.3f}, best honest "
        f"{honest:.3f}; clusters {report['clusters']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1_000)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--job", nargs=2, metavar=("URL", "JOB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        job_main(args.job[0], int(args.job[1]))
        return
    planted = make_class(args.students, copies=args.copies, chains=2, seed=1)
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            measure(f"sqlite:///{Path(folder) / 'similarity.db'}", "SQLite", planted)
    if args.backend in ("postgresql", "both"):
        with PostgresServer() as server:
            measure(server.create_database("similarity"), "PostgreSQL", planted)


if __name__ == "__main__":
    main()
