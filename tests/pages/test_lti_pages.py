"""The LMS pages through the test client: the admins' platforms with the tool's URLs and the
dynamic-registration button (``/admin/lti``), a course's links and passback with failures first
and the resend (``/courses/{course}/lti``), and who may reach each (a table, as the API's)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.lti import keys, service
from api.models import LtiContext, LtiRegistration, LtiScore, Role
from api.pages import ROUTERS
from api.pages.lms import platforms as lti_pages
from api.users.service import create_user
from api.users.tokens import hash_token

from factories import Course, finished_job, make_instructor, unique
from page_client import Browser


@dataclass
class Linked:
    """A course linked to an LMS course, with one passback row in each state, and its people."""

    course: Course
    tokens: dict[str, str]
    platform_id: str
    issuer: str
    failing_student: str
    assignment: str


def _score(linked_course: str, platform_id: str, context: str, assignment: str, student: str, **row: Any) -> LtiScore:
    now = datetime.now(UTC)
    values = {
        "platform_id": platform_id,
        "context_id": context,
        "course_id": linked_course,
        "assignment_id": assignment,
        "student_id": student,
        "sub": unique("sub"),
        "score_given": 7.0,
        "score_maximum": 10.0,
        "grading_progress": "FullyGraded",
        "timestamp": now,
        "next_try_at": now + timedelta(days=1),  # nobody sends them here
        **row,
    }
    return LtiScore(**values)


@pytest.fixture(scope="module")
def linked(client: TestClient, engine: Engine, app: Any) -> Linked:
    course = Course(client, make_instructor(engine))
    _, instructor = course.member("instructor")
    _, ta = course.member("ta")
    (sent_id, student), (failed_id, _), (pending_id, _) = course.students(3)
    assignment = course.assignment("conv-pool-basics", title="Homework one")
    outsider = Course(client, make_instructor(engine)).instructor
    issuer = f"https://{unique('canvas')}.example.edu"
    context = unique("ctx")
    with Session(engine) as db, db.begin():
        admin = create_user(db, name="Root", role=Role.ADMIN, user_id=unique("admin")).token or ""
        keys.ensure_key(db, kek=app.state.settings.lti_key)
        platform = service.register_platform(
            db,
            name="University Canvas",
            issuer=issuer,
            client_id="10000000000042",
            auth_url=issuer + "/api/lti/authorize_redirect",
            token_url=issuer + "/login/oauth2/token",
            jwks_url=issuer + "/api/lti/security/jwks",
            deployments=["42:abc"],
        )
        db.add(LtiContext(platform_id=platform.id, context_id=context, course_id=course.id, title="CNN 101 (LMS)"))
        db.flush()
        args = (course.id, platform.id, context, assignment)
        db.add(_score(*args, sent_id, status="sent", sent_at=datetime.now(UTC), attempts=1))
        db.add(_score(*args, failed_id, status="failed", attempts=1, error="The LMS said: user is not in the course"))
        db.add(_score(*args, pending_id, status="pending"))
    tokens = {
        "owner": course.instructor["Authorization"][7:],
        "instructor": instructor["Authorization"][7:],
        "ta": ta["Authorization"][7:],
        "student": student["Authorization"][7:],
        "outsider": outsider["Authorization"][7:],
        "admin": admin,
    }
    return Linked(course, tokens, platform.id, issuer, failed_id, assignment)


def signed(app: Any, token: str) -> Browser:
    return Browser(app).signed_in(token)


# --- who reaches what ------------------------------------------------------------------------------

CALLERS = ["none", "student", "ta", "instructor", "owner", "outsider", "admin"]


def _by_caller(none: int, **statuses: int) -> dict[str, int]:
    return {"none": none, **statuses}


# (method, path with {c} for the course and {j} for a resend job, the status per caller)
TABLE: list[tuple[str, str, dict[str, int]]] = [
    # admins only; the others are signed in, so a 403 says why
    ("GET", "/admin/lti", _by_caller(303, **dict.fromkeys(CALLERS[1:-1], 403), admin=200)),
    ("POST", "/admin/lti/registrations", _by_caller(303, **dict.fromkeys(CALLERS[1:-1], 403), admin=200)),
    # the course's staff read; outsiders find no course
    (
        "GET",
        "/courses/{c}/lti",
        _by_caller(303, student=403, ta=200, instructor=200, owner=200, outsider=404, admin=200),
    ),
    (
        "GET",
        "/courses/{c}/lti/sync/{j}",
        _by_caller(303, student=403, ta=200, instructor=200, owner=200, outsider=404, admin=200),
    ),
    # those who run it resend, and say which side owns the dates
    (
        "POST",
        "/courses/{c}/lti/sync",
        _by_caller(303, student=403, ta=403, instructor=303, owner=303, outsider=404, admin=303),
    ),
    (
        "POST",
        "/courses/{c}/lti/dates",
        _by_caller(303, student=403, ta=403, instructor=303, owner=303, outsider=404, admin=303),
    ),
]


@pytest.fixture(scope="module")
def sync_job(linked: Linked) -> int:
    started = linked.course.client.post(f"{linked.course.path}/lti/sync", headers=linked.course.instructor)
    assert started.status_code == 202, started.text
    job = finished_job(linked.course.client, started.json()["job"], linked.course.instructor)
    assert job["status"] == "done", job
    return int(job["id"])


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path", "expected"), TABLE)
def test_status_by_caller(app, linked: Linked, sync_job: int, caller: str, method: str, path: str, expected) -> None:
    browser = Browser(app) if caller == "none" else signed(app, linked.tokens[caller])
    url = path.replace("{c}", linked.course.id).replace("{j}", str(sync_job))
    if method == "GET":
        answer = browser.get(url)
    else:
        browser.get("/")  # a page of this session: its CSRF token
        answer = browser.post(url)
    assert answer.status_code == expected[caller], answer.text
    if caller == "none":
        assert answer.headers["location"].startswith("/")  # to sign in; nothing done
    elif expected[caller] == 403:
        assert "error" in answer.text and ("admins" in answer.text or "owner" in answer.text or "staff" in answer.text)


def test_the_table_covers_every_lms_page() -> None:
    assert lti_pages.router in ROUTERS  # installed with the other pages
    pages = {(method, route.path) for route in lti_pages.router.routes for method in route.methods}
    names = {"{c}": "{course_id}", "{j}": "{job_id}"}
    table = set()
    for method, path, _ in TABLE:
        for placeholder, name in names.items():
            path = path.replace(placeholder, name)
        table.add((method, path))
    assert pages == table


def test_every_lms_form_is_refused_without_the_session_s_csrf_token(app, linked: Linked) -> None:
    admin = signed(app, linked.tokens["admin"])
    assert admin.post("/admin/lti/registrations", csrf=False).status_code == 403
    owner = signed(app, linked.tokens["owner"])
    refused = owner.post(f"/courses/{linked.course.id}/lti/sync", csrf=False)
    assert refused.status_code == 403 and "reload" in refused.text


# --- the admins' page ------------------------------------------------------------------------------


def test_admins_see_each_platform_with_the_tool_urls_to_give_it(app, linked: Linked) -> None:
    browser = signed(app, linked.tokens["admin"])
    assert 'href="/admin/lti"' in browser.get("/").text  # the way there, for admins only
    assert 'href="/admin/lti"' not in signed(app, linked.tokens["owner"]).get("/").text
    html = browser.get("/admin/lti").text
    section = html[html.index(f'id="platform-{linked.platform_id}"') :]
    section = section[: section.index("</article>")]
    assert "University Canvas" in section and linked.issuer in section and "42:abc" in section
    assert "10000000000042" in section and linked.issuer + "/login/oauth2/token" in section
    for url in ("/lti/login", "/lti/launch", "/lti/jwks", f"/lti/platforms/{linked.platform_id}/config"):
        assert f"http://testserver{url}" in section, url
    assert 'action="/admin/lti/registrations"' in html and 'hx-post="/admin/lti/registrations"' in html
    assert html.count('name="csrf"') == html.count('<form method="post"')


def _token_in(html: str) -> str:
    found = re.search(r'id="registration-url-value">http://testserver/lti/register/([A-Za-z0-9_-]+)<', html)
    assert found, html
    return found.group(1)


def test_the_button_makes_a_one_time_registration_url_shown_once(app, engine, linked: Linked) -> None:
    browser = signed(app, linked.tokens["admin"])
    browser.get("/admin/lti")
    plain = browser.post("/admin/lti/registrations")  # without JavaScript: the page, with the URL
    assert plain.status_code == 200 and "<h1>LMS platforms" in plain.text
    assert plain.headers["cache-control"] == "no-store"
    first = _token_in(plain.text)
    fragment = browser.post("/admin/lti/registrations", headers={"HX-Request": "true"})  # htmx: the fragment alone
    assert fragment.status_code == 200 and "<h1>" not in fragment.text and "It works once, until" in fragment.text
    second = _token_in(fragment.text)
    assert first != second
    with Session(engine) as db:
        rows = [db.get(LtiRegistration, hash_token(t)) for t in (first, second)]
    assert all(r is not None and r.registered_at is None for r in rows)
    assert {r.created_by for r in rows} == {_admin_id(browser)}
    assert first not in browser.get("/admin/lti").text  # shown once


def _admin_id(browser: Browser) -> str:
    found = re.search(r'<span class="muted">\(([^)]+)\)</span>', browser.get("/").text)
    assert found
    return found.group(1)


# --- a course's LMS page ------------------------------------------------------------------------------


def test_staff_see_the_links_and_the_passback_failures_first(app, linked: Linked) -> None:
    course = linked.course
    dashboard = signed(app, linked.tokens["ta"]).get(f"/courses/{course.id}").text
    assert f'href="/courses/{course.id}/lti"' in dashboard  # linked from the staff's course page
    html = signed(app, linked.tokens["ta"]).get(f"/courses/{course.id}/lti").text
    assert "CNN 101 (LMS)" in html and "University Canvas" in html and linked.issuer in html
    assert "1 failed, 1 waiting to be sent, 1 sent" in html
    states = re.findall(r'<tr class="passback-(\w+)">', html)
    assert states == ["failed", "pending", "sent"]
    failed = html[html.index('<tr class="passback-failed">') : html.index('<tr class="passback-pending">')]
    assert "The LMS said: user is not in the course" in failed and linked.failing_student in failed
    assert "7 / 10" in failed
    assert "Resend the course's scores" not in html  # a TA reads; the owner and instructors resend


def test_a_course_without_links_says_how_one_is_made(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    html = signed(app, course.instructor["Authorization"][7:]).get(f"/courses/{course.id}/lti").text
    assert "No LMS course is linked" in html and "No score has been sent" in html


def test_the_resend_starts_the_sync_job_and_shows_how_far_it_got(app, linked: Linked) -> None:
    course = linked.course
    browser = signed(app, linked.tokens["instructor"])
    html = browser.get(f"/courses/{course.id}/lti").text
    assert f'action="/courses/{course.id}/lti/sync"' in html and "Resend the course's scores" in html
    started = browser.post(f"/courses/{course.id}/lti/sync")
    assert started.status_code == 303
    location = started.headers["location"]
    job_id = int(re.fullmatch(rf"/courses/{course.id}/lti\?job=(\d+)#resend", location).group(1))
    job = finished_job(course.client, job_id, course.instructor)
    assert job["kind"] == "lti_sync" and job["status"] == "done"
    page = browser.get(location.split("#")[0]).text
    assert 'id="resend-progress"' in page and "Resent: the LMS rosters were read again" in page
    fragment = browser.get(f"/courses/{course.id}/lti/sync/{job_id}").text
    assert fragment.lstrip().startswith("<div") and "hx-get" not in fragment  # over: no more polling


def test_a_job_that_is_not_this_course_s_resend_is_not_found(app, client, engine, linked: Linked) -> None:
    course = linked.course
    regrade = course.client.post(f"{course.path}/assignments/{linked.assignment}/regrade", headers=course.instructor)
    assert regrade.status_code == 202
    browser = signed(app, linked.tokens["owner"])
    assert browser.get(f"/courses/{course.id}/lti?job={regrade.json()['job']}").status_code == 404
    assert browser.get(f"/courses/{course.id}/lti/sync/{regrade.json()['job']}").status_code == 404
    other = Course(client, make_instructor(engine))
    started = other.client.post(f"{other.path}/lti/sync", headers=other.instructor).json()["job"]
    assert browser.get(f"/courses/{course.id}/lti/sync/{started}").status_code == 404
    assert browser.get(f"/courses/{course.id}/lti?job=0").status_code == 422
    finished_job(course.client, regrade.json()["job"], course.instructor)
    finished_job(other.client, started, other.instructor)
