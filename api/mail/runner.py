"""The thread that drains the mail outbox in each service process (:mod:`api.mail.outbox`).

It wakes when a request has queued a mail (after that request's commit) and otherwise looks again
every :data:`POLL_SECONDS` for retries that have come due and for mails another process queued.
Several processes draining one outbox is safe: a mail is leased before it is sent.
"""

from __future__ import annotations

import functools
import logging
import threading
from datetime import timedelta

from sqlalchemy import Engine

from api.config import Settings
from api.db import autocommit, make_sessionmaker, writer
from api.mail import smtp
from api.mail.outbox import Outbox

log = logging.getLogger("grader.mail")

POLL_SECONDS = 5.0


class MailRunner:
    def __init__(self, outbox: Outbox, *, poll_seconds: float = POLL_SECONDS) -> None:
        self.outbox = outbox
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._work, name="grader-mail", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _work(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.outbox.deliver_due()
            except Exception:  # the database away for a moment: try again at the next poll
                log.exception("could not send the mails that are due")
            self._wake.wait(self.poll_seconds)


def mail_runner(settings: Settings, engine: Engine) -> MailRunner | None:
    """The process's mail runner, or None when no mail is set up (``GRADER_SMTP_URL``)."""
    if settings.smtp_url is None:
        return None
    outbox = Outbox(
        sessions=make_sessionmaker(writer(engine)),
        reads=make_sessionmaker(autocommit(engine)),
        send=functools.partial(smtp.send, smtp.SmtpSettings.from_url(settings.smtp_url)),
        sender=settings.mail_from,
        link_lifetime=timedelta(days=settings.sign_in_link_days),
    )
    return MailRunner(outbox)
