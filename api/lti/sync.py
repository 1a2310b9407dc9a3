"""An LTI sync of a course (``POST /api/v1/courses/{course}/lti/sync``, a background job): each
linked LMS course's roster read by NRPS (Names and Role Provisioning Services 2.0), its members'
accounts and course roles made as their launches would make them, then every LMS student's counted
score of every assignment written to the outbox again (:mod:`api.lti.outbox`), for the sender.

The rosters are read with no database connection held; the job row says how far it got (``done``
and ``total``: the scores written) and, if an LMS refused, its error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.lti import ags, keys, service
from api.lti.answers import Unreadable, call, json_of
from api.lti.claims import RESOURCE_LINK, TEST_USER, Launch, course_role, storable
from api.lti.outbox import record_scores
from api.models import Assignment, CourseRole, Job, JobStatus, LtiAccount, LtiContext, Membership

MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
#: The most pages and members read of one roster.
MAX_PAGES = 100
MAX_MEMBERS = 20_000


def read_roster(http: httpx.Client, token: str, url: str, now: datetime) -> list[dict[str, Any]]:
    """The members of an LMS course, following ``Link: <...>; rel="next"`` pages."""
    members: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        asked = call(http, "GET", url, headers={"Authorization": f"Bearer {token}", "Accept": MEMBERSHIPS})
        response = ags.checked(asked, now)
        body = json_of(response)
        page = body.get("members") if isinstance(body, dict) else None
        members += [m for m in page if isinstance(m, dict)] if isinstance(page, list) else []
        following = response.links.get("next", {}).get("url")
        if not following or len(members) >= MAX_MEMBERS:
            break
        url = following
    return members[:MAX_MEMBERS]


def _member_launch(member: dict[str, Any], context_id: str) -> Launch | None:
    """A roster's member as a launch of theirs would name them; None for one who is not active, has
    no usable id or no course role."""
    sub, roles = member.get("user_id"), member.get("roles")
    if not isinstance(sub, str) or not 0 < len(sub) <= 255 or not storable(sub):
        return None
    if member.get("status", "Active") != "Active" or not isinstance(roles, list):
        return None
    roles = [r for r in roles if isinstance(r, str)]
    name = member.get("name")
    return Launch(
        message_type=RESOURCE_LINK,
        sub=sub,
        deployment_id="",
        name=name if isinstance(name, str) and 0 < len(name) <= 200 and storable(name) else None,
        # a roster's email is not kept: an address on an account is a way in (sign-in links), and
        # the roster is not the person; their own launch, signed for them, brings theirs
        email=None,
        role=course_role(roles),
        test_user=TEST_USER in roles,
        context_id=context_id,
        context_title=None,
        resource_link_id=None,
    )


def run_sync(sessions: Callable[[], Session], http: httpx.Client, *, kek: str | None, job_id: int) -> str:
    """Runs the sync job ``job_id`` to its end; its final status."""
    now = datetime.now(UTC)
    with sessions() as db, db.begin():
        job = db.get(Job, job_id, with_for_update=True)
        if job is None or job.status in (JobStatus.DONE.value, JobStatus.FAILED.value):
            return "gone" if job is None else job.status
        job.status, job.started_at = JobStatus.RUNNING.value, job.started_at or now
        course_id = job.course_id
        # plain values: the rows expire with this transaction, and the rosters are read after it
        links = [
            (
                platform.id,
                platform.name,
                platform.client_id,
                platform.token_url,
                context.context_id,
                context.memberships_url,
            )
            for context, platform in service.links_of(db, course_id=course_id)
        ]
        key = keys.signing_key(db, kek=kek) if any(link[-1] for link in links) else None
    rosters: dict[tuple[str, str], list[dict[str, Any]]] = {}
    errors = []
    tokens = None if key is None else ags.Tokens(http, key)
    for platform_id, name, client_id, token_url, context_id, url in links:
        if url is None or tokens is None:
            continue
        try:
            token = tokens.for_platform(platform_id, client_id, token_url, now, (ags.SCOPE_ROSTER,))
            rosters[(platform_id, context_id)] = read_roster(http, token, url, now)
        except (ags.Retry, ags.Refused) as error:
            errors.append(f"{name}: {error.error}")
        except Unreadable as error:
            errors.append(f"{name}: the roster could not be read: {error.reason}")
        except httpx.HTTPError as error:
            errors.append(f"{name}: network: {type(error).__name__}")
    with sessions() as db, db.begin():
        for (platform_id, context_id), members in rosters.items():
            registered = service.get_platform(db, platform_id)
            if registered is None:
                continue
            for member in members:
                launch = _member_launch(member, context_id)
                if launch is None or launch.role is None or launch.test_user:
                    continue
                user = service.account_for(db, platform=registered, launch=launch)
                service.enrol(db, course_id=course_id, user=user, role=launch.role)
        students = db.scalars(
            select(LtiAccount.user_id)
            .join(LtiContext, LtiContext.platform_id == LtiAccount.platform_id)
            .join(Membership, (Membership.user_id == LtiAccount.user_id) & (Membership.course_id == course_id))
            .where(LtiContext.course_id == course_id, Membership.role == CourseRole.STUDENT.value)
            .distinct()
        ).all()
        written = 0
        for assignment in db.scalars(select(Assignment.id).where(Assignment.course_id == course_id)):
            written += record_scores(db, course_id=course_id, assignment_id=assignment, student_ids=students)
        job = db.get(Job, job_id)
        assert job is not None
        job.done = job.total = written
        job.error = "; ".join(errors)[:2000] or None
        job.status = JobStatus.FAILED.value if errors and not rosters else JobStatus.DONE.value
        job.finished_at = datetime.now(UTC)
        return job.status
