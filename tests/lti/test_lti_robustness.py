"""What anyone may send to the LTI endpoints: refused with a 4xx page, never a 5xx, and nothing
opened."""

from __future__ import annotations

import pytest

from lti_platform import TOOL


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/lti/login", None),
        ("get", "/lti/login?iss=" + "x" * 5000, None),
        ("get", "/lti/login?iss=%00&login_hint=%ff&target_link_uri=%ED%A0%80", None),
        ("post", "/lti/login", b"iss=%ED%A0%80&login_hint=%FF&target_link_uri=" + TOOL.encode()),
        ("post", "/lti/launch", None),
        ("post", "/lti/launch", {"id_token": "a.b.c", "state": ""}),
        ("post", "/lti/launch", {"id_token": "a.b.c", "state": "\x00" * 10}),
        ("post", "/lti/launch", {"id_token": "", "state": "s" * 300}),
        ("post", "/lti/launch/confirm", {"launch": "x" * 50, "value": "v"}),
        ("get", "/lti/continue/" + "x" * 50, None),
        ("get", "/lti/continue/%00", None),
        ("get", "/lti/continue/" + "x" * 500, None),
        ("post", "/lti/link", {"launch": "x" * 50, "course": "new"}),
        ("post", "/lti/link", {}),
        ("post", "/lti/deep-link", b"launch=" + b"%ED%A0%80" * 30 + b"&assignment=%00"),
        ("get", "/lti/platforms/%00/config", None),
        ("get", "/lti/platforms/" + "p" * 300 + "/config", None),
    ],
)
def test_bad_input_is_a_4xx_page(browser, method, path, data) -> None:
    if isinstance(data, bytes):  # a form as no well-behaved client would encode it
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        response = browser.request(method, path, content=data, headers=headers)
    else:
        response = browser.request(method, path, data=data)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert "grader_session" not in response.headers.get("set-cookie", "")


def test_the_key_set_is_json_even_before_any_key(browser) -> None:
    response = browser.get("/lti/jwks")
    assert response.status_code == 200 and isinstance(response.json()["keys"], list)
