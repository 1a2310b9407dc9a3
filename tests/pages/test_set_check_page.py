"""The problem-sets page follows an upload's check, through the test client on both backends: the
upload goes to its version's preview with the check's box, which asks for itself again every second
(htmx, as the regrade's progress; without JavaScript the page reloads itself) while the check is
queued or running, and stops once it is over; a failed check lists its issues beside the lines of
the file, and the library marks the version; an instructor with three checks under way is refused
(429) with the sentence and the text kept in the form."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from factories import Course, checks_held, finished_check, make_instructor, unique
from page_client import Browser

BUILT_IN = Path(__file__).parents[2] / "problems" / "sets" / "numpy-convolution.yaml"
RIGHT_STEP = "out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b"


def own_set(set_id: str, *, broken: bool = False) -> str:
    text = BUILT_IN.read_text().replace("id: numpy-convolution", f"id: {set_id}", 1)
    return text.replace(RIGHT_STEP, "out[:, :, i, j] = 0") if broken else text


@pytest.fixture
def held(app: Any) -> Iterator[Callable[[], None]]:
    with checks_held(app) as release:
        yield release


@pytest.fixture
def instructor(app: Any, client: Any, engine: Any) -> tuple[Course, Browser]:
    course = Course(client, make_instructor(engine))
    return course, Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))


def _uploaded(browser: Browser, course: Course, text: str) -> tuple[str, str, str]:
    """The page's upload, redirected: (where to, set, version)."""
    browser.get(f"/courses/{course.id}/problem-sets")
    posted = browser.post(f"/courses/{course.id}/problem-sets", {"set_text": text})
    assert posted.status_code == 303, posted.text[:2000]
    location = posted.headers["location"]
    query = parse_qs(urlsplit(location).query)
    return location, query["set"][0], query["version"][0]


def test_the_upload_page_polls_the_check_until_it_passed(held, instructor) -> None:
    course, browser = instructor
    location, set_id, version = _uploaded(browser, course, own_set(unique("conv-")))
    assert location.endswith("#set-check") and "uploaded=new" in location
    page = browser.get(location).text
    poll = f"/courses/{course.id}/problem-sets/{set_id}/check?version={version}"
    assert f'hx-get="{poll}"' in page and 'hx-trigger="load delay:1s"' in page
    assert "htmx.min.js" in page and '<meta http-equiv="refresh" content="2">' in page
    assert "The check of version" in page and "is queued" in page
    assert "(being checked)" in page  # the library marks the version too
    box = browser.get(poll)
    assert box.status_code == 200 and "<html" not in box.text  # the box alone, for htmx to swap in
    assert 'id="set-check"' in box.text and f'hx-get="{poll}"' in box.text

    held()
    finished_check(course.client, course.path, set_id, version, course.instructor)
    done = browser.get(poll).text
    assert "passed its check" in done and "Assignments may use it" in done
    assert "hx-get" not in done  # over: it asks no more
    page = browser.get(location).text
    assert "passed its check" in page and "htmx.min.js" not in page and "http-equiv" not in page


def test_a_failed_check_lists_its_issues_beside_the_lines_of_the_file(instructor) -> None:
    course, browser = instructor
    text = own_set(unique("broken-"), broken=True)
    location, set_id, version = _uploaded(browser, course, text)
    finished_check(course.client, course.path, set_id, version, course.instructor)
    page = browser.get(location).text
    assert "failed its check" in page and "no assignment may use it" in page
    assert "(failed its check)" in page  # in the library
    issues = re.findall(r'<code class="where">(\d+):(\d+)</code> <strong>([^<]+)</strong>: ([^<]+)</p>', page)
    assert issues, page[:4000]
    lines = text.splitlines()
    for line, _, field, message in issues:
        assert field.startswith("conv.parts.0.tests.") and "the solution fails the test" in message
        # the excerpt shows the test's own line, marked
        assert re.search(rf'<span class="marked"><span class="lineno" aria-hidden="true">\s*{line} </span>', page)
        assert "name" in lines[int(line) - 1]


def test_an_instructor_with_three_checks_under_way_is_refused_with_the_text_kept(held, instructor) -> None:
    course, browser = instructor
    for _ in range(3):
        _uploaded(browser, course, own_set(unique("queued-")))
    text = own_set(unique("fourth-"))
    browser.get(f"/courses/{course.id}/problem-sets")
    refused = browser.post(f"/courses/{course.id}/problem-sets", {"set_text": text})
    assert refused.status_code == 429, refused.text[:2000]
    assert "Not stored:" in refused.text and "3 of your set checks are queued or running" in refused.text
    assert "fourth-" in refused.text  # the text, kept in the form to send again
    assert "The file does not validate" not in refused.text
