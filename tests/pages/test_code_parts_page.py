"""Code parts on the student's assignment page, in process: a file input beside a text area per
problem, the file's text submitted as the answer of each of its code parts, a file that is not text
refused with no attempt used, and
the result fragment htmx polls: it polls while the part waits, stops once the result is written,
shows the student the visible tests and the hidden ones as a count (staff every test), and is
nobody else's to read. (The service's own code runner is not started here: parts stay queued
until the test writes their result.)"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.code_runs.run import CodeRuntime, run_code
from api.kit.db import make_sessionmaker, writer

from factories import Course, make_instructor
from page_client import Browser

pytestmark = pytest.mark.only_backend("sqlite")  # (on PostgreSQL the run's job goes to a worker: the API's tests)

SET, PROBLEM, KEY = "numpy-convolution", "conv", "conv.forward"
MODULE = "import numpy as np\n\n\ndef conv_forward(x, w, b, stride=1, pad=0):\n    return x\n"


def _test(name: str, visibility: str, status: str = "correct") -> dict[str, Any]:
    return {
        "name": name,
        "status": status,
        "score": 1.0 if status == "correct" else 0.0,
        "max_score": 1.0,
        "feedback": "" if status == "correct" else "The first wrong value is at [0, 0, 0, 0].",
        "misconception": None,
        "visibility": visibility,
    }


def _setup(app: Any, client: TestClient, engine: Any) -> tuple[Course, str, str, Browser]:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(problem_set=SET)
    ((student, headers),) = course.students(1)
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    return course, aid, student, browser


def test_a_problems_code_parts_take_one_file_whose_text_answers_each(app: Any, client: TestClient, engine: Any) -> None:
    """``conv``'s two code parts (``conv_forward``, ``conv_backward``) share one module: the page shows
    one file input and one text area for the problem, and the file's text is each part's answer."""
    course, aid, student, browser = _setup(app, client, engine)
    path = f"/courses/{course.id}/assignments/{aid}"
    page = browser.get(path)
    assert 'enctype="multipart/form-data"' in page.text
    assert re.findall(r'<input type="file" id="file-\d+" name="([^"]+)" accept=".py,.ipynb"', page.text) == [
        f"{PROBLEM}:file",
        "pool:file",
    ]
    areas = re.findall(r'<textarea id="answer-\d+" name="([^"]+)" class="answer code mono"', page.text)
    assert areas == [PROBLEM, "pool"]
    assert page.text.count("Answered by your module for this problem, above") == 2  # conv.backward, pool.backward

    sent = browser.post(
        path,
        {PROBLEM: "this text area is not what is sent", "action": "submit"},
        files={f"{PROBLEM}:file": ("conv.py", MODULE.encode(), "text/x-python")},
    )
    assert sent.status_code == 303, sent.text
    (stored,) = client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor).json()
    assert stored["student"] == student
    assert {key: stored["answers"].get(key) for key in (KEY, "conv.backward", "pool.forward")} == {
        KEY: MODULE,
        "conv.backward": MODULE,
        "pool.forward": None,  # (not sent)
    }
    page = browser.get(sent.headers["location"])
    for key in (KEY, "conv.backward"):
        assert re.search(
            rf'class="result code-result" id="result-\d+" hx-get="[^"]+/code/{re.escape(key)}\?n=\d+&amp;wait=15"',
            page.text,
        )
    assert "Waiting to run" in page.text
    assert re.search(rf'name="{PROBLEM}" class="answer code mono"[^>]*>import numpy as np', page.text)  # kept to edit


def test_a_file_that_is_not_text_is_refused_and_uses_no_attempt(app: Any, client: TestClient, engine: Any) -> None:
    course, aid, _, browser = _setup(app, client, engine)
    path = f"/courses/{course.id}/assignments/{aid}"
    browser.get(path)
    sent = browser.post(
        path,
        {"action": "submit"},
        files={f"{PROBLEM}:file": ("conv.py", b"\xff\xfe\x00binary", "application/octet-stream")},
    )
    assert sent.status_code == 422
    assert "conv.py is not UTF-8 text" in sent.text and "Not submitted" in sent.text
    assert client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor).json() == []


def test_the_result_fragment_polls_until_written_then_shows_each_reader_their_tests(
    app: Any, client: TestClient, engine: Any
) -> None:
    course, aid, _, browser = _setup(app, client, engine)
    path = f"/courses/{course.id}/assignments/{aid}"
    browser.get(path)
    sent = browser.post(path, {KEY: MODULE, "action": "submit"})
    assert sent.status_code == 303, sent.text
    (stored,) = client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor).json()
    fragment = f"{path}/submissions/{stored['id']}/code/{KEY}?n=3"
    waiting = browser.get(fragment)
    assert waiting.status_code == 200
    # asked for again at once when it comes back still waiting (each request waits up to 15 s)
    assert f'id="result-3" hx-get="{fragment}&amp;wait=15" hx-trigger="load, every 20s"' in waiting.text
    assert "hx-get" in browser.get(fragment + "&wait=0.2").text  # nothing ran it: still waiting

    tests = [_test("small", "visible"), _test("secret one", "hidden"), _test("secret two", "hidden", "incorrect")]
    result = {KEY: {**stored["parts"][KEY], "score": 1.0, "status": "partial", "feedback": "1 of 3.", "tests": tests}}
    runtime = CodeRuntime(make_sessionmaker(writer(engine)), app.state.library, lambda *_: result)
    with ThreadPoolExecutor(1) as waiter:
        waited = waiter.submit(browser.get, fragment + "&wait=15")  # answered as the result is written
        assert run_code(runtime, stored["id"]) == "written"
        assert "small" in waited.result().text

    done = browser.get(fragment)
    assert "hx-get" not in done.text and "hx-trigger" not in done.text  # polling stops
    # the page's header and the attempt's row of the attempts table both take the score (out of band)
    header = re.search(r'<strong id="score" hx-swap-oob="true">([^<]+)</strong>', done.text)
    row = re.search(r'<span id="attempt-score-1" hx-swap-oob="true">([^<]+)</span>', done.text)
    assert header and row and row.group(1) == header.group(1) and "being run" not in row.group(1)
    assert '<span id="attempt-score-1">' in browser.get(path).text  # what the fragment's swap replaces
    assert "small" in done.text and "Hidden tests" in done.text and "1 of 2 tests passed" in done.text
    assert "secret" not in done.text
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    seen = staff.get(fragment)
    assert seen.status_code == 200 and "secret one" in seen.text and "secret two" in seen.text

    (_, other_headers), *_ = course.students(1)
    other = Browser(app).signed_in(other_headers["Authorization"].removeprefix("Bearer "))
    assert other.get(fragment).status_code == 404
    assert browser.get(f"{path}/submissions/{stored['id']}/code/q9.nothing").status_code == 404


def test_a_part_this_service_has_no_runtime_for_says_so_before_any_code_is_written(
    app: Any, client: TestClient, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service that runs code itself (SQLite) and lacks torch says so on a torch part's page, where
    a student reads it before writing a model; a numpy part on the same service says nothing."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    course = Course(client, make_instructor(engine))
    torch_aid, numpy_aid = course.assignment(problem_set="torch-model"), course.assignment(problem_set=SET)
    ((_, headers),) = course.students(1)
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    page = browser.get(f"/courses/{course.id}/assignments/{torch_aid}").text
    assert page.count("This server cannot grade this part's code: the machines that grade code have no torch") == 2
    assert "pip install &#39;grader[torch]&#39;" in page
    # the count of parameters is a number typed in a line, not a module
    assert re.search(r'<input type="text" id="answer-\d+" name="net.params" class="answer"', page)
    assert not re.search(r'name="net.params:file"', page)
    assert "This server cannot grade" not in browser.get(f"/courses/{course.id}/assignments/{numpy_aid}").text
