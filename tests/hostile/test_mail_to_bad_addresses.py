"""Addresses no mail relay takes, against the real ``grader serve`` mailing through an SMTP server
in the test process: the ones stored before addresses were checked (a roster's ``josé@…``, an
LTI email claim holding U+2028, a header after a line break) made every mail behind them wait
for good; now each such mail fails alone, with its reason shown to staff, and the mails behind it
go out. And every door an address comes in by refuses such an address with a sentence."""

from __future__ import annotations

import html
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.models import Mail, Membership, User
from harness.server import VENV_BIN, server_env

from live_service import LiveCourse, live_course
from mail_server import Mailbox, smtp_server

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
#: Accounts as the doors stored them before addresses were checked, by id.
OLD = {
    "jose": "josé@example.edu",  # the roster import (JSON or CSV)
    "lti-5e1f0a2b3c4d5e6f7a8b9c0d": "ada\u2028@example.edu",  # an LTI launch's email claim
    "eve": "eve@example.edu\r\nBcc: victim@example.com",
}


@dataclass
class Mailed:
    live: LiveCourse
    mailbox: Mailbox
    database_url: str

    def mails(self) -> dict[str, dict[str, Any]]:
        shown = self.live.api("GET", f"/courses/{self.live.course}/mails")
        assert shown.status_code == 200, shown.text
        return {mail["to"]: mail for mail in shown.json()}


@pytest.fixture(scope="module")
def mailed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailed]:
    with smtp_server() as (mailbox, port):
        workdir: Path = tmp_path_factory.mktemp("bad-addresses")
        smtp = f"smtp://127.0.0.1:{port}?starttls=false"
        with live_course(workdir, GRADER_SMTP_URL=smtp, GRADER_MAIL_FROM="Grader <grader@uni.example>") as live:
            yield Mailed(live, mailbox, f"sqlite:///{workdir / 'grader.db'}")


def test_mails_to_old_bad_addresses_fail_alone_and_the_ones_behind_them_are_delivered(mailed: Mailed) -> None:
    live, mailbox = mailed.live, mailed.mailbox
    behind = {f"waiting{i}": f"waiting{i}@uni.example" for i in range(3)}
    # one transaction, the old rows first in line (as they were, pending, due an hour ago)
    due = datetime.now(UTC) - timedelta(hours=1)
    engine = create_engine(mailed.database_url)
    try:
        with Session(engine) as db, db.begin():
            for number, (user_id, email) in enumerate([*OLD.items(), *behind.items()]):
                db.add(User(id=user_id, name=user_id.title(), role="student", email=email))
                db.flush()
                db.add(Membership(course_id=live.course, user_id=user_id, role="student"))
                db.add(
                    Mail(
                        kind="invitation",
                        user_id=user_id,
                        course_id=live.course,
                        to_address=email,
                        link_base=live.url,
                        next_attempt_at=due + timedelta(seconds=number),
                    )
                )
    finally:
        engine.dispose()
    # a new student's invitation, queued by the service itself (and waking its mail runner)
    joined = live.api(
        "POST",
        f"/courses/{live.course}/members",
        json={"members": [{"id": "newcomer", "name": "Newcomer", "email": "newcomer@uni.example"}]},
    )
    assert joined.status_code == 200, joined.text

    for address in [*behind.values(), "newcomer@uni.example"]:
        (mail,) = mailbox.wait_to(address, 1)
        assert mail["Subject"] == "You have been added to Convolutional networks"
    # (a mail is in the mailbox a moment before its runner records it sent: every record awaited)
    shown = _settled(mailed, [*OLD.values(), *behind.values(), "newcomer@uni.example"])
    for address in OLD.values():
        assert (shown[address]["status"], shown[address]["attempts"]) == ("failed", 1), shown[address]
        assert "is not an address mail can be sent to" in shown[address]["error"]
    assert 'it holds "é", which is not ASCII' in shown["josé@example.edu"]["error"]
    assert "U+2028 (LINE SEPARATOR)" in shown["ada\u2028@example.edu"]["error"]
    assert "U+000D" in shown["eve@example.edu\r\nBcc: victim@example.com"]["error"]
    assert {shown[address]["status"] for address in [*behind.values(), "newcomer@uni.example"]} == {"sent"}
    assert not [m for m in mailbox.received if m["Bcc"] is not None or "victim" in str(m["To"])]
    # the staff page says how many failed, and why
    with _signed_in(live) as browser:
        page = html.unescape(browser.get(f"/courses/{live.course}").text)
    assert "3 failed" in page and '"josé@example.edu" is not an address mail can be sent to' in page


def test_every_door_refuses_an_address_no_relay_takes_with_a_sentence(mailed: Mailed) -> None:
    live = mailed.live
    # the roster import's JSON: the member and the address named
    body = {"members": [{"id": "ok1", "name": "Ok"}, {"id": "jose2", "name": "José", "email": "josé@example.edu"}]}
    refused = live.api("POST", f"/courses/{live.course}/members", json=body)
    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["detail"]
    assert error["loc"] == ["body", "members", 1, "email"]
    assert error["msg"].endswith(
        '"josé@example.edu" is not an address mail can be sent to: it holds "é", which is not ASCII: the service '
        "sends mail to ASCII addresses only, as every mail relay takes them (use an ASCII address for this person)"
    )
    # the roster CSV on the pages: the line and the address named, nobody imported
    roster = 'id,name,email\nok2,Ok,ok2@uni.example\nada2,Ada,"ada\u2028@example.edu"\n'
    with _signed_in(live) as browser:
        course_page = browser.get(f"/courses/{live.course}")
        csrf = CSRF.findall(course_page.text)[-1]
        page = browser.post(f"/courses/{live.course}/members", data={"roster_text": roster, "csrf": csrf})
    assert page.status_code == 422, page.text
    text = html.unescape(page.text)
    assert 'Line 3, email: "ada\\u2028@example.edu" is not an address mail can be sent to: it holds U+2028' in text
    members = {m["id"] for m in live.api("GET", f"/courses/{live.course}/members").json()}
    assert not {"ok1", "jose2", "ok2", "ada2"} & members
    # the command line an administrator makes accounts with
    made = subprocess.run(
        [str(VENV_BIN / "grader"), "users", "create", "--role", "student", "--name", "Eve", "--email", OLD["eve"]],
        env=server_env(DATABASE_URL=mailed.database_url),
        capture_output=True,
        text=True,
    )
    assert made.returncode == 2, made.stdout + made.stderr
    assert "is not an address mail can be sent to: it holds U+000D" in " ".join((made.stdout + made.stderr).split())


def _settled(mailed: Mailed, addresses: Any, *, timeout: float = 30.0) -> dict[str, dict[str, Any]]:
    """The course's mails once none of ``addresses`` is pending (the runner records after sending)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = mailed.mails()
        if all(address in shown and shown[address]["status"] != "pending" for address in addresses):
            return shown
        assert time.monotonic() < deadline, {a: shown.get(a) for a in addresses}
        time.sleep(0.05)


@contextmanager
def _signed_in(live: LiveCourse) -> Iterator[httpx.Client]:
    """The pages as the course's instructor, signed in with their token (cookies and CSRF as a browser)."""
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=30) as client:
        form = client.get("/")
        signed = client.post(
            "/sign-in", data={"token": live.instructor, "next": "/", "csrf": CSRF.findall(form.text)[-1]}
        )
        assert signed.status_code == 303, signed.text
        yield client
