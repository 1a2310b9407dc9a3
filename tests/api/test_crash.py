"""Crash safety: a real ``grader serve`` killed with SIGKILL while students submit loses no
acknowledged submission and leaves no half-written one, and every request whose reply was lost can
be re-sent with its Idempotency-Key to be stored exactly once.

The server runs in a subprocess on a loopback port, against this module's SQLite file or
PostgreSQL database; client threads (two per student, so they also race for attempt numbers)
submit until the kill, the database is read directly, and the next server is started on it: three
kills, then a last server for the re-sent requests. Bounded: a few hundred requests, seconds.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, text

from api.kit.config import Settings
from api.kit.db import make_engine
from api.models import EarlierGrade, Submission
from harness.local_http import LOCAL
from harness.server import ServerProcess, free_port
from problems.loader import load_bank

from factories import auth, make_instructor

SET_ID = "conv-pool-basics"
KEYS = set(load_bank()[SET_ID].answer_keys())
STUDENTS = 4
THREADS_PER_STUDENT = 2  # two threads per student race for the same attempt numbers
KILLS = 3
ACKNOWLEDGED_PER_ROUND = 25  # 201s before each kill
MAX_REQUESTS = 600  # the threads stop by themselves even if a kill never came


@dataclass(frozen=True)
class Sent:
    student: str
    headers: dict[str, str]
    key: str
    answers: dict[str, Any]


@dataclass
class Record:
    """What the clients saw: every request sent, and the reply of those acknowledged with 201."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: list[Sent] = field(default_factory=list)
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> 201 body
    failures: list[str] = field(default_factory=list)
    numbers: Iterator[int] = field(default_factory=itertools.count)  # next() is atomic in CPython


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    """An engine of its own: the conftest's belongs to an in-process app this module does not use."""
    engine = make_engine(Settings(database_url=database_url))
    yield engine
    engine.dispose()


def serve(database_url: str, workdir: Path) -> ServerProcess:
    server = ServerProcess.grader_serve(database_url, port=free_port(), workdir=workdir).start()
    server.wait_healthy(timeout=60)
    return server


def submit(base_url: str, sent: Sent) -> httpx.Response:
    return LOCAL.post(
        f"{base_url}/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions",
        json={"answers": sent.answers},
        headers={**sent.headers, "Idempotency-Key": sent.key},
        timeout=30,
    )


COURSE = "crash"
ASSIGNMENT = "crash"


def client(base_url: str, student: str, headers: dict[str, str], record: Record, stop: threading.Event) -> None:
    """Submit until the server dies (a transport error) or ``stop``; every reply must be a 201 (a
    429, the turn of this student's other thread, is waited out and the request sent again)."""
    while not stop.is_set():
        n = next(record.numbers)
        if n >= MAX_REQUESTS:
            return
        # a different answer each time (one part right or wrong, one wrong by a mistake)
        sent = Sent(student, headers, uuid.uuid4().hex, {"ex4.conv1_params": str(3600 + n % 80), "ex5.params": "1800"})
        with record.lock:
            record.sent.append(sent)
        try:
            response = submit(base_url, sent)
            # its twin thread's grading outlasted the wait for a turn (a loaded machine): nothing was
            # stored, so the same request is sent again when the reply says, unless the round stops
            while response.status_code == 429 and not stop.wait(float(response.headers["Retry-After"])):
                response = submit(base_url, sent)
        except httpx.TransportError:
            return  # killed: this request's fate is unknown to the client
        if response.status_code == 429:
            return  # stopped while waiting for its turn: never stored, and sent again at the end
        if response.status_code != 201:
            with record.lock:
                record.failures.append(f"{response.status_code}: {response.text}")
            return
        with record.lock:
            record.acknowledged[sent.key] = response.json()


def stored(engine: Engine) -> list[Submission]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(Submission).where(Submission.course_id == COURSE, Submission.assignment_id == ASSIGNMENT)
            )
        )  # type: ignore[arg-type]


def check_complete_and_dense(rows: list[Any]) -> None:
    """Every stored submission is whole, and each student's attempts are 1..n."""
    for row in rows:
        assert set(row.parts) == KEYS, f"submission {row.id} has parts {sorted(row.parts)}"
        assert row.score == pytest.approx(sum(p["score"] for p in row.parts.values()))
        assert row.max_score == pytest.approx(sum(p["max_score"] for p in row.parts.values())) and row.max_score > 0
        assert row.request_hash and row.idempotency_key and row.answers
    for student, group in itertools.groupby(sorted(rows, key=lambda r: r.student_id), key=lambda r: r.student_id):
        attempts = sorted(r.attempt for r in group)
        assert attempts == list(range(1, len(attempts) + 1)), f"{student}: attempts {attempts}"


