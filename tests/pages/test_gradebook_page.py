"""The gradebook page: who may read it (as the REST API says), the table sorted on the server, the
downloads (the REST API's bytes), and extensions granted, changed and withdrawn by form."""

from __future__ import annotations

import re
from html import unescape

import pytest

from page_client import Browser
from staff_course import StaffCourse, staff_course


@pytest.fixture(scope="module")
def graded(app, client, engine) -> StaffCourse:
    return staff_course(app, client, engine, due_at="2030-01-01T00:00:00Z")


def body_rows(html: str) -> list[str]:
    """The student ids of the gradebook table, top to bottom."""
    table = html.split('<table class="gradebook">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>\s*<td><a [^>]*><code>([^<]+)</code></a>", table)


def sorted_header(html: str) -> tuple[str, str]:
    """The label and aria-sort of the one sorted column."""
    (found,) = re.findall(r'<th scope="col"[^>]*aria-sort="(\w+)">\s*<a href="[^"]*">(.*?)</a>', html, re.S)
    label = re.sub(r'<span aria-hidden="true">.*?</span>|<[^>]+>', "", found[1])
    return label.strip(), found[0]


# --- who may read it ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "instructor", "ta"])
def test_staff_read_every_student_and_key(graded: StaffCourse, role: str) -> None:
    page = graded.browser(role).get(graded.page + "/gradebook")
    assert page.status_code == 200, page.text
    book = graded.rest("/gradebook").json()
    assert sorted(body_rows(page.text)) == sorted(row["student"] for row in book["students"])
    for key in book["keys"]:
        assert f'href="?sort=key%3A{key}&amp;order=asc"' in page.text
    assert "Extension" in page.text and 'name="csrf"' in page.text
    assert f'href="{graded.page}/stats"' in page.text  # the statistics page is one link away


def test_a_student_is_refused_as_by_the_api(graded: StaffCourse) -> None:
    api = graded.client.get(graded.api + "/gradebook", headers=graded.students[0][1])
    page = graded.browser("student").get(graded.page + "/gradebook")
    assert api.status_code == page.status_code == 403
    assert unescape(api.json()["detail"]) in unescape(page.text)
    assert '<table class="gradebook">' not in page.text


@pytest.mark.parametrize("path", ["/gradebook", "/gradebook/download?format=csv"])
def test_another_course_does_not_exist_for_an_outsider(graded: StaffCourse, path: str) -> None:
    page = graded.browser("outsider").get(graded.page + path)
    assert page.status_code == 404
    assert graded.students[0][0] not in page.text


def test_an_unknown_assignment_is_not_found(graded: StaffCourse) -> None:
    page = graded.browser("owner").get(f"/courses/{graded.course.id}/assignments/nope/gradebook")
    assert page.status_code == 404 and "No assignment 'nope'" in unescape(page.text)


def test_without_a_session_the_page_asks_to_sign_in(graded: StaffCourse) -> None:
    page = Browser(graded.app).get(graded.page + "/gradebook")
    assert page.status_code == 303
    assert page.headers["location"] == f"/?next={graded.page}/gradebook"
    download = Browser(graded.app).get(graded.page + "/gradebook/download?format=csv")
    assert download.status_code == 303


# --- sorting -----------------------------------------------------------------------------------


def test_the_default_order_is_the_gradebooks(graded: StaffCourse) -> None:
    page = graded.browser("owner").get(graded.page + "/gradebook")
    assert body_rows(page.text) == [row["student"] for row in graded.rest("/gradebook").json()["students"]]
    assert sorted_header(page.text) == ("Student", "ascending")


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sorting_by_score_orders_the_rows_by_the_gradebooks_scores(graded: StaffCourse, order: str) -> None:
    scores = {row["student"]: row["score"] for row in graded.rest("/gradebook").json()["students"]}
    page = graded.browser("owner").get(graded.page + f"/gradebook?sort=score&order={order}")
    shown = [scores[student] for student in body_rows(page.text)]
    filled = [score for score in shown if score is not None]
    assert filled == sorted(filled, reverse=order == "desc") and len(set(filled)) > 1
    assert shown[len(filled) :] == [None] * (len(shown) - len(filled))  # no submission: last either way
    assert sorted_header(page.text) == ("Score", "ascending" if order == "asc" else "descending")


def test_a_sorted_headers_link_reverses_the_order_and_the_others_sort_ascending(graded: StaffCourse) -> None:
    page = graded.browser("owner").get(graded.page + "/gradebook?sort=name&order=asc")
    assert 'href="?sort=name&amp;order=desc"' in page.text
    assert 'href="?sort=score&amp;order=asc"' in page.text


def test_sorting_by_a_key_sorts_by_that_keys_score(graded: StaffCourse) -> None:
    key = "ex3.max"
    parts = {row["student"]: row["parts"].get(key) for row in graded.rest("/gradebook").json()["students"]}
    page = graded.browser("owner").get(graded.page + f"/gradebook?sort=key:{key}&order=desc")
    shown = [parts[student] for student in body_rows(page.text)]
    filled = [score for score in shown if score is not None]
    assert filled == sorted(filled, reverse=True) and filled[0] == 1
    assert sorted_header(page.text) == (key, "descending")


@pytest.mark.parametrize("query", ["sort=nothing", "sort=key:nope", "order=sideways"])
def test_an_unknown_sort_is_refused_with_a_page(graded: StaffCourse, query: str) -> None:
    page = graded.browser("owner").get(graded.page + "/gradebook?" + query)
    assert page.status_code == 422
    assert "<h1>" in page.text


# --- downloads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("format", ["csv", "canvas"])
def test_a_download_is_the_rest_apis_file_byte_for_byte(graded: StaffCourse, format: str) -> None:
    api = graded.rest("/gradebook", format=format)
    page = graded.browser("ta").get(graded.page + f"/gradebook/download?format={format}")
    assert page.status_code == 200
    assert page.content == api.content and graded.students[0][0].encode() in page.content
    for header in ("content-type", "content-disposition"):
        assert page.headers[header] == api.headers[header]
    listed = graded.browser("ta").get(graded.page + "/gradebook")
    assert f'href="{graded.page}/gradebook/download?format={format}"' in unescape(listed.text)


def test_a_download_of_an_unknown_format_is_refused(graded: StaffCourse) -> None:
    assert graded.browser("owner").get(graded.page + "/gradebook/download?format=xlsx").status_code == 422


def test_a_student_cannot_download_the_gradebook(graded: StaffCourse) -> None:
    assert graded.browser("student").get(graded.page + "/gradebook/download?format=csv").status_code == 403


# --- extensions --------------------------------------------------------------------------------


def extension_of(graded: StaffCourse, student: str) -> dict | None:
    rows = {row["student"]: row for row in graded.rest("/gradebook").json()["students"]}
    return rows[student]["extension"]


def test_a_ta_grants_changes_and_withdraws_an_extension(graded: StaffCourse) -> None:
    student = graded.students[1][0]
    browser = graded.browser("ta")
    browser.get(graded.page + "/gradebook")
    typed = {"student": student, "due_at": "2030-02-01T12:30", "max_attempts": "", "sort": "score", "order": "desc"}
    granted = browser.post(graded.page + "/gradebook/extensions", typed)
    assert granted.status_code == 303, granted.text
    assert "sort=score&order=desc" in granted.headers["location"]  # back to the table as it was sorted
    assert extension_of(graded, student) == {"due_at": "2030-02-01T12:30:00Z", "max_attempts": None}
    shown = browser.get(granted.headers["location"])
    assert f"Extension granted to {student}." in shown.text
    # the form is empty again, so a second press grants nothing (issue 69); the table's "change"
    # link fills it with the student's extension
    assert 'value="2030-02-01T12:30"' not in shown.text and f'value="{student}" selected' not in shown.text
    to_change = browser.get(graded.page + f"/gradebook?student={student}")
    assert 'value="2030-02-01T12:30"' in to_change.text and f'value="{student}" selected' in to_change.text

    changed = browser.post(
        graded.page + "/gradebook/extensions", {"student": student, "due_at": "", "max_attempts": "7"}
    )
    assert changed.status_code == 303
    assert extension_of(graded, student) == {"due_at": None, "max_attempts": 7}

    withdrawn = browser.post(graded.page + f"/gradebook/extensions/{student}/remove")
    assert withdrawn.status_code == 303
    assert extension_of(graded, student) is None
    assert f"Extension of {student} withdrawn." in browser.get(withdrawn.headers["location"]).text


def test_an_extension_without_a_due_date_or_a_limit_is_refused_on_the_form(graded: StaffCourse) -> None:
    student = graded.students[2][0]
    browser = graded.browser("owner")
    browser.get(graded.page + "/gradebook")
    refused = browser.post(
        graded.page + "/gradebook/extensions", {"student": student, "due_at": "", "max_attempts": ""}
    )
    assert refused.status_code == 422
    assert "give a due_at, a max_attempts or a closes_at" in unescape(refused.text)
    assert f'value="{student}" selected' in refused.text  # what was chosen is kept
    assert extension_of(graded, student) is None


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"max_attempts": "0"}, "max attempts: Input should be greater than or equal to 1"),
        ({"max_attempts": "many"}, "max attempts: Input should be a valid integer"),
        ({"due_at": "tomorrow"}, "due at:"),
    ],
)
def test_a_malformed_field_is_refused_and_what_was_typed_is_kept(graded: StaffCourse, fields, said) -> None:
    student = graded.students[2][0]
    browser = graded.browser("owner")
    browser.get(graded.page + "/gradebook")
    refused = browser.post(graded.page + "/gradebook/extensions", {"student": student, **fields})
    assert refused.status_code == 422
    assert said in unescape(refused.text)
    (typed,) = fields.values()
    assert f'value="{typed}"' in refused.text
    assert extension_of(graded, student) is None


