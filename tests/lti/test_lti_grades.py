"""Grade passback (AGS) against the platform: a student's submission writes an outbox row in its
transaction, and sending it finds or creates the line item, gets a token with a private_key_jwt
assertion, and posts the score; refusals and retries as the platform answers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from api.jobs.run import Runtime
from api.kit.db import make_sessionmaker
from api.lti import ags, outbox
from api.lti.sender import ScoreSender
from api.models import LtiAccount, LtiContext, LtiLineItem, LtiScore, Submission, User
from tests.problems.test_written_parts import SET as WRITTEN_SET

from factories import Course, finished_job, make_instructor, run_queued_jobs, unique
from lti_platform import KEK, LEARNER, LMS, TA, TEST_USER, link
from lti_platform import User as LmsUser
from page_client import Browser

RIGHT = "3640"  # conv-pool-basics ex4.conv1_params


def learner_submits(lms: LMS, engine, client, *, lineitem: str | None = None, answer: str = RIGHT):
    course = Course(client, make_instructor(engine))
    assignment = course.assignment(title="Homework 1")
    context = unique("ctx")
    link(engine, lms, context, course.id)
    learner = LmsUser(unique("sub"), [LEARNER])
    launched = lms.launch(learner, context=context, custom={"assignment": assignment}, lineitem=lineitem)
    path = lms.client.get(launched.headers["location"]).headers["location"]
    page = lms.client.get(path)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    sent = lms.client.post(path, data={"ex4.conv1_params": answer, "action": "submit", "csrf": csrf})
    assert sent.status_code == 303, sent.text
    return course, assignment, context, learner


def send(app, lms: LMS, *, now: datetime | None = None) -> dict[str, int]:
    lms.tool_jwks = lms.client.get("/lti/jwks").json()
    return ags.send_due(sessionmaker(app.state.engine), app.state.lti_http, kek=KEK, now=now)


def rows(engine, student_sub: str) -> list[LtiScore]:
    with Session(engine) as db:
        return list(db.scalars(select(LtiScore).where(LtiScore.sub == student_sub).order_by(LtiScore.id)))


def test_a_submission_writes_a_row_and_its_score_reaches_the_line_item_of_the_launch(app, lms, engine, client) -> None:
    item = lms.issuer + "/api/lti/courses/7/line_items/99?section=a"
    _, _, _, learner = learner_submits(lms, engine, client, lineitem=item)
    (row,) = rows(engine, learner.sub)
    with Session(engine) as db:
        (submission,) = db.scalars(select(Submission).where(Submission.student_id == row.student_id))
    assert row.status == "pending" and submission.score > 0
    assert (row.score_given, row.score_maximum) == (submission.score, submission.max_score)
    assert send(app, lms) == {"sent": 1, "retry": 0, "failed": 0}
    ((url, body),) = lms.scores
    assert url == lms.issuer + "/api/lti/courses/7/line_items/99/scores?section=a"  # the query kept
    assert body["userId"] == learner.sub and body["scoreGiven"] == row.score_given
    assert body["scoreMaximum"] == row.score_maximum and body["gradingProgress"] == "FullyGraded"
    assert body["activityProgress"] == "Completed"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["timestamp"])
    # Canvas: a new attempt, submitted when the student submitted it (AGS's submittedAt)
    assert body["submission"] == {"submittedAt": ags.timestamp(submission.submitted_at)}
    assert body[ags.CANVAS_SUBMISSION] == {"new_submission": True, "submitted_at": body["submission"]["submittedAt"]}
    assert lms.line_items == []  # the launch's line item was used, none created
    assert rows(engine, learner.sub)[0].status == "sent"
    assert send(app, lms)["sent"] == 0  # nothing left
    # the assertion: signed by the tool, for the token URL, with a jti never reused
    assert lms.assertions[-1]["aud"] == lms.token_url and lms.assertions[-1]["iss"] == lms.client_id


def test_without_the_launchs_line_item_it_is_found_by_resource_id_or_created_once(app, lms, engine, client) -> None:
    _, assignment, context, _ = learner_submits(lms, engine, client)
    assert send(app, lms)["sent"] == 1
    assert [i["resourceId"] for i in lms.line_items] == [assignment]
    assert lms.line_items[0]["label"] == "Homework 1" and lms.line_items[0]["scoreMaximum"] > 0
    with Session(engine) as db:
        stored = db.get(LtiLineItem, (lms.id, context, assignment))
        assert stored is not None and stored.url == lms.line_items[0]["id"]
    # another student of the same assignment: the stored line item, no second one
    other = LmsUser(unique("sub"), [LEARNER])
    launched = lms.launch(other, context=context, custom={"assignment": assignment})
    path = lms.client.get(launched.headers["location"]).headers["location"]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', lms.client.get(path).text).group(1)
    lms.client.post(path, data={"ex4.conv1_params": "1", "action": "submit", "csrf": csrf})
    assert send(app, lms)["sent"] == 1
    assert len(lms.line_items) == 1 and len(lms.scores) == 2


def test_a_line_item_the_platform_has_for_the_assignment_is_found_not_made_again(app, lms, engine, client) -> None:
    _, assignment, _, learner = learner_submits(lms, engine, client)
    base = lms.lineitems_url.split("?")[0]
    lms.line_items += [
        {"id": f"{base}/40?section=a", "resourceId": "another", "scoreMaximum": 1, "label": "Other"},
        {"id": f"{base}/41?section=a", "resourceId": assignment, "scoreMaximum": 1, "label": "Made in the LMS"},
    ]
    assert send(app, lms)["sent"] == 1
    assert len(lms.line_items) == 2
    ((url, body),) = lms.scores
    assert url == f"{base}/41/scores?section=a" and body["userId"] == learner.sub


def test_429_waits_for_retry_after_and_5xx_backs_off_with_the_same_timestamp(app, lms, engine, client) -> None:
    item = lms.issuer + "/api/lti/courses/7/line_items/5?section=a"
    _, _, _, learner = learner_submits(lms, engine, client, lineitem=item)
    lms.score_answers = [httpx.Response(429, headers={"Retry-After": "120"}), httpx.Response(503)]
    now = datetime.now(UTC)
    assert send(app, lms, now=now) == {"sent": 0, "retry": 1, "failed": 0}
    (row,) = rows(engine, learner.sub)
    assert row.status == "pending" and row.attempts == 1 and row.error.startswith("429")
    assert abs((row.next_try_at - now) - timedelta(seconds=120)) < timedelta(seconds=1)
    assert send(app, lms, now=now + timedelta(seconds=60))["retry"] == 0  # not due yet
    assert send(app, lms, now=now + timedelta(seconds=121)) == {"sent": 0, "retry": 1, "failed": 0}
    assert rows(engine, learner.sub)[0].error.startswith("503")
    assert send(app, lms, now=now + timedelta(hours=1)) == {"sent": 1, "retry": 0, "failed": 0}
    (_, body) = lms.scores[-1]
    assert body["timestamp"] == ags.timestamp(row.timestamp)  # fixed when the score was computed


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (httpx.Response(200, content=b"<html>a proxy's page</html>"), "unreadable: the answer is not JSON"),
        (httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000), "unreadable: the answer is not JSON"),
        (httpx.Response(200, content=b" " * (5 * 2**20)), "unreadable: the answer is larger than 4 MiB"),
    ],
    ids=["html", "nested", "huge"],
)
def test_an_unreadable_answer_is_retried_not_a_crash_of_the_round(app, lms, engine, client, answer, reason) -> None:
    *_, learner = learner_submits(lms, engine, client)
    lms.token_answers = [answer]
    assert send(app, lms) == {"sent": 0, "retry": 1, "failed": 0}
    (row,) = rows(engine, learner.sub)
    assert row.status == "pending" and row.attempts == 1 and row.error == reason
    assert send(app, lms, now=datetime.now(UTC) + timedelta(minutes=5))["sent"] == 1


def test_a_refusal_fails_the_row_with_the_platforms_own_message(app, lms, engine, client) -> None:
    item = lms.issuer + "/api/lti/courses/7/line_items/6?section=a"
    _, _, _, learner = learner_submits(lms, engine, client, lineitem=item)
    lms.score_answers = [
        httpx.Response(422, json={"errors": [{"message": "User not found in course or is not a student"}]})
    ]
    assert send(app, lms) == {"sent": 0, "retry": 0, "failed": 1}
    (row,) = rows(engine, learner.sub)
    assert row.status == "failed" and row.error == "422: User not found in course or is not a student"


def test_a_student_who_never_came_from_an_lms_writes_no_row(engine, client) -> None:
    course = Course(client, make_instructor(engine))
    assignment = course.assignment()
    student, headers = course.student()
    assert course.submit(assignment, headers, {"ex4.conv1_params": RIGHT}).status_code == 201
    with Session(engine) as db:
        assert db.scalars(select(LtiScore).where(LtiScore.student_id == student)).first() is None


def test_the_pure_parts(app) -> None:
    assert ags.scores_url("https://lms/api/li/9?x=1&y=2") == "https://lms/api/li/9/scores?x=1&y=2"
    assert ags.scores_url("https://lms/api/li/9/") == "https://lms/api/li/9/scores"
    moment = datetime(2026, 11, 24, 1, 2, 3, 456789, tzinfo=UTC)
    assert ags.timestamp(moment) == "2026-11-24T01:02:03.456Z"
    now = datetime(2026, 11, 24, tzinfo=UTC)
    dated = httpx.Response(429, headers={"Retry-After": "Tue, 24 Nov 2026 00:00:30 GMT"})
    assert ags.retry_after(dated, now) == timedelta(seconds=30)
    assert ags.retry_after(httpx.Response(429, headers={"Retry-After": "999999"}), now) == ags.MAX_WAIT
    assert ags.retry_after(httpx.Response(429), now) is None


def test_an_extension_and_a_regrade_write_the_new_counted_score(app, lms, engine, client) -> None:
    course, assignment, _, learner = learner_submits(lms, engine, client)
    (first,) = rows(engine, learner.sub)
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    granted = client.put(
        f"{course.path}/assignments/{assignment}/extensions/{first.student_id}",
        json={"due_at": later},
        headers=course.instructor,
    )
    assert granted.status_code == 200, granted.text
    assert len(rows(engine, learner.sub)) == 2
    # what a regrade's chunk does for the students whose grade changed: those from an LMS only
    other, _ = course.student()
    with Session(engine) as db, db.begin():
        written = outbox.record_scores(
            db, course_id=course.id, assignment_id=assignment, student_ids=[first.student_id, other]
        )
    assert written == 1 and len(rows(engine, learner.sub)) == 3
    assert [row.new_submission for row in rows(engine, learner.sub)] == [True, False, False]
    lms.tool_jwks = lms.client.get("/lti/jwks").json()
    send(app, lms)
    sent = [body[ags.CANVAS_SUBMISSION] for _, body in lms.scores if body["userId"] == learner.sub]
    assert sent[1:] == [{"new_submission": False}] * 2  # Canvas would count them as resubmissions


def test_two_senders_at_once_send_a_row_once(app, lms, engine, client) -> None:
    item = lms.issuer + "/api/lti/courses/7/line_items/8?section=a"
    _, _, _, learner = learner_submits(lms, engine, client, lineitem=item)
    now = datetime.now(UTC)
    with Session(engine) as db, db.begin():
        due = ags._targets(db, now)
        taken_first = ags._claimed(db, due, now)
    with Session(engine) as db, db.begin():
        taken_again = ags._claimed(db, ags._targets(db, now), now)
    mine = [t for t in taken_first if t.body["userId"] == learner.sub]
    assert len(mine) == 1 and not [t for t in taken_again if t.body["userId"] == learner.sub]
    # the lease runs out: the row is due again (a sender that died)
    assert send(app, lms, now=now + ags.LEASE + timedelta(seconds=1))["sent"] >= 1
    assert rows(engine, learner.sub)[0].status == "sent"


def test_the_services_sender_sends_when_woken() -> None:
    import threading

    rounds = threading.Semaphore(0)
    sender = ScoreSender(rounds.release, every=3600)
    sender.start()
    try:
        assert rounds.acquire(timeout=5)  # a round at the start
        sender.wake()
        assert rounds.acquire(timeout=5)  # and one when woken, long before the hour
    finally:
        sender.stop()


def test_the_services_sender_comes_back_when_a_retry_is_due_not_at_its_regular_round() -> None:
    import threading

    rounds = threading.Semaphore(0)
    soon = datetime.now(UTC) + timedelta(seconds=0.3)
    sender = ScoreSender(rounds.release, every=3600, due=lambda: soon)
    sender.start()
    try:
        assert rounds.acquire(timeout=5)
        assert rounds.acquire(timeout=5)  # the retry's time (at least a second on), not the hour
    finally:
        sender.stop()


def test_staff_see_the_links_and_each_students_passback_state(app, lms, engine, client) -> None:
    course, assignment, context, _ = learner_submits(lms, engine, client)
    lms.score_answers = [httpx.Response(403, json={"errors": [{"message": "Insufficient scope"}]})]
    send(app, lms)
    shown = client.get(f"{course.path}/lti", headers=course.instructor)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert [(link["platform"], link["context_id"]) for link in body["links"]] == [(lms.id, context)]
    assert body["links"][0]["lineitems_url"] == lms.lineitems_url
    (state,) = body["passback"]
    assert state["assignment"] == assignment and state["status"] == "failed"
    assert state["error"] == "403: Insufficient scope"
    _, student_headers = course.student()
    assert client.get(f"{course.path}/lti", headers=student_headers).status_code == 403


def test_changing_the_due_date_or_policy_writes_the_counted_scores_again(app, lms, engine, client) -> None:
    course, assignment, _, learner = learner_submits(lms, engine, client)
    url = f"{course.path}/assignments/{assignment}"
    assert client.patch(url, json={"title": "Renamed"}, headers=course.instructor).status_code == 200
    assert len(rows(engine, learner.sub)) == 1  # the title counts for nothing
    assert client.patch(url, json={"grade_policy": "last"}, headers=course.instructor).status_code == 200
    assert len(rows(engine, learner.sub)) == 2


def test_a_sync_reads_the_roster_and_writes_every_score_again(app, lms, engine, client) -> None:
    course, _, _, learner = learner_submits(lms, engine, client)
    newcomer = unique("sub")
    lms.tool_jwks = lms.client.get("/lti/jwks").json()
    lms.roster = [
        {"user_id": learner.sub, "roles": [LEARNER], "status": "Active"},
        {"user_id": newcomer, "roles": [LEARNER], "name": "New Comer", "email": "new@example.edu"},
        {"user_id": unique("sub"), "roles": [TA], "name": "Tess Assistant"},
        {"user_id": unique("sub"), "roles": [LEARNER], "status": "Inactive"},
        {"user_id": unique("sub"), "roles": [LEARNER, TEST_USER]},
    ]
    _, student_headers = course.student()
    assert client.post(f"{course.path}/lti/sync", headers=student_headers).status_code == 403
    started = client.post(f"{course.path}/lti/sync", headers=course.instructor)
    assert started.status_code == 202, started.text
    job = finished_job(client, started.json()["job"], course.instructor)
    assert job["status"] == "done" and job["kind"] == "lti_sync" and job["assignment"] is None, job
    assert job["done"] == 1  # the one LMS student with a submission: written again
    assert len(rows(engine, learner.sub)) == 2
    roster = {m["id"]: m["role"] for m in client.get(f"{course.path}/members", headers=course.instructor).json()}
    with Session(engine) as db:
        found = db.execute(select(LtiAccount.sub, LtiAccount.user_id).where(LtiAccount.platform_id == lms.id))
        accounts = {sub: user for sub, user in found}
    assert roster[accounts[newcomer]] == "student"
    assert sorted(role for user, role in roster.items() if user in accounts.values()) == ["student", "student", "ta"]
    assert len(accounts) == 3  # neither the inactive member nor the test user
    with Session(engine) as db:  # no way in made from the roster: the address is not kept
        newcomer_account = db.get(User, accounts[newcomer])
        assert newcomer_account is not None and newcomer_account.name == "New Comer"
        assert newcomer_account.email is None and not newcomer_account.tokens


def test_a_sync_whose_roster_is_refused_fails_with_the_lms_message(app, lms, engine, client, platforms) -> None:
    course, _, _, _ = learner_submits(lms, engine, client)
    platforms.by_issuer.pop(lms.issuer)  # the LMS does not answer
    started = client.post(f"{course.path}/lti/sync", headers=course.instructor)
    job = finished_job(client, started.json()["job"], course.instructor)
    assert job["status"] == "failed" and "network" in job["error"]


def test_a_submission_and_its_outbox_row_commit_together_or_not_at_all(app, lms, engine, client, monkeypatch) -> None:
    """The submit path runs without a transaction (one INSERT) for most students; for one from an
    LMS the INSERT and the outbox row are one transaction: a failure between them stores neither."""
    course, assignment, _, learner = learner_submits(lms, engine, client)
    (row,) = rows(engine, learner.sub)
    with Session(engine) as db:
        stored = db.scalars(select(Submission.id).where(Submission.student_id == row.student_id)).all()

    def broken(*args, **kwargs):
        raise RuntimeError("the outbox write failed")

    monkeypatch.setattr(outbox.LMS_OUTBOX, "one", broken)
    path = f"/courses/{course.id}/assignments/{assignment}"
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', lms.client.get(path).text).group(1)
    failed = lms.client.post(path, data={"ex4.conv1_params": "1", "action": "submit", "csrf": csrf})
    assert failed.status_code == 500
    with Session(engine) as db:
        after = db.scalars(select(Submission.id).where(Submission.student_id == row.student_id)).all()
    assert after == stored and len(rows(engine, learner.sub)) == 1


def test_the_sender_is_told_once_a_score_is_committed_and_only_then(app, lms, engine, client, monkeypatch) -> None:
    told: list[int] = []

    def tell() -> None:  # what the hook sees: the score committed already, on another connection
        with Session(engine) as db:
            told.append(len(db.scalars(select(LtiScore.id).where(LtiScore.platform_id == lms.id)).all()))

    monkeypatch.setitem(app.state.after_commit, outbox.SCORES_DUE, tell)
    learner_submits(lms, engine, client)
    assert told == [1]
    course = Course(client, make_instructor(engine))  # a student from no LMS: nothing to tell
    _, headers = course.student()
    assert course.submit(course.assignment(), headers, {"ex4.conv1_params": RIGHT}).status_code == 201
    assert told == [1]


@pytest.mark.only_backend("postgresql")
def test_on_postgresql_a_committed_score_wakes_a_worker_rather_than_waiting_a_minute(app, lms, engine, client) -> None:
    """The commit defers the send task (procrastinate notifies listening workers); a second score
    before a worker takes it adds no second task (its queueing lock)."""
    import asyncio

    from api.jobs.queue import LTI_TASK, RETRY_LOCK, make_queue, work

    def waiting() -> int:
        with Session(engine) as db:
            query = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task AND status = 'todo'"
            return int(db.execute(text(query), {"task": LTI_TASK}).scalar_one())

    run_queued_jobs(app)  # what earlier tests left
    assert waiting() == 0
    item = lms.issuer + "/api/lti/courses/7/line_items/12?section=a"
    *_, learner = learner_submits(lms, engine, client, lineitem=item)
    learner_submits(lms, engine, client, lineitem=item)
    assert waiting() == 1
    lms.tool_jwks = lms.client.get("/lti/jwks").json()
    runtime = Runtime(make_sessionmaker(engine), app.state.library)

    def send_lti_scores() -> None:
        ags.send_due(sessionmaker(engine), app.state.lti_http, kek=KEK)

    asyncio.run(work(make_queue(app.state.settings.database_url), runtime, wait=False, send_lti_scores=send_lti_scores))
    assert waiting() == 0
    assert [body["userId"] for _, body in lms.scores if body["userId"] == learner.sub] == [learner.sub]

    # a round that leaves a retry due within the minute has the task scheduled for then, once
    retry_at = datetime.now(UTC) + timedelta(seconds=40)
    learner_submits(lms, engine, client, lineitem=item)
    queue = make_queue(app.state.settings.database_url)
    asyncio.run(work(queue, runtime, wait=False, send_lti_scores=lambda: retry_at))
    learner_submits(lms, engine, client, lineitem=item)
    asyncio.run(work(queue, runtime, wait=False, send_lti_scores=lambda: retry_at))
    with Session(engine) as db:
        query = "SELECT scheduled_at FROM procrastinate_jobs WHERE queueing_lock = :lock AND status = 'todo'"
        (scheduled,) = db.execute(text(query), {"lock": RETRY_LOCK}).scalars().all()
    assert abs(scheduled - retry_at) < timedelta(seconds=1)


def test_a_written_part_is_pending_manual_until_its_grade_is_released(app, lms, engine, client) -> None:
    """The LMS shows what the student sees: ``PendingManual`` and the computed points while a written
    part waits (graded or not, until release), then the whole score, ``FullyGraded``."""
    course = Course(client, make_instructor(engine))
    uploaded = client.post(
        f"{course.path}/problem-sets",
        content=WRITTEN_SET.encode(),
        headers={**course.instructor, "Content-Type": "application/yaml"},
    )
    assert uploaded.status_code == 201, uploaded.text
    assignment = course.assignment(problem_set="words", title="Words")
    context = unique("ctx")
    link(engine, lms, context, course.id)
    learner = LmsUser(unique("sub"), [LEARNER])
    launched = lms.launch(learner, context=context, custom={"assignment": assignment})
    path = lms.client.get(launched.headers["location"]).headers["location"]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', lms.client.get(path).text).group(1)
    answers = {"q1.why": "The kernel's extent.", "q1.shape": "30x30x16", "action": "submit", "csrf": csrf}
    assert lms.client.post(path, data=answers).status_code == 303
    assert send(app, lms)["sent"] == 1
    body = lms.scores[-1][1]
    assert (body["scoreGiven"], body["scoreMaximum"], body["gradingProgress"]) == (1.0, 6.0, "PendingManual")

    with Session(engine) as db:
        submission = db.scalars(select(Submission).where(Submission.assignment_id == assignment)).one()
    queue = client.get(f"{course.path}/assignments/{assignment}/grading/q1.why", headers=course.instructor).json()
    items = [item["id"] for item in queue["rubric"]["items"][:2]]
    for key, chosen in (("q1.why", items), ("q2.compare", [])):
        url = f"/api/v1/submissions/{submission.id}/parts/{key}/grading"
        graded = client.put(
            url, json={"items": chosen, "adjustment": 0.5 if chosen == [] else 0}, headers=course.instructor
        )
        assert graded.status_code == 200, graded.text
    assert send(app, lms)["sent"] == 0  # graded, not released: the LMS is not told

    release = f"{course.path}/assignments/{assignment}/grading/release"
    one_part = client.post(f"{release}?key=q1.why", headers=course.instructor)
    assert one_part.status_code == 200, one_part.text
    assert send(app, lms)["sent"] == 1
    body = lms.scores[-1][1]
    assert (body["scoreGiven"], body["gradingProgress"]) == (3.0, "PendingManual")  # q2.compare still withheld

    released = client.post(release, headers=course.instructor)
    assert released.status_code == 200, released.text
    assert send(app, lms)["sent"] == 1
    body = lms.scores[-1][1]
    assert (body["scoreGiven"], body["gradingProgress"]) == (3.5, "FullyGraded")  # 1 + 2 + 0.5


def _lms_rows(engine, context: str) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The course's LMS link, its line items and its passback rows, as plain tuples."""
    with Session(engine) as db:
        contexts = db.execute(
            select(LtiContext.platform_id, LtiContext.context_id, LtiContext.course_id).where(
                LtiContext.context_id == context
            )
        )
        items = db.execute(
            select(LtiLineItem.platform_id, LtiLineItem.assignment_id, LtiLineItem.url).where(
                LtiLineItem.context_id == context
            )
        )
        scores = db.execute(
            select(LtiScore.id, LtiScore.assignment_id, LtiScore.score_given, LtiScore.status).where(
                LtiScore.context_id == context
            )
        )
        return [tuple(r) for r in contexts], [tuple(r) for r in items], [tuple(r) for r in scores]


