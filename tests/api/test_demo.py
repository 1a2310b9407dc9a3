"""The demo course (``grader serve --demo``) shows the product: its students' work fills the
gradebook, the statistics and the grading queue; one assignment is past its due date, its answers
released and practice open; and its sign-in page signs in as each demo account with one click, which
a service not started with ``--demo`` neither offers nor accepts."""

from __future__ import annotations

import html
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from api.app import create_app
from api.code_runs.queueing import waiting_keys
from api.demo.code import BIAS_OMITTED, CODE_SET, CODE_SETS, KERNEL_FLIPPED, SEED_CODE_SET, Slip
from api.demo.course import COURSE, EXAM, DemoCourse, demo_accounts, load_demo
from api.demo.work import CLOSED, WORKED, WRITTEN, WRITTEN_SET
from api.kit.config import Settings
from api.kit.db import make_sessionmaker
from api.library.course_sets import Library
from api.models import Submission, User

from factories import Course, make_instructor
from page_client import Browser

DEMO = f"/api/v1/courses/{COURSE[0]}"


@pytest.fixture(scope="module")
def demo(app: Any) -> DemoCourse:
    with make_sessionmaker(app.state.engine)() as session:
        loaded = load_demo(session, library=Library(app.state.bank))
        session.commit()
    return loaded


@pytest.fixture(scope="module")
def demo_app(settings: Settings, shared_bank: Any, demo: DemoCourse) -> Any:
    """The service as ``grader serve --demo`` runs it, on the database the demo was loaded into."""
    application = create_app(settings.model_copy(update={"demo": True}), bank=shared_bank)
    yield application
    application.state.engine.dispose()


def auth(demo: DemoCourse, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo.tokens[user]}"}


def submissions(app: Any, assignment: str) -> list[Submission]:
    with make_sessionmaker(app.state.engine)() as session:
        query = select(Submission).where(Submission.course_id == COURSE[0], Submission.assignment_id == assignment)
        return list(session.scalars(query.order_by(Submission.student_id, Submission.attempt)))


def test_the_students_have_worked_on_the_assignments(app, demo) -> None:
    for assignment in (*WORKED, WRITTEN_SET):
        made = submissions(app, assignment)
        assert {s.student_id for s in made} == {"alice", "bob", "carol"}, assignment
    assert demo.submissions == sum(len(submissions(app, a)) for a in (*WORKED, WRITTEN_SET, *CODE_SETS))


def test_alice_is_right_bob_makes_named_mistakes_carol_answers_half(app, demo) -> None:
    for assignment in WORKED:
        by = {(s.student_id, s.attempt): s for s in submissions(app, assignment)}
        alice = by["alice", 1]
        assert alice.score == alice.max_score, (assignment, alice.parts)  # every typed answer read as meant
        first, second = by["bob", 1], by["bob", 2]
        named = [key for key, part in first.parts.items() if part["misconception"]]
        assert len(named) >= 2, (assignment, first.parts)
        assert first.score < second.score < second.max_score, assignment  # half the mistakes fixed
        statuses = [part["status"] for part in by["carol", 1].parts.values()]
        assert "correct" in statuses and "unanswered" in statuses, assignment


def test_the_gradebook_and_statistics_are_populated(client, demo) -> None:
    book = client.get(f"{DEMO}/assignments/conv-pool-basics/gradebook", headers=auth(demo, "demo-instructor")).json()
    scores = {row["student"]: row["score"] for row in book["students"]}
    assert scores["alice"] == 9 and 0 < scores["carol"] < scores["alice"] and 0 < scores["bob"] < 9
    stats = client.get(f"{DEMO}/assignments/conv-pool-basics/stats", headers=auth(demo, "demo-ta")).json()
    assert stats["submissions"] == 4 and stats["students"] == 3
    named = {code for key in stats["keys"].values() for code in key["misconceptions"]}
    assert {"bias-omitted", "missing-plus-one"} <= named
    assert any(key["commonest_wrong_answers"] for key in stats["keys"].values())