def test_an_extension_for_someone_who_is_not_a_student_is_not_found(graded: StaffCourse) -> None:
    browser = graded.browser("owner")
    browser.get(graded.page + "/gradebook")
    refused = browser.post(graded.page + "/gradebook/extensions", {"student": "nobody", "max_attempts": "3"})
    assert refused.status_code == 404 and "No student 'nobody'" in unescape(refused.text)


def test_withdrawing_an_extension_that_does_not_exist_is_not_found(graded: StaffCourse) -> None:
    browser = graded.browser("owner")
    browser.get(graded.page + "/gradebook")
    assert browser.post(graded.page + f"/gradebook/extensions/{graded.students[3][0]}/remove").status_code == 404


def test_forms_without_the_sessions_csrf_token_are_refused(graded: StaffCourse) -> None:
    student = graded.students[3][0]
    browser = graded.browser("owner")
    browser.get(graded.page + "/gradebook")
    forged = browser.post(graded.page + "/gradebook/extensions", {"student": student, "max_attempts": "9"}, csrf=False)
    assert forged.status_code == 403
    wrong = browser.post(
        graded.page + "/gradebook/extensions", {"csrf": "0" * 64, "student": student, "max_attempts": "9"}, csrf=False
    )
    assert wrong.status_code == 403
    assert extension_of(graded, student) is None
    graded.client.put(
        f"{graded.api}/extensions/{student}", json={"max_attempts": 4}, headers=graded.course.instructor
    ).raise_for_status()
    assert browser.post(graded.page + f"/gradebook/extensions/{student}/remove", csrf=False).status_code == 403
    assert extension_of(graded, student) == {"due_at": None, "max_attempts": 4}
    graded.client.delete(f"{graded.api}/extensions/{student}", headers=graded.course.instructor).raise_for_status()


