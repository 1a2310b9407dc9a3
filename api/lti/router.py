"""``/api/v1/lti/platforms``: admins register learning platforms and list them (as ``grader lti
register`` does), or make a one-time URL for the platform to register itself
(``/api/v1/lti/registrations``, LTI Dynamic Registration)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request

from api.deps import CurrentUser, RunnerMember, SessionDep, StaffMember
from api.kit.errors import Forbidden
from api.kit.public_url import public_url
from api.kit.responses import errors
from api.kit.schemas import JobStarted
from api.lti import dates, keys, registration, service
from api.lti.schemas import (
    CourseLtiOut,
    DateDifferenceOut,
    LinkOut,
    PassbackOut,
    PlatformIn,
    PlatformOut,
    RegistrationUrlOut,
)
from api.lti.urls import tool_urls
from api.models import Role
from api.users.service import Caller

router = APIRouter(tags=["lti"])


def _admin(user: Caller) -> None:
    if user.role != Role.ADMIN:
        raise Forbidden("Only admins register LMS platforms.")


def platform_out(platform: service.Platform, base: str) -> PlatformOut:
    urls = tool_urls(base, platform.id)
    return PlatformOut(
        id=platform.id,
        name=platform.name,
        issuer=platform.issuer,
        client_id=platform.client_id,
        auth_url=platform.auth_url,
        token_url=platform.token_url,
        jwks_url=platform.jwks_url,
        deployments=sorted(platform.deployments),
        login_url=urls["login_url"],
        launch_url=urls["launch_url"],
        tool_jwks_url=urls["jwks_url"],
        config_url=urls["config_url"],
    )


@router.post(
    "/lti/platforms",
    status_code=201,
    response_model=PlatformOut,
    summary="Register an LMS platform (LTI 1.3)",
    responses=errors(
        401, 403, 409, 413, 422, 503, notes={403: "Not an admin", 409: "Registered already, or no GRADER_LTI_KEY"}
    ),
)
def register_platform(body: PlatformIn, user: CurrentUser, session: SessionDep, request: Request) -> PlatformOut:
    """Admins only. The answer names the tool's URLs to give the platform (`login_url`,
    `launch_url`, `tool_jwks_url`, `config_url`: Canvas's developer-key JSON). The tool's first
    signing key is made if it has none."""
    _admin(user)
    keys.ensure_key(session, kek=request.app.state.settings.lti_key)
    platform = service.register_platform(
        session,
        name=body.name,
        issuer=body.issuer,
        client_id=body.client_id,
        auth_url=body.auth_url,
        token_url=body.token_url,
        jwks_url=body.jwks_url,
        deployments=body.deployments,
    )
    return platform_out(platform, public_url(request))


@router.get(
    "/lti/platforms",
    response_model=list[PlatformOut],
    summary="The registered LMS platforms",
    responses=errors(401, 403, 503, notes={403: "Not an admin"}),
)
def list_platforms(user: CurrentUser, session: SessionDep, request: Request) -> list[PlatformOut]:
    """Admins only."""
    _admin(user)
    return [platform_out(p, public_url(request)) for p in service.platforms(session)]


@router.post(
    "/lti/registrations",
    status_code=201,
    response_model=RegistrationUrlOut,
    summary="Make a one-time URL for LTI Dynamic Registration",
    responses=errors(
        401, 403, 409, 503, notes={403: "Not an admin", 409: "No GRADER_LTI_KEY, or one that does not open the keys"}
    ),
)
def registration_url(user: CurrentUser, session: SessionDep, request: Request) -> RegistrationUrlOut:
    """Admins only. Paste `url` into the LMS's dynamic registration (Moodle: External tool → Manage
    tools → Tool URL → Add LTI Advantage; Canvas: Developer Keys → + Developer Key → LTI Registration):
    the platform opens it once, before `expires_at` (an hour), and registers itself with its
    deployment. The tool's first signing key is made if it has none."""
    _admin(user)
    keys.ensure_key(session, kek=request.app.state.settings.lti_key)
    keys.signing_key(session, kek=request.app.state.settings.lti_key)  # the key opens: the platform will need it
    made = registration.make_url(session, created_by=user.id)
    return RegistrationUrlOut(url=made.url(public_url(request)), expires_at=made.expires_at)


@router.get(
    "/courses/{course_id}/lti",
    response_model=CourseLtiOut,
    summary="The course's LMS links and grade passback",
    responses=errors(401, 403, 404, 422, 503, notes={403: "A student"}),
)
def course_lti(member: StaffMember, session: SessionDep) -> CourseLtiOut:
    """Staff: the LMS courses linked to this course, and per assignment and student the latest
    score for each LMS course: `pending` (to send, or to retry after `error`), `sent`, or
    `failed` with the platform's error; and where the due date the LMS gave a user at their latest
    launch is not theirs here (`date_differences`)."""
    links = [
        LinkOut(
            platform=platform.id,
            platform_name=platform.name,
            context_id=context.context_id,
            title=context.title,
            linked_at=context.linked_at,
            lineitems_url=context.lineitems_url,
            memberships_url=context.memberships_url,
        )
        for context, platform in service.links_of(session, course_id=member.course)
    ]
    passback = [PassbackOut.model_validate(row) for row in service.passback_of(session, course_id=member.course)]
    differences = [
        DateDifferenceOut(
            assignment=found.assignment_id,
            user=found.user_id,
            name=found.name,
            student=found.student,
            lms_due_at=found.lms_due_at,
            due_at=found.due_at,
            seen_at=found.seen_at,
        )
        for found in dates.differences(session, course_id=member.course)
    ]
    return CourseLtiOut(links=links, passback=passback, date_differences=differences)


@router.post(
    "/courses/{course_id}/lti/sync",
    status_code=202,
    response_model=JobStarted,
    summary="Read the LMS roster again and send every score again",
    responses=errors(401, 403, 404, 422, 503, notes={403: "Not the course's owner or instructor"}),
)
def lti_sync(member: RunnerMember, session: SessionDep, background: BackgroundTasks, request: Request) -> JobStarted:
    """Owner, instructor: a background job (`GET /api/v1/jobs/{id}`) that reads each linked LMS
    course's roster (NRPS), makes its members' accounts and roles, and writes every LMS student's
    counted score of every assignment to the passback outbox again. A sync not over yet is the
    one answered."""
    job_id = request.app.state.jobs.lti_sync(
        session, course_id=member.course, caller=member.caller, background=background
    )
    return JobStarted(job=job_id)
