"""A browser's view of the pages for the tests: a TestClient with its own cookies, signed in by
pasting a token into the form, and the CSRF token read from the page as a browser would."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def hidden_csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no csrf field on the page"
    return found.group(1)


class Browser:
    """One browser: its own cookie jar; redirects are not followed, so tests see them."""

    def __init__(self, app: Any, *, base_url: str = "http://testserver") -> None:
        self.client = TestClient(app, raise_server_exceptions=False, follow_redirects=False, base_url=base_url)
        self.csrf = ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.get(path, **kwargs)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(
        self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """A form post, with the page's CSRF token unless ``csrf`` is False."""
        fields = {**({"csrf": self.csrf} if csrf else {}), **(data or {})}
        return self.client.post(path, data=fields, **kwargs)

    def sign_in(self, token: str, *, next_path: str = "/") -> httpx.Response:
        self.get("/")
        return self.post("/sign-in", {"token": token, "next": next_path})

    def signed_in(self, token: str) -> Browser:
        response = self.sign_in(token)
        assert response.status_code == 303, response.text
        self.get("/")
        return self
