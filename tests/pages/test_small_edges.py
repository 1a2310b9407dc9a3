"""The small edges a new instructor tripped on: a reload after the roster import, a timed exam's
row on the dashboard and on the student's course page, and the docs naming /admin/accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from factories import Course
from page_client import Browser
from staff_course import token


def test_a_reload_after_the_roster_import_lands_on_the_roster(app: Any, course: Course) -> None:
    staff = Browser(app).signed_in(token(course.instructor))
    again = staff.get(f"/courses/{course.id}/members")
    assert again.status_code == 303 and again.headers["location"] == f"/courses/{course.id}#roster"


def test_a_timed_exams_row_says_timed_its_close_and_its_feedback(app: Any, course: Course) -> None:
    closes = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    exam = course.assignment(
        time_limit=30, closes_at=closes.isoformat().replace("+00:00", "Z"), feedback="score", title="Midterm"
    )
    (_, headers) = course.student()
    dashboard = " ".join(Browser(app).signed_in(token(course.instructor)).get(f"/courses/{course.id}").text.split())
    row = dashboard.split(f'<span class="mono muted">{exam}</span>', 1)[1].split("</tr>", 1)[0]
    assert "Timed, 30 min; closes " in row and "feedback: score" in row and ">none<" not in row
    theirs = " ".join(Browser(app).signed_in(token(headers)).get(f"/courses/{course.id}").text.split())
    mine = theirs.split(">Midterm</a>", 1)[1].split("</tr>", 1)[0]
    assert "Timed, 30 minutes; closes " in mine and "no due date" not in mine


def test_the_instructors_guide_names_the_accounts_page() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "instructor.md").read_text(encoding="utf-8")
    assert "`/admin/accounts`" in guide
