"""``/courses/{course}/assignments/{id}/stats``, for the course's staff: the statistics service's
numbers per key as charts drawn on the server (:mod:`api.pages.stats_view`) with a table beside
each, and, for the owner and instructors, the regrade button with its progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from api.assignments.service import max_score
from api.deps import SessionDep, SetsDep, problem_set_of
from api.pages import stats_view
from api.pages.deps import CsrfChecked, PageAssignment
from api.pages.gradebook import ASSIGNMENT, page_path
from api.pages.render import render
from api.pages.roles import PageRunner, PageStaff
from api.pages.routing import PageRoute
from api.reports import service as reports
from api.reports.exports import answer_keys
from api.submissions import service as submissions

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


@router.get(ASSIGNMENT + "/stats")
def stats_page(
    request: Request,
    staff: PageStaff,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
    attempts: Literal["all", "counted"] = "all",
    regraded: Annotated[int | None, Query(ge=0)] = None,
    changed: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """Per key over ``all`` stored attempts or the one ``counted`` per student (as ``GET
    .../stats?attempts=`` does); the score histogram is always over the gradebook's counted
    scores. ``regraded`` and ``changed`` are what a regrade just did."""
    problem_set = sets.of(assignment)
    keys = answer_keys(problem_set)
    stats = reports.statistics(
        db, assignment=assignment, keys=keys, counted=attempts == "counted", problem_set=problem_set
    )
    book = reports.gradebook(db, assignment=assignment, keys=keys)
    maximum = max_score(problem_set) if problem_set else max((r["max_score"] or 0 for r in book["students"]), default=0)
    progress = None
    if regraded is not None:
        progress = Progress("done", regraded, regraded, changed or 0)
    context = {
        "assignment": assignment,
        "staff": staff,
        "stats": stats,
        "attempts": attempts,
        "histogram": stats_view.score_histogram(book, maximum=maximum),
        "correct": stats_view.share_correct(stats),
        "mistakes": stats_view.mistakes(stats),
        "wrong": stats_view.wrong_answers(stats),
        "progress": progress,
        "regrade_path": page_path(assignment, "regrade"),
        "path": page_path(assignment, "stats"),
    }
    return render(request, "statistics.html", context)


@router.post(ASSIGNMENT + "/regrade")
def regrade(
    _page: CsrfChecked, _runner: PageRunner, assignment: PageAssignment, db: SessionDep, sets: SetsDep
) -> Response:
    """Regrades every stored submission as ``POST /api/v1/.../regrade`` does (the same service),
    then shows the statistics with what changed."""
    problem_set = problem_set_of(assignment, sets)
    total, changed = submissions.regrade(db, problem_set=problem_set, assignment=assignment)
    return RedirectResponse(f"{page_path(assignment, 'stats')}?regraded={total}&changed={changed}", status_code=303)
