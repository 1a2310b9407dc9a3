"""Code workers on many hosts: two ``grader worker --queue code`` processes over one PostgreSQL, as two
hosts would run them (each its own process, its own warm sandboxes, its own working directory and
TMPDIR), with the real sandbox.

- Each host drops out while students submit, killed (SIGKILL) mid-run and stopped (SIGTERM)
  mid-run, and comes back: nothing is lost, nothing is written twice, every result is right, and
  both hosts graded. What is written is counted in the database itself (a trigger notes every
  write of a code part's result, and each claim), not in a process that may die; which host
  graded what, from each host's own log.
- The share of the code queue per student holds across hosts: one student's 20 queued
  submissions delay none of 5 other students' submissions by more than one run of theirs.

Waits are on conditions (a result, a log line, a claim), bounded generously.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from api.jobs.queue import CODE_TASK
from api.kit.config import Settings
from harness.server import WorkerProcess
from harness.student_code import CONV_FORWARD

from factories import Course, until

pytestmark = pytest.mark.only_backend("postgresql")

SET = "numpy-convolution"
KEY = "conv.forward"
#: Short, so that a killed host's run is taken back within seconds.
HEARTBEAT, STALLED_AFTER = 0.5, 3.0
#: Seconds a host may take to start (its self-check starts a sandbox): a bound, generous since a
#: worker runs at a low priority and a loaded machine starts it slowly.
READY_WITHIN = 180.0
#: A student's runs queued at once: the fairness test's student queues 20.
QUEUED_AT_MOST = 20
WAITING = ("queued", "running")

RIGHT = CONV_FORWARD
#: The same, leaving out the bias.
NO_BIAS = RIGHT.replace(" + b\n", "\n")


def slow(module: str, seconds: float) -> str:
    """``module``, sleeping ``seconds`` as it loads (a run long enough to stop a host in)."""
    return f"import time\ntime.sleep({seconds})\n{module}"


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    """The suite's settings, with room for one student's 20 queued runs and their sandbox time."""
    return settings.model_copy(update={"code_queued_per_student": QUEUED_AT_MOST, "code_seconds": 3600.0})


#: Every claim and every write of the code part, noted by the database as it commits them (a
#: rolled-back write leaves no note): ``queued`` as a run is queued, then the part's status before
#: and after each update of the submission.
NOTES = """
CREATE TABLE code_notes (
    submission_id bigint NOT NULL,
    before text,
    after text NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE FUNCTION note_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO code_notes (submission_id, before, after) VALUES (NEW.submission_id, NULL, 'queued');
    RETURN NEW;
END $$;
CREATE FUNCTION note_part() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO code_notes (submission_id, before, after)
    VALUES (NEW.id, OLD.parts -> '{key}' ->> 'status', NEW.parts -> '{key}' ->> 'status');
    RETURN NEW;
END $$;
CREATE TRIGGER code_notes_queued AFTER INSERT ON code_runs FOR EACH ROW EXECUTE FUNCTION note_queued();
CREATE TRIGGER code_notes_parts AFTER UPDATE OF parts ON submissions FOR EACH ROW EXECUTE FUNCTION note_part();
""".replace("{key}", KEY)


@pytest.fixture(scope="module")
def noted(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(text(NOTES))
    return engine


def notes(engine: Engine, ids: list[int]) -> list[tuple[int, str | None, str, Any]]:
    """The notes of these submissions, oldest first."""
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT submission_id, before, after, at FROM code_notes WHERE submission_id = ANY(:ids) ORDER BY at"),
            {"ids": ids},
        )
        return [tuple(row) for row in found]  # type: ignore[misc]


#: procrastinate's log lines of a code job starting and ending (``grader.run_code[JOB](submission_id=ID)``).
STARTED = re.compile(rf"Starting job {re.escape(CODE_TASK)}\[(\d+)\]\(submission_id=(\d+)\)")
ENDED = re.compile(
    rf"Job {re.escape(CODE_TASK)}\[(\d+)\]\(submission_id=(\d+)\) ended with status: (\w+)(?:.* - Result: (\w+))?"
)


@dataclass
class Host:
    """A code worker as a host of its own: its process (the same object each time it comes back,
    its log appended to) and its own directory, its working directory and TMPDIR."""

    name: str
    worker: WorkerProcess
    directory: Path

    def running(self) -> dict[int, int]:
        """Job → submission of the code jobs it started and has not ended, since it last started."""
        latest = self.worker.latest_output()
        ended = {int(job) for job, *_ in ENDED.findall(latest)}
        return {int(job): int(sid) for job, sid in STARTED.findall(latest) if int(job) not in ended}

    def ended(self, job: int) -> tuple[str, str] | None:
        """How the job ended here, as its log says (``("Success", "written")``), or None."""
        for found, _, status, result in ENDED.findall(self.worker.output()):
            if int(found) == job:
                return status, result
        return None

    def written(self) -> set[int]:
        """The submissions whose results it wrote, over all its starts, by its own log."""
        return {int(sid) for _, sid, status, result in ENDED.findall(self.worker.output()) if result == "written"}

    def sandboxes(self) -> set[int]:
        """The pids of its own sandboxes (the bubblewrap processes it started)."""
        return {pid for pid in _descendants(self.worker.pid) if _name(pid) == "bwrap"}


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rpartition(")")[2].split()[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.fixture(scope="module")
def hosts(noted, database_url, tmp_path_factory) -> Iterator[list[Host]]:
    """Two code workers of one sandbox each, as two one-core hosts, ready (each test leaves them so)."""
    made = []
    for name in ("host-a", "host-b"):
        directory = tmp_path_factory.mktemp(name)
        (directory / "tmp").mkdir(parents=True)
        worker = WorkerProcess.grader_worker(
            database_url,
            workdir=directory,
            heartbeat=HEARTBEAT,
            stalled_after=STALLED_AFTER,
            queues=("code",),
            concurrency=1,
            env={"TMPDIR": str(directory / "tmp"), "GRADER_CODE_SECONDS": "3600"},
        )
        made.append(Host(name, worker, directory))
    try:
        for host in made:
            host.worker.start()
        for host in made:
            host.worker.wait_ready(timeout=READY_WITHIN)
        yield made
    finally:
        for host in made:
            host.worker.kill()


def part_of(course: Course, submission_id: int, headers: dict[str, str], wait: int = 0) -> dict[str, Any]:
    response = course.client.get(f"/api/v1/submissions/{submission_id}?wait={wait}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json()["parts"][KEY])


def graded(course: Course, submission_id: int, headers: dict[str, str], timeout: float = 180) -> dict[str, Any]:
    """The part once its result is written (each read waits for it, up to 20 s)."""
    return until(
        lambda: (part := part_of(course, submission_id, headers, wait=20))["status"] not in WAITING and part,
        timeout=timeout,
        what=f"submission {submission_id} graded",
    )


@dataclass
class Sent:
    submission_id: int
    headers: dict[str, str]
    right: bool


def send(course: Course, aid: str, module: str, *, right: bool) -> Sent:
    """A new student's submission of ``module``."""
    _, headers = course.student()
    made = course.submit(aid, headers, {KEY: module})
    assert made.status_code == 201, made.text
    return Sent(made.json()["id"], headers, right)


def running_one_of(host: Host, sent: list[Sent]) -> dict[int, int]:
    """Job → submission of the host's job under way if it runs one of ``sent``."""
    ids = {each.submission_id for each in sent}
    return {job: sid for job, sid in host.running().items() if sid in ids}


def test_two_hosts_each_killed_and_stopped_mid_run_lose_nothing_and_write_each_result_once(
    hosts: list[Host], course: Course, noted: Engine
) -> None:
    aid = course.assignment(problem_set=SET)
    first, second = hosts
    sent: list[Sent] = []
    # each host drops out both ways, and students submit while it is away
    for victim, how in ((first, "kill"), (second, "stop"), (second, "kill"), (first, "stop")):
        for each in sent:  # (the hosts idle)
            graded(course, each.submission_id, each.headers)
        # two slow runs (3 s as they load), one on each host
        pair = [send(course, aid, slow(RIGHT, 3), right=True), send(course, aid, slow(NO_BIAS, 3), right=False)]
        sent += pair
        ((job, _),) = until(functools.partial(running_one_of, victim, pair), timeout=120, what="a slow run").items()
        until(victim.sandboxes, timeout=120, what=f"{victim.name}'s sandbox of its own for job {job}")
        assert not first.sandboxes() & second.sandboxes()
        if how == "kill":
            victim.worker.kill()  # SIGKILL, with the code asleep in its sandbox: nothing written
            assert victim.ended(job) is None, f"{victim.name} ended job {job} before its SIGKILL"
        else:
            assert victim.worker.terminate() == 0, victim.worker.latest_output()  # SIGTERM: the run finishes first
            assert victim.ended(job) == ("Success", "written"), victim.worker.latest_output()
        for number in range(4):  # meanwhile, more students submit (while the other host carries on)
            sent.append(send(course, aid, RIGHT if number % 2 else NO_BIAS, right=bool(number % 2)))
        victim.worker.start()  # back, as a new process of the same host
        victim.worker.wait_ready(timeout=READY_WITHIN)

    for each in sent:  # every result right
        part = graded(course, each.submission_id, each.headers)
        if each.right:
            assert (part["status"], part["score"]) == ("correct", part["max_score"]), part
        else:  # (a hidden test of whole numbers may draw every bias 0, which the module then passes)
            assert part["status"] in ("incorrect", "partial") and part["score"] < part["max_score"], part
            assert any(test.get("misconception") == "bias-omitted" for test in part["tests"]), part["tests"]
    ids = [each.submission_id for each in sent]
    found = notes(noted, ids)
    writes = [(sid, before) for sid, before, after, _ in found if after not in WAITING]
    # nothing lost, nothing written twice: one write per submission, each of a claimed run
    assert sorted(sid for sid, _ in writes) == sorted(ids), writes
    assert all(before == "running" for _, before in writes), writes
    assert sorted(sid for sid, before, after, _ in found if after == "queued") == sorted(ids)
    with noted.connect() as connection:
        left = connection.execute(text("SELECT count(*) FROM code_runs WHERE submission_id = ANY(:ids)"), {"ids": ids})
        assert left.scalar() == 0
        jobs = connection.execute(
            text(
                "SELECT status, count(*) FROM procrastinate_jobs WHERE task_name = :task "
                "AND (args->>'submission_id')::bigint = ANY(:ids) GROUP BY status"
            ),
            {"task": CODE_TASK, "ids": ids},
        )
        assert dict(jobs.all()) == {"succeeded": len(ids)}  # (the killed runs' jobs too, run again)
    # both hosts graded, and no result was written by both: their own logs tell which wrote what
    by_first, by_second = first.written(), second.written()
    assert by_first and by_second, (by_first, by_second)
    assert not by_first & by_second
    assert by_first | by_second == set(ids)
    assert "back in the queue" in first.worker.output() + second.worker.output()  # (the killed hosts' jobs)
    print(f"\n{len(ids)} submissions: {len(by_first)} graded by {first.name}, {len(by_second)} by {second.name}")


def test_one_students_twenty_queued_runs_delay_each_other_students_run_by_one_run_at_most(
    hosts: list[Host], course: Course, noted: Engine
) -> None:
    """Every run takes about as long (0.5 s as it loads), so that without the share the other
    students' runs would wait behind one run of the first student's after another on whichever
    host came free: first in, first out, the fifth would wait for four of them."""
    aid = course.assignment(problem_set=SET)
    student, flooder = course.student()
    theirs = []
    for _ in range(QUEUED_AT_MOST):
        made = course.submit(aid, flooder, {KEY: slow(RIGHT, 0.5)})
        assert made.status_code == 201, made.text
        theirs.append(made.json()["id"])

    def waiting() -> int:
        with noted.connect() as connection:
            found = connection.execute(text("SELECT count(*) FROM code_runs WHERE student_id = :s"), {"s": student})
            return int(found.scalar() or 0)

    left = waiting()  # (more than the others: first in, first out, each would wait behind theirs)
    assert left >= 8, f"the first student's runs were taken about as fast as sent: {left} waiting"
    others = [send(course, aid, slow(RIGHT, 0.5), right=True) for _ in range(5)]
    for each in others:
        assert graded(course, each.submission_id, each.headers)["status"] == "correct"
    for number in theirs:  # (then theirs, one at a time: all right, nothing lost)
        assert graded(course, number, flooder, timeout=300)["status"] == "correct"

    found = notes(noted, [*theirs, *(each.submission_id for each in others)])
    queued = {sid: at for sid, _, after, at in found if after == "queued"}
    claimed = {sid: at for sid, before, after, at in found if (before, after) == ("queued", "running")}
    flooders_claims = sorted(claimed[number] for number in theirs)
    delays = {
        sid: sum(queued[sid] <= at < claimed[sid] for at in flooders_claims)
        for sid in (each.submission_id for each in others)
    }
    # each other student's run waited for one of the first student's at most (one that was taken
    # as theirs was being queued), however many of the first student's waited
    assert all(count <= 1 for count in delays.values()), delays
    # and never two of the first student's at once, on two hosts: each claimed once the one before was written
    written = {sid: at for sid, _, after, at in found if after not in WAITING}
    spans = sorted((claimed[number], written[number]) for number in theirs)
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans)), spans
    print(f"\nruns of the student with {QUEUED_AT_MOST} queued, taken while each other's waited: {delays}")
