"""A student's own view for staff: ``/courses/C/assignments/A?student=ID`` shows that student's
numbers, attempts and references exactly as the student sees them, with nothing to submit; the
problem-set preview draws a student's numbers from an assignment's secret."""

from __future__ import annotations

import re

from factories import Course, make_instructor
from page_client import Browser

RANDOMIZED = "conv-arithmetic"


def _statements(html: str) -> list[str]:
    return re.findall(r'<p class="statement">(.*?)</p>', html, flags=re.S)


def test_staff_see_a_students_page_as_the_student_does_and_cannot_submit_from_it(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(RANDOMIZED)
    (student, headers) = course.student()
    (other, _) = course.student()
    page = f"/courses/{course.id}/assignments/{aid}"
    own = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer ")).get(page)
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    viewed = staff.get(f"{page}?student={student}")
    assert viewed.status_code == 200 and 'id="viewing-as"' in viewed.text
    assert _statements(viewed.text) == _statements(own.text)  # the student's own numbers
    assert _statements(viewed.text) != _statements(staff.get(f"{page}?student={other}").text)
    assert "Reference answer" not in viewed.text  # not released to the student: not shown as theirs
    assert 'value="submit"' not in viewed.text and 'value="check"' not in viewed.text
    assert "Reference answer" in staff.get(page).text  # staff's own page: the declared numbers, referenced
    assert staff.get(f"{page}?student=nobody").status_code == 404
    # a student asking for another's page sees their own
    mine = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer ")).get(f"{page}?student={other}")
    assert 'id="viewing-as"' not in mine.text and _statements(mine.text) == _statements(own.text)


def test_a_student_view_shows_references_once_released_to_that_student(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(RANDOMIZED, release_answers="after_attempts", max_attempts=1)
    (done, done_headers), (waiting, _) = course.students(2)
    key, value = next(iter(course.reference(aid, done).items()))
    assert course.submit(aid, done_headers, {key: str(value)}).status_code == 201  # no attempt left now
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    page = f"/courses/{course.id}/assignments/{aid}"
    assert client.get(f"{course.path}/assignments/{aid}", headers=done_headers).json()["reference"] is not None
    assert "Reference answer" in staff.get(f"{page}?student={done}").text
    assert "Reference answer" not in staff.get(f"{page}?student={waiting}").text


def test_the_set_preview_draws_a_students_numbers_from_the_assignments_secret(client, engine) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(RANDOMIZED)
    (student, headers) = course.student()
    mine = client.get(f"{course.path}/assignments/{aid}", headers=headers).json()
    preview = client.get(
        f"{course.path}/problem-sets/{RANDOMIZED}/preview?assignment={aid}&student={student}",
        headers=course.instructor,
    )
    assert preview.status_code == 200
    assert preview.json()["problems"] == mine["problems"] and preview.json()["variant"] == mine["variant"]
    from_id = client.get(
        f"{course.path}/problem-sets/{RANDOMIZED}/preview?student={student}", headers=course.instructor
    )
    assert from_id.json()["problems"] != mine["problems"]  # without the assignment: drawn from the id alone
    other = course.assignment("conv-pool-basics")
    wrong = client.get(
        f"{course.path}/problem-sets/{RANDOMIZED}/preview?assignment={other}&student={student}",
        headers=course.instructor,
    )
    assert wrong.status_code == 404 and "of the set" in wrong.json()["detail"]
