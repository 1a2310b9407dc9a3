"""The LMS pages: for admins, the registered platforms with the tool's URLs to give each and the
button that makes a one-time dynamic-registration URL (``/admin/lti``); for a course's staff, its
LMS links and grade passback, failures first, with the owner's and instructors' "resend" (the
LTI sync job, ``/courses/{course}/lti``). The rules are the REST API's (:mod:`api.lti.router`):
the same services, the same role checks.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Path, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from api.courses.service import update_course
from api.deps import SessionDep
from api.jobs.service import readable_job
from api.kit.errors import NotFound
from api.kit.public_url import public_url
from api.lti import dates, keys, registration, service
from api.lti.urls import tool_urls
from api.models import Course, DatesFrom, Job, JobKind, User
from api.pages.kit.deps import CsrfChecked, SignedIn, SignedInDep
from api.pages.kit.render import render
from api.pages.kit.roles import PageAdmin, PageRunner, PageStaff, PostingAdmin
from api.pages.kit.routing import PageRoute, is_htmx

router = APIRouter(route_class=PageRoute, include_in_schema=False)

COURSE = "/courses/{course_id}/lti"
#: Failures first, then what is still to send, then what arrived.
ORDER = {"failed": 0, "pending": 1, "sent": 2}
#: The most passback rows listed (the counts above cover every row), and date differences.
SHOWN = 500


def _admin_page(request: Request, db: Session, new_url: registration.NewUrl | None = None) -> Response:
    base = public_url(request)
    platforms = [(p, tool_urls(base, p.id)) for p in service.platforms(db)]
    made = None if new_url is None else {"url": new_url.url(base), "expires_at": new_url.expires_at}
    return render(request, "lti_admin.html", {"platforms": platforms, "made": made})


@router.get("/admin/lti")
def admin_page(request: Request, _admin: PageAdmin, db: SessionDep) -> Response:
    """The registered platforms, each with the tool's URLs to give it."""
    return _admin_page(request, db)


@router.post("/admin/lti/registrations")
def make_registration_url(request: Request, admin: PostingAdmin, db: SessionDep) -> Response:
    """A one-time dynamic-registration URL (as ``POST /api/v1/lti/registrations``), shown this once:
    htmx swaps it in; a plain post gets the page with it."""
    kek = request.app.state.settings.lti_key
    keys.ensure_key(db, kek=kek)
    keys.signing_key(db, kek=kek)  # the key opens: the platform will need it
    made = registration.make_url(db, created_by=admin.caller.id)
    response: Response
    if is_htmx(request):
        context = {"made": {"url": made.url(public_url(request)), "expires_at": made.expires_at}}
        response = render(request, "_lti_registration_url.html", context)
    else:
        response = _admin_page(request, db, made)
    response.headers["Cache-Control"] = "no-store"
    return response


def _passback(db: Session, course_id: str) -> dict[str, Any]:
    """The latest passback row per (assignment, student, LMS course), failures first, with the
    students' names and the counts per state."""
    rows = sorted(
        service.passback_of(db, course_id=course_id),
        key=lambda r: (ORDER.get(r["status"], 3), r["assignment"], r["student"]),
    )
    shown = rows[:SHOWN]
    ids = {r["student"] for r in shown}
    names = {row.id: row.name for row in db.execute(select(User.id, User.name).where(User.id.in_(ids)))}
    counts = Counter(r["status"] for r in rows)
    return {"rows": shown, "names": names, "counts": counts, "total": len(rows)}


def _sync_job(db: Session, page: SignedIn, course_id: str, job_id: int) -> Job:
    """The job, if it is an LTI sync of this course the caller may read (404 otherwise)."""
    job = readable_job(db, job_id=job_id, caller=page.caller)
    if job.kind != JobKind.LTI_SYNC or job.course_id != course_id:
        raise NotFound(f"No job {job_id!r}.")
    return job


def _poll(course_id: str, job_id: int) -> str:
    return f"/courses/{course_id}/lti/sync/{job_id}"


@router.get(COURSE)
def course_page(
    request: Request,
    page: SignedInDep,
    staff: PageStaff,
    db: SessionDep,
    job: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The course's LMS links and passback state (``GET /api/v1/courses/{course}/lti``);
    ``job``: a resend just started here, and how far it got."""
    links = service.links_of(db, course_id=staff.course)
    context = {
        "course": db.get(Course, staff.course),
        "staff": staff,
        "links": links,
        "platform_names": {platform.id: platform.name for _, platform in links},
        "passback": _passback(db, staff.course),
        "differences": dates.differences(db, course_id=staff.course),
        "shown": SHOWN,
        "job": None if job is None else _sync_job(db, page, staff.course, job),
        "poll": None if job is None else _poll(staff.course, job),
    }
    return render(request, "course_lti.html", context)


@router.post(COURSE + "/dates")
def dates_from(
    _page: CsrfChecked,
    runner: PageRunner,
    db: SessionDep,
    owner: Annotated[DatesFrom | None, Form(alias="dates_from")] = None,
) -> Response:
    """Which side owns the course's dates (``PATCH /api/v1/courses/{course}``'s ``dates_from``);
    nothing chosen changes nothing."""
    if owner is not None:
        update_course(db, course_id=runner.course, dates_from=owner.value)
    return RedirectResponse(f"/courses/{runner.course}/lti#dates", status_code=303)


@router.post(COURSE + "/sync")
def resend(
    request: Request, background: BackgroundTasks, _page: CsrfChecked, runner: PageRunner, db: SessionDep
) -> Response:
    """Reads the LMS rosters again and sends every score again (``POST .../lti/sync``'s job; the
    one not over yet, if any), then shows its progress here."""
    job_id = request.app.state.jobs.lti_sync(db, course_id=runner.course, caller=runner.caller, background=background)
    return RedirectResponse(f"/courses/{runner.course}/lti?job={job_id}#resend", status_code=303)


@router.get(COURSE + "/sync/{job_id}")
def resend_progress(
    request: Request, page: SignedInDep, staff: PageStaff, db: SessionDep, job_id: Annotated[int, Path(ge=1)]
) -> Response:
    """The progress fragment alone, for htmx to swap in (it stops asking once the job is over)."""
    job = _sync_job(db, page, staff.course, job_id)
    return render(request, "_lti_sync_progress.html", {"job": job, "poll": _poll(staff.course, job_id)})