def test_a_student_cannot_grant_themselves_an_extension(graded: StaffCourse) -> None:
    student = graded.students[0][0]
    browser = graded.browser("student")
    browser.get("/")
    refused = browser.post(graded.page + "/gradebook/extensions", {"student": student, "max_attempts": "99"})
    assert refused.status_code == 403
    assert extension_of(graded, student) is None


# --- one student's attempts --------------------------------------------------------------------


def test_each_student_links_to_their_attempts_with_feedback_and_named_mistakes(graded: StaffCourse) -> None:
    student = graded.students[2][0]  # the bias left out, and average pooling for max pooling
    browser = graded.browser("ta")
    listed = browser.get(graded.page + "/gradebook")
    assert f'href="{graded.page}/gradebook/students/{student}"' in listed.text
    assert f'class="view-as" href="{graded.page}?student={student}"' in listed.text  # their own page
    page = browser.get(graded.page + f"/gradebook/students/{student}")
    assert page.status_code == 200
    (stored,) = graded.rest("/submissions", student=student).json()
    text = unescape(page.text)
    assert f"Attempt {stored['attempt']}" in text and f"Score <strong>{stored['final_score']:g}</strong>" in text
    for key, part in stored["parts"].items():
        assert f"<code>{key}</code>" in text and part["feedback"] in text
    assert "bias-omitted" in text and "pooling-type-swapped" in text
    assert str(stored["reference"]["ex4.conv1_params"]) in text.replace(",", "")
    # a link to the student's own page as they see it (read only)
    seen_as = re.search(r'<a href="([^"]+)" id="view-as-student">', page.text)
    assert seen_as is not None
    theirs = browser.get(unescape(seen_as.group(1)))
    assert theirs.status_code == 200 and f"You are seeing <strong>{student}</strong>" in theirs.text
    # a list of shapes as a student writes it (to_text), not Python's lists
    shapes = stored["reference"]["ex4.shapes"]
    assert f"<code>{'; '.join(' × '.join(map(str, shape)) for shape in shapes)}</code>" in text
    assert str(shapes[0]) not in text
    # each part's worked solution, folded, its steps typeset
    steps = stored["parts"]["ex4.conv1_params"]["solution"]
    assert '<details class="solution">' in page.text and steps[-1]["text"] in text
    assert "katex.min.js" in page.text


def test_a_student_page_for_someone_not_a_student_is_not_found_and_students_are_refused(graded: StaffCourse) -> None:
    assert graded.browser("owner").get(graded.page + "/gradebook/students/nobody").status_code == 404
    other = graded.students[1][0]
    assert graded.browser("student").get(graded.page + f"/gradebook/students/{other}").status_code == 403
    idle = graded.browser("owner").get(graded.page + f"/gradebook/students/{graded.students[3][0]}")
    assert idle.status_code == 200 and "No attempts yet." in idle.text
