"""Mail through a real SMTP server in the test process (aiosmtpd): invitations on a roster
import, links mailed by staff and asked for on ``/``, the first link of an account an admin makes,
retries when the relay refuses, and a mail given up on shown to the staff."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from api.kit.config import Settings
from api.kit.mail.compose import sign_in_mail
from api.library.bank import Bank
from api.models import Role
from api.users.service import create_user

from factories import Course, make_instructor, unique
from mail_server import Mailbox, free_port, link_in, smtp_server
from page_client import Browser

#: Where the service says it is reached; links in mail point there whatever a request claims.
PUBLIC_URL = "https://grader.example.edu"


@pytest.fixture(scope="module")
def relay() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def app(database_url: str, shared_bank: Bank, relay: tuple[Mailbox, int]) -> Iterator[Any]:
    _, port = relay
    settings = Settings(
        database_url=database_url,
        smtp_url=f"smtp://127.0.0.1:{port}?starttls=false",
        mail_from="Grader <grader@example.edu>",
        public_url=PUBLIC_URL,
    )
    application = create_app(settings, bank=shared_bank)
    mail = application.state.mail
    mail.outbox = dataclasses.replace(mail.outbox, backoff=(timedelta(0), timedelta(0)))
    mail.every = 0.05
    with TestClient(application):  # (its lifespan starts the mail runner)
        yield application
    application.state.engine.dispose()


@pytest.fixture(scope="module")
def client(app: Any) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def mailbox(relay: tuple[Mailbox, int]) -> Mailbox:
    box, _ = relay
    box.received.clear()
    box.refuse_next = 0
    return box


def _settled(course: Course, *, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The course's mails once none is pending (a mail is received before its row says sent)."""
    deadline = time.monotonic() + timeout
    while True:
        mails = course.client.get(f"{course.path}/mails", headers=course.instructor).json()
        if all(m["status"] != "pending" for m in mails) or time.monotonic() > deadline:
            return list(mails)
        time.sleep(0.05)


def _local(url: str) -> str:
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "grader.example.edu"  # GRADER_PUBLIC_URL
    return parts.path


def test_a_roster_import_invites_each_student_with_a_working_link(app, course: Course, mailbox: Mailbox) -> None:
    roster = [{"id": unique("s"), "name": f"Student {i}", "email": f"{unique('m')}@uni.example"} for i in range(3)]
    course.enrol([*roster, {"id": unique("s"), "name": "No address"}])
    mails = mailbox.wait_for(3)
    assert len(mails) == 3
    for member in roster:
        (mail,) = mailbox.to(member["email"])
        assert mail["Subject"] == "You have been added to A course"
        assert mail["From"] == "Grader <grader@example.edu>"
        assert mail["Date"] is not None and mail["Auto-Submitted"] == "auto-generated"
        assert mail["Message-ID"].endswith("@example.edu>")
        assert member["name"] in str(mail["To"])
        path = _local(link_in(mail))
        browser = Browser(app)
        opened = browser.get(path)
        assert opened.status_code == 303 and opened.headers["location"] == f"/courses/{course.id}"
        assert member["id"] in browser.get(f"/courses/{course.id}").text
        assert Browser(app).get(path).status_code == 410  # once
    # importing them again invites nobody twice
    course.enrol(roster)
    sent = _settled(course)
    assert len([m for m in sent if m["kind"] == "invitation"]) == 3
    assert {m["status"] for m in sent} == {"sent"}


