"""An LMS in the test process, for the LTI tests (``tests/lti``).

:class:`LMS` is a real LTI 1.3 platform: ``lti1p3platform`` (PyPI) builds the OIDC login request,
checks the tool's authentication request (client id, redirect URI, nonce and state), signs the
launch with the platform's key and checks the tool's deep-linking answer; its token endpoint issues
the tool's access tokens (checking the tool's ``private_key_jwt`` assertion against the tool's key
set), and its Assignment and Grade Services and Names and Role Provisioning Services answer the
tool's line-item, score and roster requests, each checking the bearer token and its scopes. The
tool reaches the platform through an :class:`httpx.MockTransport` (no network), which counts the
key-set fetches.

What that library cannot produce (a wrong audience, an expired token, another deployment, an
unknown key, a bad signature, another version or message type) :meth:`LMS.forge` signs by hand
from :meth:`LMS.claims`, a valid resource-link launch to change one claim at a time.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from lti1p3platform.exceptions import LineItemNotFoundException
from lti1p3platform.lineitem import TLineItem
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from lti1p3platform.response import Response
from lti1p3platform.score import ActivityProgress, GradeProgress, TScore, UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, NamesRoleProvisioningService, TPage
from sqlalchemy.orm import Session

from api.lti import keys, service
from api.models import LtiContext

TOOL = "https://testserver"
#: The key-encryption key of the tests' settings.
KEK = keys.new_kek()
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTRUCTOR, TA, LEARNER = ROLE + "Instructor", ROLE + "TeachingAssistant", ROLE + "Learner"
INSTITUTION_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"
TEST_USER = "http://purl.imsglobal.org/vocab/lti/system/person#TestUser"


def rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@functools.cache
def loaded(private: str) -> Any:
    """The private key loaded once: loading checks it, tens of milliseconds each time."""
    return serialization.load_pem_private_key(private.encode(), password=None)


@functools.cache
def public_pem(private: str) -> str:
    key = loaded(private)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hmac_token(claims: dict[str, Any], headers: dict[str, str], secret: bytes) -> str:
    """An HS256 JWT keyed with ``secret`` (PyJWT refuses a PEM key as an HMAC secret, rightly)."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", **headers}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


