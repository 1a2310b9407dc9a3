"""LTI Dynamic Registration: an admin's one-time URL, opened by a hand-written platform (its OpenID
configuration and registration endpoint, routed to the tool's one HTTP client), registers the
platform, after which a real launch (lti1p3platform's) works. The URL is used once, whatever
happens; every failure to talk to the platform is one and the same 4xx page (its reason goes to the
service's log, not to whoever holds the URL) and registers nothing."""

from __future__ import annotations

import html
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.lti import dynamic, keys, registration
from api.lti.service import Platform, Unresolved, login_platform
from api.models import LtiPlatform, LtiRegistration, Role
from api.pages.lms.registration import FAILED
from api.users.service import create_user
from api.users.tokens import hash_token
from cli.app import app as cli
from harness.server import free_port

from factories import Course, auth, make_instructor, unique
from lti_platform import INSTRUCTOR, KEK, LEARNER, LMS, TOOL, link
from lti_platform import User as LmsUser

AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


@dataclass
class Registrar(LMS):
    """The test platform (:class:`LMS`) with the two endpoints of dynamic registration; an answer
    put in :attr:`config_answer` or :attr:`registration_answer` replaces the right one once."""

    registration_token: str = field(default_factory=lambda: unique("regtoken"))
    config_changes: dict[str, Any] = field(default_factory=dict)
    config_answer: httpx.Response | None = None
    registration_answer: httpx.Response | None = None
    registrations: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)

    @property
    def openid_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    @property
    def registration_url(self) -> str:
        return self.issuer + "/lti/registrations"

    def configuration(self) -> dict[str, Any]:
        found = {
            "issuer": self.issuer,
            "authorization_endpoint": self.auth_url,
            "token_endpoint": self.token_url,
            "jwks_uri": self.jwks_url,
            "registration_endpoint": self.registration_url,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", AGS_SCORE, NRPS],
            dynamic.PLATFORM_CONFIGURATION: {"product_family_code": "moodle", "version": "4.3"},
        }
        for name, value in self.config_changes.items():
            if value is None:
                found.pop(name, None)
            else:
                found[name] = value
        return found

    def handle(self, request: httpx.Request) -> httpx.Response:
        bearer = request.headers.get("Authorization")
        if str(request.url) == self.openid_url:
            if bearer != f"Bearer {self.registration_token}":
                return httpx.Response(401, json={"error": "invalid_token"})
            answer, self.config_answer = self.config_answer, None
            return answer or httpx.Response(200, json=self.configuration())
        if str(request.url) == self.registration_url and request.method == "POST":
            self.registrations.append((json.loads(request.content), bearer))
            if bearer != f"Bearer {self.registration_token}":
                return httpx.Response(401, json={"error": "invalid_token"})
            answer, self.registration_answer = self.registration_answer, None
            return answer or httpx.Response(
                200,
                json={
                    "client_id": self.client_id,
                    dynamic.TOOL_CONFIGURATION: {"deployment_id": self.deployment, "domain": "testserver"},
                },
            )
        return super().handle(request)

    def open(self, url: str, *, token: str | None = None) -> httpx.Response:
        """The platform opens the admin's URL in its frame, as Moodle and Canvas do."""
        params = {"openid_configuration": self.openid_url, "registration_token": token or self.registration_token}
        return self.client.get(urlsplit(url).path, params=params)


@pytest.fixture
def registrar(browser: TestClient, platforms: Any) -> Iterator[Registrar]:
    platform = Registrar(browser, client_id=unique("client"), deployment=unique("deployment"))
    platforms.by_issuer[platform.issuer] = platform
    yield platform
    platforms.by_issuer.pop(platform.issuer, None)


@pytest.fixture(scope="module")
def admin(engine: Any) -> dict[str, str]:
    with Session(engine) as db, db.begin():
        return auth(create_user(db, name="Admin", role=Role.ADMIN, user_id=unique("admin")).token or "")


def new_url(client: TestClient, admin: dict[str, str]) -> str:
    made = client.post("/api/v1/lti/registrations", headers=admin)
    assert made.status_code == 201, made.text
    return made.json()["url"]


def platform_of(db: Session, registrar: Registrar, *, client_id: str | None) -> Platform:
    found = login_platform(db, issuer=registrar.issuer, client_id=client_id, deployment_id=None)
    assert not isinstance(found, Unresolved), found
    return found


