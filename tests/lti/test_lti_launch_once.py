"""A launch's id opens what it opens once: the new window's session (``/lti/continue/{id}?open=1``),
the deep-linking answer, the platform storage's confirmation; even two requests at once get one
answer and one refusal between them."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from factories import Course, make_instructor, unique, within
from lti_platform import INSTRUCTOR, LEARNER, TOOL, link
from lti_platform import User as LmsUser


def at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """The calls made together (each in its thread, released by one barrier)."""
    start = threading.Barrier(len(calls))
    answers: list[httpx.Response] = []

    def run(call: Callable[[], httpx.Response]) -> None:
        start.wait(timeout=30)
        answers.append(call())

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        within(60, thread.join)
    return answers


def framed_launch(lms, engine, client) -> str:
    """A learner's resource-link launch in the LMS's frame: the new window's address."""
    course = Course(client, make_instructor(engine))
    assignment = course.assignment()
    context = unique("ctx")
    link(engine, lms, context, course.id)
    launched = lms.launch(LmsUser(unique("sub"), [LEARNER]), context=context, custom={"assignment": assignment})
    framed = lms.client.get(launched.headers["location"], headers={"Sec-Fetch-Dest": "iframe"})
    return re.search(r'href="(/lti/continue/[^"]+)" target="_blank"', framed.text).group(1)


def test_a_launch_id_opens_one_session_however_often_it_is_opened(lms, engine, client, app) -> None:
    href = framed_launch(lms, engine, client)
    windows = [TestClient(app, base_url=TOOL, follow_redirects=False) for _ in range(2)]
    first = windows[0].get(href)
    assert first.status_code == 303 and "grader_session=" in first.headers["set-cookie"]
    second = windows[1].get(href)
    assert second.status_code == 404 and "grader_session" not in second.headers.get("set-cookie", "")
    assert "used already" in second.text


def test_two_windows_opening_a_launch_at_once_get_one_session(lms, engine, client, app) -> None:
    href = framed_launch(lms, engine, client)
    windows = [TestClient(app, base_url=TOOL, follow_redirects=False) for _ in range(2)]
    answers = at_once(*(lambda w=window: w.get(href) for window in windows))
    assert sorted(a.status_code for a in answers) == [303, 404]
    assert sum("grader_session=" in a.headers.get("set-cookie", "") for a in answers) == 1


def test_a_deep_linking_answer_is_signed_once(lms, engine, client) -> None:
    course = Course(client, make_instructor(engine))
    assignment = course.assignment()
    context = unique("ctx")
    link(engine, lms, context, course.id)
    page = lms.launch(LmsUser(unique("sub"), [INSTRUCTOR]), context=context, deep_link_return_url=lms.issuer + "/dl")
    launch_id = re.search(r'name="launch" value="([^"]+)"', page.text).group(1)
    form = {"launch": launch_id, "assignment": assignment}
    answers = at_once(*(lambda: lms.client.post("/lti/deep-link", data=form) for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [200, 404]
    assert sum('name="JWT"' in a.text for a in answers) == 1
