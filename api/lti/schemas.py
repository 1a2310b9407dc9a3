"""The admins' REST API of LTI platforms (:mod:`api.lti.router`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from api.schemas import Name, RequestSchema, Schema

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
