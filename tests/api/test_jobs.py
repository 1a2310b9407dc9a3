"""Regrades as background jobs, through the API on both backends: 202 with a job id, progress and
status at ``GET /api/v1/jobs/{id}``, who may see a job, earlier grades kept, one regrade per
assignment at a time, a failure reported. (On SQLite the service runs the job; on PostgreSQL a
procrastinate worker, in the test's process: ``factories.finished_job``.)"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import api.jobs.run
from api.app import create_app
from api.jobs.runners import JobRunners
from api.models import EarlierGrade, Job, JobItem

from factories import Course, finished_job, make_instructor, set_file, unique

YAML = {"Content-Type": "application/yaml"}


def _upload(course: Course, text: str) -> str:
    response = course.client.post(
        f"{course.path}/problem-sets", content=text.encode(), headers={**YAML, **course.instructor}
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["version"])


def _graded_then_moved(course: Course, students: int = 3) -> tuple[str, str, str, list[tuple[int, dict[str, str]]]]:
    """An assignment with one right submission per student against version 1 of its set, then moved
    to version 2, where those answers are wrong: (assignment, v1, v2, [(submission id, headers)])."""
    set_id = unique("set-")
    v1 = _upload(course, set_file(set_id, out_channels=16))
    aid = course.assignment(problem_set=set_id)
    right_for_v1 = {"q1.params": str(3 * 3 * 3 * 16 + 16), "q1.shape": "32x32x16"}
    stored = []
    for _, headers in course.students(students):
        response = course.submit(aid, headers, right_for_v1)
        assert response.status_code == 201, response.text
        stored.append((response.json()["id"], headers))
    v2 = _upload(course, set_file(set_id, out_channels=32))
    moved = course.client.patch(f"{course.path}/assignments/{aid}", json={"version": v2}, headers=course.instructor)
    assert moved.status_code == 200, moved.text
    return aid, v1, v2, stored


def _regrade(course: Course, aid: str, headers: dict[str, str] | None = None):
    return course.client.post(f"{course.path}/assignments/{aid}/regrade", headers=headers or course.instructor)


def test_regrade_answers_202_and_its_job_regrades_every_submission_keeping_earlier_grades(client, course) -> None:
    aid, v1, v2, stored = _graded_then_moved(course, students=3)
    response = _regrade(course, aid)
    assert response.status_code == 202, response.text
    assert set(response.json()) == {"job"}
    job = finished_job(client, response.json()["job"], course.instructor)
    assert (job["status"], job["kind"], job["done"], job["total"], job["changed"]) == ("done", "regrade", 3, 3, 3)
    assert (job["course"], job["assignment"], job["set_version"], job["error"]) == (course.id, aid, v2, None)
    for submission_id, headers in stored:
        now = client.get(f"/api/v1/submissions/{submission_id}", headers=headers).json()
        assert (now["score"], now["set_version"]) == (0, v2)
        (earlier,) = now["earlier_grades"]
        assert (earlier["score"], earlier["set_version"]) == (2, v1)

    # nothing changed since: a new job, which regrades all and changes none
    again = _regrade(course, aid)
    assert again.status_code == 202 and again.json()["job"] != response.json()["job"]
    job = finished_job(client, again.json()["job"], course.instructor)
    assert (job["status"], job["done"], job["total"], job["changed"]) == ("done", 3, 3, 0)


def test_each_submission_regraded_once_per_job_with_its_marker(client, course, engine) -> None:
    aid, _, _, stored = _graded_then_moved(course, students=4)
    job_id = _regrade(course, aid).json()["job"]
    assert finished_job(client, job_id, course.instructor)["done"] == 4
    with Session(engine) as session:
        markers = session.scalar(select(func.count()).select_from(JobItem).where(JobItem.job_id == job_id))
        earlier = session.execute(
            select(EarlierGrade.submission_id, func.count())
            .where(EarlierGrade.job_id == job_id)
            .group_by(EarlierGrade.submission_id)
        ).all()
    assert markers == 4
    assert sorted(earlier) == sorted((submission_id, 1) for submission_id, _ in stored)


def test_a_job_is_seen_by_who_started_it_and_the_course_staff_only(client, course, engine) -> None:
    aid, *_ = _graded_then_moved(course, students=1)
    job_id = _regrade(course, aid).json()["job"]
    url = f"/api/v1/jobs/{job_id}"
    finished_job(client, job_id, course.instructor)
    _, ta = course.member("ta")
    _, colleague = course.member("instructor")
    _, student = course.student()
    elsewhere = Course(client, make_instructor(engine))
    _, other_ta = elsewhere.member("ta")
    _, other_student = elsewhere.student()
    assert client.get(url, headers=ta).status_code == 200
    assert client.get(url, headers=colleague).status_code == 200
    for outsider in (student, elsewhere.instructor, other_ta, other_student):
        response = client.get(url, headers=outsider)
        assert response.status_code == 404 and response.json()["detail"] == f"No job {job_id}."
    assert client.get(url).status_code == 401
    for missing in ("999999999", "99999999999999999999", "0"):
        assert client.get(f"/api/v1/jobs/{missing}", headers=course.instructor).status_code == 404
    assert client.get("/api/v1/jobs/x", headers=course.instructor).status_code == 422


def test_only_owners_and_instructors_start_a_regrade(client, course) -> None:
    aid, *_ = _graded_then_moved(course, students=1)
    _, ta = course.member("ta")
    _, student = course.student()
    assert _regrade(course, aid, ta).status_code == 403
    assert _regrade(course, aid, student).status_code == 403
    elsewhere = Course(client, make_instructor(client.app.state.engine))
    assert _regrade(course, aid, elsewhere.instructor).status_code == 404
    _, colleague = course.member("instructor")
    response = _regrade(course, aid, colleague)
    assert response.status_code == 202
    finished_job(client, response.json()["job"], colleague)


def test_one_regrade_per_assignment_at_a_time(app, client, course) -> None:
    """While a regrade is queued, asking again answers the same job; asking after the assignment
    moved to another version is refused (409) until it is over; once over, a new job starts."""
    aid, v1, v2, _ = _graded_then_moved(course, students=2)
    other, *_ = _graded_then_moved(course, students=1)
    runners = app.state.jobs
    # nobody runs jobs for a while (SQLite: the service's runner is not woken; PostgreSQL: no worker)
    app.state.jobs = JobRunners(defer=runners.defer, runner=None)
    try:
        first = _regrade(course, aid).json()["job"]
        assert _regrade(course, aid).json()["job"] == first
        assert client.get(f"/api/v1/jobs/{first}", headers=course.instructor).json()["status"] == "queued"
        assert _regrade(course, other).json()["job"] != first  # one per assignment, not per course
        back = client.patch(f"{course.path}/assignments/{aid}", json={"version": v1}, headers=course.instructor)
        assert back.status_code == 200
        refused = _regrade(course, aid)
        assert refused.status_code == 409 and f"job {first}" in refused.json()["detail"]
        client.patch(f"{course.path}/assignments/{aid}", json={"version": v2}, headers=course.instructor)
    finally:
        app.state.jobs = runners
    if runners.runner is not None:
        runners.runner.wake()
    job = finished_job(client, first, course.instructor)
    assert (job["status"], job["done"], job["set_version"]) == ("done", 2, v2)
    later = _regrade(course, aid).json()["job"]
    assert later != first
    finished_job(client, later, course.instructor)


def test_a_job_that_fails_says_why(client, course, monkeypatch: pytest.MonkeyPatch) -> None:
    aid, *_ = _graded_then_moved(course, students=2)

    def broken(*_args, **_kwargs) -> int:
        raise RuntimeError("storing the grades broke")

    monkeypatch.setattr(api.jobs.run, "store_regrades", broken)
    job = finished_job(client, _regrade(course, aid).json()["job"], course.instructor)
    assert job["status"] == "failed" and job["done"] == 0
    assert job["error"] == "RuntimeError: storing the grades broke"
    monkeypatch.undo()
    # a failed job is over: the next request starts a new one, which succeeds
    job = finished_job(client, _regrade(course, aid).json()["job"], course.instructor)
    assert (job["status"], job["done"]) == ("done", 2)


def test_a_job_interrupted_by_a_restart_resumes_without_regrading_twice(
    app, client, course, engine, settings, shared_bank
) -> None:
    """A job left running with some markers written (as by a service stopped mid-job) is resumed by
    the next start (SQLite: the service's own runner; PostgreSQL: a worker, its job still queued),
    and what its markers say is done is not regraded again."""
    aid, _, _, stored = _graded_then_moved(course, students=3)
    runners = app.state.jobs
    app.state.jobs = JobRunners(defer=runners.defer, runner=None)
    try:
        job_id = _regrade(course, aid).json()["job"]
    finally:
        app.state.jobs = runners
    done_before, *_ = stored
    with Session(engine) as session, session.begin():
        session.add(JobItem(job_id=job_id, submission_id=done_before[0]))
        session.execute(
            Job.__table__.update().where(Job.id == job_id).values(status="running", done=1)  # type: ignore[attr-defined]
        )
    with TestClient(create_app(settings, bank=shared_bank)) as restarted:  # its lifespan: the service starting
        job = finished_job(restarted, job_id, course.instructor)
    assert (job["status"], job["done"], job["total"], job["changed"]) == ("done", 3, 3, 2)
    with Session(engine) as session:
        regraded = set(session.scalars(select(EarlierGrade.submission_id).where(EarlierGrade.job_id == job_id)))
    assert regraded == {submission_id for submission_id, _ in stored[1:]}


def test_a_regrade_counts_changed_scores_not_grades_written_again(client, course) -> None:
    """A new version of the set that gives every answer the same score (here: another title)
    writes each grade again, with its version and the earlier one kept, yet the job reports no
    score changed."""
    set_id = unique("set")
    v1 = _upload(course, set_file(set_id, out_channels=16))
    aid = course.assignment(problem_set=set_id)
    right = {"q1.params": str(3 * 3 * 3 * 16 + 16), "q1.shape": "32x32x16"}
    stored = [course.submit(aid, headers, right).json()["id"] for _, headers in course.students(2)]
    v2 = _upload(course, set_file(set_id, out_channels=16, title="The same set, renamed"))
    assert course.client.patch(f"{course.path}/assignments/{aid}", json={"version": v2}, headers=course.instructor)
    job = finished_job(client, _regrade(course, aid).json()["job"], course.instructor)
    assert (job["status"], job["done"], job["total"], job["changed"]) == ("done", 2, 2, 0)
    for submission_id in stored:
        now = client.get(f"/api/v1/submissions/{submission_id}", headers=course.instructor).json()
        assert (now["score"], now["set_version"]) == (2, v2)
        assert [(e["score"], e["set_version"]) for e in now["earlier_grades"]] == [(2, v1)]
