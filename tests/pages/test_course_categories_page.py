"""The settings page's gradebook categories: rows read into the REST API's request, weights that do
not add up and a category an assignment counts in refused with the reason and the rows kept,
nothing changed; only the course's runners post it."""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest

from factories import Course, make_instructor
from page_client import Browser


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def course(client, engine) -> Course:
    return Course(client, make_instructor(engine))


def _rows(*rows: tuple[str, str, str], spare: int = 2) -> dict[str, str]:
    typed = [*rows, *[("", "", "")] * spare]
    return {
        f"{field}-{n}": value
        for n, row in enumerate(typed)
        for field, value in zip(("name", "weight", "drop"), row, strict=True)
    }


def _categories(client: Any, course: Course) -> list[dict[str, Any]]:
    return client.get(course.path, headers=course.instructor).json()["categories"]


def test_the_owner_sets_weighted_categories_from_the_settings_page(app, client, course) -> None:
    owner = Browser(app).signed_in(_token(course.instructor))
    page = owner.get(f"/courses/{course.id}/settings")
    assert page.status_code == 200
    assert 'name="name-0" type="text" value="homework"' in page.text and 'name="name-2"' in page.text
    saved = owner.post(f"/courses/{course.id}/settings/categories", _rows(("homework", "40", "1"), ("exams", "60", "")))
    assert saved.status_code == 303 and saved.headers["location"] == f"/courses/{course.id}/gradebook"
    assert _categories(client, course) == [
        {"name": "homework", "weight": 40.0, "drop_lowest": 1},
        {"name": "exams", "weight": 60.0, "drop_lowest": 0},
    ]
    again = owner.get(f"/courses/{course.id}/settings")
    assert 'name="name-1" type="text" value="exams"' in again.text and 'name="name-3"' in again.text


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        # weights that do not add up: said, nothing normalized
        ((("homework", "40", ""), ("exams", "50", "")), "The weights must add up to 100: 40 + 50 = 90."),
        ((("homework", "abc", ""),), "Input should be a valid number"),
        ((("home work", "100", ""),), "should be 1 to 64 letters"),
        ((), "Give at least one category."),
    ],
)
def test_refused_rows_are_shown_again_with_the_reason(app, client, course, rows, said) -> None:
    owner = Browser(app).signed_in(_token(course.instructor))
    owner.get(f"/courses/{course.id}/settings")
    refused = owner.post(f"/courses/{course.id}/settings/categories", _rows(*rows))
    assert refused.status_code == 422
    assert said in unescape(refused.text)
    for name, weight, _ in rows:
        assert f'value="{name}"' in unescape(refused.text) and f'value="{weight}"' in refused.text
    assert _categories(client, course) == [{"name": "homework", "weight": 100.0, "drop_lowest": 0}]


def test_a_category_an_assignment_counts_in_stays(app, client, course) -> None:
    course.assignment()
    owner = Browser(app).signed_in(_token(course.instructor))
    owner.get(f"/courses/{course.id}/settings")
    refused = owner.post(f"/courses/{course.id}/settings/categories", _rows(("exams", "100", "")))
    assert refused.status_code == 422 and "(homework)" in unescape(refused.text)
    assert _categories(client, course)[0]["name"] == "homework"


def test_a_ta_or_student_may_not_post_categories(app, client, course) -> None:
    _, ta = course.member("ta")
    _, student = course.student()
    for headers in (ta, student):
        browser = Browser(app).signed_in(_token(headers))
        browser.get(f"/courses/{course.id}")
        refused = browser.post(f"/courses/{course.id}/settings/categories", _rows(("exams", "100", "")))
        assert refused.status_code == 403
    assert _categories(client, course)[0]["name"] == "homework"
