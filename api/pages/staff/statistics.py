"""``/courses/{course}/assignments/{id}/stats``, for the course's staff: the statistics service's
numbers per key as charts drawn on the server (:mod:`api.pages.staff.stats_view`) with a table beside
each, and, for the owner and instructors, the regrade button with its progress.

A regrade is a background job (:mod:`api.jobs`): the button starts it and comes back to this page
with ``?job=ID``, where ``_regrade_progress.html`` shows the job's ``done`` of ``total``. While the
job runs, htmx asks for that fragment again every second (``.../regrade/{job}``), and without
JavaScript the page reloads itself every two seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from api.assignments.service import max_score
from api.deps import SessionDep, SetsDep, problem_set_of
from api.jobs.runners import JobRunners
from api.jobs.service import readable_job
from api.kit.errors import NotFound
from api.models import Job
from api.pages.kit.deps import CsrfChecked, PageAssignment, SignedIn, SignedInDep
from api.pages.kit.render import render
from api.pages.kit.roles import PageRunner, PageStaff
from api.pages.kit.routing import PageRoute
from api.pages.staff import stats_view
from api.pages.staff.gradebook import ASSIGNMENT, page_path
from api.reports import service as reports
from api.reports.attempts import read_attempts
from api.reports.exports import answer_keys
from api.terms.rows import Terms

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a regrade got, as ``_regrade_progress.html`` shows it: the fields of a job
    (``GET /api/v1/jobs/{id}``: ``status``, ``done``, ``total``, ``changed``, ``error``)."""

    status: Literal["queued", "running", "done", "failed"]
    done: int
    total: int
    changed: int
    error: str | None = None

    @property
    def over(self) -> bool:
        """Nothing more will change: the fragment stops polling."""
        return self.status in ("done", "failed")

    @property
    def share(self) -> float:
        return self.done / self.total if self.total else 1.0

    @classmethod
    def of(cls, job: Job) -> Progress:
        return cls(job.status, job.done, job.total, job.changed, job.error)  # type: ignore[arg-type]


def regrade_job(db: Session, page: SignedIn, assignment: Terms, job_id: int) -> Job:
    """The job, if it is a regrade of this assignment the caller may read (404 otherwise)."""
    job = readable_job(db, job_id=job_id, caller=page.caller)
    if (job.course_id, job.assignment_id) != (assignment.course_id, assignment.id):
        raise NotFound(f"No job {job_id!r}.")
    return job


def poll_path(assignment: Terms, job_id: int) -> str:
    return f"{page_path(assignment, 'regrade')}/{job_id}"


@router.get(ASSIGNMENT + "/stats")
def stats_page(
    request: Request,
    page: SignedInDep,
    staff: PageStaff,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
    attempts: Literal["all", "counted"] = "all",
    job: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Per key over ``all`` stored attempts or the one ``counted`` per student (as ``GET
    .../stats?attempts=`` does); the score histogram is always over the gradebook's counted
    scores. ``job``: a regrade just started here, and how far it got."""
    problem_set = sets.of(assignment)
    keys = answer_keys(problem_set)
    counted = attempts == "counted"
    # (read once for both: every attempt, or those that may count, with their answers)
    stored = read_attempts(db, assignment=assignment, counted_only=counted, extended=True, answers=True)
    stats = reports.statistics(
        db, assignment=assignment, keys=keys, counted=counted, problem_set=problem_set, attempts=stored
    )
    if problem_set is not None:  # (the histogram: the counted scores alone)
        book = reports.scores_book(db, assignment=assignment, attempts=stored)
        maximum = max_score(problem_set)
    else:  # (its set gone: out of the counted attempts' own maximum)
        book = reports.gradebook(db, assignment=assignment, keys=[], attempts=stored)
        maximum = max((r["max_score"] or 0 for r in book["students"]), default=0)
    progress = None if job is None else Progress.of(regrade_job(db, page, assignment, job))
    context = {
        "assignment": assignment,
        "staff": staff,
        "stats": stats,
        "attempts": attempts,
        "histogram": stats_view.score_histogram(book, maximum=maximum),
        "correct": stats_view.share_correct(stats),
        "mistakes": stats_view.mistakes(stats),
        "wrong": stats_view.wrong_answers(stats),
        "rubric": stats_view.rubric_items(stats),
        "progress": progress,
        "poll": None if job is None else poll_path(assignment, job),
        "regrade_path": page_path(assignment, "regrade"),
        "path": page_path(assignment, "stats"),
    }
    return render(request, "statistics.html", context)


@router.post(ASSIGNMENT + "/regrade")
def regrade(
    request: Request,
    background: BackgroundTasks,
    _page: CsrfChecked,
    runner: PageRunner,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
) -> Response:
    """Starts the regrade as ``POST /api/v1/.../regrade`` does (the same job service; the one
    already running if there is one), then shows its progress on the statistics page."""
    problem_set = problem_set_of(assignment, sets)
    jobs: JobRunners = request.app.state.jobs
    job_id = jobs.regrade(
        db, assignment=assignment, set_version=problem_set.version, caller=runner.caller, background=background
    )
    return RedirectResponse(f"{page_path(assignment, 'stats')}?job={job_id}#regrade-heading", status_code=303)


@router.get(ASSIGNMENT + "/regrade/{job_id}")
def regrade_progress(
    request: Request,
    page: SignedInDep,
    _staff: PageStaff,
    assignment: PageAssignment,
    db: SessionDep,
    job_id: Annotated[int, Path(ge=1)],
) -> Response:
    """The progress fragment alone, for htmx to swap in (it stops asking once the job is over)."""
    progress = Progress.of(regrade_job(db, page, assignment, job_id))
    return render(request, "_regrade_progress.html", {"progress": progress, "poll": poll_path(assignment, job_id)})
