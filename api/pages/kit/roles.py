"""The roles the staff pages ask for, by the API's own checks (:func:`api.deps.get_staff`,
:func:`api.deps.get_runner`): a student gets the same 403 from a page as from the REST API, and
anyone outside the course the same 404 (:data:`api.pages.kit.deps.PageMember`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.access import Member
from api.deps import get_runner, get_staff
from api.pages.kit.deps import PageMember


async def page_staff(member: PageMember) -> Member:
    """Owner, instructor or TA: reads the gradebook and statistics, grants extensions."""
    return await get_staff(member)


async def page_runner(member: PageMember) -> Member:
    """Owner or instructor: regrades."""
    return await get_runner(member)


PageStaff = Annotated[Member, Depends(page_staff)]
PageRunner = Annotated[Member, Depends(page_runner)]
