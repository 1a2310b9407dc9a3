"""The base of every request and response schema, and constrained types shared by them.

Text fields are validated by pydantic (surrounding whitespace stripped first, then lengths and
patterns, then :func:`printable`), which its JSON schema does not say: each type therefore
declares the JSON schema of what it accepts *as sent*, a pattern that allows the whitespace that
is stripped and refuses the control characters (``tests/api/test_text_schemas.py`` checks the two
agree). Lone surrogates are refused too, which no pattern can say portably.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema

from api.kit.mail.address import ADDRESS, DESCRIBED, check_address


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class HealthOut(Schema):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]


class RequestSchema(BaseModel):
    """Request bodies: unknown fields are an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


#: What :func:`printable` refuses: control characters but tab and line breaks, and lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def printable(text: str) -> str:
    """Refuse NUL, other control characters and lone surrogates (no database stores them all).
    One search in C: a megabyte of answers is checked in about a millisecond, not 40."""
    found = _UNPRINTABLE.search(text)
    if found is not None:
        raise ValueError(f"contains the character U+{ord(found.group()):04X}, which is not allowed")
    return text


def at_most(limit: int) -> BeforeValidator:
    """At most ``limit`` characters as sent, surrounding whitespace included (as the schema says)."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            raise ValueError(f"is longer than {limit} characters")
        return value

    return BeforeValidator(check)


#: What ``strip_whitespace`` strips: Unicode's White_Space, as a character class.
SPACE = r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
#: A character :func:`printable` lets through.
PRINTABLE = r"[^\x00-\x08\x0b\x0c\x0e-\x1f]"
#: A printable character that is not stripped.
VISIBLE = r"[^\x00-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
#: Text of printable characters only (answers, answer keys).
PRINTABLE_TEXT = f"^{PRINTABLE}*$"

#: Ids of students and assignments: letters, digits and ``._-@``, as in URLs and spreadsheets.
Identifier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{SPACE}*[A-Za-z0-9][A-Za-z0-9._@-]{{0,63}}{SPACE}*$",
            "description": "1 to 64 letters, digits and `._@-`, starting with a letter or digit "
            "(surrounding whitespace is ignored).",
        }
    ),
]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(printable),
    WithJsonSchema(
        {
            "type": "string",
            # 1 to 200 characters once stripped: the first and the last of them visible
            "pattern": f"^{SPACE}*{VISIBLE}(?:{PRINTABLE}{{0,198}}{VISIBLE})?{SPACE}*$",
            "description": "1 to 200 characters, no control characters (surrounding whitespace is ignored).",
        }
    ),
]
EMAIL_MAX = 320
#: An address mail can be sent to (:mod:`api.kit.mail.address`: ASCII, as every relay takes it), refused
#: with a sentence that quotes it and says what is wrong.
Email = Annotated[
    str,
    at_most(EMAIL_MAX),
    StringConstraints(strip_whitespace=True),
    AfterValidator(check_address),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": EMAIL_MAX,
            "pattern": f"^{SPACE}*{ADDRESS}{SPACE}*$",
            "description": f"{DESCRIBED[0].upper()}{DESCRIBED[1:]} (surrounding whitespace is ignored).",
        }
    ),
]


def not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("is blank")
    return text


def prose_schema(limit: int, *, required: bool, description: str) -> WithJsonSchema:
    """The JSON schema of prose: text kept as typed (nothing stripped: a comment's line breaks are
    the grader's), at most ``limit`` characters, no control characters but tab and line breaks;
    ``required``: with a visible character (see :func:`not_blank`)."""
    pattern = f"^{PRINTABLE}*{VISIBLE}{PRINTABLE}*$" if required else PRINTABLE_TEXT
    return WithJsonSchema({"type": "string", "maxLength": limit, "pattern": pattern, "description": description})


class JobStarted(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"job": 17}]})

    job: int = Field(description="The job's id: `GET /api/v1/jobs/{id}` tells how far it got.")
