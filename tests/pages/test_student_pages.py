"""A course's pages for each role: a student's course and assignment (answer, see how it is read,
submit, refusals with everything typed kept), staff's view, another course (404), no session
(redirect) and a form without its CSRF token (403)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from factories import Course, make_instructor
from page_client import Browser

RIGHT = "3640"  # conv-pool-basics ex4.conv1_params: 3·3·10·40 + 40
SHOWN = "3,640"  # as pages write it for people (and the reader takes back)
NO_BIAS = "3600"  # the same without the 40 biases: the named mistake bias-omitted


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def page_of(app, headers: dict[str, str]) -> Browser:
    return Browser(app).signed_in(token_of(headers))


def student_at_assignment(app, client, engine, **terms) -> tuple[Course, str, Browser, str]:
    """A new course with an assignment (``terms`` as ``POST .../assignments`` takes them) and one
    student signed in to the pages; the assignment page's path."""
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    aid = course.assignment(**terms)
    return course, aid, page_of(app, headers), f"/courses/{course.id}/assignments/{aid}"


def value_of(html: str, key: str) -> str:
    """What the page's input (or textarea) named ``key`` holds."""
    found = re.search(rf'<input type="text" id="[^"]+" name="{re.escape(key)}"[^>]* value="([^"]*)"', html)
    if found:
        return found.group(1)
    found = re.search(rf'<textarea id="[^"]+" name="{re.escape(key)}"[^>]*>([^<]*)</textarea>', html)
    assert found, f"no input named {key}"
    return found.group(1)


def submissions(client, course: Course, assignment: str) -> list:
    return client.get(f"{course.path}/assignments/{assignment}/submissions", headers=course.instructor).json()