def failed(page: httpx.Response) -> None:
    """The one page of a registration that could not talk to the platform."""
    assert page.status_code == 400, page.text
    assert '<code class="lti-check">registration</code>' in page.text and FAILED in html.unescape(page.text)


def registered(engine: Any, platform: Registrar) -> list[LtiPlatform]:
    with Session(engine) as db:
        return list(db.scalars(select(LtiPlatform).where(LtiPlatform.issuer == platform.issuer)))


def test_a_platform_registers_itself_with_the_url_and_then_launches(client, engine, admin, registrar) -> None:
    made = client.post("/api/v1/lti/registrations", headers=admin).json()
    assert made["url"].startswith(TOOL + "/lti/register/")
    expires = datetime.fromisoformat(made["expires_at"])
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)

    page = registrar.open(made["url"])
    assert page.status_code == 200, page.text
    assert "grader is registered" in page.text and registrar.client_id in page.text
    # the page asks the platform's window to close it; only the platform may frame it
    assert f'data-lti-close data-origin="{registrar.issuer}"' in page.text and "lti.js" in page.text
    assert f"frame-ancestors {registrar.issuer}" in page.headers["content-security-policy"]

    # what the tool sent: its registration, with the registration token
    ((sent, bearer),) = registrar.registrations
    assert bearer == f"Bearer {registrar.registration_token}"
    assert sent["application_type"] == "web" and sent["response_types"] == ["id_token"]
    assert sent["grant_types"] == ["implicit", "client_credentials"]
    assert sent["initiate_login_uri"] == TOOL + "/lti/login" and sent["redirect_uris"] == [TOOL + "/lti/launch"]
    assert sent["jwks_uri"] == TOOL + "/lti/jwks" and sent["token_endpoint_auth_method"] == "private_key_jwt"
    assert set(sent["scope"].split()) == {AGS_SCORE, NRPS}  # those the platform supports, of the tool's four
    tool = sent[dynamic.TOOL_CONFIGURATION]
    assert tool["domain"] == "testserver" and tool["target_link_uri"] == TOOL + "/lti/launch"
    assert {m["type"] for m in tool["messages"]} == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    assert {"iss", "sub", "name", "email"} <= set(tool["claims"])

    # what the tool kept: the platform, its URLs from the configuration, its deployment
    with Session(engine) as db:
        platform = platform_of(db, registrar, client_id=registrar.client_id)
        row = db.get(LtiRegistration, hash_token(made["url"].rsplit("/", 1)[-1]))
    assert platform is not None and platform.deployments == {registrar.deployment}
    assert (platform.auth_url, platform.token_url, platform.jwks_url) == (
        registrar.auth_url,
        registrar.token_url,
        registrar.jwks_url,
    )
    assert platform.name == f"moodle ({registrar.issuer})"
    assert row.platform_id == platform.id and row.registered_at is not None

    # a real launch from the platform now works: an instructor links the LMS course, a learner goes in
    registrar.id = platform.id
    teacher = registrar.launch(LmsUser(unique("sub"), [INSTRUCTOR]), context=unique("ctx"))
    assert teacher.status_code == 200 and 'name="course"' in teacher.text
    course = Course(client, make_instructor(engine))
    context = unique("ctx")
    link(engine, registrar, context, course.id)
    learner = registrar.launch(LmsUser(unique("sub"), [LEARNER]), context=context)
    assert learner.status_code == 303 and learner.headers["location"].startswith("/lti/continue/")


