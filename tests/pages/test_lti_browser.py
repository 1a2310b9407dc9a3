"""The LMS pages in a real browser (Debian's chromium against ``grader serve``): an admin makes a
dynamic-registration URL with the button, a platform (a small HTTP server in the test process,
ports 18500-18599) frames it and is told to close it once registered; an instructor reads the
course's passback, failures first, and resends its scores. No console errors anywhere."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect
from sqlalchemy.orm import Session

from api.kit.config import Settings
from api.kit.db import make_engine
from api.lti import keys, service
from api.models import LtiContext, LtiScore
from harness.server import ServerProcess

from live_service import LiveCourse, new_account, port_in, screenshot_dir
from migrated import migrated_sqlite

KEK = keys.new_kek()
PORTS = range(18500, 18600)
TOKEN = "registration-token-for-the-browser-test"


def port_in_range(taken: set[int] | None = None) -> int:
    return port_in(PORTS, taken or ())


@dataclass
class Live:
    course: LiveCourse
    admin: str
    database_url: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """``grader serve`` (with an LTI key) on SQLite, an admin, an instructor and their course."""
    workdir = tmp_path_factory.mktemp("live")
    database_url = migrated_sqlite(workdir / "grader.db")
    instructor = new_account(database_url, "instructor", "Ada Lovelace")
    admin = new_account(database_url, "admin", "Root Admin")
    env = {"GRADER_LTI_KEY": KEK, "NO_PROXY": "127.0.0.1,localhost"}
    with ServerProcess.grader_serve(database_url, port=port_in_range(), workdir=workdir, **env) as server:
        server.wait_healthy()
        course = LiveCourse(server, instructor, "cnn101")
        made = course.api("POST", "/courses", json={"id": "cnn101", "title": "Convolutional networks"})
        assert made.status_code == 201, made.text
        yield Live(course, admin, database_url)


@dataclass
class Platform:
    """A platform's two registration endpoints and the page that frames the tool's URL."""

    port: int
    tool_url: str = ""
    registrations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def configuration(self) -> dict[str, Any]:
        return {
            "issuer": self.origin,
            "authorization_endpoint": self.origin + "/auth",
            "token_endpoint": self.origin + "/token",
            "jwks_uri": self.origin + "/jwks",
            "registration_endpoint": self.origin + "/register",
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {"product_family_code": "moodle"},
        }

    def page(self, tool_origin: str) -> str:
        query = urlencode({"openid_configuration": self.origin + "/openid", "registration_token": TOKEN})
        return f"""<!doctype html><html lang="en"><head><title>LMS</title><link rel="icon" href="data:,"></head>
