"""The thread that drains the mail outbox in each service process (:mod:`api.signin.outbox`).

It wakes when a request has queued a mail (after that request's commit) and otherwise looks again
every :data:`POLL_SECONDS` for retries that have come due and for mails another process queued.
Several processes draining one outbox is safe: a mail is leased before it is sent.
"""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

from sqlalchemy import Engine

from api.kit.background import Rounds
from api.kit.config import Settings
from api.kit.db import make_sessionmaker
from api.kit.mail import smtp
from api.signin.outbox import Outbox

log = logging.getLogger("grader.mail")

POLL_SECONDS = 5.0


class MailRunner(Rounds):
    def __init__(self, outbox: Outbox, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.outbox = outbox
        super().__init__(self._deliver, name="grader-mail", every=poll_seconds, log=log)

    def _deliver(self) -> None:
        self.outbox.deliver_due()  # (read here: tests replace the outbox)


def mail_runner(settings: Settings, engine: Engine, reads: Engine) -> MailRunner | None:
    """The process's mail runner, or None when no mail is set up (``GRADER_SMTP_URL``): its writes
    on ``engine``, its reads on ``reads`` (the service's :func:`api.kit.db.writer` and
    :func:`api.kit.db.autocommit` engines)."""
    if settings.smtp_url is None:
        return None
    outbox = Outbox(
        sessions=make_sessionmaker(engine),
        reads=make_sessionmaker(reads),
        send=functools.partial(smtp.send, smtp.SmtpSettings.from_url(settings.smtp_url)),
        sender=settings.mail_from,
        link_lifetime=timedelta(days=settings.sign_in_link_days),
    )
    return MailRunner(outbox)