def test_a_link_mailed_by_staff_goes_to_the_students_own_address(app, course: Course, mailbox: Mailbox) -> None:
    address = f"{unique('m')}@uni.example"
    (member,) = course.enrol([{"id": unique("s"), "name": "Ada", "email": address}])
    mailbox.wait_for(1)  # the invitation
    response = course.client.post(
        f"{course.path}/members/{member['id']}/sign-in-link", json={"send": True}, headers=course.instructor
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["url"] is None and body["mail"]["to"] == address and body["mail"]["status"] == "pending"
    mails = mailbox.wait_for(2)
    assert mails[-1]["Subject"] == "Your sign-in link for A course"
    assert Browser(app).get(_local(link_in(mails[-1]))).status_code == 303


def test_an_account_an_admin_makes_on_the_pages_gets_its_link_by_mail(app, engine, mailbox: Mailbox) -> None:
    with Session(engine) as db, db.begin():
        admin = create_user(db, name="Root", role=Role.ADMIN, user_id=unique("admin")).token or ""
    browser = Browser(app).signed_in(admin)
    browser.get("/admin/accounts")
    address = f"{unique('m')}@uni.example"
    made = browser.post("/admin/accounts", {"name": "Grace Hopper", "role": "instructor", "email": address})
    assert made.status_code == 201, made.text
    assert f"being mailed to {address}" in made.text and "/signin/" not in made.text  # not shown: mailed
    (mail,) = mailbox.wait_for(1)
    assert mail["To"] is not None and address in str(mail["To"])
    opened = Browser(app)
    assert opened.get(_local(link_in(mail))).status_code == 303
    assert 'href="/courses/new"' in opened.get("/").text  # signed in as the new instructor


def test_a_refused_mail_is_retried_then_given_up_and_shown(app, course: Course, mailbox: Mailbox) -> None:
    mailbox.refuse_next = 1
    address = f"{unique('m')}@uni.example"
    course.enrol([{"id": unique("s"), "name": "Retried", "email": address}])
    mailbox.wait_for(1)
    assert [m for m in mailbox.received if address in str(m["To"])]
    (row,) = [m for m in _settled(course) if m["to"] == address]
    assert row["status"] == "sent" and row["attempts"] == 2

    mailbox.refuse_next = 10  # more than the attempts allowed
    lost = f"{unique('m')}@uni.example"
    course.enrol([{"id": unique("s"), "name": "Refused", "email": lost}])
    for _ in range(200):
        shown = course.client.get(f"{course.path}/mails", headers=course.instructor).json()
        (row,) = [m for m in shown if m["to"] == lost]
        if row["status"] == "failed":
            break
        app.state.mail.wake()
        time.sleep(0.05)
    assert row["status"] == "failed" and row["attempts"] == 3 and "451" in row["error"]
    page = (
        Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer ")).get(f"/courses/{course.id}")
    )
    assert "1 failed" in page.text and "451" in page.text


def test_asking_for_a_link_answers_the_same_and_stops_at_its_limit(app, course: Course, mailbox: Mailbox) -> None:
    address = f"{unique('m')}@uni.example"
    course.enrol([{"id": unique("s"), "name": "Asker", "email": address}])
    mailbox.wait_for(1)
    browser = Browser(app, base_url=f"http://{unique('client')}.test")

    def ask(email: str) -> Any:
        browser.get("/")
        return browser.post("/sign-in/email", {"email": email})

    stranger = f"{unique('nobody')}@uni.example"
    known, unknown = ask(address.upper()), ask(stranger)
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace(address.upper(), "ADDRESS") == unknown.text.replace(stranger, "ADDRESS")
    mails = mailbox.wait_for(2)
    assert mails[-1]["Subject"] == "Your sign-in link"
    opened = Browser(app).get(_local(link_in(mails[-1])))
    assert opened.status_code == 303 and opened.headers["location"] == "/"
    assert ask(address).status_code == 200
    assert ask(address).status_code == 200  # the third for this address in the hour
    limited = ask(address)
    assert limited.status_code == 429 and "try again in an hour" in limited.text
    mailbox.wait_for(4)  # the invitation and three links
    assert len(mailbox.to(address)) == 4  # none for the refused request


def test_a_relay_without_starttls_is_not_sent_to_in_the_clear(own_database: str, shared_bank: Bank, relay) -> None:
    _, port = relay
    settings = Settings(database_url=own_database, smtp_url=f"smtp://127.0.0.1:{port}", public_url=PUBLIC_URL)
    application = create_app(settings, bank=shared_bank)
    try:
        client = TestClient(application, raise_server_exceptions=False)
        course = Course(client, make_instructor(application.state.engine))
        course.enrol([{"id": unique("s"), "name": "Clear", "email": f"{unique('m')}@uni.example"}])
        assert application.state.mail.outbox.deliver_due() == 1
        (row,) = client.get(f"{course.path}/mails", headers=course.instructor).json()
        assert row["status"] == "pending" and "offers no STARTTLS" in row["error"]
    finally:
        application.state.engine.dispose()


def test_an_unreachable_relay_is_an_error_kept_for_staff(own_database: str, shared_bank: Bank) -> None:
    settings = Settings(
        database_url=own_database, smtp_url=f"smtp://127.0.0.1:{free_port()}?starttls=false", public_url=PUBLIC_URL
    )
    application = create_app(settings, bank=shared_bank)
    try:
        client = TestClient(application, raise_server_exceptions=False)
        course = Course(client, make_instructor(application.state.engine))
        course.enrol([{"id": unique("s"), "name": "Far", "email": f"{unique('m')}@uni.example"}])
        assert application.state.mail.outbox.deliver_due() == 1
        (row,) = client.get(f"{course.path}/mails", headers=course.instructor).json()
        assert row["status"] == "pending" and "could not reach the mail server" in row["error"]
    finally:
        application.state.engine.dispose()


def test_a_title_or_name_with_line_breaks_adds_no_header() -> None:
    message = sign_in_mail(
        sender="grader@example.edu",
        to="ada@uni.example",
        name="Ada\r\nBcc: victim@example.com",
        url="https://grader.example.edu/signin/abc",
        expires_at=datetime(2026, 12, 1, tzinfo=UTC),
        course_title="CNNs\nX-Injected: yes",
        invitation=True,
    )
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert message["Subject"] == "You have been added to CNNs X-Injected: yes"
    assert "Ada Bcc: victim@example.com" in str(message["To"])
