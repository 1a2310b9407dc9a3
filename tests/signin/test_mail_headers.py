"""What reaches a mail's headers: an address as every relay takes it (ASCII, no SMTPUTF8 needed),
and names, titles and the sender on one line whatever they hold, so no text the service was
given can add a header or make a mail that no relay takes."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from api.kit.config import Settings
from api.kit.mail.address import ADDRESS, AddressError, check_address, one_line
from api.kit.mail.compose import sign_in_mail

#: The headers of a sign-in mail, in order: whatever a name holds, no other.
HEADERS = ["Subject", "From", "To", "Date", "Message-ID", "Auto-Submitted"]
#: Text that tries to end a header line or hide what follows it.
BREAKERS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\u202e\u200b\x00\x7f"


def _mail(*, to: str, name: str, title: str | None, sender: str = "Grader <grader@example.edu>") -> EmailMessage:
    return sign_in_mail(
        sender=sender,
        to=to,
        name=name,
        url="https://grader.example.edu/signin/abc",
        expires_at=datetime(2026, 12, 1, tzinfo=UTC),
        course_title=title,
        invitation=title is not None,
    )


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    address=st.from_regex(ADDRESS, fullmatch=True).filter(lambda text: len(text) <= 320),
    name=st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(BREAKERS), min_size=1, max_size=40),
    title=st.none() | st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(BREAKERS), max_size=40),
)
def test_any_address_taken_and_any_name_make_a_seven_bit_mail_with_its_headers_only(
    address: str, name: str, title: str | None
) -> None:
    raw = _mail(to=address, name=name, title=title).as_bytes()
    assert raw.isascii()  # no relay needs SMTPUTF8 or 8BITMIME for it
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert list(parsed.keys()) == [*HEADERS, "MIME-Version", "Content-Type"]
    (to,) = parsed["To"].addresses
    assert to.addr_spec == address
    assert to.display_name == one_line(name)
    assert all(char.isprintable() for char in to.display_name + parsed["Subject"])


@pytest.mark.parametrize(
    "address",
    [
        "josé@example.edu",
        "ada\u2028@example.edu",
        "eve@example.edu\r\nBcc: victim@example.com",
        '"ada lovelace"@example.edu',
        "ada@[127.0.0.1]",
    ],
)
def test_a_mail_to_an_address_no_relay_takes_is_not_made(address: str) -> None:
    with pytest.raises(AddressError, match="is not an address mail can be sent to"):
        _mail(to=address, name="Ada", title=None)


@pytest.mark.parametrize(
    ("sender", "says"),
    [
        ("Grader <josé@example.edu>", 'it holds "é", which is not ASCII'),
        ("Grader\r\nBcc: victim@example.com <grader@example.edu>", "holds U\\+000D: it must be one line"),
        ("Grader\u2028 <grader@example.edu>", "holds U\\+2028 \\(LINE SEPARATOR\\)"),
        ("grader@example.edu, victim@example.com", "must be one address"),
        ("Grader", "it has no @"),
    ],
)
def test_a_sender_no_relay_takes_is_refused_when_the_service_starts(sender: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Settings.from_env({"GRADER_MAIL_FROM": sender})


def test_a_sender_with_a_name_is_the_mails_from() -> None:
    assert Settings.from_env({"GRADER_MAIL_FROM": "Grader <grader@example.edu>"}).mail_from == (
        "Grader <grader@example.edu>"
    )
    message = _mail(to="ada@uni.example", name="Ada", title=None, sender='"Grader, CNN 101" <grader@example.edu>')
    (sender,) = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Grader, CNN 101", "grader@example.edu")
    assert message["Message-ID"].endswith("@example.edu>")


@pytest.mark.parametrize("address", ["ada@localhost", "O'Brien+cnn.101@Sub-1.Uni.example", "a!#$%&*/=?^_`{|}~-@b"])
def test_the_addresses_relays_take_are_kept_as_typed(address: str) -> None:
    assert check_address(address) == address
