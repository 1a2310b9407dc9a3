"""``/courses/new`` (instructor and admin accounts: create a course, which they then own) and
``/courses/{course}/settings`` (owner and instructors: the title and the time zone the course's
pages show and read dates in; the gradebook's categories, :mod:`api.pages.staff.course_categories`).

Both forms are read into the REST API's own requests (:class:`api.courses.schemas.CourseIn`,
:class:`api.courses.schemas.CourseChange`) and call the same services as ``POST /courses`` and
``PATCH /courses/{course}``; a refusal shows the form again with the error beside its field and
what was typed kept, with the status the API would answer; a success redirects (303) to the course.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from api.courses import service
from api.courses.schemas import CourseChange, CourseIn
from api.deps import SessionDep, get_course_creator
from api.kit.errors import Conflict, Unprocessable
from api.kit.zones import DEFAULT_TIME_ZONE, zone_names
from api.models import Course
from api.pages.kit import validation
from api.pages.kit.deps import SignedInDep
from api.pages.kit.forms import PostedForm
from api.pages.kit.render import render
from api.pages.kit.roles import PageRunner
from api.pages.kit.routing import PageRoute
from api.pages.staff.course_categories import CategoriesForm, read_categories, shown
from api.users.service import Caller

router = APIRouter(route_class=PageRoute, include_in_schema=False)

NEW_FIELDS = ("id", "title", "time_zone")
SETTINGS_FIELDS = ("title", "time_zone")


async def page_course_creator(page: SignedInDep) -> Caller:
    """An instructor or admin account, as ``POST /courses`` requires (403 page otherwise)."""
    return await get_course_creator(page.caller)


PageCourseCreator = Annotated[Caller, Depends(page_course_creator)]


def _new_page(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    context = {"values": values, "errors": errors, "zones": sorted(zone_names())}
    return render(request, "course_new.html", context, status=status)


@router.get("/courses/new")
def new_course_page(request: Request, _creator: PageCourseCreator) -> Response:
    """The form, its time zone UTC until chosen."""
    return _new_page(request, {"id": "", "title": "", "time_zone": DEFAULT_TIME_ZONE}, {})


@router.post("/courses/new")
def create_course_page(request: Request, form: PostedForm, creator: PageCourseCreator, db: SessionDep) -> Response:
    """``POST /courses`` of the API, from the form; then the new course's dashboard."""
    values, body, errors = validation.read_form(form, CourseIn, NEW_FIELDS)
    if body is None:
        return _new_page(request, values, errors, status=422)
    try:
        service.create_course(db, course_id=body.id, title=body.title, owner=creator, time_zone=body.time_zone)
    except (Conflict, Unprocessable) as error:
        db.rollback()  # (a conflict may be found by the INSERT itself)
        where, status = ("id", 409) if isinstance(error, Conflict) else ("time_zone", 422)
        return _new_page(request, values, {where: str(error.detail)}, status=status)
    return RedirectResponse(f"/courses/{body.id}", status_code=303)


def _settings_page(
    request: Request,
    course: Course,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    categories: CategoriesForm | None = None,
) -> Response:
    context = {
        "course": course,
        "values": values,
        "errors": errors,
        "zones": sorted(zone_names()),
        "now": datetime.now(UTC),
        "categories": categories or shown(course.categories),
    }
    return render(request, "course_settings.html", context, status=status)


@router.get("/courses/{course_id}/settings")
def course_settings_page(request: Request, runner: PageRunner, db: SessionDep) -> Response:
    course = db.get(Course, runner.course)
    assert course is not None  # (read with the caller's membership)
    return _settings_page(request, course, {"title": course.title, "time_zone": course.time_zone}, {})


@router.post("/courses/{course_id}/settings")
def save_course_settings(request: Request, form: PostedForm, runner: PageRunner, db: SessionDep) -> Response:
    """``PATCH /courses/{course}`` of the API, from the form; then the course's dashboard, which
    names the zone its dates are now shown in."""
    values, body, errors = validation.read_form(form, CourseChange, SETTINGS_FIELDS)
    if body is None:
        course = db.get(Course, runner.course)
        assert course is not None
        return _settings_page(request, course, values, errors, status=422)
    service.update_course(db, course_id=runner.course, title=body.title, time_zone=body.time_zone)
    return RedirectResponse(f"/courses/{runner.course}", status_code=303)


@router.post("/courses/{course_id}/settings/categories")
def save_course_categories(request: Request, form: PostedForm, runner: PageRunner, db: SessionDep) -> Response:
    """``PATCH /courses/{course}`` with ``categories``, from the form's rows; then the course
    gradebook. Refused (weights that do not add up, a category an assignment counts in left out):
    the form again with the reason and the rows as typed, nothing changed."""
    course = db.get(Course, runner.course)
    assert course is not None  # (read with the caller's membership)
    typed = read_categories(form)
    current = {"title": course.title, "time_zone": course.time_zone}
    if typed.categories is None:
        return _settings_page(request, course, current, {}, status=422, categories=typed)
    try:
        service.update_course(db, course_id=runner.course, categories=typed.categories)
    except Unprocessable as error:
        db.rollback()
        refused = CategoriesForm(typed.rows, errors={"categories": str(error.detail)})
        course = db.get(Course, runner.course)
        assert course is not None
        return _settings_page(request, course, current, {}, status=422, categories=refused)
    return RedirectResponse(f"/courses/{runner.course}/gradebook", status_code=303)
