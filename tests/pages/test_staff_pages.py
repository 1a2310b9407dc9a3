"""The staff's pages through the test client: the course dashboard (assignments with how each is
going, the create-assignment form, the roster and its CSV import) and the problem-sets page (the
library, uploads refused at their lines, variant previews), for every role, without a session, and
without the CSRF token."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from factories import Course, auth, make_instructor, set_file, unique
from page_client import Browser


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


class Controls(HTMLParser):
    """The form controls of a page with their labels: ``<label for>`` or an enclosing label."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "label":
            self.in_label += 1
            if values.get("for"):
                self.label_for.add(values["for"] or "")
        if tag in ("input", "select", "textarea") and values.get("type") != "hidden":
            self.controls.append({**values, "wrapped": "yes" if self.in_label else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.in_label -= 1


def unlabelled(html: str) -> list[dict[str, str | None]]:
    parsed = Controls()
    parsed.feed(html)
    return [c for c in parsed.controls if not c["wrapped"] and c.get("id") not in parsed.label_for]


@dataclass
class Staffed:
    """A course with an owner, a second instructor, a TA, two students and a graded assignment."""

    course: Course
    owner: str
    instructor: str
    ta: str
    student: str
    student_id: str
    assignment: str


@pytest.fixture(scope="module")
def staffed(client: TestClient, engine: Engine) -> Staffed:
    course = Course(client, make_instructor(engine))
    _, instructor = course.member("instructor")
    _, ta = course.member("ta")
    (student_id, student), (_, other) = course.students(2)
    assignment = course.assignment("conv-pool-basics", title="Homework one", due_at="2030-01-02T03:04:00Z")
    key_answers = course.reference(assignment)
    assert course.submit(assignment, student, key_answers).status_code == 201
    number = next(key for key, value in key_answers.items() if isinstance(value, int))
    assert course.submit(assignment, other, {number: key_answers[number] + 1}).status_code == 201
    return Staffed(
        course,
        course.instructor["Authorization"][7:],
        token_of(instructor),
        token_of(ta),
        token_of(student),
        student_id,
        assignment,
    )


def signed(app: Any, token: str) -> Browser:
    return Browser(app).signed_in(token)


# --- the dashboard, by role --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "instructor"])
def test_those_who_run_the_course_see_the_whole_dashboard(app, staffed: Staffed, who: str) -> None:
    course = staffed.course
    page = signed(app, getattr(staffed, who)).get(f"/courses/{course.id}")
    assert page.status_code == 200, page.text
    html = page.text
    # the assignment with its set, version, counts and mean (10 + 0 over the two students)
    assert "Homework one" in html and staffed.assignment in html and "2030-01-02 03:04 UTC" in html
    assert "conv-pool-basics · version " in html
    row = html[html.index("Homework one") : html.index("</tr>", html.index("Homework one"))]
    assert "2 of 2" in row and "2 attempts" in row
    gradebook = course.client.get(
        f"{course.path}/assignments/{staffed.assignment}/gradebook", headers=course.instructor
    )
    scores = [s["score"] for s in gradebook.json()["students"]]
    max_score = gradebook.json()["students"][0]["max_score"]
    assert f"{sum(scores) / 2:g} / {max_score:g}" in row
    assert f'href="/courses/{course.id}/assignments/{staffed.assignment}/gradebook"' in html
    assert f'href="/courses/{course.id}/assignments/{staffed.assignment}/stats"' in html
    # the controls: the create form, the roster's import and drop, the problem sets
    assert f'action="/courses/{course.id}/assignments"' in html and 'name="problem_set"' in html
    assert 'value="conv-arithmetic"' in html
    assert f'action="/courses/{course.id}/members"' in html and 'type="file"' in html
    assert f'action="/courses/{course.id}/members/{staffed.student_id}/drop"' in html
    assert f'href="/courses/{course.id}/problem-sets"' in html
    assert html.count('name="csrf"') == html.count('<form method="post"')  # every form that posts carries the token
    assert unlabelled(html) == []


def test_a_ta_sees_the_dashboard_read_only_and_may_post_nothing(app, staffed: Staffed) -> None:
    course = staffed.course
    browser = signed(app, staffed.ta)
    html = browser.get(f"/courses/{course.id}").text
    assert "Homework one" in html and staffed.student_id in html and "/gradebook" in html
    for control in ('method="post" action="/courses', 'type="file"', "/drop", "/problem-sets", "Create an assignment"):
        assert control not in html
    refused = [
        browser.post(f"/courses/{course.id}/assignments", {"id": unique("a"), "problem_set": "conv-pool-basics"}),
        browser.post(f"/courses/{course.id}/members", {"roster_text": "x1,Someone"}),
        browser.post(f"/courses/{course.id}/members/{staffed.student_id}/drop"),
        browser.post(f"/courses/{course.id}/problem-sets", {"set_text": set_file(unique("set"))}),
        browser.get(f"/courses/{course.id}/problem-sets"),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert "owner and instructors" in refused[0].text
    assert staffed.student_id in {
        m["id"] for m in course.client.get(f"{course.path}/members", headers=course.instructor).json()
    }


def test_a_student_reaches_none_of_the_staff_pages_and_sees_their_own_course_page(app, staffed: Staffed) -> None:
    course = staffed.course
    browser = signed(app, staffed.student)
    answers = [
        browser.get(f"/courses/{course.id}/problem-sets"),
        browser.get(f"/courses/{course.id}/problem-sets?set=conv-pool-basics"),
        browser.post(f"/courses/{course.id}/assignments", {"id": unique("a"), "problem_set": "conv-pool-basics"}),
        browser.post(f"/courses/{course.id}/members", {"roster_text": "x1,Someone"}),
    ]
    assert [a.status_code for a in answers] == [403] * 4
    own = browser.get(f"/courses/{course.id}")  # their own view of the course, not the dashboard
    assert own.status_code == 200 and "Homework one" in own.text
    for staff_only in ("Create an assignment", "Roster", 'type="file"', "/drop", "/problem-sets", "/gradebook"):
        assert staff_only not in own.text


def test_someone_outside_the_course_finds_nothing(app, client, engine, staffed: Staffed) -> None:
    outsider = Course(client, make_instructor(engine))  # an instructor, of another course
    browser = signed(app, outsider.instructor["Authorization"][7:])
    course = staffed.course.id
    answers = [
        browser.get(f"/courses/{course}"),
        browser.get(f"/courses/{course}/problem-sets"),
        browser.post(f"/courses/{course}/assignments", {"id": unique("a"), "problem_set": "conv-pool-basics"}),
        browser.post(f"/courses/{course}/members", {"roster_text": "x1,Someone"}),
        browser.post(f"/courses/{course}/members/{staffed.student_id}/drop"),
        browser.get(f"/courses/{unique('nosuch')}"),
    ]
    assert [a.status_code for a in answers] == [404] * 6
    assert all("Homework one" not in a.text and staffed.student_id not in a.text for a in answers)


def test_without_a_session_each_page_sends_to_sign_in_and_each_form_changes_nothing(app, staffed: Staffed) -> None:
    course = staffed.course
    browser = Browser(app)
    for path in (f"/courses/{course.id}", f"/courses/{course.id}/problem-sets"):
        answer = browser.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == f"/?next={path}"
    posted = browser.post(f"/courses/{course.id}/members/{staffed.student_id}/drop", csrf=False)
    assert posted.status_code == 303 and posted.headers["location"] == "/"
    assert staffed.student_id in {
        m["id"] for m in course.client.get(f"{course.path}/members", headers=course.instructor).json()
    }


def test_every_form_is_refused_without_the_session_s_csrf_token(app, staffed: Staffed) -> None:
    course = staffed.course
    browser = signed(app, staffed.owner)
    browser.get(f"/courses/{course.id}")
    assignment = unique("a")
    forged = [
        browser.post(
            f"/courses/{course.id}/assignments", {"id": assignment, "problem_set": "conv-pool-basics"}, csrf=False
        ),
        browser.post(f"/courses/{course.id}/members", {"roster_text": "x1,Someone", "csrf": "0" * 64}, csrf=False),
        browser.post(f"/courses/{course.id}/members/{staffed.student_id}/drop", csrf=False),
        browser.post(f"/courses/{course.id}/problem-sets", {"set_text": set_file(unique("set"))}, csrf=False),
    ]
    assert [f.status_code for f in forged] == [403] * 4
    assert "reload" in forged[0].text
    api = course.client
    assert api.get(f"{course.path}/assignments/{assignment}", headers=course.instructor).status_code == 404
    members = {m["id"] for m in api.get(f"{course.path}/members", headers=course.instructor).json()}
    assert "x1" not in members and staffed.student_id in members


# --- creating an assignment ----------------------------------------------------------------------


def test_an_instructor_creates_an_assignment_from_the_form_as_the_api_would(app, staffed: Staffed) -> None:
    course = staffed.course
    browser = signed(app, staffed.instructor)
    browser.get(f"/courses/{course.id}")
    assignment = unique("hw")
    form = {
        "id": assignment,
        "problem_set": "conv-arithmetic",
        "version": "",
        "title": "Arithmetic",
        "due_at": "2031-05-06T07:08",
        "closes_at": "2031-05-09T07:08",
        "max_attempts": "4",
        "release_answers": "after_close",
        "grade_policy": "last",
        "late_penalty": "per_day",
        "per_day": "10",
        "floor": "50",
        "factor": "",
        "feedback": "correctness",
    }
    created = browser.post(f"/courses/{course.id}/assignments", form)
    assert created.status_code == 303
    assert created.headers["location"] == f"/courses/{course.id}?created={assignment}#assignments"
    dashboard = browser.get(created.headers["location"])
    assert f"Assignment {assignment} created." in dashboard.text and "Arithmetic" in dashboard.text
    stored = course.client.get(f"{course.path}/assignments/{assignment}", headers=course.instructor).json()
    assert stored["due_at"].startswith("2031-05-06T07:08") and stored["max_attempts"] == 4
    assert (stored["release_answers"], stored["grade_policy"]) == ("after_close", "last")
    assert stored["closes_at"].startswith("2031-05-09T07:08") and stored["published"] is True
    assert stored["late_penalty"] == {"per_day": 10, "floor": 50} and stored["problem_set"] == "conv-arithmetic"
    assert stored["feedback"] == "correctness"


@pytest.mark.parametrize(
    ("typed", "status", "field", "words"),
    [
        # the schema's refusal, beside its field
        ({"id": "hw 1", "problem_set": "conv-pool-basics"}, 422, "id", "should be 1 to 64 letters"),
        ({"id": "ok1", "problem_set": "conv-pool-basics", "max_attempts": "0"}, 422, "max_attempts", "greater than"),
        (
            {"id": "ok2", "problem_set": "conv-pool-basics", "late_penalty": "factor", "factor": "3"},
            422,
            "factor",
            "less",
        ),
        (
            {"id": "ok4", "problem_set": "conv-pool-basics", "feedback": "hints"},
            422,
            "feedback",
            "&#39;full&#39;, &#39;correctness&#39;, &#39;score&#39; or &#39;none&#39;",
        ),
        # the service's refusals: no such set, an id taken
        ({"id": "ok3", "problem_set": "no-such-set"}, 422, "problem_set", "the course may use"),
        ({"id": "{taken}", "problem_set": "conv-pool-basics"}, 409, "id", "already an assignment"),
    ],
)
def test_a_refused_assignment_is_shown_beside_its_field_with_what_was_typed(
    app, staffed: Staffed, typed: dict[str, str], status: int, field: str, words: str
) -> None:
    course = staffed.course
    browser = signed(app, staffed.owner)
    browser.get(f"/courses/{course.id}")
    typed = {name: value.replace("{taken}", staffed.assignment) for name, value in typed.items()}
    refused = browser.post(f"/courses/{course.id}/assignments", {"title": "Kept title", **typed})
    assert refused.status_code == status
    html = refused.text
    error = html[html.index(f'id="a-{field}-error"') :]
    assert words in error[: error.index("</p>")]
    assert 'aria-invalid="true"' in html and f'value="{typed["id"]}"' in html and 'value="Kept title"' in html
    assert unlabelled(html) == []


# --- the roster ------------------------------------------------------------------------------------


def test_a_roster_csv_with_errors_imports_nobody_and_shows_each_line(app, staffed: Staffed) -> None:
    course = staffed.course
    browser = signed(app, staffed.owner)
    browser.get(f"/courses/{course.id}")
    newcomer = unique("s")
    text = f"id,name,email,role\n{newcomer},Ada,ada@example.edu,\nbad id,Bob,,\n{unique('s')},Cy,,teacher\n"
    refused = browser.post(
        f"/courses/{course.id}/members", files={"roster_file": ("roster.csv", text.encode(), "text/csv")}
    )
    assert refused.status_code == 422
    html = refused.text
    assert "Nobody was imported" in html
    assert "Line 3, id: should be 1 to 64 letters" in html and '<code class="excerpt-line">bad id,Bob,,</code>' in html
    assert "Line 4, role: " in html
    assert f"{newcomer},Ada,ada@example.edu," in html[html.index("<textarea") :]  # the file's text, to fix
    members = {m["id"] for m in course.client.get(f"{course.path}/members", headers=course.instructor).json()}
    assert newcomer not in members


def test_a_roster_csv_imports_everyone_and_shows_each_new_token_once(app, staffed: Staffed) -> None:
    course = staffed.course
    browser = signed(app, staffed.owner)
    browser.get(f"/courses/{course.id}")
    ada, grace = unique("s"), unique("t")
    text = f"{ada},Ada Lovelace,ada@example.edu\n{grace},Grace Hopper,,ta\n{staffed.student_id},Renamed Student\n"
    imported = browser.post(f"/courses/{course.id}/members", {"roster_text": text})
    assert imported.status_code == 200 and imported.headers["cache-control"] == "no-store"
    html = imported.text
    assert "3 members imported." in html and "shown only this once" in html
    tokens = {}
    for member in (ada, grace):
        row = html[html.index(f'<td class="mono">{member}</td>') :]
        tokens[member] = row[row.index('<code class="token">') + 20 : row.index("</code>")]
    assert "an existing account" in html  # the known student keeps their token
    answer = course.client.get("/api/v1/courses", headers=auth(tokens[grace]))
    assert answer.status_code == 200 and {c["id"]: c["role"] for c in answer.json()}[course.id] == "ta"
    roster = {m["id"]: m for m in course.client.get(f"{course.path}/members", headers=course.instructor).json()}
    # an existing account joins as it is: a roster never renames anyone
    assert roster[ada]["email"] == "ada@example.edu" and roster[staffed.student_id]["name"] != "Renamed Student"
    # the next page never shows a token again
    assert tokens[ada] not in browser.get(f"/courses/{course.id}").text


def test_a_canvas_gradebook_export_imports_its_students_and_says_which_columns_it_ignored(
    app, staffed: Staffed
) -> None:
    course = staffed.course
    browser = signed(app, staffed.owner)
    browser.get(f"/courses/{course.id}")
    ada = unique("s")
    text = (
        "Student,ID,SIS User ID,SIS Login ID,Section,Final Score\n"
        "    Points Possible,,,,,(read only)\n"
        f'"Lovelace, Ada",1,{ada},{ada}@example.edu,CS 101,90\n'
    )
    imported = browser.post(f"/courses/{course.id}/members", {"roster_text": text})
    assert imported.status_code == 200, imported.text
    assert "1 member imported. Ignored columns: Section, Final Score." in imported.text
    roster = {m["id"]: m for m in course.client.get(f"{course.path}/members", headers=course.instructor).json()}
    assert (roster[ada]["name"], roster[ada]["email"]) == ("Ada Lovelace", f"{ada}@example.edu")


def test_a_roster_listing_an_id_twice_is_refused_by_the_import_s_own_rule(app, staffed: Staffed) -> None:
    course = staffed.course
    browser = signed(app, staffed.owner)
    browser.get(f"/courses/{course.id}")
    twice = unique("s")
    refused = browser.post(f"/courses/{course.id}/members", {"roster_text": f"{twice},A\n{twice},B\n"})
    assert refused.status_code == 409 and "more than once" in refused.text and twice in refused.text


def test_dropping_a_member_takes_them_off_the_roster_and_the_owner_cannot_be_dropped(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    ((student_id, _),) = course.students(1)
    browser = signed(app, course.instructor["Authorization"][7:])
    html = browser.get(f"/courses/{course.id}").text
    assert f'Drop<span class="visually-hidden"> {student_id}</span>' in html
    dropped = browser.post(f"/courses/{course.id}/members/{student_id}/drop")
    assert (
        dropped.status_code == 303
        and dropped.headers["location"] == f"/courses/{course.id}?dropped={student_id}#roster"
    )
    after = browser.get(dropped.headers["location"]).text
    assert "is no longer a member" in after and f'<td class="mono">{student_id}</td>' not in after
    owner_id = next(
        m["id"] for m in client.get(f"{course.path}/members", headers=course.instructor).json() if m["role"] == "owner"
    )
    assert browser.post(f"/courses/{course.id}/members/{owner_id}/drop").status_code == 409


# --- the problem sets --------------------------------------------------------------------------------


def test_the_library_lists_the_built_in_sets_and_the_course_s_own_with_their_versions(app, staffed: Staffed) -> None:
    course = staffed.course
    own = unique("set")
    made = course.client.post(
        f"{course.path}/problem-sets",
        content=set_file(own),
        headers={**course.instructor, "Content-Type": "application/yaml"},
    )
    assert made.status_code == 201
    html = signed(app, staffed.instructor).get(f"/courses/{course.id}/problem-sets").text
    listed = course.client.get(f"{course.path}/problem-sets", headers=course.instructor).json()
    for found in listed:
        assert f'<span class="mono muted">{found["id"]}</span>' in html and found["version"][:12] in html
    assert "the course" in html and own in html and 'href="?set=conv-arithmetic#preview"' in html
    assert unlabelled(html) == []
    assert html.count('name="csrf"') == html.count('method="post"')


def test_a_set_file_that_does_not_validate_is_shown_at_its_lines_and_kept_to_fix(app, staffed: Staffed) -> None:
    course = staffed.course
    browser = signed(app, staffed.instructor)
    browser.get(f"/courses/{course.id}/problem-sets")
    own = unique("set")
    broken = set_file(own).replace("kernel: 3", "kernel: three")
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "three" in text)
    refused = browser.post(
        f"/courses/{course.id}/problem-sets", files={"set_file": ("mine.yaml", broken.encode(), "application/yaml")}
    )
    assert refused.status_code == 422
    html = refused.text
    api = course.client.post(
        f"{course.path}/problem-sets", content=broken, headers={**course.instructor, "Content-Type": "application/yaml"}
    ).json()["detail"]
    assert [issue["line"] for issue in api] == [line]
    issue = api[0]
    assert f'<code class="where">{line}:{issue["column"]}</code> <strong>{issue["field"]}</strong>' in html
    marked = html[html.index('<span class="marked">') :]
    assert marked.startswith(f'<span class="marked"><span class="lineno" aria-hidden="true">{line:4d} </span>')
    assert marked.split("\n")[0].endswith("kernel: three, padding: 1}")
    caret = marked.split("\n")[1]  # under the column reported
    assert caret.startswith('</span><span class="caret"') and caret.endswith(" " * (4 + issue["column"]) + "^")
    assert '<span class="caret" aria-hidden="true">' in html
    textarea = html[html.index('<textarea id="set-text"') :]
    assert "kernel: three" in textarea[: textarea.index("</textarea>")]
    assert own not in {
        s["id"] for s in course.client.get(f"{course.path}/problem-sets", headers=course.instructor).json()
    }


def test_a_set_file_that_validates_is_stored_and_its_new_version_previewed(app, staffed: Staffed) -> None:
    course = staffed.course
    browser = signed(app, staffed.instructor)
    browser.get(f"/courses/{course.id}/problem-sets")
    own = unique("set")
    stored = browser.post(f"/courses/{course.id}/problem-sets", {"set_text": set_file(own).replace("\n", "\r\n")})
    assert stored.status_code == 303
    listed = {s["id"]: s for s in course.client.get(f"{course.path}/problem-sets", headers=course.instructor).json()}
    version = listed[own]["version"]
    assert (
        stored.headers["location"]
        == f"/courses/{course.id}/problem-sets?set={own}&version={version}&uploaded=new#preview"
    )
    page = browser.get(stored.headers["location"]).text
    assert "Stored: a new version" in page and f"<code>{version}</code>" in page
    assert "One convolution" in page and f"{own}" in page
    # the same text again is the version the course has
    again = browser.post(f"/courses/{course.id}/problem-sets", {"set_text": set_file(own)})
    assert again.headers["location"].endswith("uploaded=same#preview")
    assert "a version the course already has" in browser.get(again.headers["location"]).text


def test_a_preview_shows_the_statements_with_math_and_the_reference_answers_of_a_variant(app, staffed: Staffed) -> None:
    course = staffed.course
    browser = signed(app, staffed.instructor)
    fixed = browser.get(f"/courses/{course.id}/problem-sets?set=conv-pool-basics")
    assert fixed.status_code == 200
    reference = course.client.get(
        f"{course.path}/problem-sets/conv-pool-basics/preview", headers=course.instructor
    ).json()["reference"]
    html = fixed.text
    assert 'data-tex="\\begin{bmatrix}' in html and "The declared numbers" in html
    first_matrix = next(v for v in reference.values() if isinstance(v, list) and isinstance(v[0], list))
    # as written (no JavaScript), and marked for KaTeX
    assert f">{first_matrix}</span>" in html and " &amp; ".join(map(str, first_matrix[0])) in html
    for key in reference:
        assert f'<td class="mono">{key}</td>' in html
    assert "vendor/katex/katex.min.js" in html and "grader.js" in html  # (only with a matrix to typeset)
    plain = browser.get(f"/courses/{course.id}/problem-sets").text
    assert "<script" not in plain and "katex" not in plain
    # a randomized set: a seed and a student draw other numbers, as the API's preview does
    by_seed = browser.get(f"/courses/{course.id}/problem-sets?set=conv-arithmetic&seed=7&student=").text
    by_student = browser.get(f"/courses/{course.id}/problem-sets?set=conv-arithmetic&seed=&student=s1").text
    api_seed = course.client.get(
        f"{course.path}/problem-sets/conv-arithmetic/preview?seed=7", headers=course.instructor
    ).json()
    assert f"<code>{api_seed['variant']}</code>" in by_seed and "<code>" in by_student
    assert by_seed.split('id="variant"')[1] != by_student.split('id="variant"')[1]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("set=conv-arithmetic&seed=-1", "The seed is a whole number"),
        ("set=conv-arithmetic&seed=abc", "The seed is a whole number"),
        ("set=no-such-set", "No problem set"),
        ("set=conv-pool-basics&version=0000", "of version"),
    ],
)
def test_a_preview_that_cannot_be_shown_says_why_on_the_page(app, staffed: Staffed, query: str, words: str) -> None:
    course = staffed.course
    page = signed(app, staffed.instructor).get(f"/courses/{course.id}/problem-sets?{query}")
    assert page.status_code == 200 and words in page.text and 'role="alert"' in page.text
