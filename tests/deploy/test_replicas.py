"""Two ``grader serve`` replicas on one PostgreSQL database, alone and behind the repository's
reverse proxy (``docker/nginx.conf`` run by the machine's nginx, see :mod:`harness.proxy`):

- students submitting at once, their requests spread over both replicas, never get more stored
  submissions than the attempt limit, and none is lost (every 201 stored, every refusal a 409;
  a student's burst past their budget of grading work is answered 429, which the client retries
  after ``Retry-After``, as a client is told to);
- an Idempotency-Key retried on the other replica returns the first result;
- the proxy spreads requests over both replicas, and closes a client that never finishes its
  headers (or its body) within the configured timeout, which a replica alone would hold open.

The replicas listen on 127.0.0.2 and 127.0.0.3 with one port, as containers share a port on
addresses of their own; the proxy finds them through a DNS server standing in for Docker's.
"""

from __future__ import annotations

import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.kit.config import Settings
from api.kit.db import make_engine
from api.models import Submission
from harness.postgres import PostgresServer
from harness.proxy import CONFIG, NginxProxy, find_nginx
from harness.server import ServerProcess, free_port

from factories import auth, make_instructor, unique

REPLICA_ADDRESSES = ("127.0.0.2", "127.0.0.3")
RIGHT = {"ex4.conv1_params": "3640"}
MAX_ATTEMPTS = 3
Result = tuple[str, str, httpx.Response]  # student, replica, answer
Student = tuple[str, dict[str, str]]  # id, headers


@dataclass
class Deployment:
    engine: Engine
    replicas: list[ServerProcess]
    proxy: NginxProxy
    instructor: dict[str, str]


def config_seconds(directive: str) -> float:
    (value,) = re.findall(rf"^\s*{directive}\s+(\d+)s;", CONFIG.read_text(), re.M)
    return float(value)


