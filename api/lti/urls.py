"""The tool's addresses, made from the service's public address."""

from __future__ import annotations

LOGIN_PATH, LAUNCH_PATH, JWKS_PATH = "/lti/login", "/lti/launch", "/lti/jwks"


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
