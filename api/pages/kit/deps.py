"""Who is asking, for the pages: the caller of the session cookie, found by the same statement that
finds an API caller (:func:`api.access.read_session_access`), and the same membership and
assignment rules (:func:`api.access.require_member`, :func:`api.access.require_assignment`).

A page asked for without a valid session raises :class:`SignInRequired` (the route answers with
a redirect to the sign-in page); a POST whose CSRF token does not match is :class:`CsrfRefused`, a
403 page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Path, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import Access, Member, read_session_access, require_assignment, require_member
from api.deps import SessionDep
from api.kit.db import first_read
from api.kit.errors import Forbidden
from api.kit.zones import zone_named
from api.models import User
from api.pages.kit.sessions import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, csrf_matches, csrf_token
from api.terms.rows import AssignmentRow, Terms, with_extension
from api.users.service import Caller


class SignInRequired(Exception):
    """No session, or one that has expired or was signed out (or whose token was replaced)."""


class CsrfRefused(Forbidden):
    """A form posted without this session's CSRF token: from another site, or an old page."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The browser's session: who it is (``caller``, ``name``) and their access to the course and
    assignment in the path, read in one statement."""

    caller: Caller
    name: str
    session_id: str
    access: Access

    @property
    def csrf(self) -> str:
        """The token every form of this session carries (hidden field, and htmx's header)."""
        return csrf_token(self.session_id)


def find_session(request: Request, db: Session) -> SignedIn | None:
    """The session of the request's cookie, or None; kept in ``request.state.page`` for the
    templates (the header names who is signed in)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    course = request.path_params.get("course_id")
    assignment = request.path_params.get("assignment_id")
    access = first_read(db, lambda: read_session_access(db, session_id, course, assignment))
    if access is None:
        return None
    name = db.scalar(select(User.name).where(User.id == access.caller.id)) or access.caller.id
    page = SignedIn(access.caller, name, session_id, access)
    request.state.page = page
    return page


def signed_in(request: Request, db: SessionDep) -> SignedIn:
    page = find_session(request, db)
    if page is None:
        raise SignInRequired
    return page


def maybe_signed_in(request: Request, db: SessionDep) -> SignedIn | None:
    return find_session(request, db)


SignedInDep = Annotated[SignedIn, Depends(signed_in)]
MaybeSignedIn = Annotated[SignedIn | None, Depends(maybe_signed_in)]


async def csrf_checked(request: Request, page: SignedInDep) -> SignedIn:
    """The session, once the request carries its CSRF token (``X-CSRF-Token`` from htmx, or the
    form's ``csrf`` field). Every POST of the pages depends on it."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not csrf_matches(page.session_id, sent):
        raise CsrfRefused(
            "This form was not sent by this session's page (it may be an old page): reload it and try again."
        )
    return page


CsrfChecked = Annotated[SignedIn, Depends(csrf_checked)]


async def page_member(course_id: Annotated[str, Path()], page: SignedInDep) -> Member:
    """The caller as a member of the course in the path; 404 for anyone else, as in the API."""
    return require_member(page.access, course_id)


PageMember = Annotated[Member, Depends(page_member)]


async def page_assignment(
    assignment_id: Annotated[str, Path()], page: SignedInDep, _member: PageMember
) -> AssignmentRow:
    return require_assignment(page.access, assignment_id)


PageAssignment = Annotated[AssignmentRow, Depends(page_assignment)]


async def page_terms(assignment: PageAssignment, page: SignedInDep) -> Terms:
    """The assignment as it applies to the caller: their extension's due date and attempt limit."""
    return with_extension(assignment, page.access.extension)


PageTerms = Annotated[Terms, Depends(page_terms)]


def zone_of(page: SignedIn | None) -> ZoneInfo:
    """The time zone of the course the session was read for, if the caller is a member of it (read
    with the membership: no query of its own); UTC on any other page."""
    if page is None or page.access.member is None:
        return zone_named(None)
    return zone_named(page.access.time_zone)


async def course_zone(page: SignedInDep, _member: PageMember) -> ZoneInfo:
    """The zone the course's forms read typed dates in (:mod:`api.kit.local_time`)."""
    return zone_of(page)


PageZone = Annotated[ZoneInfo, Depends(course_zone)]
