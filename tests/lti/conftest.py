"""The LTI tests' app: settings with a key-encryption key and the public address the platform
reaches (``https://testserver``), a client over HTTPS that does not follow redirects, and a fresh
platform per test (registered, and reachable by the tool's one HTTP client)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.kit.config import Settings

from lti_platform import KEK, LMS, TOOL, register


@pytest.fixture(scope="module")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, max_body_bytes=256 * 1024, lti_key=KEK, public_url=TOOL)


@pytest.fixture
def browser(app: Any) -> TestClient:
    """A browser of its own (cookies), over HTTPS (LTI's cookies are Secure)."""
    return TestClient(app, base_url=TOOL, follow_redirects=False, raise_server_exceptions=False)


class Platforms:
    """Routes the tool's HTTP client to whichever test platform a URL names."""

    def __init__(self) -> None:
        self.by_issuer: dict[str, LMS] = {}

    def handle(self, request: httpx.Request) -> httpx.Response:
        for issuer, lms in self.by_issuer.items():
            if str(request.url).startswith(issuer + "/"):
                return lms.handle(request)
        raise httpx.ConnectError("no such host", request=request)


@pytest.fixture(scope="module")
def platforms(app: Any) -> Platforms:
    routed = Platforms()
    app.state.lti_http = httpx.Client(transport=httpx.MockTransport(routed.handle))
    return routed


@pytest.fixture
def lms(browser: TestClient, engine: Any, platforms: Platforms) -> Iterator[LMS]:
    platform = LMS(browser)
    platform.id = register(engine, platform)
    platforms.by_issuer[platform.issuer] = platform
    yield platform
    platforms.by_issuer.pop(platform.issuer, None)
