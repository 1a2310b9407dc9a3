"""An LTI launch's ``email`` claim is kept only if mail can be sent to it: one that cannot (non-ASCII,
a line separator) is not stored and the log says why, and the launch goes on (the student cannot
fix what their LMS sends); a good address already on the account stays."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import LtiAccount, User

from factories import unique
from lti_platform import INSTRUCTOR, LMS
from lti_platform import User as LmsUser


def _stored_email(engine, lms: LMS, sub: str) -> str | None:
    with Session(engine) as db:
        user_id = db.scalar(select(LtiAccount.user_id).where(LtiAccount.platform_id == lms.id, LtiAccount.sub == sub))
        user = db.get(User, user_id)
        assert user is not None
        return user.email


def test_an_email_claim_no_relay_takes_is_not_stored_and_the_log_says_so(
    lms: LMS, engine, caplog: pytest.LogCaptureFixture
) -> None:
    sub = unique("sub")
    with caplog.at_level(logging.WARNING, logger="grader.lti"):
        first = lms.launch(LmsUser(sub, [INSTRUCTOR], name="Ines", email="ines\u2028@example.edu"), context=unique("c"))
    assert first.status_code == 200, first.text  # the launch goes on
    assert _stored_email(engine, lms, sub) is None
    (logged,) = [r.getMessage() for r in caplog.records if "email claim is not kept" in r.getMessage()]
    assert '"ines\\u2028@example.edu" is not an address mail can be sent to: it holds U+2028' in logged

    lms.launch(LmsUser(sub, [INSTRUCTOR], name="Ines", email="ines@example.edu"), context=unique("c"))
    assert _stored_email(engine, lms, sub) == "ines@example.edu"
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="grader.lti"):
        later = lms.launch(LmsUser(sub, [INSTRUCTOR], name="Inés", email="inés@example.edu"), context=unique("c"))
    assert later.status_code == 200, later.text
    assert _stored_email(engine, lms, sub) == "ines@example.edu"  # the good address stays
    assert any('it holds "é", which is not ASCII' in r.getMessage() for r in caplog.records)


def test_a_name_falls_back_on_a_kept_address_only(lms: LMS, engine) -> None:
    sub = unique("sub")
    page = lms.launch(LmsUser(sub, [INSTRUCTOR], name="", email="ada\u2028@example.edu"), context=unique("c"))
    assert page.status_code == 200, page.text
    with Session(engine) as db:
        user_id = db.scalar(select(LtiAccount.user_id).where(LtiAccount.platform_id == lms.id, LtiAccount.sub == sub))
        user = db.get(User, user_id)
        assert user is not None and (user.name, user.email) == ("LMS user", None)
