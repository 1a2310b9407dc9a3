"""A real SMTP server in the test process (aiosmtpd) that keeps what it receives, and can be
told to refuse the next mails with a temporary error (a relay that is down for a while), or some
addresses for good (a mailbox that does not exist)."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """The aiosmtpd handler: the messages received, as parsed mails."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.refuse_next = 0
        #: Recipients refused with a permanent error (550) at ``RCPT TO``.
        self.unknown: set[str] = set()
        self._lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        with self._lock:
            if address in self.unknown:
                return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return "451 4.3.0 try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self.received.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.received if address in str(m["To"])]

    def wait_for(self, count: int, *, timeout: float = 30.0) -> list[EmailMessage]:
        """Every mail received, once there are at least ``count``."""
        return self._wait(self._all, count, timeout)

    def wait_to(self, address: str, count: int, *, timeout: float = 30.0) -> list[EmailMessage]:
        """The mails to ``address`` (:meth:`to`), once there are at least ``count``: mails to others,
        which the service sends meanwhile in any order, neither count nor hide one."""
        return self._wait(lambda: self.to(address), count, timeout)

    def _all(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.received)

    def _wait(self, mails: Callable[[], list[EmailMessage]], count: int, timeout: float) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while True:
            found = mails()
            if len(found) >= count:
                return found
            assert time.monotonic() < deadline, f"{len(found)} mails after {timeout} s, not {count}"
            time.sleep(0.02)


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on 127.0.0.1 (no TLS) and its port."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def link_in(message: EmailMessage) -> str:
    """The sign-in link of a mail's plain-text part (which must also be in its HTML part)."""
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None, "a mail has a plain-text and an HTML part"
    links = [line.strip() for line in plain.get_content().splitlines() if "/signin/" in line]
    assert len(links) == 1, plain.get_content()
    assert links[0] in html.get_content()
    return links[0]
