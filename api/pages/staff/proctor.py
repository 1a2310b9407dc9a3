"""``/courses/{course}/assignments/{id}/proctor``, for the course's staff: every student's attempt
as it runs (state, time left, last save, address, sessions, the last events), read again by htmx
every few seconds (``.../proctor/table``; without JavaScript the page reloads itself), and the
proctor's acts as plain forms: unlock, add minutes to one or to all, end one attempt. Each act is
the REST route's service (:mod:`api.proctor`, :mod:`api.timed.added`, :mod:`api.timed.ending`,
:func:`api.exam_room.admission.unlock`), logged as the attempt's event with who and when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from api.access import Member
from api.assignments.service import require_student
from api.deps import SessionDep
from api.exam_room.admission import unlock
from api.kit.db import reads_only
from api.kit.errors import Conflict, NotFound
from api.pages.kit.deps import CsrfChecked, PageAssignment, SignedInDep
from api.pages.kit.render import render
from api.pages.kit.roles import PageStaff
from api.pages.kit.routing import PageRoute
from api.pages.staff.gradebook import ASSIGNMENT, page_path
from api.proctor import service
from api.terms.rows import Terms
from api.timed.added import MAX_MINUTES, add_time
from api.timed.ending import end_attempt

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: Seconds between two reads of the table.
POLL_SECONDS = 5
#: What the page says after a form, by the ``?done=`` of the redirect (never text from the URL).
DONE = {
    "unlocked": "Unlocked: the next session that resumes the attempt is bound to it.",
    "time": "Time added to every running clock listed.",
    "time_one": "Time added to that student's clock.",
    "ended": "The attempt was ended: the last draft was handled as at time-up.",
}


def _table(db: Session, assignment: Terms) -> dict[str, Any]:
    now = datetime.now(UTC)
    attempts = service.attempts(db, assignment=assignment, now=now)
    return {
        "attempts": attempts,
        "now": now,
        "running": [a.student for a in attempts if a.state in (service.IN_PROGRESS, service.LOCKED)],
        "poll": page_path(assignment, "proctor/table"),
    }


@router.get(ASSIGNMENT + "/proctor")
def proctor_page(
    request: Request, page: SignedInDep, staff: PageStaff, assignment: PageAssignment, db: SessionDep
) -> Response:
    """The whole page (``?done=``: what a form just did; ``?error=``: why it did nothing)."""
    done = request.query_params.get("done")
    context = {
        "assignment": assignment,
        "path": page_path(assignment, "proctor"),
        "notice": DONE.get(done or ""),
        "error": _ERRORS.get(request.query_params.get("error") or ""),
        "max_minutes": MAX_MINUTES,
        "poll_seconds": POLL_SECONDS,
    }
    return render(request, "proctor.html", context | _table(db, assignment))


@router.get(ASSIGNMENT + "/proctor/table")
def proctor_table(
    request: Request, page: SignedInDep, staff: PageStaff, assignment: PageAssignment, db: SessionDep
) -> Response:
    """The table alone, for htmx to swap in."""
    context = {"assignment": assignment, "path": page_path(assignment, "proctor"), "poll_seconds": POLL_SECONDS}
    return render(request, "_proctor_table.html", context | _table(db, assignment))


#: Why a form did nothing, by the ``?error=`` of the redirect.
_ERRORS = {
    "not_running": "That student's clock is not running (not started, or over): nothing was changed.",
    "minutes": f"Minutes are a whole number from 1 to {MAX_MINUTES}: nothing was changed.",
    "not_bound": "That attempt is not bound to a session: there was nothing to unlock.",
    "not_timed": "This assignment is not timed: there is no clock to add time to.",
}


def _back(assignment: Terms, **query: str) -> RedirectResponse:
    ((key, value),) = query.items()
    return RedirectResponse(f"{page_path(assignment, 'proctor')}?{key}={value}", status_code=303)


@router.post(ASSIGNMENT + "/proctor/unlock/{student_id}")
def unlock_form(
    _page: CsrfChecked, staff: PageStaff, assignment: PageAssignment, db: SessionDep, student_id: str
) -> Response:
    require_student(db, course_id=staff.course, student_id=student_id)
    try:
        unlock(db, terms=assignment, student_id=student_id, by=staff.id)
    except NotFound:
        return _back(assignment, error="not_bound")
    return _back(assignment, done="unlocked")


@router.post(ASSIGNMENT + "/proctor/time")
async def time_form(
    request: Request, _page: CsrfChecked, staff: PageStaff, assignment: PageAssignment, db: SessionDep
) -> Response:
    """``minutes`` to every running clock, or to ``student``'s (the form's select: all, or one)."""
    form = await request.form()
    minutes, student = str(form.get("minutes", "")).strip(), str(form.get("student", "") or "").strip()
    return await run_in_threadpool(_add, staff, assignment, db, minutes, student)


def _add(staff: Member, assignment: Terms, db: Session, minutes: str, student: str) -> Response:
    if not minutes.isdigit() or not 1 <= int(minutes) <= MAX_MINUTES:
        return _back(assignment, error="minutes")
    if student:
        require_student(db, course_id=staff.course, student_id=student)
    if assignment.time_limit is None:
        return _back(assignment, error="not_timed")
    try:
        add_time(db, assignment=assignment, minutes=int(minutes), by=staff.id, student_id=student or None)
    except Conflict:
        return _back(assignment, error="not_running")
    return _back(assignment, done="time_one" if student else "time")


@router.post(ASSIGNMENT + "/proctor/end/{student_id}")
@reads_only  # (the end is written in a transaction of its own, as time-up's)
def end_form(
    request: Request, _page: CsrfChecked, staff: PageStaff, assignment: PageAssignment, db: SessionDep, student_id: str
) -> Response:
    require_student(db, course_id=staff.course, student_id=student_id)
    try:
        end_attempt(request.app.state.time_keeper.time_up, assignment=assignment, student_id=student_id, by=staff.id)
    except Conflict:
        return _back(assignment, error="not_running")
    return _back(assignment, done="ended")