def setup_course(base: str, instructor: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    course = LOCAL.post(f"{base}/api/v1/courses", json={"id": COURSE, "title": "Crash"}, headers=instructor)
    assert course.status_code == 201, course.text
    made = LOCAL.post(
        f"{base}/api/v1/courses/{COURSE}/assignments",
        json={"id": ASSIGNMENT, "problem_set": SET_ID},
        headers=instructor,
    )
    assert made.status_code == 201, made.text
    roster = [{"id": f"crash{i}", "name": f"Student {i}"} for i in range(STUDENTS)]
    imported = LOCAL.post(f"{base}/api/v1/courses/{COURSE}/members", json={"members": roster}, headers=instructor)
    assert imported.status_code == 200, imported.text
    return [(s["id"], auth(s["token"])) for s in imported.json()["members"]]


def submit_until_killed(server: ServerProcess, students: list[tuple[str, dict[str, str]]], record: Record) -> None:
    """Client threads submit; after ``ACKNOWLEDGED_PER_ROUND`` more 201s the server gets SIGKILL."""
    before, stop = len(record.acknowledged), threading.Event()
    threads = [
        threading.Thread(target=client, args=(server.base_url, student, headers, record, stop), daemon=True)
        for student, headers in students
        for _ in range(THREADS_PER_STUDENT)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(record.acknowledged) - before < ACKNOWLEDGED_PER_ROUND and time.monotonic() < deadline:
        time.sleep(0.002)
    server.kill()  # SIGKILL while every thread has a request in flight
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
    assert len(record.acknowledged) - before >= ACKNOWLEDGED_PER_ROUND, server.output()


def check_survivors(engine: Engine, record: Record) -> dict[str, Any]:
    """After a kill: every acknowledged submission stored as acknowledged; nothing else but sent ones."""
    rows = {row.idempotency_key: row for row in stored(engine)}
    assert set(rows) <= {s.key for s in record.sent}, "a stored submission nobody sent"
    for sent in record.sent:
        reply = record.acknowledged.get(sent.key)
        if reply is None:
            continue
        row = rows.get(sent.key)
        assert row is not None, f"acknowledged submission {reply['id']} was lost"
        assert (row.id, row.attempt, row.student_id, row.answers) == (
            reply["id"],
            reply["attempt"],
            sent.student,
            sent.answers,
        )
        assert row.score == reply["score"] and row.parts == reply["parts"]
    check_complete_and_dense(list(rows.values()))
    with engine.connect() as connection:
        assert connection.scalar(select(EarlierGrade.id).limit(1)) is None
        if engine.dialect.name == "sqlite":
            assert connection.scalar(text("PRAGMA integrity_check")) == "ok"
    return rows


def test_sigkill_during_submissions_loses_nothing_acknowledged_and_duplicates_nothing(
    database_url: str, db_engine: Engine, tmp_path: Path
) -> None:
    engine = db_engine
    instructor = auth(make_instructor(engine))
    record = Record()
    students: list[tuple[str, dict[str, str]]] = []
    for _ in range(KILLS):
        server = serve(database_url, tmp_path)
        try:
            students = students or setup_course(server.base_url, instructor)
            submit_until_killed(server, students, record)
        finally:
            server.kill()
        assert not record.failures, record.failures[:3]
        rows = check_survivors(engine, record)
    unacknowledged = [s for s in record.sent if s.key not in record.acknowledged]
    assert len(unacknowledged) >= KILLS, "a kill came when no request was in flight"

    # A new server on the same database; every request whose reply was lost is sent again.
    restarted = serve(database_url, tmp_path)
    try:
        for sent in unacknowledged:
            response = submit(restarted.base_url, sent)
            assert response.status_code == 201, response.text
            replayed = response.headers.get("Idempotent-Replayed") == "true"
            assert replayed == (sent.key in rows), "a stored request must be replayed, a lost one stored"
            if replayed:
                assert response.json()["id"] == rows[sent.key].id
        for sent in record.sent[:5]:  # and an acknowledged one sent again is only replayed
            if sent.key in record.acknowledged:
                again = submit(restarted.base_url, sent)
                assert again.headers.get("Idempotent-Replayed") == "true"
                assert again.json()["id"] == record.acknowledged[sent.key]["id"]
    finally:
        restarted.terminate()
        restarted.kill()

    final = stored(engine)
    assert sorted(row.idempotency_key for row in final) == sorted(s.key for s in record.sent), (
        "each request stored exactly once"
    )
    check_complete_and_dense(final)