def test_a_platform_that_names_no_deployment_keeps_the_one_its_first_launch_names(
    client, engine, admin, registrar
) -> None:
    """Canvas answers the registration with its client id only: the deployment exists once an
    admin installs the tool, and the tool learns it from the first launch (signature verified)."""
    registrar.registration_answer = httpx.Response(201, json={"client_id": registrar.client_id, "client_name": "x"})
    page = registrar.open(new_url(client, admin))
    assert page.status_code == 200 and "its deployment named by the first launch" in page.text
    with Session(engine) as db:
        platform = platform_of(db, registrar, client_id=registrar.client_id)
    assert platform is not None and platform.deployments == frozenset()
    registrar.id = platform.id
    # the login may name the deployment before the tool knows it
    login = registrar.client.get(
        "/lti/login",
        params={
            "iss": registrar.issuer,
            "login_hint": "u",
            "target_link_uri": TOOL + "/lti/launch",
            "lti_deployment_id": registrar.deployment,
        },
    )
    assert login.status_code == 302
    first = registrar.launch(LmsUser(unique("sub"), [LEARNER]), context=unique("ctx"))
    assert first.status_code == 200 and "not ready yet" in first.text
    with Session(engine) as db:
        assert platform_of(db, registrar, client_id=None).deployments == {registrar.deployment}
    # from then on, another deployment is refused as for any platform
    state, nonce = registrar.tool_login()
    other = registrar.post_launch(registrar.forge(registrar.claims(nonce, LTI_deployment_id="other")), state)
    assert other.status_code == 401 and '<code class="lti-check">deployment_id</code>' in other.text
    again = registrar.launch(LmsUser(unique("sub"), [LEARNER]), context=unique("ctx"))
    assert again.status_code == 200


def test_the_url_registers_once(client, engine, admin, registrar) -> None:
    url = new_url(client, admin)
    assert registrar.open(url).status_code == 200
    again = registrar.open(url)
    assert again.status_code == 410 and "used already" in again.text
    assert len(registrar.registrations) == 1 and len(registered(engine, registrar)) == 1


def test_an_expired_or_unknown_url_registers_nothing(engine, registrar) -> None:
    with Session(engine) as db, db.begin():
        old = registration.make_url(db, created_by=None, now=datetime.now(UTC) - registration.LIFETIME - timedelta(1))
    expired = registrar.open(old.url(TOOL))
    assert expired.status_code == 410 and "expired" in expired.text
    unknown = registrar.open(TOOL + "/lti/register/" + "x" * 43)
    assert unknown.status_code == 404 and "not one of ours" in unknown.text
    assert registrar.registrations == [] and registered(engine, registrar) == []


def test_a_url_claimed_by_a_registration_under_way_or_failed_is_used(engine, registrar) -> None:
    with Session(engine) as db, db.begin():
        made = registration.make_url(db, created_by=None)
        claimed = registration.claim(db, token=made.token)
    assert isinstance(claimed, datetime)
    used = registrar.open(made.url(TOOL))
    assert used.status_code == 410 and "used already" in used.text and registrar.registrations == []


def test_an_issuer_on_another_origin_is_refused_and_the_url_is_used(client, engine, admin, registrar, caplog) -> None:
    url = new_url(client, admin)
    registrar.config_changes = {"issuer": "https://elsewhere.example.edu"}
    with caplog.at_level(logging.WARNING, logger="grader.lti"):
        page = registrar.open(url)
    failed(page)
    assert "elsewhere" not in page.text  # the reason is the log's
    assert "https://elsewhere.example.edu is not on the origin" in caplog.text
    assert registrar.registrations == [] and registered(engine, registrar) == []
    registrar.config_changes = {}  # the platform's admin fixes it: a new URL is needed
    assert registrar.open(url).status_code == 410 and registered(engine, registrar) == []
    assert registrar.open(new_url(client, admin)).status_code == 200 and len(registered(engine, registrar)) == 1


def _stream(chunks: int, size: int, pause: float = 0.0) -> Iterator[bytes]:
    yield b'{"pad": "'
    for _ in range(chunks):
        time.sleep(pause)
        yield b"x" * size
    yield b'"}'


