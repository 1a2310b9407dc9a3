"""``/courses``: courses and their members (the roster)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response

from api.accommodations.service import import_holdings
from api.categories.store import from_json
from api.categories.weights import Category
from api.courses import service
from api.courses.schemas import (
    CategoryOut,
    CourseChange,
    CourseIn,
    CourseOut,
    ImportedMemberOut,
    MemberOut,
    MembersImport,
    MembersOut,
    TokenOut,
)
from api.deps import CourseCreator, CurrentUser, MemberDep, MemberIdPath, RunnerMember, SessionDep, StaffMember
from api.kit.responses import NO_STORE_HEADERS, errors, no_store
from api.models import Course, CourseRole, DatesFrom
from api.signin.invitations import invite_joined

router = APIRouter(tags=["courses"])


@router.post(
    "/courses",
    status_code=201,
    response_model=CourseOut,
    summary="Create a course (the caller owns it)",
    responses=errors(401, 403, 409, 413, 422, 503, notes={403: "A student account", 409: "The id is taken"}),
)
def create_course(body: CourseIn, creator: CourseCreator, session: SessionDep) -> CourseOut:
    """For instructor and admin accounts; the caller becomes the course's `owner`. `time_zone`
    (default UTC) is the zone the course's pages show and read dates in."""
    course = service.create_course(
        session,
        course_id=body.id,
        title=body.title,
        owner=creator,
        time_zone=body.time_zone,
        dates_from=body.dates_from,
    )
    return _course_out(course, CourseRole.OWNER.value)


def _course_out(course: Course, role: str) -> CourseOut:
    return CourseOut(
        id=course.id,
        title=course.title,
        role=role,
        time_zone=course.time_zone,
        categories=[CategoryOut.model_validate(c, from_attributes=True) for c in from_json(course.categories)],
        dates_from=DatesFrom(course.dates_from),
        created_at=course.created_at,
    )


@router.get(
    "/courses",
    response_model=list[CourseOut],
    summary="The caller's courses, with the caller's role in each",
    responses=errors(401, 503),
)
def list_courses(user: CurrentUser, session: SessionDep) -> list[CourseOut]:
    """The courses the caller is a member of (an admin: every course)."""
    return [_course_out(course, role) for course, role in service.courses_of(session, user)]


@router.get(
    "/courses/{course_id}",
    response_model=CourseOut,
    summary="One course, with the caller's role in it",
    responses=errors(401, 404, 422, 503),
)
def get_course(member: MemberDep, session: SessionDep) -> CourseOut:
    """The course's title and time zone, for any member."""
    course = session.get(Course, member.course)
    assert course is not None  # (read with the caller's membership)
    return _course_out(course, member.role)


@router.patch(
    "/courses/{course_id}",
    response_model=CourseOut,
    summary="Change a course's title, time zone, gradebook categories or the side that owns its dates",
    responses=errors(
        401,
        403,
        404,
        413,
        422,
        503,
        notes={
            422: "A field of the wrong shape, an unknown time zone, weights that do not add up to 100, or categories "
            "that leave out one an assignment counts in"
        },
    ),
)
def update_course(body: CourseChange, runner: RunnerMember, session: SessionDep) -> CourseOut:
    """Changes the fields sent, all or nothing. `time_zone` is the IANA zone (e.g. `America/Chicago`)
    in which every page of the course shows dates, naming it, and reads the dates typed in its
    forms; the REST API keeps ISO 8601 with offsets, and the instants stored do not change.
    `categories` replaces the gradebook's categories (each assignment's `category` must stay one of
    them). `dates_from` says which side owns the dates where the course is linked to an LMS: a change to
    `grader` sends every known line item its assignment's dates."""
    categories = (
        None if body.categories is None else [Category(c.name, c.weight, c.drop_lowest) for c in body.categories]
    )
    course = service.update_course(
        session,
        course_id=runner.course,
        title=body.title,
        time_zone=body.time_zone,
        categories=categories,
        dates_from=body.dates_from,
    )
    return _course_out(course, runner.role)


