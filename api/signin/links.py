"""One-time sign-in links: a random token in a URL that opens a page session once.

The token is 256 random bits (:func:`api.users.tokens.new_token`) and only its SHA-256 is stored,
like an API token's. A link works once and only until it expires; using one uses every other
link of the same account still open (a student who asks twice and clicks the second mail leaves
no working link behind in the first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.models import Membership, SignInLink
from api.users.tokens import hash_token, new_token

#: The path a link opens: ``{base}/signin/{token}``.
PATH = "/signin/"


@dataclass(frozen=True)
class NewLink:
    token: str
    expires_at: datetime

    def url(self, base: str) -> str:
        return f"{base.rstrip('/')}{PATH}{self.token}"


def make_link(
    session: Session,
    *,
    user_id: str,
    course_id: str | None,
    created_by: str | None,
    lifetime: timedelta,
    now: datetime | None = None,
) -> NewLink:
    """A new link for ``user_id`` leading to ``course_id`` (its token is seen only now)."""
    now = now or datetime.now(UTC)
    token = new_token()
    expires_at = now + lifetime
    session.add(
        SignInLink(
            id_hash=hash_token(token),
            user_id=user_id,
            course_id=course_id,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return NewLink(token, expires_at)


class Refusal(StrEnum):
    """Why a link opened nothing, as the page says it."""

    UNKNOWN = "This sign-in link is not one of ours: check that the whole address was copied."
    USED = "This sign-in link has been used already; a link works once. Ask for a new one."
    EXPIRED = "This sign-in link has expired. Ask for a new one."


@dataclass(frozen=True)
class Opened:
    """The account a link opened, and its course (None: the caller's course list)."""

    user_id: str
    course_id: str | None


def use_link(session: Session, *, token: str, now: datetime | None = None) -> Opened | Refusal:
    """Uses the link of ``token``: the account (and course) it opens, or why it opens nothing.
    The link is taken by one conditional UPDATE, so of two clicks at once only one opens a session
    (the other finds it used), on SQLite and PostgreSQL alike."""
    now = now or datetime.now(UTC)
    id_hash = hash_token(token)
    taken = session.execute(
        update(SignInLink)
        .where(SignInLink.id_hash == id_hash, SignInLink.used_at.is_(None), SignInLink.expires_at > now)
        .values(used_at=now)
        .returning(SignInLink.user_id, SignInLink.course_id)
    ).first()
    if taken is None:
        link = session.get(SignInLink, id_hash)
        if link is None:
            return Refusal.UNKNOWN
        return Refusal.USED if link.used_at is not None else Refusal.EXPIRED
    user_id, course_id = taken
    session.execute(
        update(SignInLink).where(SignInLink.user_id == user_id, SignInLink.used_at.is_(None)).values(used_at=now)
    )
    if course_id is not None:  # dropped since: the link still proves who they are; the course is gone
        member = session.scalar(
            select(Membership.role).where(Membership.course_id == course_id, Membership.user_id == user_id)
        )
        course_id = course_id if member is not None else None
    return Opened(user_id, course_id)
