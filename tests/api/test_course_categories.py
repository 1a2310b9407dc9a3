"""The course's gradebook categories (``PATCH /courses/{id}``) and each assignment's category:
weights that do not add up, unknown categories and categories an assignment still counts in are
refused with the reason, nothing stored; only the course's runners change them."""

from __future__ import annotations

import pytest

from factories import Course, make_instructor


@pytest.fixture
def course(client, engine) -> Course:
    """A course of the test's own (categories are the course's: tests must not share one)."""
    return Course(client, make_instructor(engine))


DEFAULT = [{"name": "homework", "weight": 100.0, "drop_lowest": 0}]
TWO = [{"name": "homework", "weight": 40, "drop_lowest": 1}, {"name": "exams", "weight": 60}]


def _patch(client, course, body, headers=None):
    return client.patch(course.path, json=body, headers=headers or course.instructor)


def test_a_course_has_one_category_until_its_staff_choose_others(client, course) -> None:
    assert client.get(course.path, headers=course.instructor).json()["categories"] == DEFAULT
    changed = _patch(client, course, {"categories": TWO})
    assert changed.status_code == 200, changed.text
    expected = [
        {"name": "homework", "weight": 40.0, "drop_lowest": 1},
        {"name": "exams", "weight": 60.0, "drop_lowest": 0},
    ]
    assert changed.json()["categories"] == expected
    (_, student) = course.student()
    assert client.get(course.path, headers=student).json()["categories"] == expected


@pytest.mark.parametrize(
    ("categories", "reason"),
    [
        # weights that do not add up: said, not normalized
        ([{"name": "homework", "weight": 60}, {"name": "exams", "weight": 30}], "60 + 30 = 90"),
        ([{"name": "homework", "weight": 50}, {"name": "homework", "weight": 50}], "repeated: homework"),
    ],
)
def test_categories_that_cannot_be_are_refused_with_the_reason_and_nothing_stored(
    client, course, categories, reason
) -> None:
    refused = _patch(client, course, {"categories": categories, "title": "Renamed"})
    assert refused.status_code == 422, refused.text
    assert reason in refused.json()["detail"]
    after = client.get(course.path, headers=course.instructor).json()
    assert (after["categories"], after["title"]) == (DEFAULT, "A course")


@pytest.mark.parametrize(
    "categories",
    [
        [],
        None,
        [{"name": "homework"}],
        [{"name": "homework", "weight": 101}],
        [{"name": "homework", "weight": -1}],
        [{"name": "home work", "weight": 100}],
        [{"name": "homework", "weight": 100, "drop_lowest": -1}],
        [{"name": "homework", "weight": 100, "extra": 1}],
        [{"name": "homework", "weight": "all"}],
        "homework",
    ],
)
def test_malformed_categories_are_a_422_with_detail(client, course, categories) -> None:
    refused = _patch(client, course, {"categories": categories})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"]


def test_an_assignment_counts_in_one_of_its_course_categories(client, course) -> None:
    plain = course.assignment()
    assert client.get(f"{course.path}/assignments/{plain}", headers=course.instructor).json()["category"] == "homework"
    unknown = client.post(
        f"{course.path}/assignments",
        json={"id": "x1", "problem_set": "conv-pool-basics", "category": "exams"},
        headers=course.instructor,
    )
    assert unknown.status_code == 422 and "No category 'exams'" in unknown.json()["detail"]
    assert client.get(f"{course.path}/assignments/x1", headers=course.instructor).status_code == 404
    assert _patch(client, course, {"categories": TWO}).status_code == 200
    exam = course.assignment(category="exams")
    assert client.get(f"{course.path}/assignments/{exam}", headers=course.instructor).json()["category"] == "exams"
    moved = client.patch(f"{course.path}/assignments/{plain}", json={"category": "exams"}, headers=course.instructor)
    assert moved.status_code == 200 and moved.json()["category"] == "exams"
    wrong = client.patch(f"{course.path}/assignments/{plain}", json={"category": "quizzes"}, headers=course.instructor)
    assert wrong.status_code == 422 and "homework, exams" in wrong.json()["detail"]
    # a category an assignment counts in cannot be taken away
    kept = _patch(client, course, {"categories": [{"name": "homework", "weight": 100}]})
    assert kept.status_code == 422, kept.text
    assert exam in kept.json()["detail"] and "(exams)" in kept.json()["detail"]
    assert len(client.get(course.path, headers=course.instructor).json()["categories"]) == 2


def test_only_the_course_runners_change_categories(client, course) -> None:
    (_, ta) = course.member("ta")
    (_, student) = course.student()
    assert _patch(client, course, {"categories": TWO}, ta).status_code == 403
    assert _patch(client, course, {"categories": TWO}, student).status_code == 403
    aid = course.assignment()
    assert client.patch(f"{course.path}/assignments/{aid}", json={"category": "x"}, headers=student).status_code in (
        403,
        404,
    )
    assert client.get(course.path, headers=course.instructor).json()["categories"] == DEFAULT
