"""The tool's addresses, made from the service's public address."""

from __future__ import annotations

from starlette.requests import Request

from api.public_url import public_url

LOGIN_PATH, LAUNCH_PATH, JWKS_PATH = "/lti/login", "/lti/launch", "/lti/jwks"


def base_url(request: Request) -> str:
    """The service's address (:mod:`api.public_url`: configured, never the request's ``Host``)."""
    return public_url(request)


def tool_urls(base: str, platform_id: str) -> dict[str, str]:
    """What an admin gives the platform (``grader lti register --json``)."""
    base = base.rstrip("/")
    return {
        "id": platform_id,
        "login_url": base + LOGIN_PATH,
        "launch_url": base + LAUNCH_PATH,
        "jwks_url": base + JWKS_PATH,
        "config_url": f"{base}/lti/platforms/{platform_id}/config",
    }
