"""The proctor's page (issue 66): staff only; every student's row; time added to all and to one,
an attempt ended, each from a plain form and logged with who; the table's fragment for htmx; the
attempt's events on the student's page as staff view it; the exam page's signal sentence and its
signals recorded through the page's route, never enforced."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.pages.test_student_pages import RIGHT, token_of

from factories import Course, make_instructor
from page_client import Browser

KEY = "ex4.conv1_params"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_proctor_page_adds_time_ends_an_attempt_and_logs_who(app: Any, client: TestClient, engine: Any) -> None:
    course = Course(client, make_instructor(engine))
    (a, ha), (b, hb), (idle, _) = course.students(3)
    aid = course.assignment(time_limit=30)
    api = f"{course.path}/assignments/{aid}"
    path = f"/courses/{course.id}/assignments/{aid}"
    student = Browser(app).signed_in(token_of(ha))
    assert student.post(f"{path}/start").status_code in (200, 303)
    running = student.get(path).text
    assert 'id="signals-notice"' in running and "never a penalty" in running
    assert student.post(f"{path}/signals", {"signal": "focus_loss"}).status_code == 204
    assert student.post(f"{path}/signals", {"signal": "print"}).status_code == 422
    assert student.post(f"{path}/draft", {KEY: RIGHT}).status_code == 200
    assert client.post(f"{api}/start", headers=hb).status_code == 200
    before = {s: _at(client.get(f"{api}/clock", headers=h).json()["ends_at"]) for s, h in ((a, ha), (b, hb))}

    # students are refused the page and its forms
    assert student.get(f"{path}/proctor").status_code == 403
    assert student.get(f"{path}/proctor/table").status_code == 403
    assert student.post(f"{path}/proctor/time", {"minutes": "5"}).status_code == 403
    assert student.post(f"{path}/proctor/end/{b}").status_code == 403

    staff = Browser(app)
    staff.client = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    staff.signed_in(token_of(course.instructor))
    shown = staff.get(f"{path}/proctor")
    assert shown.status_code == 200
    for row in (a, b, idle):
        assert f'id="attempt-{row}"' in shown.text
    assert "not started" in shown.text and "never enforced" in shown.text and 'hx-trigger="every 5s"' in shown.text
    fragment = staff.get(f"{path}/proctor/table").text
    assert 'id="proctor-table"' in fragment and "<html" not in fragment

    added = staff.post(f"{path}/proctor/time", {"minutes": "10", "student": ""})
    assert added.status_code == 303 and added.headers["location"].endswith("?done=time")
    after = {s: _at(client.get(f"{api}/clock", headers=h).json()["ends_at"]) for s, h in ((a, ha), (b, hb))}
    assert {s: after[s] - before[s] for s in after} == dict.fromkeys(after, timedelta(minutes=10))
    assert staff.post(f"{path}/proctor/time", {"minutes": "0"}).headers["location"].endswith("?error=minutes")
    one = staff.post(f"{path}/proctor/time", {"minutes": "5", "student": idle})
    assert one.headers["location"].endswith("?error=not_running")
    assert "not running" in staff.get(one.headers["location"]).text

    ended = staff.post(f"{path}/proctor/end/{a}")
    assert ended.status_code == 303 and ended.headers["location"].endswith("?done=ended")
    assert client.get(f"{api}/clock", headers=ha).json()["outcome"] == "submitted"
    assert client.get(f"{course.path}/assignments/{aid}/submissions", headers=ha).json()[0]["score"] == 1

    # the attempt's events, on the student's page as staff see it
    viewed = staff.get(f"{path}?student={a}").text
    assert 'id="attempt-events"' in viewed
    for said in ("start", "signal", "focus loss", "save", "time", "+10 min", "end by"):
        assert said in viewed, said
