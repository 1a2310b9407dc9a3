"""Personal API tokens: made (named, shown once), listed with their last use, revoked (401 at
once), each account only its own; and the ``/account`` page that does the same."""

from __future__ import annotations

from fastapi.testclient import TestClient

from factories import Course, auth
from page_client import Browser


def _recorded(app) -> None:
    """What the service's thread writes every few seconds, written now."""
    app.state.token_uses.flush(app.state.engine)


def test_make_list_use_and_revoke_a_token(app, client: TestClient, course: Course) -> None:
    _, headers = course.student()
    (first,) = client.get("/api/v1/account/tokens", headers=headers).json()
    assert first["name"] == "first token"  # the roster import's
    _recorded(app)
    (first,) = client.get("/api/v1/account/tokens", headers=headers).json()
    assert first["last_used_at"] is not None  # (the list used it)

    made = client.post("/api/v1/account/tokens", json={"name": "laptop"}, headers=headers)
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    token = made.json()["token"]
    assert client.get(f"{course.path}/members", headers=auth(token)).status_code == 403  # it is the student
    _recorded(app)
    listed = {t["name"]: t for t in client.get("/api/v1/account/tokens", headers=auth(token)).json()}
    assert set(listed) == {"first token", "laptop"} and "token" not in listed["laptop"]
    assert listed["laptop"]["last_used_at"] is not None

    assert client.delete(f"/api/v1/account/tokens/{made.json()['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/account/tokens", headers=auth(token)).status_code == 401
    assert client.get("/api/v1/account/tokens", headers=headers).status_code == 200


def test_one_account_cannot_touch_anothers_tokens(client: TestClient, course: Course) -> None:
    _, mine = course.student()
    _, theirs = course.student()
    (their_token,) = client.get("/api/v1/account/tokens", headers=theirs).json()
    assert client.delete(f"/api/v1/account/tokens/{their_token['id']}", headers=mine).status_code == 404
    assert client.get("/api/v1/account/tokens", headers=theirs).status_code == 200


def test_a_token_needs_a_name_and_an_account_holds_twenty(client: TestClient, course: Course) -> None:
    _, headers = course.student()
    assert client.post("/api/v1/account/tokens", json={"name": ""}, headers=headers).status_code == 422
    for n in range(19):
        assert client.post("/api/v1/account/tokens", json={"name": f"t{n}"}, headers=headers).status_code == 201
    refused = client.post("/api/v1/account/tokens", json={"name": "one more"}, headers=headers)
    assert refused.status_code == 409 and "at most 20" in refused.json()["detail"]


def test_the_account_page_makes_and_revokes_tokens(app, course: Course) -> None:
    _, headers = course.student()
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    page = browser.get("/account")
    assert page.status_code == 200 and "first token" in page.text and page.headers["cache-control"] == "no-store"
    made = browser.post("/account/tokens", {"name": "script"})
    assert made.status_code == 200 and "shown only this once" in made.text
    token = made.text.split('<code class="token">')[1].split("</code>")[0]
    assert browser.client.get("/api/v1/account/tokens", headers=auth(token)).status_code == 200
    token_id = max(t["id"] for t in browser.client.get("/api/v1/account/tokens", headers=auth(token)).json())
    revoked = browser.post(f"/account/tokens/{token_id}/revoke")
    assert revoked.status_code == 303
    assert browser.client.get("/api/v1/account/tokens", headers=auth(token)).status_code == 401
    assert browser.post("/account/tokens", {"name": "  "}).status_code == 422
    assert browser.post("/account/tokens", {"name": "x"}, csrf=False).status_code == 403


def test_a_session_opened_by_a_revoked_token_ends(app, client: TestClient, course: Course) -> None:
    _, headers = course.student()
    made = client.post("/api/v1/account/tokens", json={"name": "browser"}, headers=headers).json()
    browser = Browser(app).signed_in(made["token"])
    assert browser.get("/account").status_code == 200
    client.delete(f"/api/v1/account/tokens/{made['id']}", headers=headers)
    assert browser.get("/account").status_code == 303  # back to signing in


def test_a_use_is_written_once_an_hour_off_the_request_path() -> None:
    from datetime import UTC, datetime, timedelta

    from api.users.tokens import TokenSeen, TokenUses

    uses = TokenUses()
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    uses.note(TokenSeen(1, now - timedelta(minutes=59)), now)  # recorded less than an hour ago
    uses.note(TokenSeen(2, now - timedelta(hours=1)), now)
    uses.note(TokenSeen(3, None), now)
    assert uses._pending == {2: now, 3: now}
