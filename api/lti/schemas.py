"""The admins' REST API of LTI platforms (:mod:`api.lti.router`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from api.kit.schemas import Name, RequestSchema, Schema

#: An absolute http(s) URL without whitespace.
Url = Annotated[str, Field(pattern=r"^https?://[!-~]+$", max_length=2000)]
#: What platforms send as identifiers (issuer, client id, deployment id): visible ASCII.
Opaque = Annotated[str, Field(pattern=r"^[!-~]+$", min_length=1, max_length=255)]


class PlatformIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "University Canvas",
                    "issuer": "https://canvas.instructure.com",
                    "client_id": "10000000000042",
                    "auth_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
                    "token_url": "https://sso.canvaslms.com/login/oauth2/token",
                    "jwks_url": "https://sso.canvaslms.com/api/lti/security/jwks",
                    "deployments": ["42:8865aa05b4b79b64a91a86042e43af5ea8ae79eb"],
                }
            ]
        },
    )

    name: Name
    issuer: Opaque
    client_id: Opaque
    auth_url: Url
    token_url: Url
    jwks_url: Url
    deployments: list[Opaque] = Field(min_length=1, max_length=100)


class PlatformOut(Schema):
    """A registered platform, with the tool's URLs to give it."""

    id: str
    name: str
    issuer: str
    client_id: str
    auth_url: str
    token_url: str
    jwks_url: str
    deployments: list[str]
    login_url: str
    launch_url: str
    tool_jwks_url: str
    config_url: str


class LinkOut(Schema):
    """An LMS course linked to the course."""

    platform: str
    platform_name: str
    context_id: str
    title: str | None
    linked_at: datetime
    lineitems_url: str | None
    memberships_url: str | None


class PassbackOut(Schema):
    """The latest score of a student's assignment sent (or to send) to an LMS course."""

    assignment: str
    student: str
    platform: str
    context_id: str
    status: Literal["pending", "sent", "failed"]
    #: null: the student may not see the attempt graded yet (``feedback: none``), so none is sent.
    score_given: float | None
    score_maximum: float
    grading_progress: str
    timestamp: datetime
    attempts: int
    error: str | None
    sent_at: datetime | None


class DateDifferenceOut(Schema):
    """A due date the LMS gave a user at their latest launch that is not theirs here."""

    assignment: str
    user: str
    name: str
    #: A student's date here is their own (their extension's, else the assignment's); anyone
    #: else's is the assignment's.
    student: bool
    lms_due_at: datetime
    #: null: no due date here.
    due_at: datetime | None
    seen_at: datetime


class CourseLtiOut(Schema):
    links: list[LinkOut]
    passback: list[PassbackOut]
    #: Where the LMS's dates and the course's differ, as the latest launches saw them.
    date_differences: list[DateDifferenceOut]


class RegistrationUrlOut(Schema):
    """A one-time URL for LTI Dynamic Registration, to paste into the LMS (it works once, until
    ``expires_at``)."""

    url: str
    expires_at: datetime
