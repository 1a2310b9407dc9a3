"""``/admin/accounts``: an admin makes instructor and admin accounts from the pages, each with a
one-time sign-in link shown once (this service sends no mail; the mailed link is in
``tests/signin/test_mail.py``); the new instructor signs in by it and can create a course; bad input
is refused beside its field with nothing stored; only admins reach the page or its form."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.models import Role, SignInLink, User
from api.pages import ROUTERS
from api.pages.accounts import staff_accounts
from api.users.service import create_user

from factories import Course, make_instructor, unique
from page_client import Browser

LINK = re.compile(r'<code class="token" id="new-account-link">http://testserver(/signin/[^<]+)</code>')


@pytest.fixture(scope="module")
def admin_token(engine: Engine) -> str:
    with Session(engine) as db, db.begin():
        return create_user(db, name="Root", role=Role.ADMIN, user_id=unique("admin")).token or ""


def _users(engine: Engine) -> int:
    with Session(engine) as db:
        return db.scalar(select(func.count()).select_from(User)) or 0


def test_an_admin_makes_an_instructor_who_signs_in_once_by_the_link_and_creates_a_course(
    app: Any, engine: Engine, admin_token: str
) -> None:
    admin = Browser(app).signed_in(admin_token)
    assert 'href="/admin/accounts"' in admin.get("/").text  # the way there
    form = admin.get("/admin/accounts")
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    name = f"Grace {unique('h')}"
    made = admin.post("/admin/accounts", {"name": name, "role": "instructor", "email": ""})
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"  # the link is shown this once
    (path,) = LINK.findall(made.text)
    with Session(engine) as db:
        user = db.scalars(select(User).where(User.name == name)).one()
        assert user.role == Role.INSTRUCTOR.value and user.email is None
        link = db.scalars(select(SignInLink).where(SignInLink.user_id == user.id)).one()
        assert link.created_by is not None and link.created_by.startswith("admin")
    assert user.id in made.text and name in admin.get("/admin/accounts").text  # listed

    browser = Browser(app)
    opened = browser.get(path)
    assert opened.status_code == 303, opened.text
    home = browser.get("/")
    assert name in home.text and 'href="/courses/new"' in home.text
    assert "Your instructor adds you with the roster import" not in home.text  # not a student's words
    browser.get("/courses/new")
    course_id = unique("c")
    created = browser.post("/courses/new", {"id": course_id, "title": "Vision", "time_zone": "UTC"})
    assert created.status_code == 303 and created.headers["location"] == f"/courses/{course_id}"
    assert Browser(app).get(path).status_code == 410  # once


def test_an_admin_account_is_made_the_same_way(app: Any, engine: Engine, admin_token: str) -> None:
    admin = Browser(app).signed_in(admin_token)
    admin.get("/admin/accounts")
    name = f"Root {unique('r')}"
    made = admin.post("/admin/accounts", {"name": name, "role": "admin", "email": f"{unique('m')}@uni.example"})
    assert made.status_code == 201, made.text
    (path,) = LINK.findall(made.text)  # no mail here: shown, even with an address
    browser = Browser(app)
    assert browser.get(path).status_code == 303
    assert 'href="/admin/accounts"' in browser.get("/").text  # an admin now


@pytest.mark.parametrize(
    ("form", "field", "status"),
    [
        ({"name": "", "role": "instructor"}, "name", 422),
        ({"name": "Ada", "role": ""}, "role", 422),
        ({"name": "Ada", "role": "student"}, "role", 422),
        ({"name": "Ada", "role": "instructor", "email": "not an address"}, "email", 422),
        ({"name": "x" * 500, "role": "instructor"}, "name", 422),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_stored(
    app: Any, engine: Engine, admin_token: str, form: dict[str, str], field: str, status: int
) -> None:
    admin = Browser(app).signed_in(admin_token)
    admin.get("/admin/accounts")
    before = _users(engine)
    refused = admin.post("/admin/accounts", form)
    assert refused.status_code == status, refused.text
    assert f'id="a-{field}-error"' in refused.text and "The account was not created" in refused.text
    assert "new-account-link" not in refused.text
    assert _users(engine) == before
    if form.get("name") and len(form["name"]) < 200:
        assert f'value="{form["name"]}"' in refused.text  # what was typed is kept


@pytest.mark.parametrize("who", ["none", "student", "instructor"])
def test_only_admins_reach_the_page_and_its_form(client: Any, app: Any, engine: Engine, who: str) -> None:
    course = Course(client, make_instructor(engine))
    _, student = course.student()
    tokens = {"student": student["Authorization"][7:], "instructor": course.instructor["Authorization"][7:]}
    browser = Browser(app) if who == "none" else Browser(app).signed_in(tokens[who])
    before = _users(engine)
    seen = browser.get("/admin/accounts")
    browser.get("/")
    sent = browser.post("/admin/accounts", {"name": "Mallory", "role": "admin"})
    if who == "none":
        assert seen.status_code == sent.status_code == 303  # to sign in
    else:
        assert seen.status_code == sent.status_code == 403
        assert "Only admins" in sent.text
    assert _users(engine) == before
    assert 'href="/admin/accounts"' not in browser.get("/").text


def test_the_form_is_refused_without_the_sessions_csrf_token(app: Any, engine: Engine, admin_token: str) -> None:
    admin = Browser(app).signed_in(admin_token)
    before = _users(engine)
    refused = admin.post("/admin/accounts", {"name": "Eve", "role": "admin"}, csrf=False)
    assert refused.status_code == 403 and "reload" in refused.text
    assert _users(engine) == before


def test_the_page_is_installed() -> None:
    assert staff_accounts.router in ROUTERS
