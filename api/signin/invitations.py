"""Invitations on a roster import, for the REST API and the pages alike."""

from __future__ import annotations

from fastapi import BackgroundTasks, Request
from sqlalchemy.orm import Session

from api.access import Member
from api.kit.public_url import public_url
from api.models import Mail
from api.signin.service import invite_new_members


def wake_mail(request: Request, background: BackgroundTasks) -> None:
    """The mail runner looks at the outbox once the response is sent (after the commit)."""
    runner = request.app.state.mail
    if runner is not None:
        background.add_task(runner.wake)


def invite_joined(
    request: Request, background: BackgroundTasks, session: Session, *, by: Member, joined: list[str]
) -> list[Mail]:
    """An invitation to each member an import made join (``joined``: their ids), when the service
    sends mail."""
    if request.app.state.mail is None:
        return []
    mails = invite_new_members(
        session, course_id=by.course, user_ids=joined, created_by=by.id, link_base=public_url(request)
    )
    wake_mail(request, background)
    return mails
