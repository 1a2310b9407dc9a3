"""The similarity report through the REST API, on both backends: a job (never the submit path)
fingerprints each student's latest submission once into the index in the database and ranks the
pairs; the planted copies head it, a copy of a copy makes a cluster, the same wrong values on a
hidden test are a signal of their own; the set's solution and the starter count for nothing; a late
submission is fingerprinted alone; a student is told nothing (404) and who looked is logged.

The class (``harness/cnn_class.py``, 12 students) is stored as graded submissions, as the code
runner leaves them: the sandbox is not what is tested here."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from api.kit.db import writer
from api.models import SimilarityDocument, SimilarityPrint, SimilarityReport, Submission
from api.similarity import run as similarity_run
from api.similarity.run import unpacked
from grader.code_similarity import report as report_module
from grader.code_similarity.tokens import lex
from harness.cnn_class import make_class

from factories import Course, finished_job, graded_row
from page_client import Browser

SET = "numpy-convolution"
KEYS = ("conv.forward", "conv.backward", "pool.forward", "pool.backward")
#: The same wrong values on a hidden test, for two students only.
ODD = {"name": "hidden: stride 2", "status": "failed", "feedback": "expected shape (2, 3, 4, 4), got (2, 3, 3, 3)"}


def _store(
    app: Any, course: Course, assignment: str, student: str, module: str, tests: list[dict] | None = None
) -> int:
    """A graded submission of ``module`` for every code part, as the code runner leaves it."""
    graded = {key: {"score": 1.0, "max_score": 1.0, "status": "correct", "tests": tests or []} for key in KEYS}
    with Session(writer(app.state.engine)) as session, session.begin():
        attempt = 1 + (
            session.scalar(
                select(func.count()).where(Submission.assignment_id == assignment, Submission.student_id == student)
            )
            or 0
        )
        row = graded_row(
            course.id,
            assignment,
            student,
            {"conv": module, "pool": module},  # (a module sent once per problem)
            set_version=app.state.library.built_in()[SET].version,
            parts=graded,
            score=4.0,
            max_score=4.0,
            attempt=attempt,
        )
        session.add(row)
        session.flush()
        return row.id


@pytest.fixture(scope="module")
def klass(app: Any, course: Course) -> dict[str, Any]:
    """An assignment with the class stored: names of the harness → the course's students."""
    planted = make_class(12, copies=1, chains=1, seed=3)
    ids = dict(zip(planted.texts, (sid for sid, _ in course.students(len(planted.texts) + 1)), strict=False))
    assignment = course.assignment(SET)
    (copy, _), (chained, _) = planted.copies
    odd = {copy, chained}  # (the chain's two copies fail the same hidden test the same way)
    for name, text in planted.texts.items():
        _store(app, course, assignment, ids[name], text, [ODD] if name in odd else None)
    return {"assignment": assignment, "ids": ids, "planted": planted, "late": course.students(1)[0][0]}


def _report(course: Course, assignment: str, body: dict | None = None, **query: str) -> dict[str, Any]:
    path = f"{course.path}/assignments/{assignment}/similarity"
    started = course.client.post(path, json=body or {}, headers=course.instructor)
    assert started.status_code == 202, started.text
    job = finished_job(course.client, started.json()["job"], course.instructor)
    assert job["status"] == "done", job
    found = course.client.get(path, params=query, headers=course.instructor)
    assert found.status_code == 200, found.text
    return {**found.json(), "run": job}


def test_the_planted_copies_head_the_report_with_their_evidence(course: Course, klass: dict[str, Any]) -> None:
    ids, planted = klass["ids"], klass["planted"]
    report = _report(course, klass["assignment"])
    assert report["status"] == "done" and report["students"] == 12 and report["pairs_compared"] == 66
    assert report["run"]["done"] == 12  # (each submission fingerprinted, once)
    chain = {ids[name] for pair in planted.copies for name in pair}
    planted_pairs = {frozenset(ids[n] for n in pair) for pair in planted.planted_pairs()}
    top = [frozenset(pair["students"]) for pair in report["pairs"][: len(planted_pairs)]]
    assert set(top) == planted_pairs
    best = report["pairs"][0]
    assert best["score"] > 0.85 and best["shared_tokens"] > 100 and set(best["parts"]) == set(KEYS)
    assert best["blocks"] and best["blocks"][0]["number"] == 1 and best["fragments"]
    assert sorted(report["clusters"]) == [sorted(chain)]
    (copy, _), (chained, _) = planted.copies
    mistaken = next(p for p in report["pairs"] if set(p["students"]) == {ids[copy], ids[chained]})
    assert mistaken["same_mistakes"] == [f"{key}: {ODD['name']}: {ODD['feedback']}" for key in sorted(KEYS)]
    honest = [p for p in report["pairs"] if frozenset(p["students"]) not in planted_pairs]
    assert all(not p["same_mistakes"] for p in honest)
    assert max(p["score"] for p in honest) < min(p["score"] for p in report["pairs"][: len(planted_pairs)])
    only = course.client.get(
        f"{course.path}/assignments/{klass['assignment']}/similarity",
        params={"part": "pool.forward"},
        headers=course.instructor,
    ).json()
    assert only["pairs"] and all("pool.forward" in p["parts"] for p in only["pairs"])