def test_the_assignment_page_has_one_labelled_input_per_key_and_a_submit_button(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    aid = course.assignment()
    keys = [
        p["key"]
        for problem in client.get(f"{course.path}/assignments/{aid}", headers=headers).json()["problems"]
        for p in problem["parts"]
    ]
    page = page_of(app, headers).get(f"/courses/{course.id}/assignments/{aid}")
    assert page.status_code == 200
    for key in keys:
        found = re.search(rf'<(?:input type="text"|textarea) id="(answer-\d+)" name="{re.escape(key)}"', page.text)
        assert found, key
        assert f'<label for="{found.group(1)}">' in page.text
    assert page.text.count('name="csrf"') == 2  # the answers' form, and signing out
    assert '<button type="submit" name="action" value="submit">Submit</button>' in page.text
    assert f'<form method="post" action="/courses/{course.id}/assignments/{aid}"' in page.text  # works without JS
    assert 'data-tex="\\begin{bmatrix}1 &amp; 1 &amp; 1 &amp; 0 &amp; 0' in page.text  # the statement's matrix
    assert f'hx-post="/courses/{course.id}/assignments/{aid}/preview?key=ex4.conv1_params"' in page.text
    assert "Reference answer" not in page.text  # not released


def test_how_an_answer_is_read_comes_from_the_preview_service(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    aid = course.assignment()
    browser = page_of(app, headers)
    browser.get(f"/courses/{course.id}/assignments/{aid}")
    url = f"/courses/{course.id}/assignments/{aid}/preview?key=ex4.conv1_params"
    htmx = {"X-CSRF-Token": browser.csrf, "HX-Request": "true"}
    api = f"{course.path}/assignments/{aid}/preview"
    for typed in ("3*3*10*40 + 40", "3,6"):
        fragment = browser.client.post(url, data={"ex4.conv1_params": typed}, headers=htmx)
        assert fragment.status_code == 200
        read = client.post(api, json={"answers": {"ex4.conv1_params": typed}}, headers=headers).json()
        part = read["parts"]["ex4.conv1_params"]
        shown = f"Read as: {part['read_as']}" if part["readable"] else f"Cannot be read: {part['reason']}"
        assert shown.replace(",", "") in fragment.text.replace(",", ""), fragment.text
    assert browser.client.post(url, data={"ex4.conv1_params": "1"}).status_code == 403  # no CSRF token
    unknown = browser.client.post(url.replace("ex4.conv1_params", "nope"), data={}, headers=htmx)
    assert unknown.status_code == 404 and "<html" not in unknown.text  # a fragment, not a page


def test_a_submitted_wrong_answer_shows_its_named_mistake_and_the_attempt(app, client, engine) -> None:
    course, aid, browser, path = student_at_assignment(app, client, engine, max_attempts=3)
    browser.get(path)
    sent = browser.post(path, {"ex4.conv1_params": NO_BIAS, "action": "submit"})
    assert sent.status_code == 303 and sent.headers["location"].startswith(path + "?submitted=1")
    page = browser.get(sent.headers["location"])
    assert "Attempt 1 submitted" in page.text
    assert "Named mistake <strong>bias-omitted</strong>: The biases are missing" in page.text
    assert value_of(page.text, "ex4.conv1_params") == NO_BIAS  # the last attempt fills the form
    assert "2 left" in page.text
    assert len(submissions(client, course, aid)) == 1

    again = browser.post(path, {"ex4.conv1_params": RIGHT, "action": "submit"})
    page = browser.get(again.headers["location"])
    assert "Attempt 2 submitted" in page.text and 'class="status-correct"' in page.text
    assert page.text.count('<td class="num">') >= 4  # both attempts listed

    course_page = browser.get(f"/courses/{course.id}")
    assert course_page.status_code == 200 and "1 / 9" in course_page.text and "(best)" in course_page.text


def test_a_resent_form_stores_one_submission(app, client, engine) -> None:
    course, aid, browser, path = student_at_assignment(app, client, engine)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', browser.get(path).text).group(1)
    form = {"ex4.conv1_params": RIGHT, "action": "submit", "idempotency_key": key}
    assert [browser.post(path, form).status_code for _ in range(2)] == [303, 303]
    assert len(submissions(client, course, aid)) == 1


def test_an_unreadable_answer_is_refused_on_the_page_with_everything_typed_kept(app, client, engine) -> None:
    course, aid, browser, path = student_at_assignment(app, client, engine)
    browser.get(path)
    typed = {"ex4.conv1_params": RIGHT, "ex5.params": "3*3*", "ex3.max": "[[9 7]\n [8 6]]"}
    refused = browser.post(path, {**typed, "action": "submit"})
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text and "could not be read: ex5.params" in refused.text
    assert "No attempt was used" in refused.text
    for key, value in typed.items():
        assert value_of(refused.text, key) == value.replace("\n", "&#10;") or value_of(refused.text, key) == value
    assert "Cannot be read: The answer ends in the middle of an expression" in refused.text
    assert submissions(client, course, aid) == []


def test_checking_shows_how_answers_are_read_and_stores_nothing(app, client, engine) -> None:
    course, aid, browser, path = student_at_assignment(app, client, engine)
    browser.get(path)
    checked = browser.post(path, {"ex4.conv1_params": "3*3*10*40+40", "action": "check"})
    assert checked.status_code == 200 and "Read as: 3,640" in checked.text and "Nothing was submitted" in checked.text
    assert value_of(checked.text, "ex4.conv1_params") == "3*3*10*40+40"
    assert submissions(client, course, aid) == []


def test_past_the_attempt_limit_the_refusal_keeps_the_answers(app, client, engine) -> None:
    course, aid, browser, path = student_at_assignment(app, client, engine, max_attempts=1)
    browser.get(path)
    assert browser.post(path, {"ex4.conv1_params": NO_BIAS, "action": "submit"}).status_code == 303
    assert "All your attempts are used" in browser.get(path).text
    refused = browser.post(path, {"ex4.conv1_params": RIGHT, "action": "submit"})
    assert refused.status_code == 409 and "attempts of assignment" in refused.text
    assert value_of(refused.text, "ex4.conv1_params") == RIGHT
    assert len(submissions(client, course, aid)) == 1


def test_past_the_due_date_the_page_says_so_and_the_attempt_is_marked_late(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    student_id, headers = course.student()
    due = datetime.now(UTC) - timedelta(hours=1)
    aid = course.assignment(due_at=due.isoformat(), late_penalty={"per_day": 50})
    browser = page_of(app, headers)
    path = f"/courses/{course.id}/assignments/{aid}"
    assert "The due date has passed" in browser.get(path).text
    page = browser.get(browser.post(path, {"ex4.conv1_params": RIGHT, "action": "submit"}).headers["location"])
    assert "late: 1 started day × 50 %" in page.text and "0.5 / 9" in page.text
    # an extension moves the due date for this student: no longer late, and the course page says so
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    granted = client.put(
        f"{course.path}/assignments/{aid}/extensions/{student_id}", json={"due_at": later}, headers=course.instructor
    )
    assert granted.status_code == 200
    assert "The due date has passed" not in browser.get(path).text
    assert "extension" in browser.get(f"/courses/{course.id}").text


def test_reference_answers_show_once_released(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    hidden, released = course.assignment(), course.assignment(release_answers="immediately")
    browser = page_of(app, headers)
    assert "Reference answer" not in browser.get(f"/courses/{course.id}/assignments/{hidden}").text
    shown = browser.get(f"/courses/{course.id}/assignments/{released}").text
    assert f'Reference answer: <span class="mono">{SHOWN}' in shown


def test_a_form_without_its_csrf_token_is_refused_and_stores_nothing(app, client, engine) -> None:
    course, aid, browser, path = student_at_assignment(app, client, engine)
    for csrf in ({}, {"csrf": "0" * 64}):
        refused = browser.client.post(path, data={**csrf, "ex4.conv1_params": RIGHT, "action": "submit"})
        assert refused.status_code == 403 and "Not allowed" in refused.text
    assert submissions(client, course, aid) == []


def test_staff_see_the_statements_with_reference_answers_and_links_to_their_pages(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    _, ta = course.member("ta")
    instructor = Browser(app).signed_in(token_of(course.instructor))
    aid = course.assignment()
    path = f"/courses/{course.id}/assignments/{aid}"
    for browser in (instructor, page_of(app, ta)):
        page = browser.get(path)
        assert page.status_code == 200
        assert f'href="{path}/gradebook"' in page.text and f'href="{path}/stats"' in page.text
        assert (
            f'Reference answer: <span class="mono">{SHOWN}' in page.text and 'name="ex4.conv1_params"' not in page.text
        )
        dashboard = browser.get(f"/courses/{course.id}")
        assert dashboard.status_code == 200 and f'href="{path}/gradebook"' in dashboard.text
        # staff do not answer: the submit form and the preview are a student's
        assert browser.post(path, {"ex4.conv1_params": RIGHT, "action": "submit"}).status_code == 403
    assert submissions(client, course, aid) == []


def test_another_course_and_an_unknown_assignment_are_not_found(app, client, engine) -> None:
    mine, other = Course(client, make_instructor(engine)), Course(client, make_instructor(engine))
    _, headers = mine.student()
    theirs = other.assignment()
    browser = page_of(app, headers)
    for path in (
        f"/courses/{other.id}",
        f"/courses/{other.id}/assignments/{theirs}",
        f"/courses/{mine.id}/assignments/{theirs}",
        "/courses/no such course",
    ):
        page = browser.get(path)
        assert page.status_code == 404 and "Not found" in page.text and "<main" in page.text, path
    refused = browser.post(f"/courses/{other.id}/assignments/{theirs}", {"ex4.conv1_params": RIGHT})
    assert refused.status_code == 404
    assert submissions(client, other, theirs) == []


def test_without_a_session_a_page_sends_the_browser_to_sign_in_and_back(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    aid = course.assignment()
    path = f"/courses/{course.id}/assignments/{aid}"
    browser = Browser(app)
    away = browser.get(path)
    assert away.status_code == 303 and away.headers["location"] == f"/?next={path}"
    assert browser.client.post(path, data={"ex4.conv1_params": RIGHT}).status_code == 303
    assert 'name="next" value="' + path in browser.get(away.headers["location"]).text
    back = browser.sign_in(token_of(headers), next_path=path)
    assert back.status_code == 303 and back.headers["location"] == path
    assert browser.get(path).status_code == 200


def test_a_page_loads_only_the_scripts_it_needs(app, client, engine) -> None:
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    matrices, counts = course.assignment("conv-pool-basics"), course.assignment("classic-architectures")
    browser = Browser(app)
    assert "<script" not in browser.get("/").text  # signing in needs none
    browser.signed_in(token_of(headers))
    assert "<script" not in browser.get("/").text and "<script" not in browser.get(f"/courses/{course.id}").text
    with_matrices = browser.get(f"/courses/{course.id}/assignments/{matrices}").text
    assert "katex.min.js" in with_matrices and "htmx.min.js" in with_matrices
    without = browser.get(f"/courses/{course.id}/assignments/{counts}").text
    assert "htmx.min.js" in without and "katex" not in without  # no matrix anywhere: no KaTeX


def test_htmx_gets_a_sentence_not_a_page_when_the_session_has_ended(app, client, engine) -> None:
    _course, _aid, browser, path = student_at_assignment(app, client, engine)
    browser.get(path)
    csrf = browser.csrf
    assert browser.post("/sign-out").status_code == 303  # (in another tab, say)
    fragment = browser.client.post(
        f"{path}/preview?key=ex4.conv1_params",
        data={"ex4.conv1_params": RIGHT, "csrf": csrf},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert fragment.status_code == 401 and "session has ended" in fragment.text and "<html" not in fragment.text


def test_a_closed_assignment_says_closed_rather_than_the_attempts_left(app, client, engine) -> None:
    """Attempts left mean nothing once an assignment has closed: its page says how many were used
    and that it closed, and the course's table says closed where an open one says how many are left."""
    course = Course(client, make_instructor(engine))
    now = datetime.now(UTC)
    past = {"due_at": (now - timedelta(days=2)).isoformat(), "closes_at": (now - timedelta(days=1)).isoformat()}
    closed = course.assignment("conv-pool-basics", max_attempts=3, **past)
    open_ = course.assignment("conv-pool-basics", max_attempts=3, due_at=(now + timedelta(days=2)).isoformat())
    _, headers = course.student()
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    page = browser.get(f"/courses/{course.id}/assignments/{closed}")
    assert page.status_code == 200
    assert "0 attempts used." in page.text and "left." not in page.text
    assert "0 attempts used, 3 left." in browser.get(f"/courses/{course.id}/assignments/{open_}").text
    table = browser.get(f"/courses/{course.id}").text
    cells = {
        assignment: re.search(rf'{assignment}.*?data-label="Attempts left">([^<]*)<', table, re.DOTALL)
        for assignment in (closed, open_)
    }
    assert {name: found.group(1) for name, found in cells.items() if found} == {closed: "closed", open_: "3"}


def test_the_sentences_under_an_assignments_title_are_apart(app, client, engine) -> None:
    """The due date, the close and the attempts are sentences of their own, read with a space
    between them ("... UTC. Closes ..."), not run together by the template's trimmed line breaks."""
    course = Course(client, make_instructor(engine))
    now = datetime.now(UTC)
    fields = {"due_at": (now + timedelta(days=1)).isoformat(), "closes_at": (now + timedelta(days=2)).isoformat()}
    aid = course.assignment("conv-pool-basics", max_attempts=2, **fields)
    _, headers = course.student()
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    page = browser.get(f"/courses/{course.id}/assignments/{aid}").text
    muted = re.search(r'<p class="muted">(.*?)</p>', page, re.DOTALL)
    assert muted is not None
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", muted.group(1))).strip()
    assert re.fullmatch(r"Due .+\. Closes .+\. 0 attempts used, 2 left\.", words), words


def test_a_statements_backticks_are_set_as_code_and_nothing_else_is_markup(app, client, engine) -> None:
    """Set files write inline code in Markdown's backticks (`filter2d(image, kernel)`): the page
    sets it as code, escaped like the rest, rather than showing the backticks."""
    from api.pages.kit.notation import with_math

    assert str(with_math("Write `f(a<b)` and <i>this</i>, `unclosed")) == (
        "Write <code>f(a&lt;b)</code> and &lt;i&gt;this&lt;/i&gt;, `unclosed"
    )
    course = Course(client, make_instructor(engine))
    aid = course.assignment("seed-code-tasks", due_at=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    _, headers = course.student()
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    page = browser.get(f"/courses/{course.id}/assignments/{aid}").text
    assert "Write <code>filter2d(image, kernel)</code>: slide" in page
    statements = re.findall(r'<p class="statement">(.*?)</p>', page, re.DOTALL)
    assert statements and not any("`" in statement for statement in statements)
    assert "<code>transposed_conv(x, w)</code>, printing" in page  # a part's prompt too
