"""``/courses/{course}/accommodations``: a course's named accommodations, and
``/courses/{course}/students/{id}/accommodations``: the ones a student holds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.accommodations import service
from api.accommodations.schemas import (
    AccommodationIn,
    AccommodationNames,
    AccommodationOut,
    StudentAccommodationsOut,
)
from api.deps import RunnerMember, SessionDep, StaffMember, StudentIdPath
from api.kit.responses import errors
from api.terms.accommodations import read_labels
from api.terms.allowance import Label

router = APIRouter(prefix="/courses/{course_id}", tags=["courses"])

#: A label's name in a path, documented as :data:`api.accommodations.service.NAME` and checked by
#: :func:`api.accommodations.service.check_name` (422 with the rule in a sentence).
NamePath = Annotated[str, Path(json_schema_extra={"pattern": f"^{service.NAME.pattern}$", "maxLength": 64})]


def _out(label: Label, students: list[str]) -> AccommodationOut:
    return AccommodationOut(
        name=label.name,
        time_multiplier=label.time_multiplier,
        extra_minutes=label.extra_minutes,
        extra_days=label.extra_days,
        extra_attempts=label.extra_attempts,
        students=students,
    )


@router.get(
    "/accommodations",
    response_model=list[AccommodationOut],
    summary="The course's accommodations, with the students holding each",
    responses=errors(401, 403, 404, 422, 503, notes={403: "Not staff of the course"}),
)
def list_accommodations(staff: StaffMember, session: SessionDep) -> list[AccommodationOut]:
    """By name. A student holding several gets the largest of each field (×1.5 and ×2: ×2)."""
    held = service.holders(session, course_id=staff.course)
    return [_out(label, held.get(label.name, [])) for label in read_labels(session, course_id=staff.course)]


@router.put(
    "/accommodations/{name}",
    response_model=AccommodationOut,
    summary="Define or replace an accommodation",
    responses=errors(401, 403, 404, 413, 422, 503, notes={403: "Not an owner or instructor of the course"}),
)
def put_accommodation(
    name: NamePath, body: AccommodationIn, runner: RunnerMember, session: SessionDep
) -> AccommodationOut:
    """Applies to every assignment of the course, now and later, for each student holding it, unless
    the student's extension of an assignment sets that field (the extension wins): `time_multiplier`
    (1 to 4) and `extra_minutes` on a timed assignment's limit, `extra_days` on every due date and
    close, `extra_attempts` on every attempt limit. A change applies at once, to running clocks too."""
    label = service.put_accommodation(
        session,
        course_id=runner.course,
        name=name,
        time_multiplier=body.time_multiplier,
        extra_minutes=body.extra_minutes,
        extra_days=body.extra_days,
        extra_attempts=body.extra_attempts,
        by=runner.id,
    )
    return _out(label, service.holders(session, course_id=runner.course).get(name, []))


@router.delete(
    "/accommodations/{name}",
    status_code=204,
    summary="Remove an accommodation (from every student holding it)",
    responses=errors(
        401, 403, 404, 422, 503, notes={403: "Not an owner or instructor of the course", 404: "No such accommodation"}
    ),
)
def delete_accommodation(name: NamePath, runner: RunnerMember, session: SessionDep) -> Response:
    service.delete_accommodation(session, course_id=runner.course, name=name)
    return Response(status_code=204)


@router.put(
    "/students/{student_id}/accommodations",
    response_model=StudentAccommodationsOut,
    summary="Set the accommodations a student holds",
    responses=errors(
        401,
        403,
        404,
        413,
        422,
        503,
        notes={403: "Not staff of the course", 404: "No such student, or a name the course does not define"},
    ),
)
def put_student_accommodations(
    names: AccommodationNames,
    staff: StaffMember,
    session: SessionDep,
    student_id: StudentIdPath,
) -> StudentAccommodationsOut:
    """The names of the course's accommodations the student holds from now on, replacing those they
    held (`[]`: none)."""
    held = service.set_student_accommodations(session, course_id=staff.course, student_id=student_id, names=names.root)
    return StudentAccommodationsOut(student=student_id, accommodations=held)
