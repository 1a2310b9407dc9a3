"""A mail that cannot be sent fails alone: an address no relay takes (stored before addresses were
checked), a refusal for good, or any error while the mail is made or sent marks that mail
``failed`` with its reason after one attempt, and the mails behind it go out. Through a real SMTP
server in the test process (aiosmtpd), on SQLite and PostgreSQL; the outbox is drained by the test
(``deliver_due``), not by the app's runner, so the order mails are taken in is the outbox's own."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.app import create_app
from api.kit.config import Settings
from api.library.bank import Bank
from api.models import Membership, SignInLink, User
from api.signin.outbox import Outbox

from factories import Course, make_instructor, unique
from mail_server import Mailbox, smtp_server
from page_client import Browser

PUBLIC_URL = "https://grader.example.edu"
#: Addresses the roster import and LTI launches stored before addresses were checked.
OLD_ADDRESSES = {
    "a name with an accent (the roster import)": "josé@example.edu",
    "a line separator (an LTI email claim)": "ada\u2028@example.edu",
    "a header after a line break": "eve@example.edu\r\nBcc: victim@example.com",
    "a quoted local part": '"ada lovelace"@example.edu',
}


@pytest.fixture(scope="module")
def relay() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mailbox(relay: tuple[Mailbox, int]) -> Mailbox:
    box, _ = relay
    box.received.clear()
    box.refuse_next = 0
    box.unknown.clear()
    return box


@dataclass
class Service:
    app: Any
    course: Course
    outbox: Outbox

    def mails(self) -> dict[str, dict[str, Any]]:
        """The course's mails as staff see them, by address."""
        shown = self.course.client.get(f"{self.course.path}/mails", headers=self.course.instructor)
        assert shown.status_code == 200, shown.text
        return {mail["to"]: mail for mail in shown.json()}

    def old_student(self, email: str, name: str = "Old Student") -> str:
        """A student whose account holds ``email`` as it was stored before addresses were checked."""
        student_id = unique("old")
        with Session(self.app.state.engine) as db, db.begin():
            db.add(User(id=student_id, name=name, role="student", email=email))
            db.flush()
            db.add(Membership(course_id=self.course.id, user_id=student_id, role="student"))
        return student_id

    def mail_link(self, student_id: str) -> None:
        """Staff mail a sign-in link to a student's own (stored) address."""
        path = f"{self.course.path}/members/{student_id}/sign-in-link"
        response = self.course.client.post(path, json={"send": True}, headers=self.course.instructor)
        assert response.status_code == 200, response.text

    def invite(self, count: int) -> list[str]:
        """New students with good addresses, each invited by mail; their addresses."""
        roster = [
            {"id": unique("s"), "name": f"Student {i}", "email": f"{unique('m')}@uni.example"} for i in range(count)
        ]
        self.course.enrol(roster)
        return [member["email"] for member in roster]

    def links_of(self, student_id: str) -> int:
        with Session(self.app.state.engine) as db:
            return db.scalar(select(func.count()).select_from(SignInLink).where(SignInLink.user_id == student_id)) or 0


@pytest.fixture
def service(own_database: str, shared_bank: Bank, relay: tuple[Mailbox, int]) -> Iterator[Service]:
    _, port = relay
    settings = Settings(
        database_url=own_database,
        smtp_url=f"smtp://127.0.0.1:{port}?starttls=false",
        mail_from="Grader <grader@example.edu>",
        public_url=PUBLIC_URL,
    )
    application = create_app(settings, bank=shared_bank)  # (no lifespan: its runner is not started)
    try:
        client = TestClient(application, raise_server_exceptions=False)
        outbox = dataclasses.replace(application.state.mail.outbox, backoff=(timedelta(0), timedelta(0)))
        yield Service(application, Course(client, make_instructor(application.state.engine)), outbox)
    finally:
        application.state.engine.dispose()


def _received_by(mailbox: Mailbox) -> list[str]:
    return [message["To"].addresses[0].addr_spec for message in mailbox.received]


