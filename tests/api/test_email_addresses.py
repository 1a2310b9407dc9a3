"""Addresses enter by the roster import (JSON here; the CSV of the pages is held to the same
schema) and by ``grader users create --email``: an address no mail relay takes is refused with a
422 whose sentence quotes it and says what is wrong, at the member it came in; nobody is imported."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli.app import app as cli_app

from factories import unique

REFUSED = [
    # not ASCII: no relay without SMTPUTF8 takes it
    ("josé@example.edu", '"josé@example.edu" is not an address mail can be sent to: it holds "é", which is not ASCII'),
    # what could end a header line or hide text, inside the address (at its edges it is stripped)
    ("ada\u2028@example.edu", '"ada\\u2028@example.edu" is not an address mail can be sent to: it holds U+2028'),
    ("eve@example.edu\r\nBcc: victim@example.com", "it holds U+000D, which no address may hold"),
    ("ada\u202e@example.edu", "it holds U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("ada\x00@example.edu", "it holds U+0000"),
    # forms some relays take and others do not
    ('"ada lovelace"@example.edu', "it holds a space"),
    ("ada@[127.0.0.1]", "the part after the @ must be a host name"),
    ("ada@exa_mple.edu", "the part after the @ must be a host name"),
    ("ada..lovelace@example.edu", "with single dots between"),
    (".ada@example.edu", "no dot first or last"),
    ("ada@-example.edu", "no hyphen first or last"),
    ("ada@example.edu@evil.example", "it has 2 @s, and an address has one"),
    ("not-an-email", "it has no @"),
]


@pytest.mark.parametrize(("address", "says"), REFUSED, ids=[address for address, _ in REFUSED])
def test_the_roster_import_refuses_an_address_no_relay_takes_naming_it_and_its_member(
    client, course, address: str, says: str
) -> None:
    members = [
        {"id": unique("s"), "name": "Fine", "email": f"{unique('m')}@uni.example"},
        {"id": unique("s"), "name": "Refused", "email": address},
    ]
    response = client.post(f"{course.path}/members", json={"members": members}, headers=course.instructor)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "members", 1, "email"]
    assert says in error["msg"], error["msg"]
    roster = client.get(f"{course.path}/members", headers=course.instructor).json()
    assert not {m["id"] for m in members} & {m["id"] for m in roster}  # nobody imported


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("Ada.Lovelace+cnn101@Example.EDU", "Ada.Lovelace+cnn101@Example.EDU"),
        ("o'brien@sub-1.uni.example", "o'brien@sub-1.uni.example"),
        ("\u3000grace@localhost\u2028", "grace@localhost"),  # (surrounding whitespace is stripped)
    ],
)
def test_an_address_every_relay_takes_is_stored_as_typed(client, course, sent: str, stored: str) -> None:
    (member,) = course.enrol([{"id": unique("s"), "name": "Fine", "email": sent}])
    assert member["email"] == stored


@pytest.mark.parametrize(("address", "says"), REFUSED[:3], ids=[address for address, _ in REFUSED[:3]])
def test_the_command_line_refuses_such_an_address_too(database_url: str, address: str, says: str) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["users", "create", "--role", "student", "--name", "Ada", "--email", address],
        env={"DATABASE_URL": database_url},
    )
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.split()), result.output
