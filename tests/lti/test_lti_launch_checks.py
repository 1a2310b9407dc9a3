"""Every check of a launch, each failing alone on a launch that is otherwise valid: a 4xx page that
names the check, and no session. The tokens are forged by hand (:meth:`LMS.forge`)."""

from __future__ import annotations

import time

import httpx
import pytest

from lti_platform import DL, LMS, rsa_pem

NOW = int(time.time())


def refused(response, check: str, status: int = 401) -> None:
    assert response.status_code == status, response.text
    assert f'<code class="lti-check">{check}</code>' in response.text
    assert "grader_session" not in response.headers.get("set-cookie", "")


def launch_with(lms: LMS, **changes):
    state, nonce = lms.tool_login()
    return lms.post_launch(lms.forge(lms.claims(nonce, **changes)), state)


def test_a_valid_forged_launch_is_accepted(lms) -> None:
    """The baseline of this file: the claims below are valid as they are (a learner's launch from
    an LMS course not linked yet: the page says so)."""
    response = launch_with(lms)
    assert response.status_code == 200 and "not ready yet" in response.text


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"LTI_version": "1.1"}, "version"),
        ({"LTI_version": None}, "version"),
        ({"LTI_message_type": "LtiSubmissionReviewRequest"}, "message_type"),
        ({"iss": "https://other.example.edu"}, "iss"),
        ({"aud": "someone-else", "azp": None}, "aud"),
        ({"aud": ["someone-else", "another"]}, "aud"),
        ({"azp": "someone-else"}, "azp"),
        ({"exp": NOW - 3600}, "exp"),
        ({"exp": None}, "exp"),
        ({"iat": NOW + 3600}, "iat"),
        ({"iat": NOW - 7200}, "iat"),
        ({"nonce": "not-the-login-nonce"}, "nonce"),
        ({"LTI_deployment_id": "unregistered"}, "deployment_id"),
        ({"sub": None}, "sub"),
        ({"sub": ""}, "sub"),
        ({"sub": "a\x00b"}, "sub"),
        ({"sub": "s" * 256}, "sub"),
        ({"LTI_roles": "Learner"}, "roles"),
        ({"LTI_resource_link": None}, "resource_link"),
        ({"LTI_message_type": "LtiDeepLinkingRequest"}, "deep_linking_settings"),
    ],
)
def test_a_failed_check_is_a_page_naming_it(lms, changes, check) -> None:
    refused(launch_with(lms, **changes), check)


def test_an_audience_of_several_needs_azp_to_be_this_tool(lms) -> None:
    refused(launch_with(lms, aud=[lms.client_id, "another"], azp=None), "azp")
    accepted = launch_with(lms, aud=[lms.client_id, "another"], azp=lms.client_id)
    assert accepted.status_code == 200


def test_a_small_clock_difference_is_allowed(lms) -> None:
    assert launch_with(lms, exp=int(time.time()) - 20, iat=int(time.time()) + 20).status_code == 200


def test_a_deep_linking_request_with_its_settings_passes_the_checks(lms) -> None:
    settings = {DL + "deep_linking_settings": {"deep_link_return_url": lms.issuer + "/dl"}}
    response = launch_with(lms, LTI_message_type="LtiDeepLinkingRequest", LTI_resource_link=None, **settings)
    assert response.status_code == 200  # not linked, a learner: "not ready yet"


def test_a_state_is_used_once(lms) -> None:
    state, nonce = lms.tool_login()
    token = lms.forge(lms.claims(nonce))
    assert lms.post_launch(token, state).status_code == 200
    refused(lms.post_launch(token, state), "state", status=400)


def test_an_unknown_state_is_refused(lms) -> None:
    _, nonce = lms.tool_login()
    refused(lms.post_launch(lms.forge(lms.claims(nonce)), "made-up-state-" + "x" * 30), "state", status=400)


def test_a_nonce_of_another_login_is_refused(lms) -> None:
    """A token replayed into a new login: its nonce is not the new login's."""
    _, old_nonce = lms.tool_login()
    state, _ = lms.tool_login()
    refused(lms.post_launch(lms.forge(lms.claims(old_nonce)), state), "nonce")


def test_a_bad_signature_is_refused(lms) -> None:
    state, nonce = lms.tool_login()
    impostor = rsa_pem()
    refused(lms.post_launch(lms.forge(lms.claims(nonce), key=impostor, kid=lms.kid()), state), "signature")


def test_a_tampered_token_is_refused(lms) -> None:
    state, nonce = lms.tool_login()
    head, _, signature = lms.forge(lms.claims(nonce)).split(".")
    other = lms.forge(lms.claims(nonce, sub="someone-else")).split(".")[1]
    refused(lms.post_launch(f"{head}.{other}.{signature}", state), "signature")


@pytest.mark.parametrize("alg", ["HS256", "none"])
def test_only_rs256_is_accepted(lms, alg) -> None:
    state, nonce = lms.tool_login()
    if alg == "none":
        import jwt

        token = jwt.encode(lms.claims(nonce), None, algorithm="none", headers={"kid": lms.kid()})
    else:
        token = lms.forge(lms.claims(nonce), alg="HS256")
    refused(lms.post_launch(token, state), "alg")


def test_garbage_is_not_a_jwt(lms) -> None:
    state, _ = lms.tool_login()
    refused(lms.post_launch("not.a.jwt", state), "jwt")


def test_an_oversized_id_token_is_refused_before_anything(lms) -> None:
    state, _ = lms.tool_login()
    response = lms.post_launch("x" * 70_000, state)
    assert response.status_code == 422  # the form field's bound


def test_an_unknown_kid_fetches_the_key_set_again_once(lms) -> None:
    launch_with(lms)  # the key set is cached now
    fetched = lms.jwks_fetches
    assert launch_with(lms).status_code == 200 and lms.jwks_fetches == fetched  # from the cache
    rotated = rsa_pem()
    lms.also_published.append(rotated)  # the platform rotates: a new key the cache lacks
    state, nonce = lms.tool_login()
    assert lms.post_launch(lms.forge(lms.claims(nonce), key=rotated), state).status_code == 200
    assert lms.jwks_fetches == fetched + 1
    state, nonce = lms.tool_login()
    assert lms.post_launch(lms.forge(lms.claims(nonce), key=rotated), state).status_code == 200
    assert lms.jwks_fetches == fetched + 1  # cached again
    # a kid the platform does not publish even after fetching: refused, after one fetch only
    state, nonce = lms.tool_login()
    refused(lms.post_launch(lms.forge(lms.claims(nonce), key=rsa_pem()), state), "kid")
    assert lms.jwks_fetches == fetched + 2


def test_a_platform_whose_key_set_cannot_be_fetched_is_refused_not_an_error(lms, platforms) -> None:
    platforms.by_issuer.pop(lms.issuer)  # the platform does not answer
    state, nonce = lms.tool_login()
    refused(lms.post_launch(lms.forge(lms.claims(nonce)), state), "jwks")


def test_a_key_set_nested_too_deep_to_read_is_refused_not_an_error(lms, platforms) -> None:
    class Nested:
        """The platform, but its key set is JSON nested deeper than any reader recurses."""

        def handle(self, request: httpx.Request) -> httpx.Response:
            if str(request.url) == lms.jwks_url:
                return httpx.Response(200, content=b"[" * 100_000)
            return lms.handle(request)

    platforms.by_issuer[lms.issuer] = Nested()
    state, nonce = lms.tool_login()
    refused(lms.post_launch(lms.forge(lms.claims(nonce)), state), "jwks")
