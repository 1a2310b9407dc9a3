"""The rows of LTI: platforms, accounts, linked courses, accepted launches.
Keyword-only functions that flush and never commit (the request's session commits once)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.assignments.lms_dates import dates_moved
from api.courses.service import create_course
from api.kit.db import dialect_insert
from api.kit.errors import Conflict, Forbidden, NotFound
from api.kit.mail.address import AddressError, check_address
from api.lti.claims import Launch
from api.models import (
    Course,
    CourseRole,
    LtiAccount,
    LtiContext,
    LtiDeployment,
    LtiLaunch,
    LtiLineItem,
    LtiPlatform,
    LtiScore,
    Membership,
    Role,
    User,
)
from api.users.service import Caller
from api.users.tokens import hash_token, new_token

log = logging.getLogger("grader.lti")

#: What a launch that is no more (expired, or used) answers.
LAUNCH_GONE = "This LMS launch has expired or was used already: open the tool from your course again."
#: How long the forms a launch shows (linking, deep linking) and its continuation stay usable.
LAUNCH_LIFETIME = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Platform:
    id: str
    name: str
    issuer: str
    client_id: str
    auth_url: str
    token_url: str
    jwks_url: str
    deployments: frozenset[str]


def _platform(db: Session, row: LtiPlatform) -> Platform:
    deployments = frozenset(db.scalars(select(LtiDeployment.deployment_id).where(LtiDeployment.platform_id == row.id)))
    return Platform(row.id, row.name, row.issuer, row.client_id, row.auth_url, row.token_url, row.jwks_url, deployments)


def register_platform(
    db: Session,
    *,
    name: str,
    issuer: str,
    client_id: str,
    auth_url: str,
    token_url: str,
    jwks_url: str,
    deployments: list[str],
) -> Platform:
    """A new platform; the same (issuer, client id) twice is a :class:`Conflict`."""
    taken = db.scalar(select(LtiPlatform.id).where(LtiPlatform.issuer == issuer, LtiPlatform.client_id == client_id))
    if taken is not None:
        raise Conflict(f"The platform {issuer!r} with client id {client_id!r} is registered already ({taken}).")
    row = LtiPlatform(
        id=secrets.token_hex(8),
        name=name,
        issuer=issuer,
        client_id=client_id,
        auth_url=auth_url,
        token_url=token_url,
        jwks_url=jwks_url,
    )
    db.add(row)
    db.flush()
    for deployment in dict.fromkeys(deployments):
        db.add(LtiDeployment(platform_id=row.id, deployment_id=deployment))
    db.flush()
    return _platform(db, row)


def launch_deployments(platform: Platform, claimed: object) -> frozenset[str]:
    """The deployments a launch may name: those registered; for a platform that registered itself
    without naming one (Canvas's dynamic registration: the deployment exists only once an admin
    installs the tool), the one its first launch names, signature verified (then
    :func:`adopt_deployment` keeps it, and later launches must name a registered one)."""
    if platform.deployments or not isinstance(claimed, str):
        return platform.deployments
    return frozenset({claimed})


def adopt_deployment(db: Session, *, platform: Platform, deployment_id: str) -> None:
    """Keeps the first deployment of a platform registered without one (see
    :func:`launch_deployments`); two first launches at once may both be kept."""
    if platform.deployments:
        return
    statement = dialect_insert(db, LtiDeployment.__table__).values(platform_id=platform.id, deployment_id=deployment_id)
    db.execute(statement.on_conflict_do_nothing())
    db.flush()


def platforms(db: Session) -> list[Platform]:
    return [_platform(db, row) for row in db.scalars(select(LtiPlatform).order_by(LtiPlatform.created_at))]


def get_platform(db: Session, platform_id: str) -> Platform | None:
    row = db.get(LtiPlatform, platform_id)
    return None if row is None else _platform(db, row)


@dataclass(frozen=True, slots=True)
class Unresolved:
    """Why a login names no one registered platform: ``check`` is the parameter at fault."""

    check: str
    detail: str


def login_platform(
    db: Session, *, issuer: str, client_id: str | None, deployment_id: str | None
) -> Platform | Unresolved:
    """The platform a login is for: by issuer and client id. A login without ``client_id`` (the
    OIDC login lets the platform omit it) is resolved by its issuer when that has one registration,
    else by its ``lti_deployment_id`` if exactly one of the issuer's registrations has that
    deployment; otherwise it is refused rather than given to any one of them."""
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if client_id is not None:
        query = query.where(LtiPlatform.client_id == client_id)
    rows = list(db.scalars(query.order_by(LtiPlatform.created_at)))
    if not rows:
        return Unresolved("iss", "No platform with this issuer (and client id) is registered.")
    if len(rows) == 1:
        return _platform(db, rows[0])
    if deployment_id is not None:
        having = db.scalars(
            select(LtiDeployment.platform_id).where(
                LtiDeployment.platform_id.in_([row.id for row in rows]), LtiDeployment.deployment_id == deployment_id
            )
        ).all()
        if len(having) == 1:
            return _platform(db, next(row for row in rows if row.id == having[0]))
    return Unresolved(
        "client_id",
        "This LMS is registered here more than once, and the login names neither its client_id nor a deployment "
        "that tells its registrations apart: the LMS must send client_id with the login.",
    )


def _user_id(platform: Platform, sub: str) -> str:
    """A stable account id for (platform, sub) that reveals neither."""
    return "lti-" + hashlib.sha256(f"{platform.id}\0{sub}".encode()).hexdigest()[:24]


def account_for(db: Session, *, platform: Platform, launch: Launch) -> User:
    """The account of the launch's user, made on their first launch; name and email follow the
    platform's claims. An instructor's account may create courses (to link an LMS course)."""
    user_id = db.scalar(
        select(LtiAccount.user_id).where(LtiAccount.platform_id == platform.id, LtiAccount.sub == launch.sub)
    )
    user = None if user_id is None else db.get(User, user_id)
    email = _email(platform, launch)
    name = launch.name or (email or "LMS user")
    if user is None:
        role = Role.INSTRUCTOR if launch.role == CourseRole.INSTRUCTOR else Role.STUDENT
        user = User(id=_user_id(platform, launch.sub), name=name, email=email, role=role.value)
        db.add(user)
        db.flush()
        db.add(LtiAccount(platform_id=platform.id, sub=launch.sub, user_id=user.id))
    else:
        user.name = name
        user.email = email or user.email
        if launch.role == CourseRole.INSTRUCTOR and user.role == Role.STUDENT.value:
            user.role = Role.INSTRUCTOR.value
    db.flush()
    return user


def _email(platform: Platform, launch: Launch) -> str | None:
    """The launch's ``email`` claim if mail can be sent to it (:mod:`api.kit.mail.address`). One that
    cannot be is not kept, and the log says why: the student cannot fix what their LMS sends, so
    the launch goes on without an address rather than being refused."""
    if launch.email is None:
        return None
    try:
        return check_address(launch.email.strip())
    except AddressError as error:
        log.warning("LTI launch from platform %s: the email claim is not kept: %s", platform.id, error)
        return None


def linked_course(db: Session, *, platform: Platform, context_id: str | None) -> str | None:
    if context_id is None:
        return None
    return db.scalar(
        select(LtiContext.course_id).where(LtiContext.platform_id == platform.id, LtiContext.context_id == context_id)
    )


def enrol(db: Session, *, course_id: str, user: User, role: CourseRole) -> str:
    """The account's membership as the platform says, on every launch; an owner stays owner. Returns
    the role in the course."""
    membership = db.get(Membership, (course_id, user.id))
    if membership is None:
        db.add(Membership(course_id=course_id, user_id=user.id, role=role.value))
        db.flush()
        return role.value
    if membership.role != CourseRole.OWNER.value:
        membership.role = role.value
        db.flush()
    return membership.role


def courses_run_by(db: Session, *, user_id: str) -> list[Course]:
    """The courses the account runs (owner or instructor): those it may link an LMS course to."""
    query = (
        select(Course)
        .join(Membership, Membership.course_id == Course.id)
        .where(
            Membership.user_id == user_id,
            Membership.role.in_([CourseRole.OWNER.value, CourseRole.INSTRUCTOR.value]),
        )
        .order_by(Course.created_at, Course.id)
    )
    return list(db.scalars(query))


def record_launch(
    db: Session, *, platform: Platform, user: User, launch: Launch, details: dict[str, Any], now: datetime | None = None
) -> str:
    """An accepted launch, for what follows it; its id (to put in a form or a URL) is returned and
    only its hash stored."""
    now = now or datetime.now(UTC)
    db.execute(delete(LtiLaunch).where(LtiLaunch.expires_at <= now))
    launch_id = new_token()
    db.add(
        LtiLaunch(
            id_hash=hash_token(launch_id),
            platform_id=platform.id,
            user_id=user.id,
            message_type=launch.message_type,
            context_id=launch.context_id,
            details=details,
            created_at=now,
            expires_at=now + LAUNCH_LIFETIME,
        )
    )
    db.flush()
    return launch_id


def find_launch(db: Session, *, launch_id: str, now: datetime | None = None) -> LtiLaunch:
    """The unexpired launch ``launch_id``; :class:`NotFound` otherwise (an old page: launch again)."""
    now = now or datetime.now(UTC)
    row = db.get(LtiLaunch, hash_token(launch_id)) if 20 <= len(launch_id) <= 100 else None
    if row is None or row.expires_at <= now:
        raise NotFound(LAUNCH_GONE)
    return row


def end_launch(db: Session, *, launch: LtiLaunch) -> None:
    """Uses the launch up: what it opens (a session, the deep-linking answer, the storage check),
    it opens once, even for two requests at once (only the one whose delete removed the row goes
    on; the other gets :class:`NotFound`)."""
    removed = db.execute(
        delete(LtiLaunch).where(LtiLaunch.id_hash == launch.id_hash).execution_options(synchronize_session=False)
    )
    if getattr(removed, "rowcount", 0) != 1:
        raise NotFound(LAUNCH_GONE)


def link_course(db: Session, *, launch: LtiLaunch, user: User, course: str, title: str | None) -> str:
    """Links the launch's LMS course to one the instructor runs, or to a new one (``course`` is
    ``new``, with its ``title``). Returns the course id."""
    if launch.details.get("role") != CourseRole.INSTRUCTOR.value or launch.context_id is None:
        raise Forbidden("Only the LMS course's instructor links it to a course.")
    platform = get_platform(db, launch.platform_id)
    assert platform is not None  # the launch's platform row cascades to it
    if linked_course(db, platform=platform, context_id=launch.context_id) is not None:
        raise Conflict("This LMS course is linked already.")
    caller = Caller(user.id, user.role)
    if course == "new":
        if not title or not title.strip():
            raise Forbidden("A new course needs a title.")
        course_id = "lms-" + secrets.token_hex(6)
        create_course(db, course_id=course_id, title=title.strip()[:200], owner=caller)
    else:
        if course not in {c.id for c in courses_run_by(db, user_id=user.id)}:
            raise Forbidden("You can link only a course you run.")
        course_id = course
    db.add(
        LtiContext(
            platform_id=platform.id,
            context_id=launch.context_id,
            course_id=course_id,
            title=launch.details.get("context_title"),
            linked_by=user.id,
        )
    )
    db.flush()
    return course_id


def remember_services(db: Session, *, platform: Platform, launch: Launch, assignment_id: str | None) -> None:
    """The LMS course's grade and roster services as this launch names them, and, for a resource
    link to an assignment, the line item the platform made for it (deep linking's ``lineItem``)."""
    if launch.context_id is None:
        return
    context = db.get(LtiContext, (platform.id, launch.context_id))
    if context is None:
        return
    lineitems, lineitem = launch.ags.get("lineitems"), launch.ags.get("lineitem")
    memberships = launch.nrps.get("context_memberships_url")
    if isinstance(lineitems, str) and len(lineitems) <= 2000:
        context.lineitems_url = lineitems
    if isinstance(memberships, str) and len(memberships) <= 2000:
        context.memberships_url = memberships
    if assignment_id is not None and isinstance(lineitem, str) and len(lineitem) <= 2000:
        known = db.get(LtiLineItem, (platform.id, launch.context_id, assignment_id))
        new = known is None or known.url != lineitem
        if known is None:
            db.add(
                LtiLineItem(
                    platform_id=platform.id, context_id=launch.context_id, assignment_id=assignment_id, url=lineitem
                )
            )
        else:
            known.url = lineitem
        if new:  # a line item new here is sent the assignment's dates, where they are the service's
            db.flush()
            dates_moved(db, course_id=context.course_id, assignment_ids=[assignment_id])
    db.flush()


def links_of(db: Session, *, course_id: str) -> list[tuple[LtiContext, LtiPlatform]]:
    query = (
        select(LtiContext, LtiPlatform)
        .join(LtiPlatform, LtiPlatform.id == LtiContext.platform_id)
        .where(LtiContext.course_id == course_id)
        .order_by(LtiContext.linked_at)
    )
    return [(context, platform) for context, platform in db.execute(query)]


def passback_of(db: Session, *, course_id: str) -> list[dict[str, Any]]:
    """The latest outbox row per (assignment, student, LMS course), by assignment and student."""
    latest: dict[tuple[str, str, str, str], LtiScore] = {}
    for row in db.scalars(select(LtiScore).where(LtiScore.course_id == course_id).order_by(LtiScore.id)):
        latest[(row.assignment_id, row.student_id, row.platform_id, row.context_id)] = row
    return [
        {
            "assignment": row.assignment_id,
            "student": row.student_id,
            "platform": row.platform_id,
            "context_id": row.context_id,
            "status": row.status,
            "score_given": row.score_given,
            "score_maximum": row.score_maximum,
            "grading_progress": row.grading_progress,
            "timestamp": row.timestamp,
            "attempts": row.attempts,
            "error": row.error,
            "sent_at": row.sent_at,
        }
        for key, row in sorted(latest.items())
    ]
