"""Choice parts on the assignment page: radio buttons for one pick, checkboxes for several, the
options in the student's own order (staff viewing the student see the same), the picks posted as
the form posts them and ticked again after, a refusal shown at the part, the right options once
released, and the staff page listing the options in the file's order with the right ones marked."""

from __future__ import annotations

import re
from typing import Any

from choice_course import LEARN, MOST, choice_course, parts_of
from fastapi.testclient import TestClient

from page_client import Browser


def _options(page: str, key: str) -> list[tuple[str, str, bool]]:
    """Each option input of ``key`` as (type, value, checked), in the page's order."""
    inputs = re.findall(
        rf'<input type="(radio|checkbox)" id="answer-[\w-]+" name="{re.escape(key)}" value="(\w)"( checked)?', page
    )
    return [(kind, value, bool(checked)) for kind, value, checked in inputs]


def test_a_student_picks_options_in_their_own_order_and_sees_them_ticked_after(
    app: Any, client: TestClient, engine: Any
) -> None:
    course, aid = choice_course(client, engine, release_answers="immediately")
    ((student, headers),) = course.students(1)
    token = headers["Authorization"].removeprefix("Bearer ")
    browser = Browser(app).signed_in(token)
    path = f"/courses/{course.id}/assignments/{aid}"
    page = browser.get(path).text
    own_order = [
        o["id"]
        for o in parts_of(client.get(f"{course.path}/assignments/{aid}", headers=headers).json())[MOST]["choices"]
    ]
    assert [(kind, value) for kind, value, _ in _options(page, MOST)] == [("radio", i) for i in own_order]
    assert [(kind, value) for kind, value, _ in _options(page, LEARN)] == [("checkbox", i) for i in "abc"]
    assert "<legend>Which layer has the most parameters?" in page
    assert '<span class="tex" data-tex="\\begin{bmatrix}1 &amp; 0' in page  # an option's matrix, typeset
    assert "katex.min.js" in page

    sent = browser.client.post(path, data={"csrf": browser.csrf, MOST: "b", LEARN: ["a", "c"], "action": "submit"})
    assert sent.status_code == 303, sent.text
    page = browser.get(sent.headers["location"]).text
    assert [value for _, value, checked in _options(page, MOST) if checked] == ["b"]
    assert sorted(value for _, value, checked in _options(page, LEARN) if checked) == ["a", "c"]
    assert "Named mistake <strong>pooling-has-weights</strong>" in page
    assert "Pooling has no weights." in page
    assert 'answered <span class="mono">the pooling layer</span>' in page  # by the text read, not a letter
    # the right option by its text, as the student reads it (a letter would tell the file's order)
    assert 'Reference answer: <span class="mono">conv1: 3×3×3×16 + 16</span>' in page

    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    viewed = staff.get(f"{path}?student={student}").text
    assert [value for _, value, _ in _options(viewed, MOST)] == own_order  # staff see the student's order
    assert re.search(rf'name="{re.escape(MOST)}" value="b" checked disabled', viewed)
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
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
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
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    path = f"/courses/{course.id}/assignments/{aid}/practice"
    page = browser.get(path)
    assert page.status_code == 200, page.text
    assert sorted(value for _, value, _ in _options(page.text, MOST)) == ["a", "b", "c"]
    assert 'name="q2.why"' not in page.text  # a written part is not practised
    graded = browser.client.post(path, data={"csrf": browser.csrf, MOST: "b", LEARN: ["a", "c"]})
    assert graded.status_code == 200, graded.text
    assert "Named mistake <strong>pooling-has-weights</strong>" in graded.text
    assert [value for _, value, on in _options(graded.text, LEARN) if on] == ["a", "c"]


def test_staff_read_each_students_picks_their_order_and_the_commonest_wrong_pick(
    app: Any, client: TestClient, engine: Any
) -> None:
    course, aid = choice_course(client, engine)
    (alice, alice_headers), (_, bob_headers) = course.students(2)
    for headers in (alice_headers, bob_headers):
        assert course.submit(aid, headers, {MOST: "b", LEARN: ["a", "c"]}).status_code == 201
    detail = client.get(f"{course.path}/assignments/{aid}", headers=alice_headers).json()
    alice_order = ", ".join(option["id"] for option in parts_of(detail)[MOST]["choices"])
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
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
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    path = f"/courses/{course.id}/assignments/{aid}"
    browser.get(path)
    refused = browser.client.post(path, data={"csrf": browser.csrf, MOST: ["a", "b"], "action": "submit"})
    assert refused.status_code == 422
    assert "takes one option&#39;s letter as text, not a list" in refused.text
