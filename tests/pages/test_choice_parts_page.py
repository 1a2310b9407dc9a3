"""Choice parts on the assignment page: radio buttons for one pick, checkboxes for several, the
options in the student's own order and lettered in it (so no student's letters tell the file's
order: the right option, the file's first, is any letter; staff viewing the student see the same),
the picks posted as the form posts them and ticked again after, a refusal shown at the part, the
right options once released, practice in the same letters, and staff reading the file's letters:
the staff page listing the options in the file's order with the right ones marked, the gradebook."""

from __future__ import annotations

import re
from typing import Any

from choice_course import LEARN, MOST, POOLING, RIGHT, choice_course, letters_of, parts_of
from fastapi.testclient import TestClient

from page_client import Browser


def _options(page: str, key: str) -> list[tuple[str, str, bool]]:
    """Each option input of ``key`` as (type, value, checked), in the page's order."""
    inputs = re.findall(
        rf'<input type="(radio|checkbox)" id="answer-[\w-]+" name="{re.escape(key)}" value="(\w)"( checked)?', page
    )
    return [(kind, value, bool(checked)) for kind, value, checked in inputs]


def _labelled(page: str, key: str, value: str, text: str) -> bool:
    """Whether the page's option of ``key`` with ``value`` reads ``text``."""
    return re.search(rf'name="{re.escape(key)}" value="{value}"[^>]*> {re.escape(text)}</label>', page) is not None


def _signed_in(app: Any, headers: dict[str, str]) -> Browser:
    return Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))


def test_each_students_page_letters_their_options_in_the_order_shown(app: Any, client: TestClient, engine: Any) -> None:
    course, aid = choice_course(client, engine)
    path = f"/courses/{course.id}/assignments/{aid}"
    pages = [_signed_in(app, headers).get(path).text for _, headers in course.students(16)]
    # the right option is the file's first, yet it shows under more than one letter (under one for all
    # sixteen students once in 3^15)
    right = [value for page in pages for _, value, _ in _options(page, MOST) if _labelled(page, MOST, value, RIGHT)]
    assert len(right) == 16 and len(set(right)) > 1, right
    for page in pages:
        assert [value for _, value, _ in _options(page, MOST)] == ["a", "b", "c"]


def test_a_student_picks_options_in_their_own_order_and_sees_them_ticked_after(
    app: Any, client: TestClient, engine: Any
) -> None:
    course, aid = choice_course(client, engine, release_answers="immediately")
    # a student who is shown the pooling layer (the file's `b`) by another letter (one of twenty: none, once in 3^20)
    found = [
        (student, headers, letters)
        for student, headers in course.students(20)
        if (letters := letters_of(client.get(f"{course.path}/assignments/{aid}", headers=headers).json(), MOST))[
            POOLING
        ]
        != "b"
    ]
    student, headers, letters = found[0]
    browser = _signed_in(app, headers)
    path = f"/courses/{course.id}/assignments/{aid}"
    page = browser.get(path).text
    assert [(kind, value) for kind, value, _ in _options(page, MOST)] == [("radio", i) for i in "abc"]
    assert all(_labelled(page, MOST, letter, text) for text, letter in letters.items() if "[" not in text)
    assert [(kind, value) for kind, value, _ in _options(page, LEARN)] == [("checkbox", i) for i in "abc"]
    assert "<legend>Which layer has the most parameters?" in page
    assert '<span class="tex" data-tex="\\begin{bmatrix}1 &amp; 0' in page  # an option's matrix, typeset
    assert "katex.min.js" in page

    pooling = letters[POOLING]
    sent = browser.client.post(path, data={"csrf": browser.csrf, MOST: pooling, LEARN: ["a", "c"], "action": "submit"})
    assert sent.status_code == 303, sent.text
    page = browser.get(sent.headers["location"]).text
    assert [value for _, value, checked in _options(page, MOST) if checked] == [pooling]  # their letter, ticked
    assert sorted(value for _, value, checked in _options(page, LEARN) if checked) == ["a", "c"]
    assert "Named mistake <strong>pooling-has-weights</strong>" in page
    assert "Pooling has no weights." in page
    assert 'answered <span class="mono">the pooling layer</span>' in page  # by the text read, not a letter
    # the right option by its text, as the student reads it
    assert f'Reference answer: <span class="mono">{RIGHT}</span>' in page

    staff = _signed_in(app, course.instructor)
    viewed = staff.get(f"{path}?student={student}").text  # the student's page, as they see it
    assert [value for _, value, _ in _options(viewed, MOST)] == ["a", "b", "c"]
    assert re.search(rf'name="{re.escape(MOST)}" value="{pooling}" checked disabled', viewed)
    assert _labelled(viewed, MOST, pooling, POOLING)
    stored = client.get(f"{course.path}/assignments/{aid}/submissions?student={student}", headers=course.instructor)
    assert [s["answers"][MOST] for s in stored.json()] == ["b"]  # staff read the file's letter
    listed = staff.get(path).text
    assert re.search(
        r'<ol class="options" type="a"><li>conv1: 3×3×3×16 \+ 16 <strong>\(right\)</strong></li>'
        r"<li>the pooling layer</li>",
        listed,
    )


