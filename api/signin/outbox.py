"""The mail outbox: a mail is a row written in the transaction that decides it, then sent by a
runner (:mod:`api.signin.mail_runner`) with retries; nothing is lost with a request, a restart or a
failing relay, and a mail given up on stays visible to staff with the relay's reason.

Any number of runners may drain one outbox (every service process has one): a runner takes a mail
by pushing its ``next_attempt_at`` ahead by :data:`LEASE` in one conditional UPDATE, committed
before the mail is made, sends it with no database connection held, then records the outcome. A
runner killed mid-send leaves the mail to be taken again when the lease ends: a mail is sent at
least once, and in practice once.

A mail fails alone: one that cannot be made (an address no relay takes, stored before addresses
were checked) or that the relay refuses for good is ``failed`` at once with the reason, and one the
relay refuses for now is tried again after :data:`BACKOFF`; either way the runner goes on to the
next, so no mail can hold up the ones behind it.

A sign-in mail stores no link: the runner makes the link (stored only as its hash) as it sends,
so a pending mail in the database opens nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from api.kit.mail.address import AddressError, check_address
from api.kit.mail.compose import sign_in_mail
from api.kit.mail.smtp import MailError, MailRefused
from api.models import Course, Mail, MailStatus, User
from api.signin.links import make_link

#: How long a runner holds a mail it is sending before another may take it.
LEASE = timedelta(minutes=5)
#: Waits before the 2nd, 3rd, ... attempt; after the last, the mail is ``failed``.
BACKOFF: Sequence[timedelta] = tuple(timedelta(minutes=m) for m in (1, 5, 30, 120, 360))
#: The longest error text kept.
ERROR_CHARS = 1000

Send = Callable[[EmailMessage], None]

log = logging.getLogger("grader.mail")


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
class Taken:
    """A mail leased for sending: what its message is made from."""

    id: int
    kind: str
    user_id: str
    course_id: str | None
    created_by: str | None
    to_address: str
    link_base: str


@dataclass(frozen=True)
class Outcome:
    """What became of an attempt: sent (``error`` None), to retry, or given up on (``final``)."""

    error: str | None = None
    final: bool = False


SENT = Outcome()


class _AccountGone(Exception):
    """The mail's account was deleted after the mail was leased (and the mail with it)."""


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
        """Sends the mails that are due, one at a time; the number attempted. Each is leased in a
        transaction of its own before anything else is done with it, so whatever becomes of it
        (an address no relay takes, a refusal, any error while it is made or sent) it leaves the
        line: it is recorded as an attempt and the next mail is taken."""
        attempted = 0
        while attempted < limit:
            if not self._any_due(now()):
                return attempted
            taken = self._take(now())
            if taken is None:
                return attempted
            attempted += 1
            self._record(taken.id, now(), self._attempt(taken, now))
        return attempted

    def _any_due(self, now: datetime) -> bool:
        with self.reads() as session:
            due = select(Mail.id).where(Mail.status == MailStatus.PENDING, Mail.next_attempt_at <= now).limit(1)
            return session.scalar(due) is not None

    def _take(self, now: datetime) -> Taken | None:
        """Leases the oldest due mail (and only that: its transaction commits whatever follows)."""
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
                    return Taken(
                        id=mail.id,
                        kind=mail.kind,
                        user_id=mail.user_id,
                        course_id=mail.course_id,
                        created_by=mail.created_by,
                        to_address=mail.to_address,
                        link_base=mail.link_base,
                    )
            return None

    def _attempt(self, taken: Taken, now: Callable[[], datetime]) -> Outcome:
        """Makes the message and sends it, with no connection held while sending. A mail that
        cannot be made, or that the relay refuses for good, is given up on at once; a relay that
        fails for now is tried again later. Any other error is this mail's alone: it is given up
        on with the error as its reason (and logged in full), so it can hold up no other mail."""
        try:
            message = self._message(taken, now())
        except AddressError as error:
            return Outcome(str(error), final=True)
        except _AccountGone:
            return Outcome("the account was deleted", final=True)
        except OperationalError as error:  # (the database, not the mail: tried again after the backoff)
            return Outcome(f"the mail could not be made (the database did not answer): {error.orig}")
        except Exception as error:
            log.exception("mail %s could not be made", taken.id)
            return Outcome(f"the mail could not be made: {type(error).__name__}: {error}", final=True)
        try:
            self.send(message)
        except MailRefused as error:
            return Outcome(str(error), final=True)
        except MailError as error:
            return Outcome(str(error))
        except Exception as error:
            log.exception("mail %s could not be sent", taken.id)
            return Outcome(f"the mail could not be sent: {type(error).__name__}: {error}", final=True)
        return SENT

    def _message(self, taken: Taken, now: datetime) -> EmailMessage:
        """The mail's message, with a new link in it (made only once the address is known to be
        one mail can be sent to)."""
        check_address(taken.to_address)
        with self.sessions.begin() as session:
            user = session.get(User, taken.user_id)
            course = session.get(Course, taken.course_id) if taken.course_id else None
            if user is None:  # (deleted since it was leased; the mail went with it, ON DELETE CASCADE)
                raise _AccountGone
            name, title = user.name, course.title if course else None
            link = make_link(
                session,
                user_id=taken.user_id,
                course_id=taken.course_id,
                created_by=taken.created_by,
                lifetime=self.link_lifetime,
                now=now,
            )
        return sign_in_mail(
            sender=self.sender,
            to=taken.to_address,
            name=name,
            url=link.url(taken.link_base),
            expires_at=link.expires_at,
            course_title=title,
            invitation=taken.kind == MailKind.INVITATION,
        )

    def _record(self, mail_id: int, now: datetime, outcome: Outcome) -> None:
        with self.sessions.begin() as session:
            mail = session.get(Mail, mail_id, with_for_update=True)
            if mail is None:  # (its account was deleted meanwhile)
                return
            mail.attempts += 1
            if outcome.error is None:
                mail.status, mail.sent_at, mail.error = MailStatus.SENT.value, now, None
            elif outcome.final or mail.attempts > len(self.backoff):
                mail.status, mail.error = MailStatus.FAILED.value, outcome.error[:ERROR_CHARS]
            else:
                mail.error = outcome.error[:ERROR_CHARS]
                mail.next_attempt_at = now + self.backoff[mail.attempts - 1]