def test_the_written_answers_wait_in_the_grading_queue(client, demo) -> None:
    for key in ("w1.differences", "w4.nms"):
        queue = client.get(f"{DEMO}/assignments/{WRITTEN_SET}/grading/{key}", headers=auth(demo, "demo-ta"))
        assert queue.status_code == 200, queue.text
        entries = queue.json()["entries"]
        assert {entry["student"]: entry["answer"] for entry in entries} == {
            student: answers[key] for student, answers in WRITTEN.items() if key in answers
        } | ({"carol": None} if key not in WRITTEN["carol"] else {})
        assert {entry["status"] for entry in entries if entry["answer"]} == {"pending"}


def test_one_assignment_is_closed_its_answers_released_and_practice_open(app, client, demo) -> None:
    closed = client.get(f"{DEMO}/assignments/{CLOSED}", headers=auth(demo, "alice")).json()
    assert datetime.fromisoformat(closed["due_at"]) < datetime.fromisoformat(closed["closes_at"]) < datetime.now(UTC)
    assert closed["release_answers"] == "after_close" and closed["practice"] == "after_due"
    assert closed["answers_released"] is True and closed["reference"], "alice sees the references"
    browser = Browser(app).signed_in(demo.tokens["alice"])
    fresh = browser.get(f"/courses/{COURSE[0]}/assignments/{CLOSED}/practice")
    practice = browser.get(fresh.headers["location"]) if fresh.status_code == 303 else fresh
    assert practice.status_code == 200 and "New variant" in practice.text
    (late,) = [s for s in submissions(app, CLOSED) if s.late]
    assert late.student_id == "carol"
    book = client.get(f"{DEMO}/assignments/{CLOSED}/gradebook", headers=auth(demo, "demo-instructor")).json()
    carol = next(row for row in book["students"] if row["student"] == "carol")
    assert carol["late"] and carol["days_late"] == 1 and carol["penalty"] == 0.9
    still_open = client.get(f"{DEMO}/assignments/conv-pool-basics", headers=auth(demo, "alice")).json()
    assert still_open["answers_released"] is False and datetime.fromisoformat(still_open["due_at"]) > datetime.now(UTC)


def test_the_exam_is_timed_and_holds_its_results_back(client, demo) -> None:
    """The demo's midterm: a student's own clock of its time limit from their start, one attempt
    graded out of their sight (the staff see it) until its answers are released; counted as an exam."""
    exam_id, set_id, _, minutes = EXAM
    assert exam_id in demo.assignments
    staff = auth(demo, "demo-instructor")
    exam = client.get(f"{DEMO}/assignments/{exam_id}", headers=staff).json()
    assert (exam["problem_set"], exam["time_limit"], exam["feedback"]) == (set_id, minutes, "none")
    assert (exam["category"], exam["max_attempts"], exam["answers_released"]) == ("exams", 1, False)
    roster = client.post(f"{DEMO}/members", json={"members": [{"id": "dora", "name": "Dora"}]}, headers=staff)
    assert roster.status_code == 200, roster.text
    dora = {"Authorization": f"Bearer {roster.json()['members'][0]['token']}"}
    started = client.post(f"{DEMO}/assignments/{exam_id}/start", headers=dora)
    assert started.status_code == 200, started.text
    clock = started.json()
    ends, begun = datetime.fromisoformat(clock["ends_at"]), datetime.fromisoformat(clock["started_at"])
    assert (ends - begun).total_seconds() == minutes * 60
    (problem, *_) = client.get(f"{DEMO}/assignments/{exam_id}", headers=dora).json()["problems"]
    key = problem["parts"][0]["key"]
    sent = client.post(f"{DEMO}/assignments/{exam_id}/submissions", json={"answers": {key: "3"}}, headers=dora)
    assert sent.status_code == 201, sent.text
    mine = sent.json()
    assert mine["score"] is None and {part["status"] for part in mine["parts"].values()} == {None}
    seen = client.get(f"/api/v1/submissions/{mine['id']}", headers=staff).json()
    assert seen["score"] is not None and seen["parts"][key]["status"] in ("correct", "incorrect", "invalid")
    book = client.get(f"{DEMO}/gradebook", headers=staff).json()
    assert {c["name"] for c in book["categories"]} == {"homework", "exams"}
    assert next(a for a in book["assignments"] if a["id"] == exam_id)["category"] == "exams"


