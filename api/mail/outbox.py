"""The mail outbox: a mail is a row written in the transaction that decides it, then sent by a
runner (:mod:`api.mail.runner`) with retries; nothing is lost with a request, a restart or a
failing relay, and a mail given up on stays visible to staff with the relay's reason.

Any number of runners may drain one outbox (every service process has one): a runner takes a mail
by pushing its ``next_attempt_at`` ahead by :data:`LEASE` in one conditional UPDATE, sends it with
no database connection held, then records the outcome. A runner killed mid-send leaves the mail to
be taken again when the lease ends: a mail is sent at least once, and in practice once.

A sign-in mail stores no link: the runner makes the link (stored only as its hash) as it sends,
so a pending mail in the database opens nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.mail.compose import sign_in_mail
from api.mail.smtp import MailError
from api.models import Course, Mail, MailStatus, User
from api.signin.links import make_link

#: How long a runner holds a mail it is sending before another may take it.
LEASE = timedelta(minutes=5)
#: Waits before the 2nd, 3rd, ... attempt; after the last, the mail is ``failed``.
BACKOFF: Sequence[timedelta] = tuple(timedelta(minutes=m) for m in (1, 5, 30, 120, 360))
#: The longest error text kept.
ERROR_CHARS = 1000

Send = Callable[[EmailMessage], None]


class MailKind(StrEnum):
    SIGN_IN = "sign-in"
    INVITATION = "invitation"


def queue_mail(
    session: Session, *, kind: MailKind, user: User, course_id: str | None, created_by: str | None, link_base: str
) -> Mail | None:
    """A mail to ``user`` (None if the account has no address), sent after the commit."""
    if not user.email:
        return None
    mail = Mail(
        kind=kind.value,
        user_id=user.id,
        course_id=course_id,
        to_address=user.email,
        link_base=link_base,
        created_by=created_by,
    )
    session.add(mail)
    session.flush()
    return mail


@dataclass(frozen=True)
class Outbox:
    """What a runner needs: sessions that write (``sessions``) and that only look (``reads``: on
    SQLite, looking every few seconds must not take the write lock), the sender, the From
    address, and a link's lifetime."""

    sessions: sessionmaker[Session]
    reads: sessionmaker[Session]
    send: Send
    sender: str
    link_lifetime: timedelta
    backoff: Sequence[timedelta] = BACKOFF

    def deliver_due(self, *, now: Callable[[], datetime] = lambda: datetime.now(UTC), limit: int = 100) -> int:
        """Sends the mails that are due, one at a time; the number attempted."""
        attempted = 0
        while attempted < limit:
            if not self._any_due(now()):
                return attempted
            taken = self._take(now())
            if taken is None:
                return attempted
            attempted += 1
            mail_id, message = taken
            try:
                self.send(message)
            except MailError as error:
                self._record(mail_id, now(), str(error))
            else:
                self._record(mail_id, now(), None)
        return attempted

    def _any_due(self, now: datetime) -> bool:
        with self.reads() as session:
            due = select(Mail.id).where(Mail.status == MailStatus.PENDING, Mail.next_attempt_at <= now).limit(1)
            return session.scalar(due) is not None

    def _take(self, now: datetime) -> tuple[int, EmailMessage] | None:
        """Leases the oldest due mail and makes its message (and link), in one transaction."""
        with self.sessions.begin() as session:
            for mail in session.scalars(
                select(Mail)
                .where(Mail.status == MailStatus.PENDING, Mail.next_attempt_at <= now)
                .order_by(Mail.next_attempt_at, Mail.id)
                .limit(5)
            ):
                leased = session.execute(
                    update(Mail)
                    .where(
                        Mail.id == mail.id,
                        Mail.status == MailStatus.PENDING,
                        Mail.next_attempt_at == mail.next_attempt_at,
                    )
                    .values(next_attempt_at=now + LEASE)
                    .execution_options(synchronize_session=False)
                )
                if leased.rowcount == 1:  # type: ignore[attr-defined]
                    return mail.id, self._message(session, mail, now)
            return None

    def _message(self, session: Session, mail: Mail, now: datetime) -> EmailMessage:
        user = session.get(User, mail.user_id)
        course = session.get(Course, mail.course_id) if mail.course_id else None
        assert user is not None  # (the mail goes with its account: ON DELETE CASCADE)
        link = make_link(
            session,
            user_id=mail.user_id,
            course_id=mail.course_id,
            created_by=mail.created_by,
            lifetime=self.link_lifetime,
            now=now,
        )
        return sign_in_mail(
            sender=self.sender,
            to=mail.to_address,
            name=user.name,
            url=link.url(mail.link_base),
            expires_at=link.expires_at,
            course_title=course.title if course else None,
            invitation=mail.kind == MailKind.INVITATION,
        )

    def _record(self, mail_id: int, now: datetime, error: str | None) -> None:
        with self.sessions.begin() as session:
            mail = session.get(Mail, mail_id, with_for_update=True)
            if mail is None:  # (its account was deleted meanwhile)
                return
            mail.attempts += 1
            if error is None:
                mail.status, mail.sent_at, mail.error = MailStatus.SENT.value, now, None
            elif mail.attempts > len(self.backoff):
                mail.status, mail.error = MailStatus.FAILED.value, error[:ERROR_CHARS]
            else:
                mail.error = error[:ERROR_CHARS]
                mail.next_attempt_at = now + self.backoff[mail.attempts - 1]
