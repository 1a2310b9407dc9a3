"""One-time URLs for LTI Dynamic Registration: an admin makes one (REST, ``grader lti
registration-url``, the admin page) and gives it to the platform, which opens it once.

The token is 256 random bits and only its SHA-256 is stored. A registration *claims* the URL
(one conditional UPDATE, so two uses at once cannot both have it), which uses it up whatever
follows: the tool then asks the address the registrant names for its configuration, and a URL
that could be tried again would let its holder probe address after address from the tool. The
registration then *finishes* (the platform it registered is noted) or fails; either way the URL
opens nothing more, and a failed registration needs a new URL from an admin. (Only a registration
that stops before the tool asks the platform anything, for want of ``GRADER_LTI_KEY``, *releases*
the URL.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.orm import Session

from api.models import LtiRegistration
from api.users.tokens import hash_token, new_token

#: The path a URL opens: ``{base}/lti/register/{token}``.
PATH = "/lti/register/"
#: How long a URL may be used.
LIFETIME = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class NewUrl:
    token: str
    expires_at: datetime

    def url(self, base: str) -> str:
        return f"{base.rstrip('/')}{PATH}{self.token}"


def make_url(db: Session, *, created_by: str | None, now: datetime | None = None) -> NewUrl:
    """A new registration URL (its token is seen only now)."""
    now = now or datetime.now(UTC)
    token = new_token()
    db.add(LtiRegistration(id_hash=hash_token(token), created_by=created_by, created_at=now, expires_at=now + LIFETIME))
    db.flush()
    return NewUrl(token, now + LIFETIME)


class Unusable(StrEnum):
    """Why a URL cannot be used, as the page says it."""

    UNKNOWN = "This registration URL is not one of ours: check that the whole address was copied."
    USED = "This registration URL has been used already; a URL is used once. Ask an admin for a new one."
    EXPIRED = "This registration URL has expired. Ask an admin for a new one."


def claim(db: Session, *, token: str, now: datetime | None = None) -> datetime | Unusable:
    """Claims the URL of ``token`` for this registration, using it up: the claim's time, or why not."""
    now = now or datetime.now(UTC)
    id_hash = hash_token(token)
    taken = db.execute(
        update(LtiRegistration)
        .where(
            LtiRegistration.id_hash == id_hash,
            LtiRegistration.claimed_at.is_(None),
            LtiRegistration.registered_at.is_(None),
            LtiRegistration.expires_at > now,
        )
        .values(claimed_at=now)
        .returning(LtiRegistration.id_hash)
    ).first()
    if taken is not None:
        return now
    row = db.get(LtiRegistration, id_hash)
    if row is None:
        return Unusable.UNKNOWN
    if row.claimed_at is not None or row.registered_at is not None:
        return Unusable.USED
    return Unusable.EXPIRED


def release(db: Session, *, token: str, claimed_at: datetime) -> None:
    """The URL back as it was, for a registration that stopped before the tool asked anything of
    the platform (the tool is not set up for it yet)."""
    db.execute(
        update(LtiRegistration)
        .where(LtiRegistration.id_hash == hash_token(token), LtiRegistration.claimed_at == claimed_at)
        .values(claimed_at=None)
    )


def finish(db: Session, *, token: str, platform_id: str, now: datetime | None = None) -> None:
    """The registration succeeded: the platform it registered is noted."""
    db.execute(
        update(LtiRegistration)
        .where(LtiRegistration.id_hash == hash_token(token))
        .values(registered_at=now or datetime.now(UTC), platform_id=platform_id)
    )
