"""Newly issued sign-in links as a CSV file, downloaded once: the issuing page offers it, and the
first download takes it. Any process of the service may serve it (the file waits in the database),
yet the database never holds a readable link: it keeps the file encrypted, and the key is only in
the issuing page's form (``no-store``), sent back by the download. Only the issuer, in the same
course, within :data:`LIFETIME`, downloads it."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete
from sqlalchemy.orm import Session

from api.models import LinkDownload
from api.reports.service import FORMULA_START
from api.signin.service import Delivery

#: How long after issuing the links the file may be downloaded.
LIFETIME = timedelta(minutes=15)
COLUMNS = ("student", "name", "email", "link")
GONE = (
    "This file of sign-in links can no longer be downloaded: it is downloaded once, within "
    f"{LIFETIME.seconds // 60} minutes of issuing the links, by whoever issued them. Issue new links for a new file."
)


@dataclass(frozen=True, slots=True)
class Ticket:
    """What the issuing page's download form sends back: the file's id and its key."""

    id: str
    key: str


def expiry_column(zone: ZoneInfo) -> str:
    """The expiry's header, naming the zone its times are in, as every date of the course is."""
    return f"expires_at ({zone.key})"


def links_csv(deliveries: Sequence[Delivery], base: str, zone: ZoneInfo) -> str | None:
    """One row per link shown (none for a mailed or refused one): id, name, email, link, expiry (in
    the course's ``zone``, named by its header; ISO 8601 with the offset, so a program reads the
    instant too); a cell a spreadsheet would run as a formula gets a leading '. None: no link to
    offer."""
    rows = [d for d in deliveries if d.link is not None]
    if not rows:
        return None
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*COLUMNS, expiry_column(zone)])
    for delivery in rows:
        assert delivery.link is not None  # (kept above)
        cells = (delivery.user.id, delivery.user.name, delivery.user.email or "", delivery.link.url(base))
        expires = delivery.link.expires_at.astimezone(zone).isoformat(timespec="seconds")
        writer.writerow([*(_safe(cell) for cell in cells), expires])
    return "\ufeff" + out.getvalue()


def _safe(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def keep(db: Session, *, course_id: str, by: str, filename: str, text: str) -> Ticket:
    """The file, encrypted, until downloaded; files past their time go on the way."""
    now = datetime.now(UTC)
    db.execute(delete(LinkDownload).where(LinkDownload.expires_at <= now))
    key = Fernet.generate_key()
    ticket = Ticket(secrets.token_urlsafe(24), key.decode())
    ciphertext = Fernet(key).encrypt(text.encode()).decode()
    db.add(
        LinkDownload(
            id=ticket.id,
            course_id=course_id,
            created_by=by,
            filename=filename,
            ciphertext=ciphertext,
            expires_at=now + LIFETIME,
        )
    )
    db.flush()
    return ticket


def take(db: Session, *, course_id: str, by: str, ticket: Ticket) -> tuple[str, str] | None:
    """The file (name, text), deleted as it is taken, so a second download finds nothing; None when
    it was taken already, has expired, is another's or the key does not open it."""
    taken = db.execute(
        delete(LinkDownload)
        .where(LinkDownload.id == ticket.id, LinkDownload.course_id == course_id, LinkDownload.created_by == by)
        .returning(LinkDownload.filename, LinkDownload.ciphertext, LinkDownload.expires_at)
    ).first()
    if taken is None:
        return None
    filename, ciphertext, expires_at = taken
    if expires_at <= datetime.now(UTC):
        return None
    try:
        return filename, Fernet(ticket.key.encode()).decrypt(ciphertext.encode()).decode()
    except (InvalidToken, ValueError):
        return None
