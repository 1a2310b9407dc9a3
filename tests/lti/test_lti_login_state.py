"""The login's state: signed by the tool, bound to the browser that began the login (its cookie),
used once, and stored nowhere until a launch is accepted: anyone's logins and launches write no
row."""

from __future__ import annotations

import html
import time
from urllib.parse import parse_qsl, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.lti import keys, logins
from api.models import LtiLaunch, LtiLogin

from lti_platform import LMS, TOOL


def refused(response, check: str, status: int) -> None:
    assert response.status_code == status, response.text
    assert f'<code class="lti-check">{check}</code>' in response.text
    assert "grader_session" not in response.headers.get("set-cookie", "")


def rows(engine) -> tuple[int, int]:
    with Session(engine) as db:
        return db.scalar(select(func.count()).select_from(LtiLogin)), db.scalar(
            select(func.count()).select_from(LtiLaunch)
        )


def test_the_login_sets_a_cookie_for_its_state_alone(lms: LMS) -> None:
    login = lms.login()
    query = lms.authenticate(login)
    (cookie,) = login.headers.get_list("set-cookie")
    name, _, attributes = cookie.partition("=")
    assert name.startswith("__Host-lti-login-")  # https: no other host of the domain can set it
    assert query["state"] not in cookie and query["nonce"] not in cookie
    for attribute in ("HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/", "Max-Age=600"):
        assert attribute in attributes
    assert "Domain" not in attributes


def test_a_launch_in_another_browser_than_its_login_is_refused(lms: LMS, app) -> None:
    """Login CSRF: someone's own login and launch (a valid id_token and state), posted by another
    browser, opens nothing there; in the browser that began the login it is accepted."""
    state, nonce = lms.tool_login()
    token = lms.forge(lms.claims(nonce))
    victim = TestClient(app, base_url=TOOL, follow_redirects=False)
    page = victim.post("/lti/launch", data={"id_token": token, "state": state})
    refused(page, "state", 400)
    assert "did not begin in this browser" in page.text
    assert lms.post_launch(token, state).status_code == 200  # the refusal used nothing up


def test_a_used_state_is_refused_even_with_its_cookie(lms: LMS) -> None:
    login = lms.login()
    query = lms.authenticate(login)
    cookie = login.headers["set-cookie"].split(";", 1)[0]
    token = lms.forge(lms.claims(query["nonce"]))
    first = lms.post_launch(token, query["state"])
    assert first.status_code == 200
    assert cookie.split("=", 1)[0] + "=;" in first.headers["set-cookie"]  # the launch removes the cookie
    replayed = lms.client.post(
        "/lti/launch", data={"id_token": token, "state": query["state"]}, headers={"Cookie": cookie}
    )
    refused(replayed, "state", 400)
    assert "used already" in replayed.text


def test_a_state_the_tool_did_not_sign_or_that_expired_is_refused(lms: LMS, app) -> None:
    state, nonce = lms.tool_login()
    body, _, signature = state.partition(".")
    other = logins.new_state(kek=keys.new_kek(), platform_id=lms.id, storage_target=None)[0]
    expired, login = logins.new_state(
        kek=app.state.settings.lti_key, platform_id=lms.id, storage_target=None, now=time.time() - logins.LIFETIME
    )
    for forged in (f"{body}.{signature[::-1]}", f"{body}x.{signature}", other, expired, state.replace(".", "")):
        page = lms.post_launch(lms.forge(lms.claims(login.nonce if forged == expired else nonce)), forged)
        refused(page, "state", 400)
        assert "not one of this tool's logins, or has expired" in html.unescape(page.text)


def test_anyones_logins_and_launches_write_no_row(lms: LMS, engine, browser: TestClient) -> None:
    """A flood of logins from one client (and launches with what they hand out) stores nothing: the
    state is in the login's answer, not in the database."""
    before = rows(engine)
    params = {"iss": lms.issuer, "login_hint": "x", "target_link_uri": TOOL + "/lti/launch"}
    for number in range(300):
        login = browser.get("/lti/login", params=params)
        assert login.status_code == 302
        if number % 10 == 0:  # a launch with a token no platform signed
            state = dict(parse_qsl(urlsplit(login.headers["location"]).query))["state"]
            launched = browser.post("/lti/launch", data={"id_token": "not.a.jwt", "state": state})
            refused(launched, "jwt", 401)
    assert rows(engine) == before
    # an accepted launch writes its state, to be used once
    state, nonce = lms.tool_login()
    assert lms.post_launch(lms.forge(lms.claims(nonce)), state).status_code == 200
    assert rows(engine)[0] == before[0] + 1


def test_platform_storage_logins_set_no_cookie_and_are_bound_by_the_storage(lms: LMS) -> None:
    params = {
        "iss": lms.issuer,
        "login_hint": "u",
        "target_link_uri": TOOL + "/lti/launch",
        "lti_storage_target": "_parent",
    }
    login = lms.client.get("/lti/login", params=params)
    assert login.status_code == 200 and "set-cookie" not in login.headers
