"""Bodies of the sign-in link and personal token operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StrictBool

from api.kit.schemas import RequestSchema, Schema, printable


class SignInLinkIn(RequestSchema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"send": True}, {}]})

    send: StrictBool = Field(
        default=False,
        description="Mail the link to the student's own address (needs GRADER_SMTP_URL) instead of showing it here.",
    )


class MailOut(Schema):
    id: int
    kind: str
    student: str = Field(validation_alias="user_id")
    to: str = Field(validation_alias="to_address")
    status: str = Field(description="`pending` (queued or being retried), `sent`, or `failed` (given up on)")
    attempts: int
    error: str | None = Field(description="The mail server's reason for the last failure")
    created_at: datetime
    sent_at: datetime | None


class SignInLinkOut(Schema):
    student: str
    url: str | None = Field(
        default=None, description="The one-time link, shown this once (only its hash is stored); null when mailed"
    )
    expires_at: datetime | None = None
    mail: MailOut | None = Field(default=None, description="The mail that carries the link, when `send` was asked")
    refused: str | None = Field(default=None, description="Why this student got no link (in a link for every student)")


class TokenIn(RequestSchema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "my laptop's scripts"}]})

    name: Annotated[str, AfterValidator(printable)] = Field(
        min_length=1, max_length=100, description="What the token is for (a script, a laptop)"
    )


class PersonalTokenOut(Schema):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="To the hour")


class NewPersonalTokenOut(PersonalTokenOut):
    token: str = Field(description="The token, shown this once (only its hash is stored)")