# (which answer is replaced, the platform's answer (made afresh: a stream is read once), the check named)
BAD_ANSWERS = [
    # the configuration: statuses, not JSON, not an object, missing what the tool needs
    ("config", lambda: httpx.Response(500, text="Internal Server Error"), "openid_configuration"),
    ("config", lambda: httpx.Response(404, json={"error": "not found"}), "openid_configuration"),
    ("config", lambda: httpx.Response(200, text="<html>Moodle</html>"), "openid_configuration"),
    ("config", lambda: httpx.Response(200, json=["issuer"]), "openid_configuration"),
    ("config", lambda: httpx.Response(200, content=b"[" * 60_000), "openid_configuration"),  # nested too deep
    ("config", lambda: httpx.Response(200, json={"issuer": "https://x.example.edu"}), "issuer"),
    # oversized: declared, or streamed without a length
    (
        "config",
        lambda: httpx.Response(200, content=b"{" + b" " * (dynamic.MAX_ANSWER_BYTES + 1) + b"}"),
        "openid_configuration",
    ),
    ("config", lambda: httpx.Response(200, content=_stream(100, 1024)), "openid_configuration"),
    # the registration's answer
    ("registration", lambda: httpx.Response(400, json={"error": "invalid_client_metadata"}), "registration_endpoint"),
    ("registration", lambda: httpx.Response(503, text="down"), "registration_endpoint"),
    ("registration", lambda: httpx.Response(200, text="ok"), "registration_endpoint"),
    ("registration", lambda: httpx.Response(201, json={"client_id": ""}), "client_id"),
    ("registration", lambda: httpx.Response(201, json={"client_id": "c 1"}), "client_id"),
    (
        "registration",
        lambda: httpx.Response(201, json={"client_id": "c1", dynamic.TOOL_CONFIGURATION: {"deployment_id": "a b"}}),
        "deployment_id",
    ),
    ("registration", lambda: httpx.Response(201, content=_stream(100, 1024)), "registration_endpoint"),
]


@pytest.mark.parametrize(("which", "answer", "check"), BAD_ANSWERS)
def test_a_platforms_bad_answer_is_the_one_failure_page_and_uses_the_url(
    client, engine, admin, registrar, which, answer, check, caplog
) -> None:
    url = new_url(client, admin)
    if which == "config":
        registrar.config_answer = answer()
    else:
        registrar.registration_answer = answer()
    with caplog.at_level(logging.WARNING, logger="grader.lti"):
        page = registrar.open(url)
    failed(page)
    assert f": {check}: " in caplog.text  # the check that failed is in the log
    assert registered(engine, registrar) == []
    asked = len(registrar.registrations)
    again = registrar.open(url)
    assert again.status_code == 410 and "used already" in again.text
    assert len(registrar.registrations) == asked and registered(engine, registrar) == []


# what a configuration lacks or says, and the check that refuses it
BAD_CONFIGURATIONS = [
    ({"registration_endpoint": None}, "registration_endpoint"),
    ({"jwks_uri": "javascript:alert(1)"}, "jwks_uri"),
    ({"authorization_endpoint": None}, "authorization_endpoint"),
    ({"token_endpoint": None}, "token_endpoint"),
    ({dynamic.PLATFORM_CONFIGURATION: None}, dynamic.PLATFORM_CONFIGURATION),
    ({"token_endpoint_auth_methods_supported": ["client_secret_basic"]}, "token_endpoint_auth_methods_supported"),
    ({"id_token_signing_alg_values_supported": ["HS256"]}, "id_token_signing_alg_values_supported"),
]


@pytest.mark.parametrize(("changes", "check"), BAD_CONFIGURATIONS)
def test_a_configuration_without_what_the_tool_needs_is_refused(
    client, engine, admin, registrar, changes, check, caplog
) -> None:
    registrar.config_changes = changes
    with caplog.at_level(logging.WARNING, logger="grader.lti"):
        page = registrar.open(new_url(client, admin))
    failed(page)
    assert f": {check}: " in caplog.text
    assert registrar.registrations == [] and registered(engine, registrar) == []


def test_an_unreachable_slow_or_token_refusing_platform_is_the_one_failure_page(
    client, engine, admin, registrar, monkeypatch, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="grader.lti")
    # a wrong registration token: the platform refuses the configuration
    failed(registrar.open(new_url(client, admin), token="not-the-token"))
    assert "answered 401" in caplog.text
    # a host nobody serves
    nowhere = {"openid_configuration": "https://nowhere.example.org/.well-known/openid"}
    failed(registrar.client.get(urlsplit(new_url(client, admin)).path, params=nowhere))
    assert "ConnectError" in caplog.text
    # an answer dripping in slower than the deadline
    monkeypatch.setattr(dynamic, "DEADLINE", 0.2)
    registrar.config_answer = httpx.Response(200, content=_stream(10, 10, pause=0.05))
    failed(registrar.open(new_url(client, admin)))
    assert "longer than" in caplog.text
    # not a URL
    ftp = {"openid_configuration": "ftp://x.example.org/c"}
    failed(registrar.client.get(urlsplit(new_url(client, admin)).path, params=ftp))
    assert "not an http(s) URL" in caplog.text
    # no configuration at all: nothing is attempted, the URL stays as it was
    url = new_url(client, admin)
    bare = registrar.client.get(urlsplit(url).path)
    assert bare.status_code == 400 and "openid_configuration" in bare.text
    assert registrar.open(url).status_code == 200
    assert len(registered(engine, registrar)) == 1