def test_loading_the_demo_again_adds_no_work(app, demo) -> None:
    before = {a: len(submissions(app, a)) for a in (*WORKED, WRITTEN_SET, *CODE_SETS)}
    with make_sessionmaker(app.state.engine)() as session:
        again = load_demo(session, library=Library(app.state.bank))
        session.commit()
        assert session.scalar(select(func.count()).select_from(User).where(User.id.in_(again.tokens))) == 5
    assert again.submissions == 0
    assert {a: len(submissions(app, a)) for a in before} == before
    demo.tokens.update(again.tokens)  # (the first load's tokens were replaced)


def test_the_demo_sign_in_page_signs_in_as_each_account_with_one_click(demo_app, demo) -> None:
    page = Browser(demo_app).get("/")
    assert 'action="/demo/sign-in"' in page.text
    for account in demo_accounts():
        assert f'name="account" value="{account.id}"' in page.text
        browser = Browser(demo_app)
        browser.get("/")
        signed = browser.post("/demo/sign-in", {"account": account.id})
        assert signed.status_code == 303 and signed.headers["location"] == f"/courses/{COURSE[0]}"
        home = browser.get("/")
        assert account.name in home.text and COURSE[1] in home.text


def test_the_demo_sign_in_keeps_to_the_demo_accounts(demo_app, client, engine) -> None:
    browser = Browser(demo_app)
    browser.get("/")
    course = Course(client, make_instructor(engine))
    student, _ = course.student()
    for account in (student, "nobody", ""):
        refused = browser.post("/demo/sign-in", {"account": account})
        assert refused.status_code in (404, 422) and "grader_session=" not in refused.headers.get("set-cookie", "")
    assert browser.post("/demo/sign-in", {"account": "alice"}, csrf=False).status_code == 403


def test_without_demo_mode_there_is_no_one_click_sign_in(app, demo) -> None:
    browser = Browser(app)
    page = browser.get("/")
    assert page.status_code == 200 and "/demo/sign-in" not in page.text and "Demo" not in page.text
    refused = browser.post("/demo/sign-in", {"account": "alice"})
    assert refused.status_code == 404 and "no demo" in refused.text
    assert "grader_session=" not in refused.headers.get("set-cookie", "")
    assert browser.get(f"/courses/{COURSE[0]}").status_code == 303  # not signed in: back to the sign-in form


def test_demo_mode_comes_from_the_environment_alone() -> None:
    assert Settings.from_env({}).demo is False
    assert Settings.from_env({"GRADER_DEMO": "1"}).demo is True
    assert Settings.from_env({"GRADER_DEMO": "0"}).demo is False


def test_the_grading_page_keeps_previous_and_next_apart(app, demo) -> None:
    browser = Browser(app).signed_in(demo.tokens["demo-ta"])
    path = f"/courses/{COURSE[0]}/assignments/{WRITTEN_SET}/grading"
    first = browser.get(f"{path}?key=w1.differences")
    following = re.search(r'<a href="(\?[^"]+)" id="next-link"', first.text)
    assert following, "the queue has more than one answer"
    middle = browser.get(path + html.unescape(following.group(1)))
    assert middle.status_code == 200 and 'id="prev-link"' in middle.text and 'id="next-link"' in middle.text
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", middle.text.split('id="save"', 1)[1]))
    assert "Previous Next" in words and "PreviousNext" not in words


