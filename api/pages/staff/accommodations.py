"""``/courses/{course}/accommodations``, for the course's staff: the course's accommodations (each
label's fields, who holds it, and the timed assignments whose close would cut a holder's time
short), the form that defines or replaces one and the buttons that remove them (owner and
instructors, as ``PUT``/``DELETE C/accommodations/NAME``), and the form that sets a student's labels
(staff, as ``PUT C/students/ID/accommodations``). Each form is read into the REST API's request and
calls its service; a refusal shows the page again with the reason and what was typed; a success
redirects (303) to the page with its forms empty."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from api.access import Member
from api.accommodations import service
from api.accommodations.schemas import AccommodationIn
from api.assignments.service import list_assignments
from api.courses.service import roster
from api.deps import SessionDep
from api.kit.errors import NotFound, Unprocessable
from api.models import Assignment, CourseRole
from api.pages.kit import validation
from api.pages.kit.deps import CsrfChecked
from api.pages.kit.forms import PostedForm
from api.pages.kit.render import render
from api.pages.kit.roles import PageRunner, PageStaff
from api.pages.kit.routing import PageRoute
from api.terms.accommodations import read_labels
from api.terms.allowance import Label, combine

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PATH = "/courses/{course_id}/accommodations"
FIELDS = ("time_multiplier", "extra_minutes", "extra_days", "extra_attempts")
#: What the page says after a form, by the ``?done=`` of the redirect (never text from the URL).
DONE = {
    "saved": "Accommodation {name} saved: it applies at once to every assignment of the course.",
    "removed": "Accommodation {name} removed from the course and from every student who held it.",
    "held": "The accommodations of {name} were saved.",
}


@dataclass(frozen=True)
class Cut:
    """A timed assignment whose close ends a holder's clock before their minutes do, even started now
    (or at its opening)."""

    assignment: Assignment
    minutes: int
    available: int


def cuts(label: Label, assignments: list[Assignment], now: datetime) -> list[Cut]:
    """The timed, still open assignments on which a holder of ``label`` alone would not get all their
    minutes, starting as early as they may."""
    allowance = combine([label])
    found = []
    for assignment in assignments:
        if assignment.time_limit is None or assignment.closes_at is None or assignment.closes_at <= now:
            continue
        start = max(assignment.opens_at or now, now)
        minutes = allowance.time_limit(assignment.time_limit)
        if start + timedelta(minutes=minutes) > assignment.closes_at:
            available = int((assignment.closes_at - start).total_seconds() // 60)
            found.append(Cut(assignment, minutes, available))
    return found


def _page(
    request: Request,
    staff: Member,
    db: Session,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    held_form: dict[str, str] | None = None,
    held_error: str | None = None,
    notice: str | None = None,
) -> Response:
    labels = read_labels(db, course_id=staff.course)
    holders = service.holders(db, course_id=staff.course)
    assignments = list_assignments(db, course_id=staff.course)
    now = datetime.now(UTC)
    students = [person for person in roster(db, course_id=staff.course) if person.role == CourseRole.STUDENT]
    held_by: dict[str, list[str]] = {}
    for name, ids in holders.items():
        for student in ids:
            held_by.setdefault(student, []).append(name)
    context = {
        "course": staff.course,
        "staff": staff,
        "labels": labels,
        "holders": holders,
        "cuts": {label.name: cuts(label, assignments, now) for label in labels},
        "students": [s for s in students if s.id in held_by],
        "all_students": students,
        "held_by": held_by,
        "values": values or dict.fromkeys(("name", *FIELDS), ""),
        "errors": errors or {},
        "held_form": held_form or {"student": "", "names": ""},
        "held_error": held_error,
        "notice": notice,
        "path": PATH.format(course_id=staff.course),
    }
    return render(request, "accommodations.html", context, status=422 if errors or held_error else 200)


@router.get(PATH)
def accommodations_page(
    request: Request,
    staff: PageStaff,
    db: SessionDep,
    done: Annotated[str, Query(max_length=20)] = "",
    name: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    notice = DONE[done].format(name=name) if done in DONE and name else None
    return _page(request, staff, db, notice=notice)


def _done(staff: Member, done: str, name: str) -> Response:
    query = urlencode({"done": done, "name": name})
    return RedirectResponse(f"{PATH.format(course_id=staff.course)}?{query}", status_code=303)


@router.post(PATH)
def save_accommodation(request: Request, form: PostedForm, runner: PageRunner, db: SessionDep) -> Response:
    """``PUT C/accommodations/NAME`` of the API, from the form (an empty field adds nothing)."""
    values, body, errors = validation.read_form(form, AccommodationIn, FIELDS, required=())
    name = str(form.get("name") or "").strip()
    values["name"] = name
    if not name:
        errors["name"] = "is required"
    elif service.NAME.fullmatch(name) is None:
        errors["name"] = "1 to 64 letters, digits and ._@-, starting with a letter or digit"
    if body is None or errors:
        return _page(request, runner, db, values=values, errors=errors)
    service.put_accommodation(
        db,
        course_id=runner.course,
        name=name,
        time_multiplier=body.time_multiplier,
        extra_minutes=body.extra_minutes,
        extra_days=body.extra_days,
        extra_attempts=body.extra_attempts,
        by=runner.id,
    )
    return _done(runner, "saved", name)


@router.post(PATH + "/{name}/remove")
def remove_accommodation(_page_: CsrfChecked, runner: PageRunner, db: SessionDep, name: str) -> Response:
    """``DELETE C/accommodations/NAME`` of the API."""
    service.delete_accommodation(db, course_id=runner.course, name=name)
    return _done(runner, "removed", name)


@router.post(PATH + "/students")
def hold_accommodations(
    request: Request,
    _page_: CsrfChecked,
    staff: PageStaff,
    db: SessionDep,
    student: Annotated[str, Form(max_length=200)],
    names: Annotated[list[str] | None, Form(max_length=200)] = None,
) -> Response:
    """``PUT C/students/ID/accommodations`` of the API: the labels ticked (none ticked: none)."""
    chosen = sorted({name.strip() for name in names or [] if name.strip()})
    try:
        service.set_student_accommodations(db, course_id=staff.course, student_id=student.strip(), names=chosen)
    except (NotFound, Unprocessable) as refusal:
        db.rollback()
        typed = {"student": student, "names": ";".join(chosen)}
        return _page(request, staff, db, held_form=typed, held_error=str(refusal.detail))
    return _done(staff, "held", student.strip())