@pytest.fixture(scope="module")
def deployment(pg_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if find_nginx() is None:  # a failure, not a skip: CI must prove the proxy's configuration
        pytest.fail("nginx is needed (scripts/test-deps installs it: apt-get install nginx)")
    name = unique("replicas")
    url = pg_server.create_database(name, template="grader_template")
    workdir = tmp_path_factory.mktemp("replicas")
    port = free_port()
    replicas = [
        ServerProcess.grader_serve(url, port=port, workdir=workdir, host=host, GRADER_REPLICAS="2")
        for host in REPLICA_ADDRESSES
    ]
    engine = make_engine(Settings(database_url=url))
    proxy = NginxProxy(listen_port=free_port(), replica_addresses=REPLICA_ADDRESSES, replica_port=port)
    try:
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.wait_healthy(timeout=90)
        proxy.start()
        yield Deployment(engine, replicas, proxy, auth(make_instructor(engine)))
    finally:
        proxy.stop()
        for replica in replicas:
            replica.kill()
        engine.dispose()
        pg_server.drop_database(name)


def make_course(deployment: Deployment, students: int) -> tuple[str, str, list[tuple[str, dict[str, str]]]]:
    """A course (made on the first replica) with an assignment of ``MAX_ATTEMPTS`` and its students."""
    course = unique("c")
    with httpx.Client(base_url=deployment.replicas[0].base_url, headers=deployment.instructor, timeout=60) as client:
        assert client.post("/api/v1/courses", json={"id": course, "title": "Replicas"}).status_code == 201
        path = f"/api/v1/courses/{course}"
        assignment = unique("a")
        body = {"id": assignment, "problem_set": "conv-pool-basics", "max_attempts": MAX_ATTEMPTS}
        assert client.post(f"{path}/assignments", json=body).status_code == 201
        roster = [{"id": unique("s"), "name": f"Student {i}"} for i in range(students)]
        enrolled = client.post(f"{path}/members", json={"members": roster})
        assert enrolled.status_code == 200, enrolled.text
    members = [(m["id"], auth(m["token"])) for m in enrolled.json()["members"]]
    return path, assignment, members


def post_as_told(url: str, body: dict[str, object], headers: dict[str, str]) -> httpx.Response:
    """POSTs, and again after ``Retry-After`` while the service answers 429 (a student's requests at
    once exceed their budget of grading work: :mod:`api.kit.quotas`), as a client is told to."""
    for _ in range(60):
        response = httpx.post(url, json=body, headers=headers, timeout=120)
        if response.status_code != 429:
            return response
        time.sleep(float(response.headers["Retry-After"]))  # (the service's instruction, not a guess)
    raise AssertionError(f"still 429 after 60 tries: {response.text}")


def stored(engine: Engine, assignment: str) -> list[Submission]:
    with Session(engine) as session:
        return list(session.scalars(select(Submission).where(Submission.assignment_id == assignment)))


def submit_all_at_once(deployment: Deployment, tries: int) -> tuple[str, list[Student], list[Result]]:
    """A fresh course whose students each send ``tries`` submissions at once, alternating replicas."""
    path, assignment, students = make_course(deployment, students=6)
    url = f"{path}/assignments/{assignment}/submissions"
    jobs = [(sid, headers, deployment.replicas[n % 2]) for sid, headers in students for n in range(tries)]

    def submit(job: tuple[str, dict[str, str], ServerProcess]) -> Result:
        sid, headers, replica = job
        return sid, replica.host, post_as_told(replica.base_url + url, {"answers": RIGHT}, headers)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return assignment, students, list(pool.map(submit, jobs))


def test_submissions_spread_over_two_replicas_keep_the_attempt_limit_exact(deployment: Deployment) -> None:
    tries = 8  # per student
    accepted_by: set[str] = set()
    # Which replica wins a race is the scheduler's choice: a round may see every 201 come from one of
    # them. The limit must be exact in every round; a few rounds make sure both replicas stored some.
    for _ in range(4):
        assignment, students, results = submit_all_at_once(deployment, tries)
        assert {r.status_code for _, _, r in results} <= {201, 409}, [r.text for _, _, r in results]
        rows = stored(deployment.engine, assignment)
        for sid, _ in students:
            answered = [r for s, _, r in results if s == sid]
            accepted = [r.json() for r in answered if r.status_code == 201]
            assert len(accepted) == MAX_ATTEMPTS and len(answered) - len(accepted) == tries - MAX_ATTEMPTS
            mine = [row for row in rows if row.student_id == sid]
            assert sorted(row.attempt for row in mine) == list(range(1, MAX_ATTEMPTS + 1))
            assert sorted(row.id for row in mine) == sorted(a["id"] for a in accepted)  # every 201 stored, no other
        accepted_by |= {host for _, host, r in results if r.status_code == 201}
        if accepted_by == set(REPLICA_ADDRESSES):
            break
    assert accepted_by == set(REPLICA_ADDRESSES)


def test_idempotency_key_retried_on_the_other_replica_returns_the_first_result(deployment: Deployment) -> None:
    path, assignment, students = make_course(deployment, students=3)
    url = f"{path}/assignments/{assignment}/submissions"
    retries = 10  # per student and key, half on each replica, all at once
    jobs = [(sid, {**h, "Idempotency-Key": f"key-{sid}"}, n % 2) for sid, h in students for n in range(retries)]

    def submit(job: tuple[str, dict[str, str], int]) -> tuple[str, httpx.Response]:
        sid, headers, replica = job
        base = deployment.replicas[replica].base_url
        return sid, post_as_told(base + url, {"answers": RIGHT}, headers)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(submit, jobs))
    assert [r.status_code for _, r in results] == [201] * len(jobs), [r.text for _, r in results]
    rows = stored(deployment.engine, assignment)
    for sid, headers in students:
        bodies = [r.json() for s, r in results if s == sid]
        assert len({b["id"] for b in bodies}) == 1 and all(b == bodies[0] for b in bodies)
        (row,) = [row for row in rows if row.student_id == sid]
        assert row.id == bodies[0]["id"] and row.attempt == 1
        # later, on each replica in turn: still the first result, still one stored submission
        for replica in deployment.replicas:
            again = httpx.post(
                replica.base_url + url,
                json={"answers": RIGHT},
                headers={**headers, "Idempotency-Key": f"key-{sid}"},
                timeout=60,
            )
            assert again.status_code == 201 and again.json() == bodies[0]
    assert len(stored(deployment.engine, assignment)) == len(students)


