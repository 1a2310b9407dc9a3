"""An issuer registered more than once (two registrations of one LMS, each with its client id and
deployment): a login that names its client id, or a deployment that tells the registrations apart,
is that registration's; one that names neither is refused with a page that says to send client_id,
never given to either registration."""

from __future__ import annotations

from typing import Any

import pytest

from factories import unique
from lti_platform import LEARNER, LMS, TOOL, User, register


@pytest.fixture
def second(lms: LMS, engine: Any, browser: Any) -> LMS:
    """The same LMS (its issuer and its keys) registered a second time, as another client."""
    again = LMS(browser, issuer=lms.issuer, client_id=unique("client"), deployment=unique("deployment"), key=lms.key)
    again.id = register(engine, again)
    return again


def login(browser: Any, lms: LMS, **extra: str) -> Any:
    params = {"iss": lms.issuer, "login_hint": "u", "target_link_uri": TOOL + "/lti/launch", **extra}
    return browser.get("/lti/login", params=params)


def test_one_registration_needs_no_client_id(lms: LMS, browser: Any) -> None:
    assert lms.authenticate(login(browser, lms))["client_id"] == lms.client_id


def test_a_login_without_client_id_of_an_issuer_registered_twice_is_refused(lms, second, browser) -> None:
    for extra in ({}, {"lti_deployment_id": "neither-registration-s"}):
        page = login(browser, lms, **extra)
        assert page.status_code == 400 and '<code class="lti-check">client_id</code>' in page.text
        assert "the LMS must send client_id with the login" in page.text
        assert "set-cookie" not in page.headers


def test_the_deployment_or_the_client_id_tells_the_registrations_apart(lms, second, browser) -> None:
    for platform in (lms, second):
        by_deployment = platform.authenticate(login(browser, platform, lti_deployment_id=platform.deployment))
        assert by_deployment["client_id"] == platform.client_id
        by_client = platform.authenticate(login(browser, platform, client_id=platform.client_id))
        assert by_client["client_id"] == platform.client_id
    # the second registration's launch, its login resolved by its deployment, is accepted as its own
    query = second.authenticate(login(browser, second, lti_deployment_id=second.deployment))
    page = second.post_launch(second.forge(second.claims(query["nonce"])), query["state"])
    assert page.status_code == 200 and "not ready yet" in page.text
    # the first registration's token for that login is not accepted: not its audience
    query = second.authenticate(login(browser, second, lti_deployment_id=second.deployment))
    wrong = lms.post_launch(lms.forge(lms.claims(query["nonce"])), query["state"])
    assert wrong.status_code == 401 and '<code class="lti-check">aud</code>' in wrong.text


def test_a_real_launch_of_each_registration_works(lms, second) -> None:
    """lti1p3platform's logins name their client id."""
    for platform in (lms, second):
        page = platform.launch(User(unique("sub"), [LEARNER]))
        assert page.status_code == 200 and "not ready yet" in page.text
