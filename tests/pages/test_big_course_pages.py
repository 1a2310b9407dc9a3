"""The pages of a big course come in pages: the gradebook sorted over the whole course and searchable
by id or name (its extension form opens the page of the student asked for), the dashboard's roster too."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine

from harness.regrade import Stored, store_for_regrade

from page_client import Browser

STUDENTS = 230
ROW = re.compile(r'<a href="[^"]*/students/([^"]+)"><code>')


@pytest.fixture(scope="module")
def stored(engine: Engine) -> Stored:
    return store_for_regrade(engine, submissions=STUDENTS, assignments=1, attempts=1)


@pytest.fixture(scope="module")
def browser(app, stored: Stored) -> Browser:
    return Browser(app).signed_in(stored.token)


def _path(stored: Stored) -> str:
    return f"/courses/{stored.course}/assignments/{stored.assignments[0]}/gradebook"


def _students(html: str) -> list[str]:
    return ROW.findall(html)


def test_pages_of_a_hundred_cover_every_student_once(browser: Browser, stored: Stored) -> None:
    seen = []
    for page in (1, 2, 3):
        response = browser.get(f"{_path(stored)}?sort=student&order=desc&page={page}")
        assert response.status_code == 200
        seen += _students(response.text)
        assert f"Page {page} of 3" in response.text
    assert len(seen) == STUDENTS == len(set(seen))
    assert seen == sorted(seen, reverse=True)  # sorted over the whole course, not per page
    last = browser.get(f"{_path(stored)}?page=99")  # past the end: the last page
    assert len(_students(last.text)) == STUDENTS - 200 and 'rel="next"' not in last.text
    assert browser.get(f"{_path(stored)}?page=0").status_code == 422


def test_a_page_stays_small_and_the_form_offers_its_students(browser: Browser, stored: Stored) -> None:
    response = browser.get(_path(stored))
    assert len(_students(response.text)) == 100
    assert response.text.count("<option value=") == 1 + 100  # "Choose a student", then this page's students
    assert len(response.content) < 150_000


def test_finding_a_student_by_id_or_name(browser: Browser, stored: Stored) -> None:
    everyone = _students(browser.get(f"{_path(stored)}?page=3").text)
    wanted = everyone[-1]
    found = browser.get(f"{_path(stored)}?q={wanted.upper()}")
    assert _students(found.text) == [wanted]
    nobody = browser.get(f"{_path(stored)}?q=no-such-student")
    assert _students(nobody.text) == [] and "No student matches" in nobody.text


def test_the_extension_link_opens_the_page_of_its_student(browser: Browser, stored: Stored) -> None:
    everyone = _students(browser.get(f"{_path(stored)}?page=3").text)
    chosen = everyone[0]
    response = browser.get(f"{_path(stored)}?student={chosen}")
    assert "Page 3 of 3" in response.text and chosen in _students(response.text)
    assert f'<option value="{chosen}" selected>' in response.text


def test_the_dashboard_lists_a_page_of_the_roster(browser: Browser, stored: Stored) -> None:
    first = browser.get(f"/courses/{stored.course}")
    assert "Students 1–50 of 230" in first.text and "Page 1 of 5" in first.text
    drops = re.findall(r'/members/([^/"]+)/drop"', first.text)
    assert len(drops) == 50
    last = browser.get(f"/courses/{stored.course}?roster_page=5")
    assert "Students 201–230 of 230" in last.text
    assert not set(drops) & set(re.findall(r'/members/([^/"]+)/drop"', last.text))
    wanted = drops[7]
    found = browser.get(f"/courses/{stored.course}?roster_q={wanted}")
    assert re.findall(r'/members/([^/"]+)/drop"', found.text) == [wanted]
    assert browser.get(f"/courses/{stored.course}?roster_page=x").status_code == 200  # the first page
