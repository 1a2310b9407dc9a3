"""``POST /students``: the roster import."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import InstructorUser, SessionDep
from api.users import service
from api.users.schemas import RosterImport, RosterOut, StudentOut

router = APIRouter(tags=["accounts"])


@router.post(
    "/students",
    response_model=RosterOut,
    summary="Import the roster",
    responses={409: {"description": "An id is listed twice or belongs to an instructor"}},
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