class _Config(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def get_preflight_response(self) -> dict[str, Any]:
        return self._request  # the tool's authentication request (its query), as a dict

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return launch_data


class _Request(Request):
    """An HTTP request the tool sent, as lti1p3platform's services read one."""

    def build_metadata(self, request: httpx.Request) -> TRequest:
        body = request.content
        return {
            "method": request.method,
            "form_data": {},
            "get_data": dict(request.url.params),
            "headers": request.headers,
            "content_type": request.headers.get("content-type"),
            "path": request.url.path,
            "json": json.loads(body) if body else None,
        }


class _Grades(AssignmentsGradesService):
    """The platform's line items and scores (AGS), kept by the :class:`LMS`."""

    def __init__(self, lms: LMS, request: httpx.Request) -> None:
        config = _Config(registration=lms.registration())  # type: ignore[arg-type]
        super().__init__(_Request(request), config, lms.lineitems_url)
        self.lms, self.url = lms, str(request.url)

    def find_lineitems(self, resource_id: str | None = None, **_: Any) -> TPage:  # type: ignore[override]
        found = [i for i in self.lms.line_items if resource_id is None or i.get("resourceId") == resource_id]
        return {"content": found, "has_next": False}

    def find_lineitem(self, line_item_id: str) -> TLineItem:
        found = next((i for i in self.lms.line_items if i["id"] == line_item_id), None)
        if found is None:
            raise LineItemNotFoundException(line_item_id)
        return found  # type: ignore[return-value]

    def create_lineitem(self, creation_data: TLineItem) -> TLineItem:
        base = self.lms.lineitems_url.split("?")[0]
        item = {**creation_data, "id": f"{base}/{len(self.lms.line_items) + 1}?section=a"}
        self.lms.line_items.append(item)
        return item  # type: ignore[return-value]

    def update_lineitem(self, update_data: TLineItem) -> TLineItem:
        """The line item replaced whole (AGS ``PUT``), as Canvas moves its assignment's dates with it."""
        place = self.lms.line_items.index(self.find_lineitem(update_data["id"]))  # type: ignore[arg-type]
        self.lms.line_items[place] = dict(update_data)
        self.lms.line_item_puts.append(dict(update_data))
        return update_data

    def delete_lineitem(self, line_item_id: str) -> None:
        raise NotImplementedError

    def update_score(self, line_item_id: str, score: TScore) -> UpdateScoreStatus:
        """The score as the AGS score schema has it (which the library leaves to the platform)."""
        ActivityProgress(score["activityProgress"])
        GradeProgress(score["gradingProgress"])
        assert isinstance(score["userId"], str) and score["userId"]
        if "scoreGiven" in score:  # (optional; its maximum is required beside it)
            assert 0 <= score["scoreGiven"] <= score["scoreMaximum"]  # type: ignore[operator]
        else:
            assert "scoreMaximum" not in score and score["gradingProgress"] != "FullyGraded"
        self.lms.scores.append((self.url, dict(score)))
        return UpdateScoreStatus.SUCCESS

    def get_results(
        self, line_item_id: str, page: int = 1, limit: int | None = None, user_id: str | None = None
    ) -> TPage:
        raise NotImplementedError  # the tool never reads results


class _Roster(NamesRoleProvisioningService):
    """The platform's course roster (NRPS), two members a page."""

    def __init__(self, lms: LMS, request: httpx.Request) -> None:
        config = _Config(registration=lms.registration())  # type: ignore[arg-type]
        super().__init__(_Request(request), config, lms.memberships_url)
        self.lms = lms

    def get_context_by_id(self) -> Context:
        return Context(id="course-1", label="CNN", title="CNN 101")

    def get_member_data_page(self, page: int | str = 0, **_: Any) -> TPage:  # type: ignore[override]
        first = 2 * int(page)
        return {"content": self.lms.roster[first : first + 2], "has_next": first + 2 < len(self.lms.roster)}


def _answer(response: Response, headers: dict[str, str] | None = None) -> httpx.Response:
    """An lti1p3platform service's answer as HTTP: a page of line items is their array, as AGS
    has it (the library returns its page object)."""
    headers = {"Content-Type": response.media_type, **(headers or {})}
    if response.code >= 400:
        return httpx.Response(response.code, json={"errors": [{"message": response.message}]}, headers=headers)
    result = response.result
    if isinstance(result, dict) and "has_next" in result:
        result = result["content"]
    return httpx.Response(response.code, json=result, headers=headers)


@dataclass
class User:
    sub: str
    roles: list[str]
    name: str = "A Person"
    email: str | None = None


@dataclass
class LMS:
    """One registered platform: its issuer is unique per instance (tests share a database)."""

    client: TestClient
    issuer: str = field(default_factory=lambda: f"https://lms-{uuid.uuid4().hex[:8]}.example.edu")
    client_id: str = "10000000000001"
    deployment: str = "1:deployment"
    key: str = field(default_factory=rsa_pem)
    #: Keys published besides :attr:`key` (a rotation in progress).
    also_published: list[str] = field(default_factory=list)
    jwks_fetches: int = 0
    #: The tool's published key set, for the platform's checks of its JWTs (client assertions).
    tool_jwks: dict[str, Any] = field(default_factory=dict)
    #: AGS: line items by id, scores posted (url, body, headers), statuses to answer first.
    line_items: list[dict[str, Any]] = field(default_factory=list)
    scores: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: The line items the tool sent back changed (``PUT``), in order.
    line_item_puts: list[dict[str, Any]] = field(default_factory=list)
    score_answers: list[httpx.Response] = field(default_factory=list)
    #: Answers of the token endpoint to give first (a broken platform).
    token_answers: list[httpx.Response] = field(default_factory=list)
    assertions: list[dict[str, Any]] = field(default_factory=list)
    #: NRPS: the roster's members, served two to a page.
    roster: list[dict[str, Any]] = field(default_factory=list)
    #: The tool's id of this platform, once registered.
    id: str = ""
    #: The tool's address, as the platform knows it.
    tool: str = TOOL

    @property
    def auth_url(self) -> str:
        return self.issuer + "/api/lti/authorize_redirect"

    @property
    def token_url(self) -> str:
        return self.issuer + "/login/oauth2/token"

    @property
    def jwks_url(self) -> str:
        return self.issuer + "/api/lti/security/jwks"

    @property
    def memberships_url(self) -> str:
        return self.issuer + "/api/lti/courses/7/names_and_roles"

    @property
    def lineitems_url(self) -> str:
        return self.issuer + "/api/lti/courses/7/line_items?section=a"

    def registration(self, key: str | None = None) -> Registration:
        key = key or self.key
        return (
            Registration()
            .set_iss(self.issuer)
            .set_client_id(self.client_id)
            .set_deployment_id(self.deployment)
            .set_oidc_login_url(self.tool + "/lti/login")
            .set_launch_url(self.tool + "/lti/launch")
            .set_deeplink_launch_url(self.tool + "/lti/launch")
            .set_platform_private_key(key)
            .set_platform_public_key(public_pem(key))
        )

    def kid(self, key: str | None = None) -> str:
        kid = self.registration(key).get_kid()
        assert kid
        return kid

    # -- the platform's HTTP side, as the tool's client sees it ---------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url == self.jwks_url:
            self.jwks_fetches += 1
            keys = [Registration.get_jwk(public_pem(k)) for k in (self.key, *self.also_published)]
            return httpx.Response(200, json={"keys": keys})
        if url == self.token_url and request.method == "POST" and self.token_answers:
            return self.token_answers.pop(0)
        if url == self.token_url and request.method == "POST":
            form = dict(parse_qsl(request.content.decode()))
            config = _Config(registration=self.registration().set_tool_key_set(self.tool_jwks))  # type: ignore[arg-type]
            self.assertions.append(jwt.decode(form["client_assertion"], options={"verify_signature": False}))
            return httpx.Response(200, json=config.get_access_token(form))
        if url.startswith(self.memberships_url) and request.method == "GET":
            roster = _Roster(self, request)
            page = int(request.url.params.get("page", "0"))
            headers = {}
            if 2 * (page + 1) < len(self.roster):
                headers["Link"] = f'<{self.memberships_url}?page={page + 1}>; rel="next"'
            return _answer(roster.handle_resp(roster.handle_get_members), headers)
        grades = _Grades(self, request)
        base = urlsplit(self.lineitems_url.split("?")[0]).path
        if request.url.path.startswith(base + "/") and request.url.path.endswith("/scores"):
            if self.score_answers and self._authorized(request):
                return self.score_answers.pop(0)
            item = str(request.url.copy_with(path=request.url.path.removesuffix("/scores")))
            return _answer(grades.handle_resp(grades.handle_update_score, line_item_id=item))
        if request.url.path == base and request.method == "GET":
            return _answer(grades.handle_resp(grades.handle_get_lineitems))
        if request.url.path == base and request.method == "POST":
            return _answer(grades.handle_resp(grades.handle_create_lineitem))
        if request.url.path.startswith(base + "/") and request.method in ("GET", "PUT"):
            handler = grades.handle_get_lineitem if request.method == "GET" else grades.handle_update_lineitem
            return _answer(grades.handle_resp(handler, line_item_id=url))
        return httpx.Response(404, json={"error": "not found"})

    def _authorized(self, request: httpx.Request) -> bool:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            return _Config(registration=self.registration()).validate_token(token)
        except Exception:  # any token the platform did not issue
            return False

    # -- the real platform's flow ---------------------------------------------------------------

    def login(self, *, login_hint: str = "hint", message_hint: str = "rl") -> httpx.Response:
        """The platform's third-party initiated login, as lti1p3platform builds it, sent to the tool."""
        login = _Login(None, _Config(registration=self.registration()))
        login.set_lti_message_hint(hint=message_hint)
        return self.client.get(login.initiate_login(login_hint))

    def authenticate(self, response: httpx.Response) -> dict[str, str]:
        """The tool's authentication request (its 302 to our auth URL), as query parameters."""
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(self.auth_url + "?"), location
        return dict(parse_qsl(urlsplit(location).query))

    def launch(
        self,
        user: User,
        *,
        context: str = "course-1",
        context_title: str = "CNN 101",
        resource_link: str = "rl-1",
        custom: dict[str, Any] | None = None,
        deep_link_return_url: str | None = None,
        data: str | None = None,
        lineitem: str | None = None,
    ) -> httpx.Response:
        """A whole launch: login, the tool's authentication request checked by lti1p3platform, the
        id_token it signs, posted to the redirect URI the tool gave."""
        request = self.authenticate(self.login(login_hint=user.sub))
        launch = _Launch(request, _Config(registration=self.registration()))
        launch.set_user_data(user.sub, user.roles, full_name=user.name, email_address=user.email)
        launch.set_launch_context_claim(context, context_title=context_title)
        if deep_link_return_url:
            launch.set_dl(deep_link_return_url, extra_data=data)  # type: ignore[arg-type]  # opaque data
        else:
            launch.set_resource_link_claim(resource_link)
        if custom:
            launch.set_custom_parameters_claim(custom)
        launch.set_ags(self.lineitems_url, lineitem)
        launch.set_nrps(self.memberships_url)
        form = launch.lti_launch()
        return self.client.post(form["launch_url"], data={"id_token": form["id_token"], "state": form["state"]})

    def deep_linking_items(self, jwt_value: str, tool_jwks: dict[str, Any]) -> list[dict[str, Any]]:
        """The content items of the tool's deep-linking answer, checked by lti1p3platform against
        the tool's published key set."""
        config = _Config(registration=self.registration().set_tool_key_set(tool_jwks))  # type: ignore[arg-type]
        return config.validate_deeplinking_resp({"JWT": jwt_value})

    # -- forged launches ------------------------------------------------------------------------

    def tool_login(self) -> tuple[str, str]:
        """A login at the tool: its ``state`` and ``nonce``."""
        request = self.authenticate(self.login())
        return request["state"], request["nonce"]

    def claims(self, login_nonce: str, **changes: Any) -> dict[str, Any]:
        """A valid resource-link launch of a learner for the login of ``login_nonce``; ``changes``
        replace claims (``LTI_x`` for LTI's claim ``x``; None removes one)."""
        nonce = login_nonce
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "azp": self.client_id,
            "sub": "learner-1",
            "exp": now + 300,
            "iat": now,
            "nonce": nonce,
            "name": "Lea Learner",
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment,
            LTI + "target_link_uri": self.tool + "/lti/launch",
            LTI + "roles": [LEARNER],
            LTI + "context": {"id": "course-1", "title": "CNN 101"},
            LTI + "resource_link": {"id": "rl-1"},
        }
        for name, value in changes.items():
            name = name.replace("LTI_", LTI)
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def forge(
        self, claims: dict[str, Any], *, key: str | None = None, kid: str | None = None, alg: str = "RS256"
    ) -> str:
        key = key or self.key
        headers = {"kid": kid if kid is not None else self.kid(key)}
        if alg == "HS256":  # the public key used as an HMAC secret: the classic confusion
            return _hmac_token(claims, headers, public_pem(key).encode())
        return jwt.encode(claims, loaded(key) if alg.startswith(("RS", "PS")) else key, algorithm=alg, headers=headers)

    def post_launch(self, id_token: str, state: str) -> httpx.Response:
        return self.client.post("/lti/launch", data={"id_token": id_token, "state": state})


def register(engine: Any, lms: LMS, *, deployments: list[str] | None = None) -> str:
    with Session(engine) as db, db.begin():
        keys.ensure_key(db, kek=KEK)
        platform = service.register_platform(
            db,
            name="Test LMS",
            issuer=lms.issuer,
            client_id=lms.client_id,
            auth_url=lms.auth_url,
            token_url=lms.token_url,
            jwks_url=lms.jwks_url,
            deployments=deployments or [lms.deployment],
        )
        return platform.id


def link(engine: Any, lms: LMS, context: str, course_id: str) -> None:
    """An LMS course linked to a course, as its instructor's first launch would."""
    with Session(engine) as db, db.begin():
        db.add(LtiContext(platform_id=lms.id, context_id=context, course_id=course_id))