def test_archiving_keeps_the_lms_line_item_and_restoring_sends_to_it_again(app, lms, engine, client) -> None:
    item = lms.issuer + "/api/lti/courses/7/line_items/77?section=a"
    course, assignment, context, learner = learner_submits(lms, engine, client, lineitem=item)
    assert send(app, lms)["sent"] == 1
    kept = _lms_rows(engine, context)
    assert kept[1] == [(lms.id, assignment, item)] and len(kept[2]) == 1  # the line item and the score sent
    resource = f"{course.path}/assignments/{assignment}"
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    page = f"/courses/{course.id}/assignments/{assignment}"

    # archived over REST, restored from the edit page; archived from the edit page, restored over REST
    for (archive, archived), (restore, restored) in (
        (
            (lambda: client.delete(resource, headers=course.instructor), 204),
            (lambda: staff.post(page + "/restore"), 303),
        ),
        (
            (lambda: staff.post(page + "/archive"), 303),
            (lambda: client.patch(resource, json={"archived": False}, headers=course.instructor), 200),
        ),
    ):
        staff.get(page + "/edit")  # (the form's token)
        assert archive().status_code == archived
        assert client.get(resource, headers=course.instructor).json()["archived_at"] is not None
        assert _lms_rows(engine, context) == kept  # nothing deleted: link, line item, passback rows
        staff.get(page + "/edit")
        assert restore().status_code == restored
        assert client.get(resource, headers=course.instructor).json()["archived_at"] is None
        assert _lms_rows(engine, context) == kept

    # restored, the learner's next score goes to the same line item: none found or made anew
    launched = lms.launch(learner, context=context, custom={"assignment": assignment})
    path = lms.client.get(launched.headers["location"]).headers["location"]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', lms.client.get(path).text).group(1)
    sent = lms.client.post(path, data={"ex4.conv1_params": "1", "action": "submit", "csrf": csrf})
    assert sent.status_code == 303, sent.text
    assert send(app, lms)["sent"] == 1
    assert (
        lms.line_items == []
        and [url for url, _ in lms.scores] == [lms.issuer + "/api/lti/courses/7/line_items/77/scores?section=a"] * 2
    )
    assert _lms_rows(engine, context)[1] == kept[1]
