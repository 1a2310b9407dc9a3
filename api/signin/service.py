"""Sign-in links for the students of a course, and for whoever asks for one on ``/``.

Who may have a link *shown* to them acts as its account, so that follows the rule for replacing a
token (:func:`api.access.require_account_power`). A link *mailed* goes to the account's
own address, which no roster can change: the runners of a course may mail one to any student of
it, and anyone may ask for one for an address (the answer is the same whether it is known).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.access import Member, require_account_power
from api.kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.models import CourseRole, Mail, Membership, Role, SignInRequest, User
from api.signin.links import NewLink, make_link
from api.signin.outbox import MailKind, queue_mail
from api.users.service import create_user

#: Requests for a link on ``/`` per address, and per client, in :data:`WINDOW`.
PER_ADDRESS, PER_CLIENT = 3, 10
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Delivery:
    """What became of a link for one student: shown (``link``), mailed (``mail``), or neither
    (``refused``, with the reason)."""

    user: User
    link: NewLink | None = None
    mail: Mail | None = None
    refused: str | None = None


def link_for_student(
    session: Session, *, by: Member, user_id: str, lifetime: timedelta, link_base: str, send: bool, can_mail: bool
) -> Delivery:
    """A link for a student of ``by``'s course: mailed to their address (``send``), else shown to
    ``by``. :class:`NotFound` for anyone but a student of the course; :class:`Forbidden` to show
    a link for an account ``by`` may not act as; :class:`Conflict` to mail without mail set up or
    to an account without an address."""
    user = session.get(User, user_id)
    if not send:
        require_account_power(session, by=by, user=user, user_id=user_id)
        assert user is not None
        return Delivery(
            user, link=make_link(session, user_id=user_id, course_id=by.course, created_by=by.id, lifetime=lifetime)
        )
    role = session.scalar(
        select(Membership.role).where(Membership.course_id == by.course, Membership.user_id == user_id)
    )
    if user is None or role != CourseRole.STUDENT:
        raise NotFound(f"No student {user_id!r} in course {by.course!r}.")
    if not can_mail:
        raise Conflict("This service sends no mail (GRADER_SMTP_URL is not set): ask for the link without send.")
    mail = queue_mail(
        session, kind=MailKind.SIGN_IN, user=user, course_id=by.course, created_by=by.id, link_base=link_base
    )
    if mail is None:
        raise Conflict(f"{user_id!r} has no email address: ask for the link without send, and hand it over.")
    return Delivery(user, mail=mail)


def new_staff_account(
    session: Session,
    *,
    by: str,
    name: str,
    role: Role,
    email: str | None,
    lifetime: timedelta,
    link_base: str,
    send: bool,
) -> Delivery:
    """An instructor or admin account made by the admin ``by``, with its first sign-in: a link
    mailed to ``email`` (``send``: the service sends mail and the account has an address), else
    shown to ``by``, who acts as the new account anyway. An id taken is a :class:`Conflict`."""
    if role not in (Role.INSTRUCTOR, Role.ADMIN):
        raise Unprocessable(f"An admin creates instructor and admin accounts here, not {role.value!r} ones.")
    user = create_user(session, name=name, role=role, email=email).user
    if send and email:
        mail = queue_mail(session, kind=MailKind.SIGN_IN, user=user, course_id=None, created_by=by, link_base=link_base)
        return Delivery(user, mail=mail)
    return Delivery(user, link=make_link(session, user_id=user.id, course_id=None, created_by=by, lifetime=lifetime))


def links_for_students(
    session: Session, *, by: Member, lifetime: timedelta, link_base: str, send: bool, can_mail: bool
) -> list[Delivery]:
    """A link for every student of the course, each with its outcome (one refusal does not stop
    the others)."""
    students = session.scalars(
        select(Membership.user_id)
        .where(Membership.course_id == by.course, Membership.role == CourseRole.STUDENT)
        .order_by(Membership.user_id)
    ).all()
    deliveries = []
    for user_id in students:
        try:
            with session.begin_nested():
                deliveries.append(
                    link_for_student(
                        session,
                        by=by,
                        user_id=user_id,
                        lifetime=lifetime,
                        link_base=link_base,
                        send=send,
                        can_mail=can_mail,
                    )
                )
        except (Forbidden, Conflict) as refusal:
            user = session.get(User, user_id)
            assert user is not None
            deliveries.append(Delivery(user, refused=refusal.detail))
    return deliveries


def invite_new_members(
    session: Session, *, course_id: str, user_ids: list[str], created_by: str, link_base: str
) -> list[Mail]:
    """An invitation (with a sign-in link) to each member who has just joined, at their own address."""
    mails = []
    for user in session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.id)):
        mail = queue_mail(
            session,
            kind=MailKind.INVITATION,
            user=user,
            course_id=course_id,
            created_by=created_by,
            link_base=link_base,
        )
        if mail is not None:
            mails.append(mail)
    return mails


def request_link(session: Session, *, address: str, client: str, link_base: str, now: datetime | None = None) -> bool:
    """A link mailed to each account with ``address``, unless the address or the client has asked
    too often in the last hour (False then, which the page does not tell apart from success for an
    address it does not know, so the form reveals nothing about who has an account)."""
    now = now or datetime.now(UTC)
    address = address.strip().lower()
    address_hash, client_hash = _hash("address", address), _hash("client", client)
    session.execute(delete(SignInRequest).where(SignInRequest.at <= now - WINDOW))
    since = now - WINDOW
    by_address = session.scalar(
        select(func.count()).where(SignInRequest.address_hash == address_hash, SignInRequest.at > since)
    )
    by_client = session.scalar(
        select(func.count()).where(SignInRequest.client_hash == client_hash, SignInRequest.at > since)
    )
    if (by_address or 0) >= PER_ADDRESS or (by_client or 0) >= PER_CLIENT:
        return False
    session.add(SignInRequest(address_hash=address_hash, client_hash=client_hash, at=now))
    for user in session.scalars(select(User).where(func.lower(User.email) == address).order_by(User.id).limit(5)):
        queue_mail(session, kind=MailKind.SIGN_IN, user=user, course_id=None, created_by=None, link_base=link_base)
    session.flush()
    return True


def _hash(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode("utf-8", "surrogatepass")).hexdigest()
