"""Email addresses as the service takes them: the plain ASCII form every mail relay takes.

An address ends up in an SMTP envelope (``RCPT TO``) and in a ``To:`` header. A relay without
SMTPUTF8 (RFC 6531) refuses a non-ASCII address, and a line break in a header could add headers;
so an address here is RFC 5321's common form: a local part of letters, digits and
``!#$%&'*+/=?^_`{|}~-`` with single dots between, an ``@``, and a host name (labels of letters,
digits and inner hyphens, dots between). Quoted local parts, address literals (``[127.0.0.1]``)
and internationalised addresses are refused, each with a sentence that names the address and
what is wrong with it. Display names may be any text: :func:`one_line` makes them one safe line.
"""

from __future__ import annotations

import email.policy
import re
import unicodedata
from email.headerregistry import Address, AddressHeader, BaseHeader

#: What a local part may hold besides dots (RFC 5322 ``atext``).
ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
LOCAL_PART = rf"[{ATEXT}]+(?:\.[{ATEXT}]+)*"
LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DOMAIN = rf"{LABEL}(?:\.{LABEL})*"
#: An address the service sends to, as a regular expression (also the JSON schema's, in
#: :data:`api.kit.schemas.Email`).
ADDRESS = rf"{LOCAL_PART}@{DOMAIN}"
#: What the form asks for, in words.
DESCRIBED = (
    "an ASCII address: letters, digits and !#$%&'*+/=?^_`{|}~- with single dots between before the @, "
    "a host name after it"
)

_ADDRESS, _LOCAL_PART = re.compile(ADDRESS, re.ASCII), re.compile(LOCAL_PART, re.ASCII)


class AddressError(ValueError):
    """Not an address mail can be sent to; the message says which and why, for the person who typed it."""


def check_address(text: str) -> str:
    """``text`` if mail can be sent to it as it is, else :class:`AddressError` saying why."""
    if _ADDRESS.fullmatch(text):
        return text
    raise AddressError(f"{shown(text)} is not an address mail can be sent to: {_why(text)}")


def _why(text: str) -> str:
    if not text:
        return "it is empty"
    for char in text:
        if not char.isprintable():
            return f"it holds {_named(char)}, which no address may hold"
    for char in text:
        if not char.isascii():
            return (
                f'it holds "{char}", which is not ASCII: the service sends mail to ASCII addresses only, '
                "as every mail relay takes them (use an ASCII address for this person)"
            )
    if " " in text:
        return "it holds a space"
    if "@" not in text:
        return "it has no @"
    if text.count("@") > 1:
        return f"it has {text.count('@')} @s, and an address has one"
    local, _ = text.split("@")
    if not _LOCAL_PART.fullmatch(local):
        return (
            "the part before the @ must be letters, digits and !#$%&'*+/=?^_`{|}~-, "
            "with single dots between (no dot first or last)"
        )
    return (
        "the part after the @ must be a host name: labels of letters, digits and hyphens (at most 63, "
        "no hyphen first or last) with single dots between"
    )


def shown(text: str) -> str:
    """``text`` in quotes, with what cannot be seen (line breaks, control and format characters)
    written as escapes, so that a message quoting it says what is there."""
    return '"' + "".join(char if char.isprintable() else _escape(char) for char in text) + '"'


def _escape(char: str) -> str:
    return f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}"


def _named(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def one_line(text: str) -> str:
    """``text`` as one line of visible characters and single spaces: line breaks (U+2028 and
    U+2029 included), control and format characters (bidirectional overrides) become spaces, so a
    name or title put in a header can add no header and hide nothing."""
    return " ".join("".join(char if char.isprintable() else " " for char in text).split())


def sender_address(text: str) -> Address:
    """``GRADER_MAIL_FROM`` (``address`` or ``Name <address>``) as the ``From`` of a mail, or
    :class:`AddressError` saying what is wrong with it."""
    odd = next((char for char in text if not char.isprintable()), None)
    if odd is not None:
        raise AddressError(f"GRADER_MAIL_FROM holds {_named(odd)}: it must be one line")
    header = email.policy.default.header_factory("From", text)
    assert isinstance(header, BaseHeader) and isinstance(header, AddressHeader)
    if len(header.addresses) == 1:
        try:
            check_address(header.addresses[0].addr_spec)
        except AddressError as error:
            raise AddressError(f"GRADER_MAIL_FROM: {error}") from None
    if len(header.addresses) != 1 or header.defects:
        raise AddressError(f"GRADER_MAIL_FROM {shown(text)} must be one address, or a name and <address>")
    (parsed,) = header.addresses
    return Address(display_name=one_line(parsed.display_name), addr_spec=parsed.addr_spec)
