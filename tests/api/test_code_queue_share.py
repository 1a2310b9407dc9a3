"""A student's share of the code queue, with nothing running the queue (so runs stay queued), on
both backends: past the queued runs one student may have, a submission with code is refused with
429, ``Retry-After`` and a sentence, before anything is stored and using no attempt (the REST API
and the pages' form alike); once the student's sandbox time on the assignment is used, the same;
a run claimed with no time left runs nothing and says why; and the order the runners take runs in
(one run per student at a time, by turn then age)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import anyio.to_thread
import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from api.code_runs.budget import charge, used
from api.code_runs.run import CodeRuntime, run_code
from api.code_runs.shares import CodeLimits, next_run
from api.kit.config import Settings
from api.kit.db import make_sessionmaker, writer
from api.kit.slots import Slots
from api.models import CodeRun, CodeTime, Submission
from harness.student_code import CONV_FORWARD

from factories import Course, counted, engines_of
from page_client import Browser

SET = "numpy-convolution"
KEY = "conv.forward"
QUEUED_AT_MOST = 3
SECONDS = 30.0


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    """The suite's settings, with this module's share of the code queue."""
    return settings.model_copy(update={"code_queued_per_student": QUEUED_AT_MOST, "code_seconds": SECONDS})


def _stored(engine: Any, student: str) -> tuple[int, int]:
    """(submissions, code runs) of the student."""
    with Session(engine) as session:
        submissions = session.scalar(
            select(func.count()).select_from(Submission).where(Submission.student_id == student)
        )
        runs = session.scalar(select(func.count()).select_from(CodeRun).where(CodeRun.student_id == student))
    return submissions or 0, runs or 0


def test_past_the_queued_runs_a_student_may_have_a_submission_is_refused_429_and_nothing_stored(
    course: Course, engine
) -> None:
    aid = course.assignment(problem_set=SET, max_attempts=QUEUED_AT_MOST + 1)
    student, headers = course.student()
    for attempt in range(1, QUEUED_AT_MOST + 1):
        made = course.submit(aid, headers, {KEY: CONV_FORWARD})
        assert made.status_code == 201, made.text
        assert made.json()["attempt"] == attempt
    refused = course.submit(aid, headers, {KEY: CONV_FORWARD})
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) > 0
    detail = refused.json()["detail"]
    assert isinstance(detail, str) and "no attempt used" in detail and f"{QUEUED_AT_MOST} code runs" in detail
    assert _stored(engine, student) == (QUEUED_AT_MOST, QUEUED_AT_MOST)

    _, other_headers = course.student()  # (another student's share is their own)
    assert course.submit(aid, other_headers, {KEY: CONV_FORWARD}).status_code == 201

    with Session(writer(engine)) as session, session.begin():  # one of the runs written, as a runner does
        first = session.scalars(select(CodeRun.submission_id).where(CodeRun.student_id == student)).first()
        session.execute(delete(CodeRun).where(CodeRun.submission_id == first))
    again = course.submit(aid, headers, {KEY: CONV_FORWARD})
    assert again.status_code == 201, again.text
    assert again.json()["attempt"] == QUEUED_AT_MOST + 1  # the refusal used no attempt


def test_the_pages_form_is_held_to_the_same_share(app, course: Course, engine) -> None:
    """The form goes through the same service: the page answers 429 with ``Retry-After``."""
    aid = course.assignment(problem_set=SET)
    student, headers = course.student()
    for _ in range(QUEUED_AT_MOST):
        assert course.submit(aid, headers, {KEY: CONV_FORWARD}).status_code == 201
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    page = f"/courses/{course.id}/assignments/{aid}"
    assert browser.get(page).status_code == 200
    refused = browser.post(page, {"action": "submit", KEY: CONV_FORWARD})
    assert refused.status_code == 429, refused.text[:2000]
    assert int(refused.headers["Retry-After"]) > 0
    assert "no attempt used" in refused.text and f"{QUEUED_AT_MOST} code runs" in refused.text
    assert _stored(engine, student) == (QUEUED_AT_MOST, QUEUED_AT_MOST)


def _charge(engine: Any, course: Course, aid: str, student: str, seconds: float) -> None:
    with Session(writer(engine)) as session, session.begin():
        session.add(
            CodeTime(
                course_id=course.id,
                assignment_id=aid,
                student_id=student,
                window_started_at=datetime.now(UTC) - timedelta(minutes=1),
                seconds=seconds,
            )
        )


def test_a_student_whose_code_used_its_sandbox_time_is_refused_429_until_the_window_ends(
    course: Course, engine
) -> None:
    aid = course.assignment(problem_set=SET)
    student, headers = course.student()
    _charge(engine, course, aid, student, SECONDS)
    refused = course.submit(aid, headers, {KEY: CONV_FORWARD})
    assert refused.status_code == 429, refused.text
    retry_after = int(refused.headers["Retry-After"])
    assert 59 * 60 - 30 <= retry_after <= 59 * 60 + 1  # (the window opened a minute ago, and lasts 60)
    detail = refused.json()["detail"]
    assert f"{SECONDS:g} s of sandbox time" in detail and "no attempt used" in detail, detail
    assert _stored(engine, student) == (0, 0)
    _, other_headers = course.student()  # (a budget per student)
    assert course.submit(aid, other_headers, {KEY: CONV_FORWARD}).status_code == 201
    assert course.submit(course.assignment(problem_set=SET), headers, {KEY: CONV_FORWARD}).status_code == 201


def test_a_runs_sandbox_time_is_added_to_its_window_and_opens_the_next_once_that_is_over(
    course: Course, engine
) -> None:
    """The first run opens the student's window at its start; a run within it adds its seconds; a
    run that starts once it is over (its start at the window's end, or later) opens the next with
    its own seconds only. One upsert each, on both databases."""
    aid = course.assignment(problem_set=SET)
    student, _ = course.student()
    limits = CodeLimits(seconds=SECONDS, window=timedelta(minutes=60))
    start = datetime.now(UTC) - timedelta(hours=3)

    def charged(seconds: float, at: datetime) -> tuple[datetime, float]:
        with Session(writer(engine)) as session, session.begin():
            charge(
                session,
                course_id=course.id,
                assignment_id=aid,
                student_id=student,
                seconds=seconds,
                started_at=at,
                limits=limits,
            )
        with Session(engine) as session:
            row = session.get(CodeTime, (course.id, aid, student))
            assert row is not None
            return row.window_started_at, row.seconds

    assert charged(2.5, start) == (start, 2.5)
    assert charged(1.0, start + timedelta(minutes=59)) == (start, 3.5)
    over = start + timedelta(minutes=60)
    assert charged(4.0, over) == (over, 4.0)
    assert charged(0.5, over + timedelta(minutes=1)) == (over, 4.5)


def test_a_run_claimed_with_no_sandbox_time_left_runs_nothing_and_says_why(app, course: Course, engine) -> None:
    aid = course.assignment(problem_set=SET)
    student, headers = course.student()
    made = course.submit(aid, headers, {KEY: CONV_FORWARD})
    assert made.status_code == 201, made.text
    _charge(engine, course, aid, student, SECONDS + 1)  # (used meanwhile, by runs queued before)

    def grade(problem_set, answers, variant):
        raise AssertionError("nothing is run")

    runtime = CodeRuntime(
        make_sessionmaker(writer(engine)), app.state.library, grade, limits=CodeLimits(seconds=SECONDS)
    )
    assert run_code(runtime, made.json()["id"]) == "written"
    with Session(engine) as session:
        stored = session.get(Submission, made.json()["id"])
        assert stored is not None
        part = stored.parts[KEY]
        assert used(session, course_id=course.id, assignment_id=aid, student_id=student) == SECONDS + 1
    assert (part["status"], part["score"]) == ("invalid", 0.0)
    assert part["feedback"].startswith("Not run: your code has used its 30 s of sandbox time"), part["feedback"]


def test_the_runners_take_one_run_per_student_at_a_time_by_turn_then_age(course: Course, engine) -> None:
    """Three runs of one student queued before one of another's: the other's goes second (its turn
    is 0, the first student's later runs 1 and 2), and none of the first student's goes while one
    of theirs is under way."""
    aid = course.assignment(problem_set=SET)
    (first, first_headers), (second, second_headers) = course.students(2)
    ids = [course.submit(aid, first_headers, {KEY: CONV_FORWARD}).json()["id"] for _ in range(3)]
    theirs = course.submit(aid, second_headers, {KEY: CONV_FORWARD}).json()["id"]
    with Session(engine) as session:
        turns = dict(
            session.execute(
                select(CodeRun.submission_id, CodeRun.turn).where(CodeRun.submission_id.in_([*ids, theirs]))
            ).all()
        )
        assert [turns[i] for i in ids] == [0, 1, 2] and turns[theirs] == 0
        if engine.dialect.name == "postgresql":  # (each run's job: its student's lock, minus its turn)
            jobs = session.execute(
                text("SELECT (args->>'submission_id')::int, lock, priority FROM procrastinate_jobs")
            ).all()
            placed = {submission: (lock, priority) for submission, lock, priority in jobs}
            assert placed[ids[1]] == (f"code-student:{first}", -1)
            assert placed[theirs] == (f"code-student:{second}", 0)
        mine = [*ids, theirs]
        others = select(CodeRun.submission_id).where(CodeRun.submission_id.not_in(mine))
        skip = set(session.scalars(others))  # (the module's other tests' runs)
        taken: dict[int, str] = {}
        order = []
        while (found := next_run(session, taken=taken, skip=skip | taken.keys(), resume=False)) is not None:
            order.append(found)
            taken[found[0]] = found[1]
        assert order == [(ids[0], first), (theirs, second)]  # (the first student's next waits for their first)
        del taken[ids[0]]  # (written)
        skip.add(ids[0])
        assert next_run(session, taken=taken, skip=skip | taken.keys(), resume=False) == (ids[1], first)


def test_a_code_submission_is_stored_and_queued_in_one_transaction_of_few_statements(
    app, course: Course, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a deadline's every code POST costs the database: its caller read once, then one
    transaction that checks the student's share of the queue in one read (held on PostgreSQL by an
    advisory lock, a statement before it), inserts the submission and its run (the run's placement
    in the queue returned by that INSERT, not read again) and commits; procrastinate's job is one
    call more on the same connection. Nothing is checked twice, nothing before the transaction but
    the caller. And the service's event loop hands it to a thread once: on SQLite once more after
    the commit, to wake the service's runner; on PostgreSQL the job told the workers."""
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    hops: list[str] = []
    hop = anyio.to_thread.run_sync

    async def counted_hop(function: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(function, "func", function).__name__)  # (starlette hands it a partial)
        return await hop(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted_hop)
    with counted(*engines_of(app)) as statements:
        made = course.submit(aid, headers, {KEY: CONV_FORWARD})
    assert made.status_code == 201, made.text
    sqlite = app.state.engine.dialect.name == "sqlite"
    assert hops == ["_submit", *(["code_queued"] if sqlite else [])], hops
    kinds = [" ".join(statement.split()[:4]) for statement in statements]
    locked = (
        ["SELECT pg_advisory_xact_lock(hashtext(%(key)s))"] if app.state.engine.dialect.name == "postgresql" else []
    )
    assert [kind.split()[0] for kind in kinds[:2]] == ["SELECT", "BEGIN"], kinds  # (the caller, then one transaction)
    assert kinds[2:] == [
        *locked,
        "SELECT (SELECT count(*) AS",  # (the runs waiting and the sandbox time used, in one statement)
        "INSERT INTO submissions (course_id,",
        "INSERT INTO code_runs (submission_id,",
        "COMMIT",
    ], kinds


def test_a_reader_waiting_for_code_is_read_once_after_the_wait_not_also_before(app, course: Course) -> None:
    """Most readers of a deadline's burst ask for their result (``?wait=``) before their code has
    run: the caller and the submission are read (who may see it), then nothing more until the wait
    ends, when the reply is read as a plain read reads it. Here nothing runs the queue, so the wait
    ends at its time with the code still queued, and the reply is read once. A read is one
    statement: the caller, the submission, its assignment and its student's extension together."""
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    made = course.submit(aid, headers, {KEY: CONV_FORWARD})
    assert made.status_code == 201, made.text
    path = f"/api/v1/submissions/{made.json()['id']}"
    with counted(*engines_of(app)) as plain:
        assert course.client.get(path, headers=headers).status_code == 200
    with counted(*engines_of(app)) as waited:
        found = course.client.get(f"{path}?wait=0.2", headers=headers)
    assert found.status_code == 200 and found.json()["parts"][KEY]["status"] == "queued"
    before_the_wait = len(waited) - len(plain)
    assert waited[before_the_wait:] == plain  # the reply, read once
    assert len(plain) == 1, plain
    assert before_the_wait == 1, waited[:before_the_wait]  # the same statement, no more


def test_a_reader_waiting_for_code_takes_its_slots_behind_other_requests(
    app, course: Course, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a deadline the readers following their code (``?wait=``) are patient: a submission's
    acknowledgement takes a database slot before them (``api.kit.slots.PATIENCE``). A plain read
    and the submission itself are not."""
    asked: list[bool] = []
    acquire = Slots.acquire

    async def recorded(self: Slots, *, patient: bool = False) -> None:
        asked.append(patient)
        await acquire(self, patient=patient)

    monkeypatch.setattr(Slots, "acquire", recorded)
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    made = course.submit(aid, headers, {KEY: CONV_FORWARD})
    assert made.status_code == 201, made.text
    path = f"/api/v1/submissions/{made.json()['id']}"
    assert course.client.get(path, headers=headers).status_code == 200
    assert asked and not any(asked), asked  # (the submission, its caller's reads, the plain read)
    asked.clear()
    found = course.client.get(f"{path}?wait=0.2", headers=headers)
    assert found.status_code == 200 and found.json()["parts"][KEY]["status"] == "queued"
    assert asked.count(True) == 2, asked  # before the wait and after it