def test_the_proxy_spreads_requests_over_both_replicas(deployment: Deployment) -> None:
    marker = unique("/spread-")  # a path of its own, counted in each replica's access log
    with httpx.Client(base_url=deployment.proxy.base_url, timeout=30) as client:
        statuses = Counter(client.get(marker).status_code for _ in range(40))
        health = client.get("/health")
    assert statuses == {404: 40} and health.json() == {"status": "ok", "database": "ok"}
    served = [replica.output().count(f'"GET {marker} HTTP/1.1" 404') for replica in deployment.replicas]
    # nginx rotates the resolved addresses at random: about 20 each (fewer than 10: odds below 1 in 1,000)
    assert sum(served) == 40 and min(served) >= 10, served
    assert deployment.proxy.dns.queries >= 1  # the replicas were found through the resolver


def test_a_client_cannot_name_its_own_address_through_the_proxy(deployment: Deployment) -> None:
    """The replicas take X-Forwarded-For from the proxy (uvicorn's default trusts 127.0.0.1), and
    the proxy writes there the address it was reached from, not the entries a client sent: the
    access log and every per-client limit see this client as 127.0.0.1, whatever it claims."""
    marker = unique("/whoami-")
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"}
    with httpx.Client(base_url=deployment.proxy.base_url, timeout=30) as client:
        assert client.get(marker, headers=forged).status_code == 404
    (line,) = [line for replica in deployment.replicas for line in replica.output().splitlines() if marker in line]
    assert "203.0.113.9" not in line and re.search(r"\b127\.0\.0\.1:\d+ - ", line), line


def test_a_submission_through_the_proxy_and_the_body_limit_at_the_proxy(deployment: Deployment) -> None:
    path, assignment, [(_, headers)] = make_course(deployment, students=1)
    url = f"{deployment.proxy.base_url}{path}/assignments/{assignment}/submissions"
    accepted = httpx.post(url, json={"answers": RIGHT}, headers=headers, timeout=60)
    assert accepted.status_code == 201 and accepted.json()["attempt"] == 1
    # GRADER_MAX_BODY_BYTES (1 MiB) at the proxy: refused before a replica reads it, JSON like the API's
    too_large = httpx.post(url, content=b"x" * (1024 * 1024 + 1), headers=headers, timeout=60)
    assert too_large.status_code == 413 and "detail" in too_large.json()
    assert len(stored(deployment.engine, assignment)) == 1


def seconds_until_closed(sock: socket.socket, limit: float) -> float | None:
    """Seconds until the peer closes ``sock`` (reading and discarding what it sends), or None."""
    started = time.monotonic()
    sock.settimeout(0.2)
    while (elapsed := time.monotonic() - started) < limit:
        try:
            if not sock.recv(4096):
                return time.monotonic() - started
        except TimeoutError:
            continue
        except ConnectionResetError:
            return elapsed
    return None


def test_the_proxy_closes_slow_clients_that_a_replica_alone_would_hold(deployment: Deployment) -> None:
    header_timeout, body_timeout = config_seconds("client_header_timeout"), config_seconds("client_body_timeout")
    replica = deployment.replicas[0]
    proxy = ("127.0.0.1", deployment.proxy.port)
    unfinished_headers = b"GET /health HTTP/1.1\r\nHost: grader\r\nX-Slow: "
    unfinished_body = (
        b"POST /api/v1/courses HTTP/1.1\r\nHost: grader\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"id": '
    )
    with (
        socket.create_connection(proxy) as headers_via_proxy,
        socket.create_connection(proxy) as body_via_proxy,
        socket.create_connection((replica.host, replica.port)) as headers_direct,
    ):
        for sock, data in (
            (headers_via_proxy, unfinished_headers),
            (body_via_proxy, unfinished_body),
            (headers_direct, unfinished_headers),
        ):
            sock.sendall(data)
        limit = max(header_timeout, body_timeout) + 5  # all three watched at once
        with ThreadPoolExecutor(max_workers=3) as pool:
            watched = [pool.submit(seconds_until_closed, s, limit) for s in (headers_via_proxy, body_via_proxy)]
            direct = pool.submit(seconds_until_closed, headers_direct, limit).result()
            proxy_headers, proxy_body = (w.result() for w in watched)
    assert proxy_headers is not None and header_timeout - 1 <= proxy_headers <= header_timeout + 3, proxy_headers
    assert proxy_body is not None and body_timeout - 1 <= proxy_body <= body_timeout + 3, proxy_body
    assert direct is None, f"uvicorn closed the unfinished request after {direct:.1f} s"
