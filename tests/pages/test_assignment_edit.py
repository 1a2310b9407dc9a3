"""An assignment's edit page (``/courses/C/assignments/A/edit``) through the test client, on both
databases: every field shown in the course's zone and saved back as ``PATCH`` would save it, a
blank clearing a date, a bad combination refused beside its field with its dates in the course's
zone, an untouched form changing nothing, archive and restore, "move and regrade" to a newer
version of the set; and who may do it (owner and instructors; a TA or a student may not, nor a
post without the CSRF token)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.assignments.schemas import ProblemSetOut, SetCheckOut
from api.pages.staff.assignment_edit import set_choices
from api.pages.staff.assignment_form import edit_values, read_assignment_changes
from api.terms.rows import Terms

from factories import Course, auth, make_instructor, set_file, unique
from page_client import Browser

ZONE = "America/Chicago"


class FormValues(HTMLParser):
    """What a browser would send for the form posting to ``action``: each named control's value
    (a checkbox only if ticked, a radio group's checked one, a select's selected option, a
    textarea's text)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.select, self.textarea = action, False, "", ""
        self.values: dict[str, str] = {}
        self.chosen: set[str] = set()  # the selects whose option is marked selected

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif not self.inside:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.values[a["name"]] = unescape(a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select":
            self.select = a.get("name", "")
        elif tag == "textarea" and a.get("name"):
            self.textarea = a["name"]
            self.values[self.textarea] = ""
        elif tag == "option" and self.select and self.select not in self.chosen:
            if "selected" in a:
                self.chosen.add(self.select)
            if "selected" in a or self.select not in self.values:  # (none selected: the first)
                self.values[self.select] = unescape(a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.values[self.textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = ""
        elif tag == "textarea":
            self.textarea = ""


def form_of(html: str, action: str) -> dict[str, str]:
    parsed = FormValues(action)
    parsed.feed(html)
    assert parsed.values, f"no form posting to {action}"
    return parsed.values


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="a-{name}-error">(.*?)</p>', html, re.S)
    assert found, f"no error at {name}"
    return unescape(found.group(1))


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@dataclass
class Edited:
    """A course in America/Chicago with an instructor, a TA and a student, and the paths of one
    assignment: its edit page (``page``) and its REST resource (``api``)."""

    client: TestClient
    course: Course
    instructor: str
    ta: str
    student: str
    assignment: str

    @property
    def page(self) -> str:
        return f"/courses/{self.course.id}/assignments/{self.assignment}"

    @property
    def api(self) -> str:
        return f"{self.course.path}/assignments/{self.assignment}"

    def rest(self) -> dict[str, Any]:
        response = self.client.get(self.api, headers=self.course.instructor)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def browser(self, token: str | None = None) -> Browser:
        return Browser(self.client.app).signed_in(token or self.instructor)


@pytest.fixture(scope="module")
def chicago(client: TestClient, engine: Engine) -> Course:
    course = Course(client, make_instructor(engine))
    zoned = client.patch(course.path, json={"time_zone": ZONE}, headers=course.instructor)
    assert zoned.status_code == 200, zoned.text
    return course


@pytest.fixture
def edited(client: TestClient, chicago: Course) -> Edited:
    """A fresh assignment of a Chicago course (due, close and opening in the past: open)."""
    assignment = chicago.assignment(
        title="Homework one",
        due_at="2030-01-10T05:59:30Z",  # (with seconds: a form to the minute must not move it)
        closes_at="2030-01-12T05:59:00Z",
        opens_at="2020-01-01T12:00:00Z",
        max_attempts=3,
        late_penalty={"per_day": 10, "floor": 50},
    )
    _, instructor = chicago.member("instructor")
    _, ta = chicago.member("ta")
    _, student = chicago.student()
    return Edited(client, chicago, token_of(instructor), token_of(ta), token_of(student), assignment)


def test_the_form_shows_every_field_with_dates_in_the_course_zone(edited: Edited) -> None:
    browser = edited.browser()
    page = browser.get(edited.page + "/edit")
    assert page.status_code == 200, page.text
    shown = form_of(page.text, edited.page + "/edit")
    assert shown == {
        "csrf": browser.csrf,
        "title": "Homework one",
        "problem_set": "conv-pool-basics",
        "version": edited.rest()["set_version"],
        "due_at": "2030-01-09T23:59",  # 05:59 UTC is 23:59 CST the day before
        "closes_at": "2030-01-11T23:59",
        "opens_at": "2020-01-01T06:00",
        "max_attempts": "3",
        "release_answers": "after_close",
        "practice": "after_due",
        "grade_policy": "best",
        "late_penalty": "per_day",
        "per_day": "10",
        "per_hour": "",
        "floor": "50",
        "factor": "",
        "grace_minutes": "0",
        "time_limit": "",
        "category": "homework",
        "feedback": "full",
        "access_password": "",  # (never filled in: blank keeps the password)
        "access_networks": "",
    }
    assert f"Due ({ZONE})" in page.text and f"Closes ({ZONE})" in page.text
    assert page.text.count('name="csrf"') == page.text.count('<form method="post"')


def test_every_field_round_trips_as_patch_would_store_it(edited: Edited) -> None:
    browser = edited.browser()
    typed = form_of(browser.get(edited.page + "/edit").text, edited.page + "/edit")
    typed |= {
        "title": "Homework one, revised",
        "due_at": "2030-07-01T23:59",  # CDT: UTC-5
        "closes_at": "2030-07-04T12:00",
        "opens_at": "2030-06-01T08:00",
        "max_attempts": "7",
        "release_answers": "after_attempts",
        "practice": "always",
        "grade_policy": "last",
        "late_penalty": "factor",
        "factor": "0.25",
        "grace_minutes": "15",
        "feedback": "score",
        "time_limit": "90",
    }
    typed["draft"] = "on"
    saved = browser.post(edited.page + "/edit", typed)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == edited.page + "?done=saved"
    assert "The changes were saved." in browser.get(saved.headers["location"]).text
    stored = edited.rest()
    assert {name: stored[name] for name in typed if name in stored} | {"published": stored["published"]} == {
        "title": "Homework one, revised",
        "due_at": "2030-07-02T04:59:00Z",
        "closes_at": "2030-07-04T17:00:00Z",
        "opens_at": "2030-06-01T13:00:00Z",
        "max_attempts": 7,
        "release_answers": "after_attempts",
        "practice": "always",
        "grade_policy": "last",
        "late_penalty": {"factor": 0.25},
        "grace_minutes": 15,
        "time_limit": 90,
        "category": "homework",
        "feedback": "score",
        "published": False,
        "problem_set": "conv-pool-basics",
    }
    again = form_of(browser.get(edited.page + "/edit").text, edited.page + "/edit")
    assert again == typed | {"csrf": browser.csrf, "per_day": "", "floor": ""}  # shown back as typed

    # blanks clear the dates, the attempt limit, the time limit and the penalty
    cleared = again | {"due_at": "", "closes_at": "", "opens_at": "", "max_attempts": "", "late_penalty": "none"}
    cleared |= {"time_limit": ""}
    assert browser.post(edited.page + "/edit", cleared).status_code == 303
    stored = edited.rest()
    cleared_names = ("due_at", "closes_at", "opens_at", "max_attempts", "late_penalty", "time_limit")
    assert [stored[n] for n in cleared_names] == [None] * 6


IMMEDIATELY_WARNING = 'Warning: "immediately" shows the answers before the first attempt.'


def release_field(html: str) -> str:
    """The markup of the release field: its ``<div class="field">``, up to the next field."""
    found = re.search(r'<div class="field">\s*<label for="a-release_answers">.*?(?=<div class="field">)', html, re.S)
    assert found, "no release field"
    return found.group(0)


def test_choosing_immediately_is_warned_of_on_the_create_and_edit_forms(edited: Edited) -> None:
    browser = edited.browser()
    for page in (browser.get(f"/courses/{edited.course.id}"), browser.get(edited.page + "/edit")):
        assert page.status_code == 200, page.text
        field = release_field(page.text)
        assert '<option value="immediately">immediately: students see them before their first attempt</option>' in (
            field
        )
        warning = re.search(r'<p class="field-warning" id="a-release_answers-warning">(.*?)</p>', field, re.S)
        assert warning and unescape(warning.group(1)).startswith(IMMEDIATELY_WARNING)
        assert "hidden" not in warning.group(0)  # the stylesheet shows it, below, with no script
        stylesheet = re.search(r'href="(/static/[^"]+/grader\.css)"', page.text)
        assert stylesheet, "no stylesheet"
    css = browser.get(stylesheet.group(1)).text
    assert re.search(r"\.field-warning \{ display: none;", css)  # while another release is chosen
    assert '.field:has(option[value="immediately"]:checked) > .field-warning { display: block; }' in css

    typed = form_of(browser.get(edited.page + "/edit").text, edited.page + "/edit") | {"release_answers": "immediately"}
    assert browser.post(edited.page + "/edit", typed).status_code == 303
    assert edited.rest()["release_answers"] == "immediately"
    field = release_field(browser.get(edited.page + "/edit").text)  # chosen: the warning's rule applies
    assert '<option value="immediately" selected>' in field and IMMEDIATELY_WARNING in unescape(field)


def test_an_untouched_form_changes_nothing(edited: Edited) -> None:
    before = edited.rest()
    browser = edited.browser()
    untouched = form_of(browser.get(edited.page + "/edit").text, edited.page + "/edit")
    saved = browser.post(edited.page + "/edit", untouched)
    assert saved.status_code == 303 and saved.headers["location"] == edited.page + "?done=unchanged"
    assert edited.rest() == before  # the due date keeps its seconds
    assert before["due_at"] == "2030-01-10T05:59:30Z"


def test_a_bad_combination_is_refused_beside_its_field_with_dates_in_the_course_zone(edited: Edited) -> None:
    before = edited.rest()
    browser = edited.browser()
    typed = form_of(browser.get(edited.page + "/edit").text, edited.page + "/edit")
    early_close = typed | {"title": "Renamed", "closes_at": "2030-01-08T10:00"}
    refused = browser.post(edited.page + "/edit", early_close)
    assert refused.status_code == 422
    assert field_error(refused.text, "closes_at") == (
        "The close (2030-01-08 10:00 CST) is before the due date (2030-01-09 23:59 CST): it must be at or after it."
    )
    assert 'aria-invalid="true"' in refused.text and "Nothing was changed" in refused.text
    assert form_of(refused.text, edited.page + "/edit") == early_close  # what was typed, kept
    # answers at the due date while late work is accepted until a later close
    leaky = browser.post(edited.page + "/edit", typed | {"release_answers": "after_due"})
    assert leaky.status_code == 422 and "late work is still accepted" in field_error(leaky.text, "release_answers")
    # a date the clocks skip in Chicago, and a blank title
    gap = browser.post(edited.page + "/edit", typed | {"due_at": "2030-03-10T02:30", "title": ""})
    assert gap.status_code == 422
    assert "does not exist in America/Chicago" in field_error(gap.text, "due_at")
    assert field_error(gap.text, "title") == "is required"
    assert edited.rest() == before


def test_an_unknown_feedback_is_refused_beside_its_field_and_changes_nothing(edited: Edited) -> None:
    before = edited.rest()
    browser = edited.browser()
    typed = form_of(browser.get(edited.page + "/edit").text, edited.page + "/edit")
    assert 'id="a-feedback"' in browser.get(edited.page + "/edit").text
    refused = browser.post(edited.page + "/edit", typed | {"feedback": "hints"})
    assert refused.status_code == 422
    assert "'full', 'correctness', 'score' or 'none'" in field_error(refused.text, "feedback")
    assert edited.rest() == before
    saved = browser.post(edited.page + "/edit", typed | {"feedback": "none"})
    assert saved.status_code == 303 and edited.rest()["feedback"] == "none"


def test_a_ta_or_a_student_may_not_edit_and_an_outsider_sees_nothing(edited: Edited, engine: Engine) -> None:
    before = edited.rest()
    for token, status in ((edited.ta, 403), (edited.student, 403), (make_instructor(engine), 404)):
        browser = edited.browser(token)
        assert browser.get(edited.page + "/edit").status_code == status
        for action in ("edit", "archive", "restore", "move"):
            assert browser.post(f"{edited.page}/{action}", {"title": "Mine"}).status_code == status
    ta_page = edited.browser(edited.ta).get(edited.page).text
    assert "/edit" not in ta_page  # no link to a page they may not use
    assert f'href="{edited.page}/edit"' in edited.browser().get(edited.page).text
    assert edited.rest() == before


def test_a_post_without_the_csrf_token_is_refused(edited: Edited) -> None:
    before = edited.rest()
    browser = edited.browser()
    typed = form_of(browser.get(edited.page + "/edit").text, edited.page + "/edit")
    del typed["csrf"]
    assert browser.post(edited.page + "/edit", typed | {"title": "Forged"}, csrf=False).status_code == 403
    assert browser.post(edited.page + "/archive", csrf=False).status_code == 403
    assert browser.post(edited.page + "/edit", typed | {"csrf": "0" * 64, "title": "Forged"}).status_code == 403
    assert edited.rest() == before


def test_archive_hides_it_from_students_and_restore_brings_it_back(edited: Edited) -> None:
    browser = edited.browser()
    course = edited.course
    edit = browser.get(edited.page + "/edit").text
    assert f'action="{edited.page}/archive"' in edit and "/restore" not in edit
    archived = browser.post(edited.page + "/archive")
    assert archived.status_code == 303 and archived.headers["location"] == edited.page + "?done=archived"
    assert "Archived: hidden from students" in browser.get(archived.headers["location"]).text
    assert edited.rest()["archived_at"] is not None
    student = edited.browser(edited.student)
    assert student.get(edited.page).status_code == 404
    listed = course.client.get(f"{course.path}/assignments", headers=auth(edited.student)).json()
    assert edited.assignment not in [a["id"] for a in listed]
    # the course page lists it among the archived, with Restore; the edit page offers Restore
    dashboard = browser.get(f"/courses/{course.id}").text
    archived_part = dashboard[dashboard.index('id="archived-title"') :]
    assert edited.assignment in archived_part and f'action="{edited.page}/restore"' in archived_part
    assert f'action="{edited.page}/restore"' in browser.get(edited.page + "/edit").text
    restored = browser.post(edited.page + "/restore")
    assert restored.status_code == 303 and restored.headers["location"] == edited.page + "?done=restored"
    assert edited.rest()["archived_at"] is None
    assert student.get(edited.page).status_code == 200
    assert f'action="{edited.page}/restore"' not in browser.get(f"/courses/{course.id}").text


def upload(course: Course, set_id: str, out_channels: int) -> str:
    response = course.client.post(
        f"{course.path}/problem-sets",
        content=set_file(set_id, out_channels=out_channels).encode(),
        headers={**course.instructor, "Content-Type": "application/yaml"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["version"])


def test_move_to_a_newer_version_and_regrade(client: TestClient, chicago: Course, edited: Edited) -> None:
    set_id = unique("own")
    first = upload(chicago, set_id, 16)
    moved = Edited(client, chicago, edited.instructor, edited.ta, edited.student, chicago.assignment(set_id))
    browser = moved.browser()
    assert "Move to version" not in browser.get(moved.page + "/edit").text  # it has the newest
    answers = chicago.reference(moved.assignment)
    assert chicago.submit(moved.assignment, auth(edited.student), answers).status_code == 201
    newer = upload(chicago, set_id, 32)
    page = browser.get(moved.page + "/edit").text
    assert f"Move to version {newer[:12]} and regrade" in page
    assert form_of(page, moved.page + "/move")["version"] == newer
    started = browser.post(moved.page + "/move", {"version": newer})
    assert started.status_code == 303, started.text
    found = re.fullmatch(re.escape(moved.page) + r"/edit\?job=(\d+)#regrade-progress", started.headers["location"])
    assert found, started.headers["location"]
    assert moved.rest()["set_version"] == newer != first
    job = client.get(f"/api/v1/jobs/{found.group(1)}", headers=chicago.instructor).json()
    assert (job["kind"], job["set_version"], job["total"]) == ("regrade", newer, 1)
    shown = browser.get(started.headers["location"]).text
    assert 'id="regrade-progress"' in shown and "Move to version" not in shown  # now on the newest
    # a version the course does not have is refused, and nothing moves
    refused = browser.post(moved.page + "/move", {"version": "f" * 64})
    assert refused.status_code == 422 and moved.rest()["set_version"] == newer


def test_another_set_is_refused_beside_its_field_once_something_is_submitted(edited: Edited) -> None:
    answers = edited.course.reference(edited.assignment)
    assert edited.course.submit(edited.assignment, auth(edited.student), answers).status_code == 201
    browser = edited.browser()
    typed = form_of(browser.get(edited.page + "/edit").text, edited.page + "/edit")
    refused = browser.post(edited.page + "/edit", typed | {"problem_set": "conv-arithmetic", "title": "Other"})
    assert refused.status_code == 409
    assert "it can move to another version of that set, not to another set" in field_error(refused.text, "problem_set")
    stored = edited.rest()
    assert (stored["problem_set"], stored["title"]) == ("conv-pool-basics", "Homework one")


def test_the_set_and_version_it_grades_with_are_always_offered() -> None:
    """A built-in set changed since (its pinned version no longer listed), or gone: still the
    selected choices, so saving the form untouched moves nothing."""
    library = [
        ProblemSetOut(
            id="s",
            title="S",
            version="v2",
            built_in=True,
            versions=["v2"],
            randomized=True,
            source="",
            keys=[],
            max_score=1,
            check=SetCheckOut(status="passed", issues=[], job=None, done=0, total=None, seconds=None),
        )
    ]
    changed = set_choices(library, cast(Terms, SimpleNamespace(problem_set="s", set_version="v1")))
    assert (changed.sets, changed.versions) == ([("s", "S (s)")], ["v2", "v1"])
    gone = set_choices(library, cast(Terms, SimpleNamespace(problem_set="old", set_version="v9")))
    assert (gone.sets, gone.versions) == ([("old", "old (no longer offered)"), ("s", "S (s)")], ["v9"])


def test_an_untouched_date_in_the_second_reading_of_an_overlap_stays_where_it_is() -> None:
    """01:30 CST on the night Chicago's clocks go back reads, typed, as the first 01:30 (CDT), an
    hour earlier: saved untouched it must not move; and a change elsewhere changes only that."""
    zone = ZoneInfo(ZONE)
    second = datetime(2030, 11, 3, 7, 30, tzinfo=UTC)  # 01:30 CST, the second 01:30 of that night
    terms = SimpleNamespace(
        **{"title": "T", "problem_set": "s", "set_version": "v", "due_at": second, "opens_at": None},
        **{"closes_at": None, "max_attempts": None, "release_answers": "after_close", "grade_policy": "best"},
        **{"practice": "after_due", "late_penalty": None, "published": True, "grace_minutes": 0},
        **{"category": "homework", "feedback": "full", "time_limit": None, "access": None},
    )
    current = cast(Terms, terms)
    shown = edit_values(current, zone)
    assert shown["due_at"] == "2030-11-03T01:30"
    assert read_assignment_changes(shown, zone=zone, current=current).unchanged
    limited = read_assignment_changes(shown | {"max_attempts": "2"}, zone=zone, current=current)
    assert limited.update is not None and limited.update.changes() == {"max_attempts": 2}
    retyped = read_assignment_changes(shown | {"due_at": "2030-11-03T01:31"}, zone=zone, current=current)
    assert retyped.update is not None and retyped.update.changes() == {
        "due_at": datetime(2030, 11, 3, 6, 31, tzinfo=UTC)
    }
