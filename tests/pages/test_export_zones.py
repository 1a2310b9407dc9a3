"""Every file the pages export names the time zone of its dates: a column holding dates says the
course's zone in its header, and its cells are that zone's wall-clock times with their offset (so
a program reads the instant too). Checked on a course in Europe/Paris, where UTC would be off by
an hour."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from factories import Course, make_instructor
from page_client import Browser

ZONE = "Europe/Paris"


def _dated_columns(text: str) -> dict[str, list[datetime]]:
    """Each column of the CSV ``text`` whose filled cells are all dates and times, with them."""
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    header, body = rows[0], rows[1:]
    dated: dict[str, list[datetime]] = {}
    for index, name in enumerate(header):
        cells = [row[index] for row in body if index < len(row) and row[index]]
        moments = [_moment(cell) for cell in cells]
        if cells and all(moment is not None for moment in moments):
            dated[name] = [moment for moment in moments if moment is not None]
    return dated


def _moment(cell: str) -> datetime | None:
    if not re.fullmatch(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d.*", cell):
        return None
    try:
        return datetime.fromisoformat(cell)
    except ValueError:
        return None


def _in_the_zone(dated: dict[str, list[datetime]]) -> None:
    zone = ZoneInfo(ZONE)
    for name, moments in dated.items():
        assert name.endswith(f" ({ZONE})"), f"{name!r} holds dates without naming the zone"
        for moment in moments:
            assert moment.utcoffset() == moment.astimezone(zone).utcoffset(), f"{moment} is not a time in {ZONE}"


def _paris_course(client: TestClient, engine: Engine) -> Course:
    course = Course(client, make_instructor(engine))
    zoned = client.patch(course.path, json={"time_zone": ZONE}, headers=course.instructor)
    assert zoned.status_code == 200, zoned.text
    return course


def test_the_sign_in_links_file_gives_the_expiry_in_the_courses_zone_and_names_it(
    app: Any, client: TestClient, engine: Engine
) -> None:
    course = _paris_course(client, engine)
    course.enrol([{"id": f"{course.id}-s1", "name": "Ada"}, {"id": f"{course.id}-s2", "name": "Bo"}])
    browser = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    browser.get(f"/courses/{course.id}")
    issued = browser.post(f"/courses/{course.id}/sign-in-links", {})
    assert issued.status_code == 200, issued.text
    fields = dict(re.findall(r'<input type="hidden" name="(download|key)" value="([^"]+)">', issued.text))
    got = browser.post(f"/courses/{course.id}/sign-in-links/download", fields)
    assert got.status_code == 200, got.text
    assert re.search(r'filename="sign-in-links-[^"]*-UTC\.csv"', got.headers["content-disposition"])

    dated = _dated_columns(got.text)
    assert list(dated) == [f"expires_at ({ZONE})"] and len(dated[f"expires_at ({ZONE})"]) == 2
    _in_the_zone(dated)


def test_the_gradebook_files_hold_no_date_that_does_not_name_the_zone(
    app: Any, client: TestClient, engine: Engine
) -> None:
    course = _paris_course(client, engine)
    assignment = course.assignment(due_at="2030-01-10T12:00:00Z", closes_at="2030-01-20T12:00:00Z")
    (on_time, ada), (extended, bo) = course.students(2)
    granted = client.put(
        f"{course.path}/assignments/{assignment}/extensions/{extended}",
        json={"due_at": "2030-01-15T12:00:00Z"},
        headers=course.instructor,
    )
    assert granted.status_code == 200, granted.text
    for headers in (ada, bo):
        assert course.submit(assignment, headers, {"ex4.conv1_params": "3640"}).status_code == 201
    browser = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    page = f"/courses/{course.id}/assignments/{assignment}/gradebook/download"
    for format in ("csv", "canvas"):
        got = browser.get(f"{page}?format={format}")
        assert got.status_code == 200, got.text
        assert {on_time, extended} <= set(got.text.replace(",", "\n").splitlines())  # both students' rows
        _in_the_zone(_dated_columns(got.text))
