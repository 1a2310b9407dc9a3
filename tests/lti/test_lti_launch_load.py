"""Anonymous launches against the whole service: anyone can start a login and post a launch signed
with a key the platform does not publish. Such launches must neither make the tool wait (no
database slot held while the platform's key set is fetched) nor make it fetch that key set again
and again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.kit.config import Settings
from api.lti import keysets

from factories import within
from lti_platform import KEK, LMS, TOOL, register, rsa_pem

#: What /health may take while the launches wait (it takes milliseconds when nothing holds it).
HEALTH_BOUND = 2.0


def anonymous_launch(client: TestClient, lms: LMS, kid: str) -> httpx.Response:
    """A login, then a launch signed by a key of nobody's, naming ``kid``: what anyone can send."""
    login = client.get("/lti/login", params={"iss": lms.issuer, "login_hint": "x", "target_link_uri": TOOL})
    assert login.status_code == 302, login.text
    query = dict(parse_qsl(urlsplit(login.headers["location"]).query))
    token = lms.forge(lms.claims(query["nonce"]), key=STRANGER, kid=kid)
    return client.post("/lti/launch", data={"id_token": token, "state": query["state"]})


STRANGER = rsa_pem()


def test_unknown_kids_do_not_fetch_the_key_set_again_and_again(lms) -> None:
    state, nonce = lms.tool_login()
    first = lms.post_launch(lms.forge(lms.claims(nonce)), state)
    assert first.status_code == 200, first.text  # the key set cached
    fetched = lms.jwks_fetches
    for _ in range(50):
        assert anonymous_launch(lms.client, lms, "the-same-unknown-kid").status_code == 401
    assert lms.jwks_fetches == fetched + 1
    for number in range(50):
        assert anonymous_launch(lms.client, lms, f"unknown-kid-{number}").status_code == 401
    assert lms.jwks_fetches <= fetched + 1 + keysets.REFETCHES


class SlowKeySet:
    """The platform, but its key set does not answer until :attr:`answer` is set."""

    def __init__(self, lms: LMS) -> None:
        self.lms, self.fetches = lms, 0
        self.asked, self.answer = threading.Event(), threading.Event()

    def handle(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == self.lms.jwks_url:
            self.fetches += 1
            self.asked.set()
            self.answer.wait(timeout=60)
        return self.lms.handle(request)


class Verifying:
    """How many launches have started verifying their token (notified as each does)."""

    def __init__(self, key: Callable[[str, str], dict[str, Any]]) -> None:
        self.key, self.count, self.changed = key, 0, threading.Condition()

    def counted(self, url: str, kid: str) -> dict[str, Any]:
        with self.changed:
            self.count += 1
            self.changed.notify_all()
        return self.key(url, kid)


@pytest.fixture
def slow_service(own_database: str, shared_bank: Any) -> Iterator[tuple[TestClient, SlowKeySet, Verifying]]:
    """A service of its own (its database slots are its event loop's), with a platform whose key set
    hangs."""
    app = create_app(Settings(database_url=own_database, lti_key=KEK, public_url=TOOL), bank=shared_bank)
    lms = LMS(None)  # type: ignore[arg-type]  # the test's client logs in, not the platform's
    platform = SlowKeySet(lms)
    app.state.lti_http = httpx.Client(transport=httpx.MockTransport(platform.handle))
    lms.id = register(app.state.engine, lms)
    verifying = Verifying(app.state.lti_keysets.key)
    app.state.lti_keysets.key = verifying.counted
    try:
        # one client, hence one event loop (and its database slots) for every request
        with TestClient(app, base_url=TOOL, follow_redirects=False) as client:
            yield client, platform, verifying
    finally:
        platform.answer.set()


def test_launches_waiting_on_a_slow_key_set_leave_the_service_answering(slow_service) -> None:
    """Eight anonymous launches while the platform's key set hangs: one fetch for them all, no
    database slot held meanwhile, so /health answers at once all along."""
    client, platform, verifying = slow_service
    answers: list[int] = []
    launches = [
        threading.Thread(target=lambda n=n: answers.append(anonymous_launch(client, platform.lms, f"k{n}").status_code))
        for n in range(8)
    ]
    for launch in launches:
        launch.start()
    with verifying.changed:
        assert verifying.changed.wait_for(lambda: verifying.count == 8, timeout=30)
    assert platform.asked.wait(timeout=30)
    waits = []
    for _ in range(10):  # more than the slots there are
        started = time.monotonic()
        health = within(HEALTH_BOUND, lambda: client.get("/health"))
        waits.append(time.monotonic() - started)
        assert health.status_code == 200
    assert max(waits) < HEALTH_BOUND
    platform.answer.set()
    for launch in launches:
        within(30, launch.join)
    assert answers == [401] * 8 and platform.fetches == 1