def test_a_pick_the_part_does_not_have_is_refused_at_the_part_with_the_form_expected(
    app: Any, client: TestClient, engine: Any
) -> None:
    course, aid = choice_course(client, engine)
    ((_, headers),) = course.students(1)
    browser = _signed_in(app, headers)
    path = f"/courses/{course.id}/assignments/{aid}"
    browser.get(path)
    refused = browser.client.post(path, data={"csrf": browser.csrf, MOST: "z", LEARN: ["a"], "action": "submit"})
    assert refused.status_code == 422
    assert "Not submitted." in refused.text
    assert "“z” is not one of this part&#39;s options" in refused.text
    assert [value for _, value, checked in _options(refused.text, LEARN) if checked] == ["a"]  # kept as ticked
    checked = browser.client.post(path, data={"csrf": browser.csrf, LEARN: ["a", "b"], "action": "check"})
    assert checked.status_code == 200
    assert sorted(value for _, value, on in _options(checked.text, LEARN) if on) == ["a", "b"]


def test_practice_asks_the_choice_parts_and_grades_the_picks(app: Any, client: TestClient, engine: Any) -> None:
    course, aid = choice_course(client, engine, practice="always", release_answers="immediately")
    ((_, headers),) = course.students(1)
    browser = _signed_in(app, headers)
    path = f"/courses/{course.id}/assignments/{aid}/practice"
    page = browser.get(path)
    assert page.status_code == 200, page.text
    # a fixed set's practice: the student's own order, lettered in it, as on their assignment page
    assert [value for _, value, _ in _options(page.text, MOST)] == ["a", "b", "c"]
    detail = client.get(f"{course.path}/assignments/{aid}", headers=headers).json()
    order = [option["text"] for option in parts_of(detail)[MOST]["choices"]]
    assert all(_labelled(page.text, MOST, "abc"[place], text) for place, text in enumerate(order) if "[" not in text)
    letters = letters_of(detail, MOST)
    assert 'name="q2.why"' not in page.text  # a written part is not practised
    graded = browser.client.post(path, data={"csrf": browser.csrf, MOST: letters[POOLING], LEARN: ["a", "c"]})
    assert graded.status_code == 200, graded.text
    assert "Named mistake <strong>pooling-has-weights</strong>" in graded.text
    assert f'read as <span class="mono">{letters[POOLING]}</span>' in graded.text  # in the student's letters
    assert [value for _, value, on in _options(graded.text, MOST) if on] == [letters[POOLING]]
    assert [value for _, value, on in _options(graded.text, LEARN) if on] == ["a", "c"]


def test_staff_read_each_students_picks_their_order_and_the_commonest_wrong_pick(
    app: Any, client: TestClient, engine: Any
) -> None:
    course, aid = choice_course(client, engine)
    (alice, alice_headers), (_, bob_headers) = course.students(2)
    for headers in (alice_headers, bob_headers):
        pooling = letters_of(client.get(f"{course.path}/assignments/{aid}", headers=headers).json(), MOST)[POOLING]
        assert course.submit(aid, headers, {MOST: pooling, LEARN: ["a", "c"]}).status_code == 201
    # alice's order in the file's letters, as staff read it
    detail = client.get(f"{course.path}/assignments/{aid}?student={alice}", headers=course.instructor).json()
    alice_order = ", ".join(option["id"] for option in parts_of(detail)[MOST]["choices"])
    staff = _signed_in(app, course.instructor)
    path = f"/courses/{course.id}/assignments/{aid}"
    theirs = staff.get(f"{path}/gradebook/students/{alice}")
    assert theirs.status_code == 200, theirs.text
    assert f"options shown {alice_order}" in theirs.text
    assert "<code>b (the pooling layer)</code>" in theirs.text
    assert "<code>a (convolution); c (batch norm)</code>" in theirs.text
    assert "a (conv1: 3×3×3×16 + 16)" in theirs.text  # the reference, by letter and text
    stats = staff.get(f"{path}/stats")
    assert stats.status_code == 200, stats.text
    assert MOST in stats.text and "pooling-has-weights" in stats.text


def test_a_crafted_form_with_two_values_for_one_pick_is_refused_not_guessed(
    app: Any, client: TestClient, engine: Any
) -> None:
    course, aid = choice_course(client, engine)
    ((_, headers),) = course.students(1)
    browser = _signed_in(app, headers)
    path = f"/courses/{course.id}/assignments/{aid}"
    browser.get(path)
    refused = browser.client.post(path, data={"csrf": browser.csrf, MOST: ["a", "b"], "action": "submit"})
    assert refused.status_code == 422
    assert "takes one option&#39;s letter as text, not a list" in refused.text


def test_the_preview_of_a_set_shows_its_choice_parts_options(app: Any, client: TestClient, engine: Any) -> None:
    """Not only the right letters: the options they name, as the set file words them."""
    course, _ = choice_course(client, engine)
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    page = staff.get(f"/courses/{course.id}/problem-sets?set=picks").text
    options = page.split(f'aria-label="The options of {MOST}"', 1)[1].split("</ol>", 1)[0]
    assert RIGHT in options and POOLING in options and '<span class="mono">a</span>' in options
