"""Code tests' messages under an assignment's ``feedback``: before the answers are released a
student reads each visible test's status without its expected or actual values (``correctness``),
or no test at all (``score``, ``none``), in the page's result fragment and in the REST reply;
staff read every message. (SQLite: the service's own code runner is not started; the test writes
the run's result, as ``test_code_parts_page`` does.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.code_runs.run import CodeRuntime, run_code
from api.kit.db import make_sessionmaker, writer

from factories import Course, make_instructor
from page_client import Browser

pytestmark = pytest.mark.only_backend("sqlite")  # (on PostgreSQL the run's job goes to a worker)

SET, KEY = "numpy-convolution", "conv.forward"
MODULE = "import numpy as np\n\n\ndef conv_forward(x, w, b, stride=1, pad=0):\n    return x\n"
#: What the failing visible test's message says: the values, and the named mistake.
VALUES, MISTAKE = "expected 4.25, got 3.75", "kernel-flipped"


def _test(name: str, status: str, feedback: str = "", misconception: str | None = None) -> dict[str, Any]:
    score = 1.0 if status == "correct" else 0.0
    return {
        "name": name,
        "status": status,
        "score": score,
        "max_score": 1.0,
        "feedback": feedback,
        "misconception": misconception,
        "visibility": "visible",
    }


TESTS = [_test("small", "correct"), _test("padded", "incorrect", f"At [0, 0, 1, 2] {VALUES}.", MISTAKE)]


def _graded(app: Any, client: TestClient, engine: Any, level: str) -> tuple[Course, str, dict[str, Any], Browser]:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(problem_set=SET, feedback=level, release_answers="never")
    ((_, headers),) = course.students(1)
    browser = Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))
    path = f"/courses/{course.id}/assignments/{aid}"
    browser.get(path)
    assert browser.post(path, {KEY: MODULE, "action": "submit"}).status_code == 303
    (stored,) = client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor).json()
    result = {
        KEY: {
            **stored["parts"][KEY],
            "score": 1.0,
            "status": "partial",
            "misconception": MISTAKE,
            "feedback": f"1 of 2 tests passed: {VALUES}.",
            "tests": TESTS,
        }
    }
    runtime = CodeRuntime(make_sessionmaker(writer(engine)), app.state.library, lambda *_: result)
    assert run_code(runtime, stored["id"]) == "written"
    return course, aid, {**stored, "headers": headers}, browser


@pytest.mark.parametrize("level", ["correctness", "score", "none"])
def test_code_tests_messages_are_held_back_in_the_fragment_and_the_rest_reply(
    app: Any, client: TestClient, engine: Any, level: str
) -> None:
    course, aid, stored, browser = _graded(app, client, engine, level)
    fragment = f"/courses/{course.id}/assignments/{aid}/submissions/{stored['id']}/code/{KEY}?n=1"
    shown = browser.get(fragment)
    assert shown.status_code == 200 and "hx-get" not in shown.text  # graded: no polling
    reply = client.get(f"/api/v1/submissions/{stored['id']}", headers=stored["headers"]).json()
    for text in (shown.text, json.dumps(reply), browser.get(f"/courses/{course.id}/assignments/{aid}").text):
        assert VALUES not in text and MISTAKE not in text and "1 of 2 tests passed" not in text
    part = reply["parts"][KEY]
    if level == "correctness":
        assert [(t["name"], t["status"], t["feedback"]) for t in part["tests"]] == [
            ("small", "correct", "Correct."),
            ("padded", "incorrect", "Not correct."),
        ]
        assert "padded" in shown.text and "Not correct." in shown.text and "Failed" in shown.text
    else:
        assert "tests" not in part and part["status"] is None and part["score"] is None
        assert "padded" not in shown.text and "Failed" not in shown.text and "Submitted" in shown.text
    # staff read every message
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    assert VALUES in staff.get(fragment).text
    staff_reply = client.get(f"/api/v1/submissions/{stored['id']}", headers=course.instructor).json()
    assert staff_reply["parts"][KEY]["tests"][1]["misconception"] == MISTAKE


def test_code_tests_messages_show_once_the_answers_are_released(app: Any, client: TestClient, engine: Any) -> None:
    course, aid, stored, browser = _graded(app, client, engine, "correctness")
    released = client.patch(
        f"{course.path}/assignments/{aid}", json={"release_answers": "immediately"}, headers=course.instructor
    )
    assert released.status_code == 200
    fragment = f"/courses/{course.id}/assignments/{aid}/submissions/{stored['id']}/code/{KEY}?n=1"
    assert VALUES in browser.get(fragment).text
    reply = client.get(f"/api/v1/submissions/{stored['id']}", headers=stored["headers"]).json()
    assert reply["parts"][KEY]["tests"][1]["misconception"] == MISTAKE