def test_mails_to_old_addresses_no_relay_takes_fail_alone_and_the_rest_go_out(
    service: Service, mailbox: Mailbox
) -> None:
    # first in line: the old accounts' mails; behind them, new students' invitations
    old = {service.old_student(address): address for address in OLD_ADDRESSES.values()}
    for student_id in old:
        service.mail_link(student_id)
    unusual = f"o'brien+cnn{{1}}|~{unique('x')}@sub-1.uni.example"  # every kind of character a relay takes
    service.course.enrol([{"id": unique("s"), "name": "Ó Briain", "email": unusual}])
    behind = service.invite(3)

    assert service.outbox.deliver_due() == len(old) + 4
    assert sorted(_received_by(mailbox)) == sorted([unusual, *behind])
    shown = service.mails()
    for student_id, address in old.items():
        mail = shown[address]
        assert (mail["status"], mail["attempts"]) == ("failed", 1), mail
        assert "is not an address mail can be sent to" in mail["error"], mail
        assert service.links_of(student_id) == 0  # no link is made for a mail that cannot be sent
    refused = shown["josé@example.edu"]["error"]
    assert refused.startswith('"josé@example.edu" is not an address mail can be sent to: it holds "é", which is not')
    assert "U+2028 (LINE SEPARATOR)" in shown["ada\u2028@example.edu"]["error"]
    assert {shown[address]["status"] for address in [unusual, *behind]} == {"sent"}
    assert service.outbox.deliver_due() == 0  # nothing left pending, nothing taken again
    token = service.course.instructor["Authorization"].removeprefix("Bearer ")
    page = Browser(service.app).signed_in(token).get(f"/courses/{service.course.id}")
    assert f"{len(old)} failed" in page.text and "is not an address mail can be sent to" in page.text


def test_a_mail_the_relay_refuses_for_good_fails_at_once_and_a_refusal_for_now_is_retried(
    service: Service, mailbox: Mailbox
) -> None:
    (unknown,) = service.invite(1)
    mailbox.unknown.add(unknown)
    mailbox.refuse_next = 1  # the next mail that reaches DATA: the one behind
    (retried,) = service.invite(1)
    (last,) = service.invite(1)
    # the unknown mailbox once; the second, refused for now, then again after its (zero) backoff
    assert service.outbox.deliver_due() == 4
    shown = service.mails()
    assert (shown[unknown]["status"], shown[unknown]["attempts"]) == ("failed", 1)
    assert "550" in shown[unknown]["error"] and "no such mailbox" in shown[unknown]["error"]
    assert (shown[retried]["status"], shown[retried]["attempts"], shown[retried]["error"]) == ("sent", 2, None)
    assert (shown[last]["status"], shown[last]["attempts"]) == ("sent", 1)
    assert sorted(_received_by(mailbox)) == sorted([retried, last])


def test_whatever_making_or_sending_a_mail_raises_fails_that_mail_alone(service: Service, mailbox: Mailbox) -> None:
    (broken, fine) = service.invite(2)
    real_send = service.outbox.send

    def send(message: EmailMessage) -> None:
        if message["To"].addresses[0].addr_spec == broken:
            raise RuntimeError("a fault of the sending code")
        real_send(message)

    assert dataclasses.replace(service.outbox, send=send).deliver_due() == 2
    shown = service.mails()
    assert (shown[broken]["status"], shown[broken]["attempts"]) == ("failed", 1)
    assert shown[broken]["error"] == "the mail could not be sent: RuntimeError: a fault of the sending code"
    assert shown[fine]["status"] == "sent" and _received_by(mailbox) == [fine]

    # a link lifetime past the end of the calendar: making the mail itself raises, for every mail
    (first, second) = service.invite(2)
    past_the_calendar = dataclasses.replace(service.outbox, link_lifetime=timedelta(days=4_000_000))
    assert past_the_calendar.deliver_due() == 2
    shown = service.mails()
    for address in (first, second):
        assert (shown[address]["status"], shown[address]["attempts"]) == ("failed", 1)
        assert shown[address]["error"].startswith("the mail could not be made: OverflowError"), shown[address]
    assert _received_by(mailbox) == [fine]


def test_runners_draining_at_once_send_each_mail_once_and_fail_each_bad_one_once(
    service: Service, mailbox: Mailbox
) -> None:
    old = [service.old_student(address) for address in OLD_ADDRESSES.values()]
    for student_id in old:
        service.mail_link(student_id)
    good = service.invite(8)
    attempted: list[int] = []
    runners = [threading.Thread(target=lambda: attempted.append(service.outbox.deliver_due())) for _ in range(3)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(timeout=60)
    assert not any(runner.is_alive() for runner in runners)
    assert sum(attempted) == len(old) + len(good)  # each mail taken by one runner, once
    assert sorted(_received_by(mailbox)) == sorted(good)
    shown = service.mails()
    assert {(shown[address]["status"], shown[address]["attempts"]) for address in OLD_ADDRESSES.values()} == {
        ("failed", 1)
    }
    assert {(shown[address]["status"], shown[address]["attempts"]) for address in good} == {("sent", 1)}