def code_work_graded(app: Any, timeout: float = 120.0, assignment: str = CODE_SET) -> dict[str, Submission]:
    """The demo's code submissions to ``assignment`` by student, once the service's runner has
    written every code part's result (polled, up to ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        by = {s.student_id: s for s in submissions(app, assignment)}
        waiting = {student: waiting_keys(s.parts) for student, s in by.items() if waiting_keys(s.parts)}
        if not waiting:
            return by
        assert time.monotonic() < deadline, f"still waiting after {timeout} s: {waiting}"
        time.sleep(0.1)


@pytest.mark.only_backend("sqlite")
def test_the_demo_code_is_queued_then_graded_by_the_service_with_its_mistakes_named(app, demo) -> None:
    queued = {s.student_id: s for s in submissions(app, CODE_SET)}
    assert set(queued) == {"alice", "bob", "carol"}
    assert all(waiting_keys(s.parts) for s in queued.values()), "stored queued, as the service stores them"
    app.state.jobs.start()  # (the service's start: its runner takes what the demo queued)
    try:
        by = code_work_graded(app)
        seeds = code_work_graded(app, assignment=SEED_CODE_SET)
    finally:
        app.state.jobs.stop()
    seed_keys = ["sobel.filter", "transposed.steps"]
    assert {key: seeds["alice"].parts[key]["status"] for key in seed_keys} == dict.fromkeys(seed_keys, "correct")
    assert {key: seeds["bob"].parts[key]["misconception"] for key in seed_keys} == {
        "sobel.filter": "kernel-flipped",
        "transposed.steps": "overlap-assigned",
    }, seeds["bob"].parts
    assert {seeds["alice"].parts[key]["status"] for key in ("three_convs.net", "two_nets.compare")} == {"unanswered"}
    alice, bob, carol = by["alice"], by["bob"], by["carol"]
    code_keys = ["conv.forward", "conv.backward", "pool.forward", "pool.backward"]
    assert {key: alice.parts[key]["status"] for key in code_keys} == dict.fromkeys(code_keys, "correct"), alice.parts
    assert alice.score == alice.max_score > 0
    assert {key: bob.parts[key]["misconception"] for key in code_keys} == {
        "conv.forward": "kernel-flipped",
        "conv.backward": "gradient-not-accumulated",
        "pool.forward": "pooling-type-swapped",
        "pool.backward": None,
    }, bob.parts
    assert bob.parts["pool.backward"]["status"] == "correct"
    assert all(bob.parts[key]["status"] in ("incorrect", "partial") for key in code_keys[:3])
    assert carol.parts["conv.forward"]["misconception"] == "bias-omitted", carol.parts["conv.forward"]
    assert carol.parts["conv.forward"]["status"] in ("incorrect", "partial")
    assert {carol.parts[key]["status"] for key in code_keys[1:]} == {"unanswered"}
    assert carol.score < bob.score < alice.score


@pytest.mark.only_backend("postgresql")
def test_on_postgresql_without_a_code_queue_the_demo_leaves_its_code_out_and_says_so(app, demo, caplog) -> None:
    assert submissions(app, CODE_SET) == [] and submissions(app, SEED_CODE_SET) == []
    with caplog.at_level(logging.WARNING, logger="grader.demo"), make_sessionmaker(app.state.engine)() as session:
        again = load_demo(session, library=Library(app.state.bank))
        session.commit()
    demo.tokens.update(again.tokens)  # (the earlier load's tokens were replaced)
    assert again.submissions == 0 and submissions(app, CODE_SET) == []
    assert any(CODE_SET in record.getMessage() and "code worker" in record.getMessage() for record in caplog.records)


def test_a_mistake_is_made_only_where_its_text_is_found_once() -> None:
    assert KERNEL_FLIPPED.made_in("np.tensordot(window, w, axes=(1, 1))") == (
        "np.tensordot(window, w[:, :, ::-1, ::-1], axes=(1, 1))"
    )
    with pytest.raises(ValueError, match=r"bias-omitted.*0 times"):
        BIAS_OMITTED.made_in("out = conv(x, w)\n")
    with pytest.raises(ValueError, match="2 times"):
        Slip("twice", "+=", "=").made_in("a += 1\nb += 2\n")