def test_the_solution_and_the_starter_count_for_nothing(app: Any, course: Course) -> None:
    """Two students who hand in the set's solution share nothing that counts; two who hand in the
    same starter code score 1 without the starter and share nothing that counts with it."""
    solution = app.state.library.built_in()[SET].solution_of("conv.forward")
    starter = "def helper_for_all(x):\n    total_of_things = x * 3 + 7\n    return total_of_things - 1\n" * 3
    assignment = course.assignment(SET)
    students = [sid for sid, _ in course.students(4)]
    for sid in students[:2]:
        _store(app, course, assignment, sid, solution)
    for sid in students[2:]:
        _store(app, course, assignment, sid, starter)
    pairs = {frozenset(p["students"]): p for p in _report(course, assignment)["pairs"]}
    assert frozenset(students[:2]) not in pairs
    assert pairs[frozenset(students[2:])]["score"] == 1.0
    pairs = {frozenset(p["students"]): p for p in _report(course, assignment, {"starter": starter})["pairs"]}
    assert frozenset(students[2:]) not in pairs and frozenset(students[:2]) not in pairs


def test_a_late_submission_is_fingerprinted_alone(
    app: Any, course: Course, klass: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the late submission is lexed, for the index and to describe the pairs: the others'
    fingerprints, with their places, are read back from the database."""
    assignment, ids, planted = klass["assignment"], klass["ids"], klass["planted"]
    _report(course, assignment)  # (a report exists)
    with Session(app.state.engine) as session:
        before = session.scalar(select(func.count()).where(SimilarityDocument.assignment_id == assignment))
    honest = next(name for name in planted.texts if all(name not in pair for pair in planted.copies))
    late_text = "# handed in late\n" + planted.texts[honest]
    late = _store(app, course, assignment, klass["late"], late_text)
    path = f"{course.path}/assignments/{assignment}/similarity"
    assert course.client.get(path, headers=course.instructor).json()["new_submissions"] == 1
    lexed: list[str] = []
    monkeypatch.setattr(similarity_run, "lex", lambda code: lexed.append(code) or lex(code))
    monkeypatch.setattr(report_module, "lex", lambda code: lexed.append(code) or lex(code))
    report = _report(course, assignment)
    assert report["run"]["done"] == 1 and report["run"]["total"] == 13 and report["new_submissions"] == 0
    with Session(app.state.engine) as session:
        after = session.scalar(select(func.count()).where(SimilarityDocument.assignment_id == assignment))
        mine = session.scalar(select(func.count()).where(SimilarityDocument.submission_id == late))
    assert after - before == mine == len(KEYS)
    assert report["pairs"][0]["students"] == sorted([ids[honest], klass["late"]])
    assert report["pairs"][0]["score"] == 1.0 and report["pairs"][0]["blocks"]
    assert lexed.count(late_text) == 1 and not set(lexed) & set(planted.texts.values())


def test_a_student_is_told_nothing_and_who_looked_is_logged(
    course: Course, klass: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    path = f"{course.path}/assignments/{klass['assignment']}/similarity"
    student = course.student()[1]
    for method in ("get", "post"):
        response = course.client.request(method, path, json={}, headers=student)
        assert response.status_code == 404, response.text
        assert "similar" not in response.text.lower()
    ta_id, ta = course.member("ta")
    with caplog.at_level(logging.INFO, logger="grader.similarity"):
        assert course.client.get(path, headers=ta).status_code == 200
    assert f"similarity report of {course.id}/{klass['assignment']} read by {ta_id}" in caplog.text
    refused = course.client.post(path, json={"parts": ["nope"]}, headers=course.instructor)
    assert refused.status_code == 422 and "conv.forward" in refused.json()["detail"]


def test_the_page_form_refuses_a_starter_no_database_stores(app: Any, course: Course, klass: dict[str, Any]) -> None:
    """A NUL in the page form's starter code is a 422 with a sentence, not the database's error."""
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    path = f"/courses/{course.id}/assignments/{klass['assignment']}/similarity"
    assert staff.get(path).status_code == 200
    refused = staff.post(path, {"starter": "x = 1\x00"})
    assert refused.status_code == 422 and "U+0000" in refused.text
    assert staff.post(path, {"starter": "x = 1\n", "part": "conv.forward"}).status_code == 303


def _class_stored(app: Any, course: Course) -> tuple[str, dict[str, str], Any]:
    """A class of its own (a fresh assignment): its id, the harness's names → students, the class."""
    planted = make_class(12, copies=1, chains=1, seed=5)
    ids = dict(zip(planted.texts, (sid for sid, _ in course.students(len(planted.texts))), strict=True))
    assignment = course.assignment(SET)
    for name, text in planted.texts.items():
        _store(app, course, assignment, ids[name], text)
    return assignment, ids, planted


def test_a_module_sent_once_is_stored_once_and_lexed_once(
    app: Any, course: Course, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module answering four parts is fingerprinted, stored and lexed once per submission: its
    fingerprints under its first part (the others name it), and describing the ranked pairs lexes
    no submission again (only the set's solutions are lexed, to weigh nothing)."""
    assignment, ids, planted = _class_stored(app, course)
    lexed: list[str] = []
    monkeypatch.setattr(similarity_run, "lex", lambda code: lexed.append(code) or lex(code))
    monkeypatch.setattr(report_module, "lex", lambda code: lexed.append(code) or lex(code))
    report = _report(course, assignment)
    assert report["run"]["done"] == 12 and report["pairs"]
    # (each text once; the set's solutions are lexed too, and a job of another test's may be running)
    assert Counter(code for code in lexed if code in planted.texts.values()) == Counter(planted.texts.values())
    student = ids[next(iter(planted.texts))]
    with Session(app.state.engine) as session:
        submission = session.scalar(
            select(Submission.id).where(Submission.assignment_id == assignment, Submission.student_id == student)
        )
        documents = {
            row.part: row
            for row in session.scalars(select(SimilarityDocument).where(SimilarityDocument.submission_id == submission))
        }
        prints = session.execute(
            select(SimilarityPrint.part, SimilarityPrint.hash).where(SimilarityPrint.submission_id == submission)
        ).all()
    first = KEYS[0]
    assert set(documents) == set(KEYS) and documents[first].same_as is None
    assert all(documents[key].same_as == first and documents[key].fingerprints is None for key in KEYS[1:])
    assert {part for part, _ in prints} == {first}
    assert sorted(h for _, h in prints) == sorted(set(unpacked(documents[first].fingerprints).hashes.tolist()))


def test_the_report_after_a_late_submission_equals_a_report_made_afresh(app: Any, course: Course) -> None:
    """The report made incrementally (the class's fingerprints read back, the late submission's
    alone lexed, the pairs described before keeping their evidence) is the report made from
    nothing, pair for pair, score for score, evidence and clusters, for every part and for one."""
    assignment, _, planted = _class_stored(app, course)
    for body in ({}, {"parts": ["pool.forward", "pool.backward"]}):
        _report(course, assignment, body)
        source = next(name for name in planted.texts if all(name not in pair for pair in planted.copies))
        late = course.students(1)[0][0]
        _store(app, course, assignment, late, "# handed in late\n" + planted.texts[source], [ODD])
        incremental = _report(course, assignment, body)
        assert incremental["run"]["done"] == 1
        with Session(writer(app.state.engine)) as session, session.begin():
            session.execute(delete(SimilarityPrint).where(SimilarityPrint.assignment_id == assignment))
            session.execute(delete(SimilarityDocument).where(SimilarityDocument.assignment_id == assignment))
            session.execute(
                update(SimilarityReport).where(SimilarityReport.assignment_id == assignment).values(report=None)
            )
        afresh = _report(course, assignment, body)
        assert afresh["run"]["done"] == afresh["students"] == incremental["students"]
        assert incremental["pairs"] and any(late in pair["students"] for pair in incremental["pairs"])
        for key in ("pairs", "clusters", "submissions", "parts", "students", "pairs_compared"):
            assert incremental[key] == afresh[key], key