<body><h1>Register a tool</h1><p id="state">registering</p>
<iframe id="tool" title="The tool" src="{self.tool_url}?{query}" width="900" height="500"></iframe>
<script>
window.addEventListener("message", function (event) {{
  if (event.origin === "{tool_origin}" && event.data && event.data.subject === "org.imsglobal.lti.close") {{
    document.getElementById("state").textContent = "closed by the tool";
  }}
}});
</script></body></html>"""


@pytest.fixture
def platform(live: Live) -> Iterator[Platform]:
    found = Platform(port_in_range({live.course.server.port}))

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: str, kind: str) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/openid" and self.headers.get("Authorization") == f"Bearer {TOKEN}":
                self._send(200, json.dumps(found.configuration()), "application/json")
            elif self.path == "/lms":
                self._send(200, found.page(live.course.url), "text/html; charset=utf-8")
            else:
                self._send(404, "{}", "application/json")

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            found.registrations.append(body)
            answer = {
                "client_id": "moodle-client-7",
                "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": "7"},
            }
            self._send(200, json.dumps(answer), "application/json")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", found.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def signed_in(live: Live, browser: BrowserContext, token: str, errors: list[str]) -> Page:
    page = browser.new_page()
    page.on("console", lambda message: _error(message, errors))
    page.goto(live.course.url + "/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your courses")).to_be_visible()
    return page


def _error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(message.text)


def test_an_admin_makes_a_registration_url_and_the_platform_registers_with_it(
    live: Live, platform: Platform, browser: BrowserContext, tmp_path: Path
) -> None:
    errors: list[str] = []
    page = signed_in(live, browser, live.admin, errors)
    page.get_by_role("link", name="LMS platforms (LTI)").click()
    expect(page.get_by_role("heading", name="LMS platforms (LTI 1.3)")).to_be_visible()
    expect(page.get_by_text("No platform is registered yet.")).to_be_visible()
    page.get_by_role("button", name="Make a registration URL").click()
    shown = page.locator("#registration-url-value")
    expect(shown).to_contain_text(live.course.url + "/lti/register/")
    assert page.url == live.course.url + "/admin/lti"  # htmx swapped the URL in; no new page
    page.screenshot(path=screenshot_dir(tmp_path) / "lti-admin.png", full_page=True)

    platform.tool_url = shown.inner_text().strip()
    lms = browser.new_page()
    lms.on("console", lambda message: _error(message, errors))
    lms.goto(platform.origin + "/lms")
    expect(lms.locator("#state")).to_have_text("closed by the tool")  # org.imsglobal.lti.close arrived
    expect(lms.frame_locator("#tool").get_by_role("heading", name="grader is registered")).to_be_visible()
    (registration,) = platform.registrations
    assert registration["initiate_login_uri"] == live.course.url + "/lti/login"

    page.reload()
    listed = page.locator("article.platform")
    expect(listed).to_contain_text(f"moodle ({platform.origin})")
    expect(listed).to_contain_text("moodle-client-7")
    expect(listed).to_contain_text(live.course.url + "/lti/jwks")
    assert errors == []


def _failed_passback(live: Live, student: str) -> None:
    """A linked LMS course with one failed score of ``student`` (as the sender leaves a refusal)."""
    engine = make_engine(Settings(database_url=live.database_url))
    try:
        with Session(engine) as db, db.begin():
            registered = service.register_platform(
                db,
                name="University Canvas",
                issuer="https://canvas.example.edu",
                client_id="42",
                auth_url="https://canvas.example.edu/auth",
                token_url="https://canvas.example.edu/token",
                jwks_url="https://canvas.example.edu/jwks",
                deployments=["1"],
            )
            db.add(LtiContext(platform_id=registered.id, context_id="c-1", course_id="cnn101", title="CNN (Canvas)"))
            db.flush()
            now = datetime.now(UTC)
            db.add(
                LtiScore(
                    platform_id=registered.id,
                    context_id="c-1",
                    course_id="cnn101",
                    assignment_id="hw1",
                    student_id=student,
                    sub="canvas-user-9",
                    score_given=6.0,
                    score_maximum=9.0,
                    grading_progress="FullyGraded",
                    timestamp=now,
                    status="failed",
                    attempts=1,
                    next_try_at=now,
                    error="Canvas answered 422: the user is not in the course",
                )
            )
    finally:
        engine.dispose()


def test_an_instructor_reads_the_passback_failures_and_resends_the_scores(
    live: Live, browser: BrowserContext, tmp_path: Path
) -> None:
    live.course.assignment("hw1", "conv-pool-basics", title="Homework 1")
    live.course.enrol("emmy", "Emmy Noether")
    _failed_passback(live, "emmy")
    errors: list[str] = []
    page = signed_in(live, browser, live.course.instructor, errors)
    page.goto(f"{live.course.url}/courses/{live.course.course}")
    page.get_by_role("link", name="LMS and grade passback").click()
    expect(page.get_by_role("heading", name="Convolutional networks: the LMS")).to_be_visible()
    expect(page.get_by_role("row", name="CNN (Canvas)")).to_contain_text("University Canvas")
    expect(page.get_by_text("1 failed, 0 waiting to be sent, 0 sent")).to_be_visible()
    failed = page.locator("tr.passback-failed")
    expect(failed).to_contain_text("Emmy Noether")
    expect(failed).to_contain_text("the user is not in the course")
    page.get_by_role("button", name="Resend the course's scores").click()
    expect(page.locator("#resend-progress")).to_contain_text("Resent: the LMS rosters were read again")
    page.screenshot(path=screenshot_dir(tmp_path) / "lti-course.png", full_page=True)
    assert errors == []
