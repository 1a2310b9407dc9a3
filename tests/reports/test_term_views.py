"""The views of a term's course (``harness.term_course``: a quiz drawn from pools, each student's
own numbers, mistakes, penalties, extensions, feedback held back) read it in as many statements
for one student as for a thousand, and do the per-student work of pools and randomized sets once
per process (each student's draw, each wrong answer's meaning), not at every view."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine

import problems.sets
from harness.term_course import Term, store_term

from factories import counted, engines_of
from page_client import Browser

#: (students, assignments): one student at one assignment, one at one of each kind of terms, and a
#: term's thousand at eight.
ONE, KINDS, TERM = (1, 1), (1, 4), (1000, 8)
ASSIGNMENT_VIEWS = {
    "gradebook": "/api/v1/courses/{c}/assignments/a0/gradebook",
    "gradebook page": "/courses/{c}/assignments/a0/gradebook",
    "gradebook csv": "/api/v1/courses/{c}/assignments/a0/gradebook?format=csv",
    "gradebook canvas": "/api/v1/courses/{c}/assignments/a0/gradebook?format=canvas",
    "statistics": "/api/v1/courses/{c}/assignments/a0/stats",
    "statistics of counted attempts": "/api/v1/courses/{c}/assignments/a0/stats?attempts=counted",
    "statistics page": "/courses/{c}/assignments/a0/stats",
    "statistics page of counted attempts": "/courses/{c}/assignments/a0/stats?attempts=counted",
}
COURSE_VIEWS = {
    # (the best attempt's highest scores, read from the index: the kinds course's second assignment)
    "gradebook canvas of the best attempt": "/api/v1/courses/{c}/assignments/a1/gradebook?format=canvas",
    "dashboard page": "/courses/{c}",
    "course gradebook": "/api/v1/courses/{c}/gradebook",
    "course gradebook page": "/courses/{c}/gradebook",
    "course gradebook csv": "/api/v1/courses/{c}/gradebook.csv",
}


@pytest.fixture(scope="module")
def terms(engine: Engine) -> dict[tuple[int, int], Term]:
    return {size: store_term(engine, students=size[0], assignments=size[1]) for size in (ONE, KINDS, TERM)}


def statements(app: Any, term: Term, template: str) -> int:
    """The statements of one view, asked for a second time (the first parses the set)."""
    path = template.format(c=term.course)
    browser = Browser(app)
    if not path.startswith("/api/"):
        browser.signed_in(term.token)
    headers = {"Authorization": f"Bearer {term.token}"} if path.startswith("/api/") else {}
    assert browser.get(path, headers=headers).status_code == 200
    with counted(*engines_of(app)) as sent:
        response = browser.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert sent, "no statement counted: the counter does not see the view's engine"
    return len(sent)


@pytest.mark.parametrize("view", ASSIGNMENT_VIEWS)
def test_an_assignments_view_reads_as_many_statements_for_a_thousand_students(app, terms, view: str) -> None:
    one, thousand = (statements(app, terms[size], ASSIGNMENT_VIEWS[view]) for size in (ONE, TERM))
    assert thousand == one, f"{view}: {one} statements for 1 student at 1 assignment, {thousand} for 1,000 at 8"


@pytest.mark.parametrize("view", COURSE_VIEWS)
def test_a_course_view_reads_as_many_statements_for_a_thousand_students(app, terms, view: str) -> None:
    """Each kind of terms has its own statement (the highest scores; the attempts to count), so
    the small course has one assignment of each kind."""
    kinds, thousand = (statements(app, terms[size], COURSE_VIEWS[view]) for size in (KINDS, TERM))
    assert thousand == kinds, f"{view}: {kinds} statements for 1 student at 4 assignments, {thousand} for 1,000 at 8"


#: More than a set keeps drawn or solved (problems.sets.VARIANTS_KEPT).
STUDENTS = 40
assert problems.sets.VARIANTS_KEPT < STUDENTS


@contextmanager
def calls(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> Iterator[list[Any]]:
    """Every call of ``owner.name`` meanwhile."""
    made: list[Any] = []
    original: Callable[..., Any] = getattr(owner, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        made.append(args)
        return original(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(owner, name, counting)
        yield made


@pytest.mark.parametrize(
    ("view", "owner", "name"),
    [
        # a student's problems are drawn from three seeded generators
        ("/api/v1/courses/{c}/assignments/a0/gradebook", problems.sets, "drawn_problems"),
        ("/api/v1/courses/{c}/gradebook", problems.sets, "drawn_problems"),
        # a wrong answer's meaning solves the student's variant
        ("/api/v1/courses/{c}/assignments/a0/stats", problems.sets.ProblemSet, "solve"),
    ],
)
def test_the_views_work_out_each_students_draw_and_meanings_once(
    app, engine: Engine, monkeypatch: pytest.MonkeyPatch, view: str, owner: Any, name: str
) -> None:
    """Asked for again, a view draws nobody's problems and solves nobody's variant (a course of
    its own, of more students than the set keeps drawn or solved itself)."""
    term = store_term(engine, students=STUDENTS, assignments=1)
    path = view.format(c=term.course)
    headers = {"Authorization": f"Bearer {term.token}"}
    browser = Browser(app)
    with calls(monkeypatch, owner, name) as first:
        assert browser.get(path, headers=headers).status_code == 200
    with calls(monkeypatch, owner, name) as again:
        assert browser.get(path, headers=headers).status_code == 200
    assert len(first) >= STUDENTS // 2, f"{name} called {len(first)} times at first: the case is not what it claims"
    assert again == [], f"{name} called {len(again)} times again"
