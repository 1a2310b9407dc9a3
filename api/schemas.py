"""The base of every request and response schema, and constrained types shared by them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class HealthOut(Schema):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]


class RequestSchema(BaseModel):
    """Request bodies: unknown fields are an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


def printable(text: str) -> str:
    """Refuse NUL, other control characters and lone surrogates (no database stores them all)."""
    for char in text:
        if (ord(char) < 32 and char not in "\t\n\r") or 0xD800 <= ord(char) <= 0xDFFF:
            raise ValueError(f"contains the character U+{ord(char):04X}, which is not allowed")
    return text


#: Ids of students and assignments: letters, digits and ``._-@``, as in URLs and spreadsheets.
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(printable)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$"),
    AfterValidator(printable),
]
