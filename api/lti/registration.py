"""One-time URLs for LTI Dynamic Registration: an admin makes one (REST, ``grader lti
registration-url``, the admin page) and gives it to the platform, which opens it once.

The token is 256 random bits and only its SHA-256 is stored. A registration first *claims* the
URL (one conditional UPDATE, so two uses at once cannot both register), talks to the platform with
no database connection held, then either *finishes* (the URL is used) or *releases* it (a failed
registration leaves the URL usable until it expires, so the admin can fix the platform's side and
try again). A claim left by a crashed request lapses after :data:`CLAIM_LAPSES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from api.models import LtiRegistration
from api.users.tokens import hash_token, new_token

#: The path a URL opens: ``{base}/lti/register/{token}``.
PATH = "/lti/register/"
#: How long a URL may be used.
LIFETIME = timedelta(hours=1)
#: How long a registration under way keeps its URL from a second use.
CLAIM_LAPSES = timedelta(minutes=2)


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
    USED = "This registration URL has been used already; a URL registers one platform. Ask an admin for a new one."
    EXPIRED = "This registration URL has expired. Ask an admin for a new one."
    BUSY = "A registration with this URL is under way; try again in a few minutes if it fails."


def claim(db: Session, *, token: str, now: datetime | None = None) -> datetime | Unusable:
    """Claims the URL of ``token`` for this registration: the claim's time, or why not."""
    now = now or datetime.now(UTC)
    id_hash = hash_token(token)
    taken = db.execute(
        update(LtiRegistration)
        .where(
            LtiRegistration.id_hash == id_hash,
            LtiRegistration.registered_at.is_(None),
            LtiRegistration.expires_at > now,
            or_(LtiRegistration.claimed_at.is_(None), LtiRegistration.claimed_at <= now - CLAIM_LAPSES),
        )
        .values(claimed_at=now)
        .returning(LtiRegistration.id_hash)
    ).first()
    if taken is not None:
        return now
    row = db.get(LtiRegistration, id_hash)
    if row is None:
        return Unusable.UNKNOWN
    if row.registered_at is not None:
        return Unusable.USED
    return Unusable.EXPIRED if row.expires_at <= now else Unusable.BUSY


def release(db: Session, *, token: str, claimed_at: datetime) -> None:
    """The registration failed: the URL may be used again (if this claim is still the URL's)."""
    db.execute(
        update(LtiRegistration)
        .where(LtiRegistration.id_hash == hash_token(token), LtiRegistration.claimed_at == claimed_at)
        .values(claimed_at=None)
    )


def finish(db: Session, *, token: str, platform_id: str, now: datetime | None = None) -> None:
    """The registration succeeded: the URL is used."""
    db.execute(
        update(LtiRegistration)
        .where(LtiRegistration.id_hash == hash_token(token))
        .values(registered_at=now or datetime.now(UTC), platform_id=platform_id)
    )
