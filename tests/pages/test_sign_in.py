"""Signing in to the pages by pasting an API token: the session cookie, CSRF on every form,
signing out, and what a session does not open (the REST API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.models import WebSession
from api.users.tokens import hash_token

from factories import Course, make_instructor
from page_client import Browser


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def session_cookie(response) -> str:
    (header,) = [h for h in response.headers.get_list("set-cookie") if h.startswith("grader_session=")]
    return header


def test_the_sign_in_form_has_a_labelled_token_input_and_a_csrf_field(app) -> None:
    page = Browser(app).get("/")
    assert page.status_code == 200
    assert '<label for="token">' in page.text and 'id="token" name="token" type="password"' in page.text
    assert 'name="csrf" value="' in page.text
    cookie = page.headers["set-cookie"].lower()
    assert "grader_sign_in=" in cookie and "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie


def test_a_student_signs_in_and_sees_their_courses_with_their_role(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    student_id, headers = course.student()
    browser = Browser(app)
    signed = browser.sign_in(token_of(headers))
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    cookie = session_cookie(signed).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie and "secure" not in cookie
    home = browser.get("/")
    assert home.status_code == 200
    assert f'href="/courses/{course.id}"' in home.text and "student" in home.text
    assert "Signed in as" in home.text and student_id in home.text
    assert "<main" in home.text and 'href="#main"' in home.text


def test_over_https_the_session_cookie_is_secure(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    signed = Browser(app, base_url="https://testserver").sign_in(token_of(headers))
    assert signed.status_code == 303
    assert "secure" in session_cookie(signed).lower()


def test_only_a_hash_of_the_session_id_is_stored(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    browser = Browser(app)
    browser.sign_in(token_of(headers))
    session_id = browser.client.cookies["grader_session"]
    with Session(engine) as db:
        hashes = set(db.scalars(select(WebSession.id_hash)))
    assert hash_token(session_id) in hashes and session_id not in hashes


def test_a_token_that_opens_no_account_is_refused_on_the_form(app) -> None:
    browser = Browser(app)
    refused = browser.sign_in("not-a-token")
    assert refused.status_code == 401
    assert "opens no account" in refused.text and 'name="token"' in refused.text
    assert "grader_session" not in browser.client.cookies


def test_the_sign_in_form_without_its_csrf_value_is_refused(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    browser = Browser(app)
    browser.get("/")
    refused = browser.post("/sign-in", {"token": token_of(headers)}, csrf=False)
    assert refused.status_code == 403 and "grader_session" not in browser.client.cookies
    # a form from another site: the attacker's own csrf value does not match this browser's cookie
    forged = browser.post("/sign-in", {"token": token_of(headers), "csrf": "0" * 64}, csrf=False)
    assert forged.status_code == 403


def test_signing_out_needs_the_csrf_token_and_ends_the_session(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    browser = Browser(app).signed_in(token_of(headers))
    session_id = browser.client.cookies["grader_session"]

    forged = browser.post("/sign-out", csrf=False)
    assert forged.status_code == 403 and "reload" in forged.text
    wrong = browser.post("/sign-out", {"csrf": "f" * 64}, csrf=False)
    assert wrong.status_code == 403
    assert "Signed in as" in browser.get("/").text  # still signed in

    out = browser.post("/sign-out")
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert 'name="token"' in browser.get("/").text
    # the old cookie, replayed (copied elsewhere), opens nothing: the row is gone
    replay = Browser(app)
    replay.client.cookies.set("grader_session", session_id)
    stale = replay.get("/")
    assert 'name="token"' in stale.text
    assert any(h.startswith('grader_session=""') for h in stale.headers.get_list("set-cookie"))  # cleared
    with Session(engine) as db:
        assert db.get(WebSession, hash_token(session_id)) is None


def test_sign_in_returns_to_a_local_page_only(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    for asked, went in (("/courses/x", "/courses/x"), ("//evil.example/", "/"), ("https://evil.example/", "/")):
        signed = Browser(app).sign_in(token_of(headers), next_path=asked)
        assert signed.headers["location"] == went


def test_a_session_never_authenticates_the_rest_api(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    browser = Browser(app).signed_in(token_of(headers))
    assert browser.get("/api/v1/courses").status_code == 401


def test_an_expired_session_and_one_whose_token_was_replaced_open_nothing(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    (_, expiring), (replaced_id, replaced) = course.students(2)
    first, second = Browser(app).signed_in(token_of(expiring)), Browser(app).signed_in(token_of(replaced))
    with Session(engine) as db, db.begin():
        past = datetime.now(UTC) - timedelta(seconds=1)
        db.execute(
            update(WebSession)
            .where(WebSession.id_hash == hash_token(first.client.cookies["grader_session"]))
            .values(expires_at=past)
        )
    assert 'name="token"' in first.get("/").text
    assert client.post(f"{course.path}/members/{replaced_id}/token", headers=course.instructor).status_code == 200
    assert 'name="token"' in second.get("/").text


def test_a_session_opened_for_an_account_without_a_token_signs_the_browser_in(app, client, engine) -> None:
    """What an LTI launch (or a sign-in link) does: a session that names its account and no token."""
    from api.models import SessionOrigin
    from api.pages.kit.sessions import open_account_session

    course = Course(client, make_instructor(engine))
    student_id, _ = course.student()
    with Session(engine) as db, db.begin():
        session_id = open_account_session(db, user_id=student_id, via=SessionOrigin.LTI)
        row = db.get(WebSession, hash_token(session_id))
        assert row is not None and row.token_id is None and row.via == "lti" and row.user_id == student_id
    browser = Browser(app)
    browser.client.cookies.set("grader_session", session_id)
    page = browser.get(f"/courses/{course.id}")
    assert page.status_code == 200 and student_id in page.text