class NotJson(BaseHTTPRequestHandler):
    """A web server that answers every GET with a page that is not JSON."""

    def do_GET(self) -> None:
        body = b"<html>an intranet page</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def not_json() -> Iterator[str]:
    """The address of a server on the loopback that answers HTML."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotJson)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_registration_url_tells_no_closed_port_from_a_server_and_probes_once(
    app, client, admin, browser, not_json, caplog
) -> None:
    """The URL pointed at the tool's own network, over real HTTP: a closed port and a server that
    answers HTML get the same page, word for word; the log has the reasons; each URL probes once."""
    closed = f"http://127.0.0.1:{free_port()}/"  # nobody listens there
    pages, urls = [], []
    routed, app.state.lti_http = app.state.lti_http, httpx.Client(timeout=5.0, trust_env=False)
    try:
        with caplog.at_level(logging.WARNING, logger="grader.lti"):
            for target in (closed, not_json):
                url = new_url(client, admin)
                urls.append((url, target))
                pages.append(browser.get(urlsplit(url).path, params={"openid_configuration": target}))
    finally:
        app.state.lti_http.close()
        app.state.lti_http = routed
    for page in pages:
        failed(page)
    assert pages[0].text == pages[1].text
    assert "ConnectError" in caplog.text and "not JSON" in caplog.text
    for url, target in urls:  # each URL is gone after its one use
        again = browser.get(urlsplit(url).path, params={"openid_configuration": target})
        assert again.status_code == 410 and "used already" in again.text


def test_a_platform_registered_already_is_a_conflict(client, engine, admin, registrar) -> None:
    assert registrar.open(new_url(client, admin)).status_code == 200
    again = registrar.open(new_url(client, admin))  # the platform hands out the same client id again
    assert again.status_code == 409 and "registered already" in again.text
    assert len(registered(engine, registrar)) == 1


def test_only_admins_make_registration_urls(client, engine) -> None:
    teacher = auth(make_instructor(engine))
    refused = client.post("/api/v1/lti/registrations", headers=teacher)
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert client.post("/api/v1/lti/registrations").status_code == 401


def test_grader_lti_registration_url_prints_a_working_url(database_url, engine, registrar) -> None:
    env = {"DATABASE_URL": database_url, "GRADER_LTI_KEY": KEK, "GRADER_PUBLIC_URL": TOOL}
    result = CliRunner().invoke(cli, ["lti", "registration-url", "--json"], env=env)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["url"].startswith(TOOL + "/lti/register/") and datetime.fromisoformat(printed["expires_at"])
    assert registrar.open(printed["url"]).status_code == 200 and len(registered(engine, registrar)) == 1
    plain = CliRunner().invoke(cli, ["lti", "registration-url", "--base-url", "https://g.example.edu"], env=env)
    assert plain.exit_code == 0 and plain.stdout.startswith("https://g.example.edu/lti/register/")
    no_kek = CliRunner().invoke(cli, ["lti", "registration-url"], env={**env, "GRADER_LTI_KEY": ""})
    assert no_kek.exit_code == 1 and "GRADER_LTI_KEY" in no_kek.output


def test_without_a_key_that_opens_the_tools_keys_nothing_is_asked_of_the_platform(
    app, client, engine, admin, registrar
) -> None:
    url = new_url(client, admin)
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"lti_key": keys.new_kek()})  # another service's key
    try:
        page = registrar.open(url)
        refused = client.post("/api/v1/lti/registrations", headers=admin)  # nor is a new URL made
    finally:
        app.state.settings = settings
    assert page.status_code == 409 and '<code class="lti-check">GRADER_LTI_KEY</code>' in page.text
    assert registrar.registrations == [] and registered(engine, registrar) == []
    assert refused.status_code == 409 and "GRADER_LTI_KEY" in refused.json()["detail"]
    assert registrar.open(url).status_code == 200  # the URL was left usable
