"""``GRADER_SMTP_URL``: what each form means, and a clear refusal of a wrong one at start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.kit.config import Settings
from api.kit.mail.smtp import SmtpSettings


@pytest.mark.parametrize(
    ("url", "host", "port", "implicit", "starttls", "verify", "user", "password"),
    [
        # STARTTLS on the submission port by default
        ("smtp://relay.uni.example", "relay.uni.example", 587, False, True, True, None, None),
        ("smtp://u%40uni:p%3Ass@relay:2525", "relay", 2525, False, True, True, "u@uni", "p:ss"),
        # TLS from the first byte
        ("smtps://relay", "relay", 465, True, False, True, None, None),
        # a relay on the same host, in the clear; a test relay with its own certificate
        ("smtp://localhost:25?starttls=false", "localhost", 25, False, False, True, None, None),
        ("smtps://relay?verify=false", "relay", 465, True, False, False, None, None),
    ],
)
def test_the_forms_of_the_url(url, host, port, implicit, starttls, verify, user, password) -> None:
    parsed = SmtpSettings.from_url(url)
    assert (parsed.host, parsed.port, parsed.implicit_tls, parsed.starttls, parsed.verify) == (
        host,
        port,
        implicit,
        starttls,
        verify,
    )
    assert (parsed.username, parsed.password) == (user, password)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://relay", "must start with smtp://"),
        ("smtp://", "names no host"),
        ("smtp://relay?tls=yes", "unknown option"),
        ("smtp://relay?starttls=maybe", "must be true or false"),
        ("smtp://relay:99999", "port"),
    ],
)
def test_a_wrong_url_is_refused_when_the_service_starts(url: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Settings.from_env({"GRADER_SMTP_URL": url})
