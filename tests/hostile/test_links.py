"""Links that leave the service (mailed sign-in links and invitations, the LTI tool's URLs) point
at its configured public address whatever ``Host`` a request names: a link mailed to a victim but
made from the attacker's ``Host`` would hand the account over on the victim's first click."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from live_service import LiveCourse, live_course
from mail_server import Mailbox, link_in, smtp_server

EVIL = "evil.example"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture(scope="module")
def mailed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveCourse, Mailbox]]:
    with smtp_server() as (mailbox, port):
        workdir: Path = tmp_path_factory.mktemp("links")
        with live_course(workdir, GRADER_SMTP_URL=f"smtp://127.0.0.1:{port}?starttls=false") as live:
            yield live, mailbox


def _points_home(live: LiveCourse, url: str) -> None:
    """``grader serve`` on 127.0.0.1 makes its links for exactly the address it listens on."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == live.url, url


def test_asking_for_a_link_with_another_host_mails_a_link_home(mailed: tuple[LiveCourse, Mailbox]) -> None:
    live, mailbox = mailed
    address = "victim@uni.example"
    enrolled = live.api(
        "POST",
        f"/courses/{live.course}/members",
        json={"members": [{"id": "victim", "name": "Victim", "email": address}]},
        headers={"Host": EVIL},
    )
    assert enrolled.status_code == 200, enrolled.text
    (invitation,) = mailbox.wait_to(address, 1)
    _points_home(live, link_in(invitation))
    with httpx.Client(base_url=live.url, headers={"Host": EVIL}, timeout=30) as attacker:
        form = attacker.get("/")
        asked = attacker.post("/sign-in/email", data={"email": address, "csrf": CSRF.findall(form.text)[-1]})
        assert asked.status_code == 200, asked.text
    _, link = mailbox.wait_to(address, 2)
    _points_home(live, link_in(link))
    # the link works where it points
    with httpx.Client(timeout=30) as victim:
        opened = victim.get(link_in(link))
        assert opened.status_code == 303 and opened.headers["location"] == "/"  # asked on /: no course


def test_links_staff_ask_for_with_another_host_point_home(mailed: tuple[LiveCourse, Mailbox]) -> None:
    live, mailbox = mailed
    address = "other@uni.example"
    live.api(
        "POST", f"/courses/{live.course}/members", json={"members": [{"id": "other", "name": "O", "email": address}]}
    )
    mailbox.wait_to(address, 1)
    path = f"/courses/{live.course}/members/other/sign-in-link"
    copied = live.api("POST", path, json={"send": False}, headers={"Host": EVIL})
    assert copied.status_code == 200, copied.text
    _points_home(live, copied.json()["url"])
    mailed_link = live.api("POST", path, json={"send": True}, headers={"Host": EVIL})
    assert mailed_link.status_code == 200 and mailed_link.json()["mail"] is not None, mailed_link.text
    _, sent = mailbox.wait_to(address, 2)
    _points_home(live, link_in(sent))
