"""``POST /students``: the roster import; ``POST /students/{id}/token``: a lost token replaced;
``DELETE /students/{id}``: a student dropped from the roster."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from api.deps import InstructorUser, SessionDep, StudentIdPath
from api.models import Role
from api.responses import errors
from api.users import service
from api.users.schemas import RosterImport, RosterOut, StudentOut, TokenOut

router = APIRouter(tags=["accounts"])

#: Replies that carry a token are not to be kept by any cache, the browser's or a proxy's.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
NO_STORE_HEADERS = {
    name: {"required": True, "schema": {"type": "string", "enum": [value]}} for name, value in NO_STORE.items()
}


async def no_store(response: Response) -> None:
    response.headers.update(NO_STORE)


@router.post(
    "/students",
    response_model=RosterOut,
    summary="Import the roster",
    responses={
        **errors(401, 403, 409, 413, 422, 503, notes={409: "An id is listed twice or belongs to an instructor"}),
        200: {"headers": NO_STORE_HEADERS},
    },
    dependencies=[Depends(no_store)],
)
def import_roster(body: RosterImport, session: SessionDep, _instructor: InstructorUser) -> RosterOut:
    """Creates each new student with an API token (shown only in this response; only its hash is
    stored). Students already on the roster keep their tokens; their name and email are updated."""
    issued = service.import_roster(session, students=[(s.id, s.name, s.email) for s in body.students])
    return RosterOut(
        students=[
            StudentOut(id=i.user.id, name=i.user.name, email=i.user.email, created=i.created, token=i.token)
            for i in issued
        ]
    )


@router.post(
    "/students/{student_id}/token",
    response_model=TokenOut,
    summary="Replace a student's token",
    responses={**errors(401, 403, 404, 422, 503, notes={404: "No such student"}), 200: {"headers": NO_STORE_HEADERS}},
    dependencies=[Depends(no_store)],
)
def replace_student_token(session: SessionDep, _instructor: InstructorUser, student_id: StudentIdPath) -> TokenOut:
    """Revokes every token of the student and issues a new one, shown only in this response: tokens
    are stored as hashes, so a lost one cannot be shown again, and re-importing the roster gives a
    student already on it no new token. Instructors replace their own with `grader users token`."""
    student, token = service.replace_token(session, user_id=student_id, role=Role.STUDENT)
    return TokenOut(id=student.id, token=token)


@router.delete(
    "/students/{student_id}",
    status_code=204,
    summary="Drop a student from the roster (their submissions are kept)",
    responses=errors(401, 403, 404, 422, 503, notes={404: "No such student"}),
)
def drop_student(session: SessionDep, _instructor: InstructorUser, student_id: StudentIdPath) -> Response:
    """The student's tokens stop working and they leave the gradebook; their submissions stay, for
    the record (the submissions list, statistics and regrades still include them). Dropping again
    changes nothing; importing the student again brings them back with a new token."""
    service.drop_student(session, student_id=student_id)
    return Response(status_code=204)
