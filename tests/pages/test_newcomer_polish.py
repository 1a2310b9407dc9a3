"""What a newcomer reads first: whole numbers written one way on every page (thousands grouped,
as the answers are read back), and each part led by its question, its internal key small after."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.pages.kit.render import count

from factories import Course, make_instructor
from page_client import Browser


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (43243776, "43,243,776"),
        ("43243776", "43,243,776"),  # a reference answer's text that is a whole number
        ("-1200", "-1,200"),
        (999, "999"),
        ("126 × 126 × 16", "126 × 126 × 16"),  # not a whole number: as it is
        ("12, 3400", "12, 3400"),  # a list, whose commas separate items: as it is
        ("0.5", "0.5"),
        (True, "True"),
        (None, ""),
    ],
)
def test_a_whole_number_is_written_in_thousands_and_nothing_else_changes(value: object, shown: str) -> None:
    assert count(value) == shown


def test_the_assignment_page_leads_with_the_question_and_its_reference_reads_back(
    app: Any, client: TestClient, engine: Any
) -> None:
    course = Course(client, make_instructor(engine))
    _, headers = course.student()
    aid = course.assignment(release_answers="immediately")
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    page = browser.get(f"/courses/{course.id}/assignments/{aid}").text
    labels = re.findall(r'<label for="answer-\d+">(.*?)</label>', page, re.S)
    assert labels and all(not label.startswith("<code") for label in labels)  # never the key first
    (params,) = [label for label in labels if "ex4.conv1_params" in label]
    assert params.index('<code class="key">ex4.conv1_params</code>') > 0
    part = page[page.index('name="ex4.conv1_params"') :]
    reference = re.search(r'Reference answer: <span class="mono">([^<]*)</span>', part)
    assert reference is not None and reference.group(1) == "3,640"  # as the readings write numbers
    # copied as shown, the reference is read back as the same number
    sent = course.submit(aid, headers, {"ex4.conv1_params": reference.group(1)})
    assert sent.status_code == 201 and sent.json()["parts"]["ex4.conv1_params"]["status"] == "correct"
    attempts = browser.get(f"/courses/{course.id}/assignments/{aid}").text
    listed = re.findall(r"<li>([^<]*) <span class=\"muted\">\(<code class=\"key\">ex4.conv1_params</code>\)", attempts)
    assert listed and listed[0].strip()  # the attempts list names the part by its question first
