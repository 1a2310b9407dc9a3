"""The roles the staff pages ask for, by the API's own checks (:func:`api.deps.get_staff`,
:func:`api.deps.get_runner`): a student gets the same 403 from a page as from the REST API, and
anyone outside the course the same 404 (:data:`api.pages.kit.deps.PageMember`); and the admin
account the service's own pages ask for (``/admin/...``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.access import Member
from api.deps import get_runner, get_staff
from api.kit.errors import Forbidden
from api.models import Role
from api.pages.kit.deps import CsrfChecked, PageMember, SignedIn, SignedInDep


async def page_staff(member: PageMember) -> Member:
    """Owner, instructor or TA: reads the gradebook and statistics, grants extensions."""
    return await get_staff(member)


async def page_runner(member: PageMember) -> Member:
    """Owner or instructor: regrades."""
    return await get_runner(member)


PageStaff = Annotated[Member, Depends(page_staff)]
PageRunner = Annotated[Member, Depends(page_runner)]


async def page_admin(page: SignedInDep) -> SignedIn:
    """An admin account: manages the service's LMS platforms and its staff accounts."""
    if page.caller.role != Role.ADMIN:
        raise Forbidden("Only admins may do this.")
    return page


async def posting_admin(page: CsrfChecked) -> SignedIn:
    return await page_admin(page)


PageAdmin = Annotated[SignedIn, Depends(page_admin)]
PostingAdmin = Annotated[SignedIn, Depends(posting_admin)]