@router.post(
    "/courses/{course_id}/members",
    response_model=MembersOut,
    summary="Import the roster",
    responses={
        **errors(401, 403, 404, 409, 413, 422, 503, notes={409: "An id is listed twice, or is the owner's"}),
        200: {"headers": NO_STORE_HEADERS},
    },
    dependencies=[Depends(no_store)],
)
def import_members(
    body: MembersImport, runner: RunnerMember, session: SessionDep, request: Request, background: BackgroundTasks
) -> MembersOut:
    """Enrols each listed person with their role (`student` unless said otherwise; `ta` or
    `instructor`). A new account gets an API token, shown only in this response (only its hash is
    stored); an existing account (of this course or another) joins as it is, with its own token, name
    and email: a roster never changes an account. Importing a member again changes their role to the
    one given. A student's `accommodations` (names of the course's) replace those they held, all
    checked before any is set (an unknown name: 409 naming the member). When the service sends
    mail, each member who has just joined and has an address is mailed an invitation with a
    one-time sign-in link (see `GET .../mails`)."""
    imported = service.import_members(
        session, course_id=runner.course, members=[(m.id, m.name, m.email, m.role.value) for m in body.members]
    )
    holdings = [(m.id, m.role.value, m.accommodations) for m in body.members]
    import_holdings(session, course_id=runner.course, members=holdings)
    invite_joined(request, background, session, by=runner, joined=[i.user.id for i in imported if i.joined])
    return MembersOut(
        members=[
            ImportedMemberOut(
                id=i.user.id, name=i.user.name, email=i.user.email, role=i.role, created=i.created, token=i.token
            )
            for i in imported
        ]
    )


@router.get(
    "/courses/{course_id}/members",
    response_model=list[MemberOut],
    summary="The roster, with roles",
    responses=errors(401, 403, 404, 422, 503),
)
def list_members(staff: StaffMember, session: SessionDep) -> list[MemberOut]:
    """Owner, instructors and TAs first, then students, each by id."""
    return [
        MemberOut(id=member.id, name=member.name, email=member.email, role=member.role, joined_at=member.joined_at)
        for member in service.roster(session, course_id=staff.course)
    ]


@router.delete(
    "/courses/{course_id}/members/{member_id}",
    status_code=204,
    summary="Drop a member (their submissions are kept)",
    responses=errors(401, 403, 404, 409, 422, 503, notes={404: "No such member", 409: "The owner"}),
)
def drop_member(runner: RunnerMember, session: SessionDep, member_id: MemberIdPath) -> Response:
    """The course no longer exists for them, and a student leaves the gradebook; their submissions
    stay, for the record (the submissions list, statistics and regrades still include them).
    Importing them again brings them back, with the token they have."""
    service.drop_member(session, course_id=runner.course, user_id=member_id)
    return Response(status_code=204)


@router.post(
    "/courses/{course_id}/members/{member_id}/token",
    response_model=TokenOut,
    summary="Replace a student's lost token",
    responses={
        **errors(
            401,
            403,
            404,
            422,
            503,
            notes={
                403: "The account is staff somewhere, was not created by a course the caller runs, or has "
                "work in a course the caller does not run",
                404: "No such student",
            },
        ),
        200: {"headers": NO_STORE_HEADERS},
    },
    dependencies=[Depends(no_store)],
)
def replace_token(runner: RunnerMember, session: SessionDep, member_id: MemberIdPath) -> TokenOut:
    """Revokes every token of the student and issues a new one, shown only in this response: tokens
    are stored as hashes, so a lost one cannot be shown again. A token acts as its account
    everywhere, so only an admin, or a runner of the course whose roster import created the account
    while all its courses and work lie in courses they run, may replace it."""
    user, token = service.replace_member_token(session, by=runner, user_id=member_id)
    return TokenOut(id=user.id, token=token)
