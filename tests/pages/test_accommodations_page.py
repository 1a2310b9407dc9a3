"""The accommodations page (issue 66) and the extension edges of issue 69 on the staff's and the
student's pages: labels defined and given on the page and shown beside each student, the student
told their own (accommodated, or cut by the close) time, minutes extensions listed, the extension
form empty after a grant, and a roster's ``accommodations`` column checked at its line."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.pages.test_student_pages import page_of

from factories import Course, make_instructor, unique
from page_client import Browser


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_labels_are_defined_and_given_on_the_page_and_shown_beside_the_student(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    (student, student_headers) = course.student()
    (_, ta_headers) = course.member("ta")
    exam = course.assignment(time_limit=60)
    path = f"/courses/{course.id}/accommodations"
    owner = page_of(app, course.instructor)
    assert owner.get(path).status_code == 200
    refused = owner.post(path, {"name": "time-1.5", "time_multiplier": "0.5"})
    assert refused.status_code == 422 and 'id="acc-time_multiplier-error"' in refused.text
    assert 'value="time-1.5"' in refused.text  # what was typed is kept
    saved = owner.post(path, {"name": "time-1.5", "time_multiplier": "1.5"})
    assert saved.status_code == 303
    # a TA gives labels (not defines them); a student is refused the page
    ta = page_of(app, ta_headers)
    ta.get(path)
    assert ta.post(path, {"name": "mine", "extra_days": "3"}).status_code == 403
    given = ta.post(f"{path}/students", {"student": student, "names": "time-1.5"})
    assert given.status_code == 303
    after = ta.get(given.headers["location"])
    assert f"The accommodations of {student} were saved." in after.text and "<code>time-1.5</code>" in after.text
    assert 'name="student"' in after.text and f'value="{student}" selected' not in after.text  # the form is empty
    learner = page_of(app, student_headers)
    assert learner.get(path).status_code == 403
    assert learner.post(f"{path}/students", {"student": student, "names": "time-1.5"}).status_code == 403
    # shown beside the student on both gradebooks; the student is told their own time
    badge = '<span class="badge accommodation" title="An accommodation of the course">time-1.5</span>'
    assert badge in ta.get(f"/courses/{course.id}/gradebook").text
    assert badge in ta.get(f"/courses/{course.id}/assignments/{exam}/gradebook").text
    assert "You have <strong>90 minutes</strong>" in learner.get(f"/courses/{course.id}/assignments/{exam}").text


def test_minutes_extensions_are_listed_a_cut_is_said_and_the_form_is_empty_after_a_grant(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    (student, student_headers) = course.student()
    exam = course.assignment(time_limit=2, closes_at=_iso(datetime.now(UTC) + timedelta(minutes=3)))
    staff = page_of(app, course.instructor)
    gradebook = f"/courses/{course.id}/assignments/{exam}/gradebook"
    staff.get(gradebook)
    granted = staff.post(f"{gradebook}/extensions", {"student": student, "extra_minutes": "15"})
    assert granted.status_code == 303
    shown = staff.get(granted.headers["location"])
    listed = re.search(r'<td class="num extra-minutes">(.*?)</td>', shown.text, re.S)
    assert listed and "+15" in listed.group(1) and "capped: the close" in listed.group(1)
    assert (
        'id="extension-minutes" name="extra_minutes" type="number" min="1" max="10080" inputmode="numeric" value=""'
        in shown.text
    )
    # the student is told the minutes they really get, not 2 + 15
    notice = page_of(app, student_headers).get(f"/courses/{course.id}/assignments/{exam}").text
    assert "You have <strong>17 minutes</strong>" not in notice and "17 minutes, cut short by the close" in notice
    assert re.search(r"if you press Start now you have <strong>[0-3] minutes?</strong>, until the close", notice)


def test_a_roster_files_accommodations_column_is_checked_at_its_line(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    client.put(f"{course.path}/accommodations/plus-2", json={"extra_days": 2}, headers=course.instructor)
    owner: Browser = page_of(app, course.instructor)
    owner.get(f"/courses/{course.id}")
    first, second = unique("s"), unique("s")
    text = f"id,name,accommodations\n{first},Ada,plus-2\n{second},Alan,plus-2;nope\n"
    refused = owner.post(f"/courses/{course.id}/members", {"roster_text": text})
    assert refused.status_code == 422
    assert "Line 3, accommodations: no accommodation &#39;nope&#39; in this course" in refused.text
    imported = owner.post(f"/courses/{course.id}/members", {"roster_text": text.replace(";nope", "")})
    assert imported.status_code == 200, imported.text
    held = client.get(f"{course.path}/accommodations", headers=course.instructor).json()
    assert held == [
        {
            "name": "plus-2",
            "time_multiplier": None,
            "extra_minutes": None,
            "extra_days": 2,
            "extra_attempts": None,
            "students": sorted([first, second]),
        }
    ]
