"""LTI Dynamic Registration, the protocol (1EdTech "LTI Dynamic Registration" 1.0): the platform's
OpenID configuration fetched and checked, the tool's client registration posted to it, and its
answer read. Rows are :mod:`api.lti.registration`'s; the page is :mod:`api.pages.lms.registration`'s.

Everything the platform sends is bounded (:data:`MAX_ANSWER_BYTES` read at most; reading stops
once :data:`DEADLINE` seconds have passed, the client's own timeout bounding each wait) and
checked; anything wrong is a :class:`RegistrationRefused` naming the check, which the page shows
as a 4xx: a platform's failure is never ours.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from api.lti.answers import Unreadable, call, json_of
from api.lti.claims import CUSTOM_DATES, DEEP_LINKING
from api.lti.urls import JWKS_PATH, LAUNCH_PATH, LOGIN_PATH

#: The largest answer read from the platform (a configuration is a few KiB).
MAX_ANSWER_BYTES = 64 * 1024
#: The longest a call to the platform may take, all of it (the client's own timeouts are per read).
DEADLINE = 15.0
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
#: The services the tool asks for: grade passback (AGS) and the roster (NRPS).
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
#: The endpoints a configuration must name, with what the tool calls each.
ENDPOINTS = {
    "authorization_endpoint": "the OIDC authorization URL",
    "token_endpoint": "the OAuth2 token URL",
    "jwks_uri": "the key set URL",
    "registration_endpoint": "the registration URL",
}
_URL = re.compile(r"https?://[!-~]+")
_OPAQUE = re.compile(r"[!-~]{1,255}")


class RegistrationRefused(Exception):
    """The registration stopped: ``check`` names what (``openid_configuration``, ``issuer``, ...)."""

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(check, detail)
        self.check = check
        self.detail = detail


@dataclass(frozen=True, slots=True)
class PlatformConfiguration:
    """What the tool keeps of the platform's OpenID configuration."""

    issuer: str
    auth_url: str
    token_url: str
    jwks_url: str
    registration_url: str
    product: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Registered:
    """The platform's answer: the tool's client id there, and its deployment if it names one
    (Moodle does; Canvas makes the deployment only when an admin installs the tool)."""

    client_id: str
    deployment_id: str | None


def origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def valid_url(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 2000 and _URL.fullmatch(value) is not None


def _call(
    client: httpx.Client, method: str, url: str, headers: dict[str, str], check: str, what: str, body: bytes = b""
) -> dict[str, Any]:
    """The platform's answer as a JSON object, read within :data:`MAX_ANSWER_BYTES` and
    :data:`DEADLINE` (:func:`api.lti.answers.call`)."""
    options = {"headers": headers, "content": body or None}
    try:
        answer = call(client, method, url, max_bytes=MAX_ANSWER_BYTES, deadline=DEADLINE, **options)
        if not 200 <= answer.status_code < 300:
            raise RegistrationRefused(check, f"The platform answered {answer.status_code} for its {what}.")
        value = json_of(answer)
    except Unreadable as unreadable:
        raise RegistrationRefused(check, _unreadable(unreadable, what)) from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        failure = type(error).__name__
        raise RegistrationRefused(check, f"The platform's {what} could not be fetched: {failure}.") from None
    if not isinstance(value, dict):
        raise RegistrationRefused(check, f"The platform's {what} is not a JSON object.")
    return value


def _unreadable(unreadable: Unreadable, what: str) -> str:
    if unreadable.kind == "size":
        return f"The platform's {what} is larger than {MAX_ANSWER_BYTES // 1024} KiB."
    if unreadable.kind == "time":
        return f"The platform took longer than {DEADLINE:.0f} s to send its {what}."
    return f"The platform's {what} is not JSON."


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def fetch_configuration(client: httpx.Client, url: str, *, token: str | None) -> PlatformConfiguration:
    """The platform's OpenID configuration at ``url``, checked: its issuer on the URL's own origin
    (the spec's rule: whoever serves the configuration speaks for that issuer only), the endpoints
    the tool needs, and the LTI platform claim."""
    if not valid_url(url) or origin(url) is None:
        raise RegistrationRefused("openid_configuration", "The openid_configuration parameter is not an http(s) URL.")
    headers = {"Accept": "application/json", **_bearer(token)}
    found = _call(client, "GET", url, headers, "openid_configuration", "OpenID configuration")
    issuer = found.get("issuer")
    if not isinstance(issuer, str) or not _OPAQUE.fullmatch(issuer) or not valid_url(issuer):
        raise RegistrationRefused("issuer", "The platform's configuration names no issuer URL.")
    if origin(issuer) != origin(url):
        raise RegistrationRefused(
            "issuer", f"The configuration's issuer {issuer} is not on the origin it was fetched from ({origin(url)})."
        )
    for name, what in ENDPOINTS.items():
        if not valid_url(found.get(name)):
            raise RegistrationRefused(name, f"The platform's configuration lacks {name} ({what}).")
    platform = found.get(PLATFORM_CONFIGURATION)
    if not isinstance(platform, dict):
        raise RegistrationRefused(PLATFORM_CONFIGURATION, "The configuration lacks the LTI platform claim.")
    methods = found.get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and "private_key_jwt" not in methods:
        raise RegistrationRefused(
            "token_endpoint_auth_methods_supported", "The platform does not take private_key_jwt, the tool's only."
        )
    algorithms = found.get("id_token_signing_alg_values_supported")
    if isinstance(algorithms, list) and "RS256" not in algorithms:
        raise RegistrationRefused("id_token_signing_alg_values_supported", "The platform does not sign with RS256.")
    supported = found.get("scopes_supported")
    scopes = tuple(s for s in SCOPES if not isinstance(supported, list) or s in supported)
    product = platform.get("product_family_code")
    return PlatformConfiguration(
        issuer=issuer,
        auth_url=found["authorization_endpoint"],
        token_url=found["token_endpoint"],
        jwks_url=found["jwks_uri"],
        registration_url=found["registration_endpoint"],
        product=product[:50] if isinstance(product, str) and product.isprintable() else "LMS",
        scopes=scopes,
    )


def tool_registration(base: str, scopes: tuple[str, ...]) -> dict[str, Any]:
    """The tool's client registration (OpenID Connect Dynamic Client Registration with LTI's claim)."""
    launch = base + LAUNCH_PATH
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": base + LOGIN_PATH,
        "redirect_uris": [launch],
        "client_name": "grader",
        "jwks_uri": base + JWKS_PATH,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(base).netloc,
            "description": "Convolutional-network homework, graded on arrival.",
            "target_link_uri": launch,
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            # the LMS's due dates at each launch (api.lti.dates); a platform without them sends them as written
            "custom_parameters": dict(CUSTOM_DATES),
            "messages": [
                {"type": "LtiResourceLinkRequest", "target_link_uri": launch},
                {"type": DEEP_LINKING, "target_link_uri": launch, "label": "grader assignments"},
            ],
        },
    }


def register_tool(client: httpx.Client, platform: PlatformConfiguration, *, base: str, token: str | None) -> Registered:
    """Posts the tool's registration (the registration token as Bearer) and reads the client id
    and, if the platform names it, the deployment id it gave the tool."""
    headers = {"Accept": "application/json", "Content-Type": "application/json", **_bearer(token)}
    body = json.dumps(tool_registration(base, platform.scopes)).encode()
    what = "answer to the registration"
    answer = _call(client, "POST", platform.registration_url, headers, "registration_endpoint", what, body)
    client_id = answer.get("client_id")
    if not isinstance(client_id, str) or not _OPAQUE.fullmatch(client_id):
        raise RegistrationRefused("client_id", "The platform's answer to the registration names no client_id.")
    configuration = answer.get(TOOL_CONFIGURATION)
    deployment = configuration.get("deployment_id") if isinstance(configuration, dict) else None
    if deployment is not None and (not isinstance(deployment, str) or not _OPAQUE.fullmatch(deployment)):
        raise RegistrationRefused("deployment_id", "The deployment_id in the platform's answer is not an identifier.")
    return Registered(client_id, deployment)
