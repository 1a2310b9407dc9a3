"""Grading by hand in a big class: 1,000 students each answer a written part (the answers of
``bench/grouping.py``, typed as students type them), on a throwaway PostgreSQL served by
``grader serve``; then the queue is read as a grader reads it and answers are graded.

Prints the queue's time the first time (its groups suggested: TF-IDF and clustering over every
answer) and once they are known (median), its size, and a grading's median time (``PUT
.../grading``, each answer once). Run: ``make bench`` (or ``python -m bench.grading_queue --students N``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from api.kit import migrate
from api.kit.config import Settings
from api.kit.db import make_engine
from api.models import Role
from api.users.service import create_user
from bench.grouping import answers
from harness.postgres import PostgresServer
from harness.server import ServerProcess, free_port

ROUNDS = 5
GRADINGS = 100
KEY = "w4.nms"


def timed(call: httpx.Client, method: str, path: str, json: object = None) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = call.request(method, path, json=json)
    elapsed = time.perf_counter() - started
    assert response.status_code < 300, response.text
    return elapsed, response


def measure(base_url: str, token: str, students: int) -> dict[str, float]:
    staff = httpx.Client(base_url=base_url, timeout=300, headers={"Authorization": f"Bearer {token}"})
    staff.post("/api/v1/courses", json={"id": "big", "title": "A big class"}).raise_for_status()
    course = "/api/v1/courses/big"
    staff.post(f"{course}/assignments", json={"id": "words", "problem_set": "architectures-in-words"})
    roster = [{"id": f"s{n:05d}", "name": f"Student {n}"} for n in range(students)]
    enrolled = staff.post(f"{course}/members", json={"members": roster}).json()["members"]
    typed = list(answers(students).values())
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for member, text in zip(enrolled, typed, strict=True):
            sent = client.post(
                f"{course}/assignments/words/submissions",
                json={"answers": {KEY: text}},
                headers={"Authorization": f"Bearer {member['token']}"},
            )
            assert sent.status_code == 201, sent.text
    queue_path = f"{course}/assignments/words/grading/{KEY}"
    first, response = timed(staff, "GET", queue_path)
    again = [timed(staff, "GET", queue_path)[0] for _ in range(ROUNDS)]
    queue = response.json()
    item = queue["rubric"]["items"][0]["id"]
    gradings = [
        timed(staff, "PUT", f"/api/v1/submissions/{entry['submission']}/parts/{KEY}/grading", json={"items": [item]})[0]
        for entry in queue["entries"][:GRADINGS]
    ]
    return {
        "first": first * 1000,
        "again": statistics.median(again) * 1000,
        "kB": len(response.content) / 1000,
        "groups": len(queue["groups"]),
        "grading": statistics.median(gradings) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    options = parser.parse_args()
    with PostgresServer(durable=True) as server, tempfile.TemporaryDirectory() as workdir:
        url = server.create_database("grading_queue")
        engine = make_engine(Settings(database_url=migrate.upgrade_database(url)))
        with Session(engine) as session, session.begin():
            token = create_user(session, name="Bench Instructor", role=Role.INSTRUCTOR).token or ""
        engine.dispose()
        with ServerProcess.grader_serve(url, port=free_port(), workdir=Path(workdir)) as service:
            service.wait_healthy()
            found = measure(service.base_url, token, options.students)
    print(f"\ngrading by hand: {options.students:,} written answers of one part (PostgreSQL, grader serve)")
    print("| queue, first (groups suggested) ms | queue, again ms | queue kB | groups | a grading ms |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {found['first']:,.0f} | {found['again']:,.0f} | {found['kB']:,.0f} | {found['groups']:,.0f} "
        f"| {found['grading']:,.1f} |"
    )


if __name__ == "__main__":
    main()
