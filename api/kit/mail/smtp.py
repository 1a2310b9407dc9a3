"""Sending one mail over SMTP (the standard library's ``smtplib``), configured by one URL.

``smtp://user:password@host:587`` speaks STARTTLS and refuses to send without it (a relay that
offers no TLS would otherwise see passwords and links in the clear), unless ``?starttls=false``
says so (a relay on the same host); ``smtps://host:465`` is TLS from the first byte.
``?verify=false`` turns certificate checks off, for a test relay with a self-made certificate.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Self
from urllib.parse import parse_qs, unquote, urlsplit

#: Seconds a connection or a reply may take before the attempt fails (and is retried later).
TIMEOUT_SECONDS = 30.0
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class MailError(Exception):
    """A mail could not be sent this time (the relay unreachable or refusing for now); the
    message says why, for the staff page."""


class MailRefused(MailError):
    """The relay refused this mail for good (a 5xx reply to its recipient or its content, or an
    extension it lacks): sending it again cannot help, and other mails may still go."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    verify: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> Self:
        """The settings of ``GRADER_SMTP_URL``; ``ValueError`` saying what is wrong with it."""
        parts = urlsplit(url.strip())
        if parts.scheme not in {"smtp", "smtps"}:
            raise ValueError("GRADER_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS)")
        if not parts.hostname:
            raise ValueError("GRADER_SMTP_URL names no host")
        query = {name: values[-1].lower() for name, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"starttls", "verify"}
        if unknown:
            raise ValueError(f"GRADER_SMTP_URL: unknown option(s) {', '.join(sorted(unknown))} (starttls, verify)")
        flags = {}
        for name in ("starttls", "verify"):
            value = query.get(name, "true")
            if value not in _TRUE | _FALSE:
                raise ValueError(f"GRADER_SMTP_URL: {name} must be true or false, not {value!r}")
            flags[name] = value in _TRUE
        implicit = parts.scheme == "smtps"
        try:
            port = parts.port or (465 if implicit else 587)
        except ValueError:
            raise ValueError("GRADER_SMTP_URL: the port is not a number from 1 to 65535") from None
        return cls(
            host=parts.hostname,
            port=port,
            implicit_tls=implicit,
            starttls=flags["starttls"] and not implicit,
            verify=flags["verify"],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    """Sends one message, or raises :class:`MailError` with the reason (connection, TLS,
    authentication, or the relay's refusal with its code): :class:`MailRefused` when the refusal
    is this mail's own and final."""
    try:
        client: smtplib.SMTP
        if settings.implicit_tls:
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=TIMEOUT_SECONDS, context=settings.tls_context()
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS)
        with client:
            client.ehlo()
            if settings.starttls:
                if not client.has_extn("starttls"):
                    raise MailError(f"{settings.host} offers no STARTTLS (add ?starttls=false to send in the clear)")
                client.starttls(context=settings.tls_context())
                client.ehlo()
            if settings.username is not None:
                client.login(settings.username, settings.password or "")
            try:
                client.send_message(message)
            except smtplib.SMTPNotSupportedError as error:  # (a non-ASCII address, and no SMTPUTF8)
                raise MailRefused(f"the mail server cannot take this mail: {error}") from None
    except MailError:
        raise
    except smtplib.SMTPRecipientsRefused as error:
        replies = "; ".join(f"{address}: {code} {_text(reply)}" for address, (code, reply) in error.recipients.items())
        final = all(code >= 500 for code, _ in error.recipients.values())
        raise (MailRefused if final else MailError)(f"the mail server refused the address ({replies})") from None
    except smtplib.SMTPResponseException as error:
        answered = f"the mail server answered {error.smtp_code}: {_text(error.smtp_error)}"
        # a 5xx to the message itself (too big, content refused) is final; others may pass later
        final = isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500
        raise (MailRefused if final else MailError)(answered) from None
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"could not reach the mail server {settings.host}:{settings.port}: {error}") from None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
