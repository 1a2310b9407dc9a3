"""Newly issued sign-in links offered as a CSV file once: the issuer downloads it from the page that
showed the links; a second download, another staff member's, or one past its time is refused with
a sentence; the database never holds a readable link."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from api.models import LinkDownload

from factories import Course, make_instructor
from page_client import Browser


def _issued(browser: Browser, course: Course) -> tuple[str, dict[str, str]]:
    browser.get(f"/courses/{course.id}")
    page = browser.post(f"/courses/{course.id}/sign-in-links", {})
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'<input type="hidden" name="(download|key)" value="([^"]+)">', page.text))
    assert set(fields) == {"download", "key"}, page.text
    return page.text, fields


def test_the_links_just_issued_download_once_as_csv(app: Any, client: TestClient, engine: Engine) -> None:
    course = Course(client, make_instructor(engine))
    course.enrol(
        [{"id": "s-csv-1", "name": "=Lovelace, Ada", "email": "ada@example.edu"}, {"id": "s-csv-2", "name": "Bo"}]
    )
    browser = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    page, fields = _issued(browser, course)
    assert "Download these links as CSV" in page
    with Session(engine) as db:
        (stored,) = db.scalars(select(LinkDownload).where(LinkDownload.id == fields["download"]))
        shown = re.findall(r"/signin/([A-Za-z0-9_-]+)", page)
        assert shown and not any(token in stored.ciphertext for token in shown)  # encrypted at rest

    _, theirs = course.member("instructor")
    other = Browser(app).signed_in(theirs["Authorization"].removeprefix("Bearer "))
    other.get(f"/courses/{course.id}")
    assert other.post(f"/courses/{course.id}/sign-in-links/download", fields).status_code == 410  # not theirs
    assert browser.post(f"/courses/{course.id}/sign-in-links/download", fields, csrf=False).status_code == 403

    got = browser.post(f"/courses/{course.id}/sign-in-links/download", fields)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/csv") and got.headers["cache-control"] == "no-store"
    assert got.headers["content-disposition"].startswith('attachment; filename="sign-in-links-')
    rows = list(csv.DictReader(io.StringIO(got.text.removeprefix("\ufeff"))))
    by_student = {row["student"]: row for row in rows}
    assert set(by_student) == {"s-csv-1", "s-csv-2"}
    ada = by_student["s-csv-1"]
    assert (ada["name"], ada["email"]) == ("'=Lovelace, Ada", "ada@example.edu")  # no formula for a spreadsheet
    assert datetime.fromisoformat(ada["expires_at (UTC)"]) > datetime.now(UTC)  # the course's zone, named
    opened = TestClient(app).get(urlsplit(by_student["s-csv-2"]["link"]).path, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/courses/{course.id}"  # a real link

    again = browser.post(f"/courses/{course.id}/sign-in-links/download", fields)
    assert again.status_code == 410
    assert "can no longer be downloaded: it is downloaded once" in again.text
    with Session(engine) as db:
        assert db.get(LinkDownload, fields["download"]) is None  # nothing kept


def test_a_file_past_its_time_or_with_another_key_is_refused(app: Any, client: TestClient, engine: Engine) -> None:
    course = Course(client, make_instructor(engine))
    course.student()
    browser = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    _, late = _issued(browser, course)
    with Session(engine) as db, db.begin():
        past = datetime.now(UTC) - timedelta(seconds=1)
        db.execute(update(LinkDownload).where(LinkDownload.id == late["download"]).values(expires_at=past))
    assert browser.post(f"/courses/{course.id}/sign-in-links/download", late).status_code == 410
    _, fields = _issued(browser, course)
    wrong = {**fields, "key": "not-the-key"}
    refused = browser.post(f"/courses/{course.id}/sign-in-links/download", wrong)
    assert refused.status_code == 410 and "Issue new links for a new file" in refused.text


def test_issuing_no_link_offers_no_file(app: Any, client: TestClient, engine: Engine) -> None:
    course = Course(client, make_instructor(engine))
    browser = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    browser.get(f"/courses/{course.id}")
    page = browser.post(f"/courses/{course.id}/sign-in-links", {})  # no student: no link
    assert page.status_code == 200 and 'name="download"' not in page.text
