"""The course gradebook page: who may read it (as the REST API says), the REST API's numbers in a
table sorted on the server, its downloads (the REST API's bytes), and the dashboard's link to it."""

from __future__ import annotations

import re
from html import unescape

import pytest

from factories import Course, make_instructor
from page_client import Browser
from staff_course import StaffCourse, staff_course, token


@pytest.fixture(scope="module")
def graded(app, client, engine) -> StaffCourse:
    return staff_course(app, client, engine, due_at="2030-01-01T00:00:00Z")


def _course_page(graded: StaffCourse) -> str:
    return f"/courses/{graded.course.id}/gradebook"


def body_rows(html: str) -> list[str]:
    table = html.split('<table class="gradebook">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>\s*<td><code>([^<]+)</code>", table)


@pytest.mark.parametrize("role", ["owner", "instructor", "ta"])
def test_staff_read_every_student_with_the_rest_api_numbers(graded: StaffCourse, role: str) -> None:
    page = graded.browser(role).get(_course_page(graded))
    assert page.status_code == 200, page.text
    book = graded.client.get(f"{graded.course.path}/gradebook", headers=graded.course.instructor).json()
    assert body_rows(page.text) == [s["id"] for s in book["students"]]
    assert f'href="?sort=a%3A{graded.assignment}&amp;order=asc&amp;page=1"' in page.text
    assert 'href="?sort=total&amp;order=asc&amp;page=1"' in page.text
    best = max(book["students"], key=lambda s: s["total"])
    assert f"<strong>{best['total']:.3g}</strong>" in page.text


def test_sorted_by_total_descending_and_filtered(graded: StaffCourse) -> None:
    browser = graded.browser("owner")
    book = graded.client.get(f"{graded.course.path}/gradebook", headers=graded.course.instructor).json()
    page = browser.get(_course_page(graded) + "?sort=total&order=desc")
    expected = [s["id"] for s in sorted(book["students"], key=lambda s: -s["total"])]
    assert body_rows(page.text) == expected
    one = graded.students[1][0]
    found = browser.get(_course_page(graded), params={"q": one})
    assert body_rows(found.text) == [one]
    unknown = browser.get(_course_page(graded) + "?sort=nothing")
    assert unknown.status_code == 422


def test_the_downloads_are_the_rest_api_bytes(graded: StaffCourse) -> None:
    browser = graded.browser("ta")
    for fmt in ("csv", "canvas"):
        page = browser.get(_course_page(graded) + f"/download?format={fmt}")
        api = graded.client.get(f"{graded.course.path}/gradebook.csv?format={fmt}", headers=graded.course.instructor)
        assert page.status_code == api.status_code == 200
        assert page.content == api.content


def test_a_student_is_refused_as_by_the_api_and_an_outsider_finds_nothing(graded: StaffCourse) -> None:
    api = graded.client.get(f"{graded.course.path}/gradebook", headers=graded.students[0][1])
    page = graded.browser("student").get(_course_page(graded))
    assert api.status_code == page.status_code == 403
    assert unescape(api.json()["detail"]) in unescape(page.text)
    assert '<table class="gradebook">' not in page.text
    for path in ("", "/download?format=csv"):
        outsider = graded.browser("outsider").get(_course_page(graded) + path)
        assert outsider.status_code == 404 and graded.students[0][0] not in outsider.text


def test_the_course_page_links_it(graded: StaffCourse) -> None:
    dashboard = graded.browser("ta").get(f"/courses/{graded.course.id}")
    assert f'href="{_course_page(graded)}"' in dashboard.text


def test_each_row_links_the_students_course_page_as_they_see_it_and_one_sets_assignments_read_apart(
    app, client, engine
) -> None:
    course = Course(client, make_instructor(engine))
    first, _second = course.assignment(), course.assignment()  # one set, titled alike by default
    (student, headers), (other, _) = course.students(2)
    assert course.submit(first, headers, {"ex4.conv1_params": "3640"}).status_code == 201
    staff = Browser(app).signed_in(token(course.instructor))
    book = staff.get(f"/courses/{course.id}/gradebook").text
    heads = re.findall(r'<th scope="col"[^>]*>\s*<a href="\?sort=a%3A[^"]*">([^<]+)</a>', book)
    assert len(heads) == 2 and len(set(heads)) == 2 and f"({first})" in heads[0] + heads[1]
    link = f"/courses/{course.id}?student={student}"
    assert f'href="{link}"' in book and f'href="/courses/{course.id}?student={other}"' in book
    theirs = staff.get(link)
    assert theirs.status_code == 200 and 'id="viewing-as"' in theirs.text
    mine = Browser(app).signed_in(token(headers)).get(f"/courses/{course.id}").text
    row = re.compile(r"<tbody>.*</tbody>", re.S)
    # the student's own rows, their score among them, linking each assignment as they see it
    assert row.search(theirs.text).group(0).replace(f"?student={student}", "") == row.search(mine).group(0)
    assert f"/assignments/{first}?student={student}" in theirs.text
    assert staff.get(f"/courses/{course.id}?student=nobody").status_code == 404
    asked = Browser(app).signed_in(token(headers)).get(f"/courses/{course.id}?student={other}").text
    assert row.search(asked).group(0) == row.search(mine).group(0)  # a student sees only their own
