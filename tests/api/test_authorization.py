"""Every endpoint × every kind of caller → the expected status (and the table covers every route).

A course the caller is not a member of answers 404 to everything, as if it did not exist; inside
a course the wrong role is 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.models import Role
from api.users.service import create_user
from tests.problems.test_written_parts import SET as WRITTEN_SET

from factories import Course, auth, make_instructor, set_file, unique

#: no token, a bad token, a student of the course, another student of it, a student of another
#: course, a TA, an instructor of another course, an instructor of the course, its owner, an
#: admin account that is not a member
CALLERS = ["none", "bad", "student", "other", "outsider", "ta", "foreign", "instructor", "owner", "admin"]
RIGHT = {"ex4.conv1_params": "3640"}
C = "/api/v1/courses/{c}"
A = C + "/assignments/{a}"
W = C + "/assignments/{w}"
E = C + "/assignments/{e}"
H = C + "/assignments/{h}"


def _course() -> dict[str, Any]:
    return {"id": unique("c"), "title": "New"}


def _roster() -> dict[str, Any]:
    return {"members": [{"id": unique("s"), "name": "New"}]}


def _assignment() -> dict[str, Any]:
    return {"id": unique("a"), "problem_set": "conv-pool-basics"}


def _answers() -> dict[str, Any]:
    return {"answers": RIGHT}


def _change() -> dict[str, Any]:
    return {"title": "Renamed"}


def _extension() -> dict[str, Any]:
    return {"max_attempts": 9}


def _accommodation() -> dict[str, Any]:
    return {"time_multiplier": 1.5}


def _no_labels() -> list[str]:
    return []


def _draft() -> dict[str, Any]:
    return {"answers": {"ex4.conv1_params": "36"}}


def _minutes() -> dict[str, Any]:
    return {"minutes": 1}


def _signal() -> dict[str, Any]:
    return {"signal": "focus_loss"}


def _set_file() -> str:
    return set_file(unique("own-"))


def _none() -> None:
    return None


def _rubric() -> dict[str, Any]:
    return {"items": [{"points": 1, "text": "Names the kernel's extent"}]}


def _no_groups() -> dict[str, Any]:
    return {"groups": []}


def _no_items() -> dict[str, Any]:
    return {"items": []}


def _message() -> dict[str, Any]:
    return {"message": "Please look again."}


def _reply() -> dict[str, Any]:
    return {"reply": "Looked again."}


def _empty() -> dict[str, Any]:
    return {}


def _token_name() -> dict[str, Any]:
    return {"name": "a script"}


def _platform() -> dict[str, Any]:
    lms = f"https://{unique('lms')}.example"
    return {
        "name": "An LMS",
        "issuer": lms,
        "client_id": "1",
        "auth_url": f"{lms}/auth",
        "token_url": f"{lms}/token",
        "jwks_url": f"{lms}/jwks",
        "deployments": ["1"],
    }


def _admins(ok: int) -> tuple[int, ...]:
    """An admin account only; everyone else signed in 403."""
    return _statuses(
        401, 401, student=403, other=403, outsider=403, ta=403, foreign=403, instructor=403, owner=403, admin=ok
    )


def _statuses(none: int, bad: int, **by_caller: int) -> tuple[int, ...]:
    return (none, bad, *(by_caller[c] for c in CALLERS[2:]))


def _runs(ok: int) -> tuple[int, ...]:
    """Owner, instructor and admin: ``ok``; other members 403; outsiders 404."""
    return _statuses(
        401, 401, student=403, other=403, outsider=404, ta=403, foreign=404, instructor=ok, owner=ok, admin=ok
    )


def _staff(ok: int) -> tuple[int, ...]:
    return _statuses(
        401, 401, student=403, other=403, outsider=404, ta=ok, foreign=404, instructor=ok, owner=ok, admin=ok
    )


def _hidden(ok: int) -> tuple[int, ...]:
    """The staff: ``ok``; anyone else 404, students too (told nothing of what is there)."""
    return _statuses(
        401, 401, student=404, other=404, outsider=404, ta=ok, foreign=404, instructor=ok, owner=ok, admin=ok
    )


def _members(ok: int) -> tuple[int, ...]:
    return _statuses(
        401, 401, student=ok, other=ok, outsider=404, ta=ok, foreign=404, instructor=ok, owner=ok, admin=ok
    )


def _students(ok: int) -> tuple[int, ...]:
    return _statuses(
        401, 401, student=ok, other=ok, outsider=404, ta=403, foreign=404, instructor=403, owner=403, admin=403
    )


# (method, path template, body factory, expected status per caller, in the order of CALLERS).
# {c}: the course; {a}: an assignment of it; {s}: a submission of "student" (not of "other");
# {m}: a new student of the course, made for each request (one to drop, or whose token to replace:
# a caller's own would be revoked for later rows); {x}: a new student with an extension; {j}: a
# regrade job the owner started; {t}: a new API token of "student"; {w}: an assignment with written
# parts, {k} one of them; {g}: a new submission of "student" to it; {r}: the same, graded and
# released; {q}: the same again, with an open regrade request; {e}: a timed assignment both students
# started; {v}: "student"'s id; {o}: an assignment of one session per attempt, {b}: a new student
# whose attempt of it is bound to their token; {l}: a new accommodation of the course; {n}: a new
# student who started {e}; {h}: an assignment with code parts.
TABLE: list[tuple[str, str, Callable[[], Any], tuple[int, ...]]] = [
    ("GET", "/health", _none, (200,) * len(CALLERS)),
    (
        "GET",
        "/metrics",
        _none,
        _statuses(
            401, 401, student=403, other=403, outsider=403, ta=403, foreign=200, instructor=200, owner=200, admin=200
        ),
    ),
    (
        "POST",
        "/api/v1/courses",
        _course,
        _statuses(
            401, 401, student=403, other=403, outsider=403, ta=403, foreign=201, instructor=201, owner=201, admin=201
        ),
    ),
    ("GET", "/api/v1/courses", _none, _statuses(401, 401, **dict.fromkeys(CALLERS[2:], 200))),
    ("GET", C, _none, _members(200)),
    ("PATCH", C, _change, _runs(200)),
    ("POST", C + "/members", _roster, _runs(200)),
    ("GET", C + "/members", _none, _staff(200)),
    ("DELETE", C + "/members/{m}", _none, _runs(204)),
    ("POST", C + "/members/{m}/token", _none, _runs(200)),
    ("POST", C + "/members/{m}/sign-in-link", _empty, _runs(200)),
    ("POST", C + "/sign-in-links", _empty, _runs(200)),
    ("GET", C + "/mails", _none, _staff(200)),
    ("POST", "/api/v1/lti/platforms", _platform, _admins(201)),
    ("GET", "/api/v1/lti/platforms", _none, _admins(200)),
    ("POST", "/api/v1/lti/registrations", _none, _admins(201)),
    ("GET", C + "/lti", _none, _staff(200)),
    ("POST", C + "/lti/sync", _none, _runs(202)),
    ("GET", "/api/v1/account/tokens", _none, _statuses(401, 401, **dict.fromkeys(CALLERS[2:], 200))),
    ("POST", "/api/v1/account/tokens", _token_name, _statuses(401, 401, **dict.fromkeys(CALLERS[2:], 201))),
    (
        "DELETE",
        "/api/v1/account/tokens/{t}",
        _none,
        _statuses(
            401, 401, student=204, other=404, outsider=404, ta=404, foreign=404, instructor=404, owner=404, admin=404
        ),
    ),
    ("GET", C + "/problem-sets", _none, _runs(200)),
    ("POST", C + "/problem-sets", _set_file, _runs(201)),
    ("GET", C + "/problem-sets/{p}", _none, _runs(200)),
    ("GET", C + "/problem-sets/{p}/preview", _none, _runs(200)),
    ("POST", C + "/assignments", _assignment, _runs(201)),
    ("GET", C + "/assignments", _none, _members(200)),
    ("GET", A, _none, _members(200)),
    ("PATCH", A, _change, _runs(200)),
    ("DELETE", C + "/assignments/{d}", _none, _runs(204)),  # (archives: an assignment of its own each time)
    ("PUT", A + "/extensions/{m}", _extension, _staff(200)),
    ("DELETE", A + "/extensions/{x}", _none, _staff(204)),
    ("GET", C + "/accommodations", _none, _staff(200)),
    ("PUT", C + "/accommodations/time-1.5", _accommodation, _runs(200)),
    ("DELETE", C + "/accommodations/{l}", _none, _runs(204)),
    ("PUT", C + "/students/{m}/accommodations", _no_labels, _staff(200)),
    ("POST", A + "/preview", _answers, _students(200)),
    ("POST", E + "/start", _none, _students(200)),
    ("PUT", E + "/draft", _draft, _students(200)),
    ("GET", E + "/draft", _none, _students(200)),
    ("POST", C + "/assignments/{o}/attempts/{b}/unlock", _none, _staff(204)),
    ("GET", E + "/attempts", _none, _staff(200)),
    ("POST", E + "/time", _minutes, _staff(200)),
    ("POST", E + "/attempts/{n}/end", _none, _staff(200)),
    ("POST", E + "/signals", _signal, _students(204)),
    (
        "GET",
        E + "/clock?student={v}",
        _none,
        _statuses(
            401, 401, student=200, other=403, outsider=404, ta=200, foreign=404, instructor=200, owner=200, admin=200
        ),
    ),
    ("POST", A + "/submissions", _answers, _students(201)),
    ("GET", A + "/submissions", _none, _members(200)),
    (
        "GET",
        "/api/v1/submissions/{s}",
        _none,
        _statuses(
            401, 401, student=200, other=403, outsider=404, ta=200, foreign=404, instructor=200, owner=200, admin=200
        ),
    ),
    ("GET", A + "/gradebook", _none, _staff(200)),
    ("GET", C + "/gradebook", _none, _staff(200)),  # the course gradebook (also .csv: test_course_gradebook.py)
    ("GET", A + "/stats", _none, _staff(200)),
    ("POST", A + "/regrade", _none, _runs(202)),
    ("POST", H + "/similarity", _empty, _hidden(202)),
    ("GET", H + "/similarity", _none, _hidden(200)),
    ("GET", W + "/grading/{k}", _none, _staff(200)),
    ("PUT", W + "/grading/{k}/groups", _no_groups, _staff(200)),
    ("GET", W + "/rubrics/{k}", _none, _staff(200)),
    ("PUT", W + "/rubrics/{k}", _rubric, _runs(200)),
    ("POST", W + "/grading/release?force=true", _none, _runs(200)),
    (
        "PUT",
        "/api/v1/submissions/{g}/parts/{k}/grading",
        _no_items,
        _statuses(
            401, 401, student=403, other=403, outsider=404, ta=200, foreign=404, instructor=200, owner=200, admin=200
        ),
    ),
    (
        "GET",
        "/api/v1/submissions/{r}/parts/{k}/grading",
        _none,
        _statuses(
            401, 401, student=403, other=403, outsider=404, ta=200, foreign=404, instructor=200, owner=200, admin=200
        ),
    ),
    (
        "POST",
        "/api/v1/submissions/{r}/parts/{k}/regrade-request",
        _message,
        _statuses(
            401, 401, student=201, other=403, outsider=404, ta=403, foreign=404, instructor=403, owner=403, admin=403
        ),
    ),
    (
        "POST",
        "/api/v1/submissions/{q}/parts/{k}/regrade-request/reply",
        _reply,
        _statuses(
            401, 401, student=403, other=403, outsider=404, ta=200, foreign=404, instructor=200, owner=200, admin=200
        ),
    ),
    (
        "GET",
        "/api/v1/jobs/{j}",
        _none,
        _statuses(
            401, 401, student=404, other=404, outsider=404, ta=200, foreign=404, instructor=200, owner=200, admin=200
        ),
    ),
]


@pytest.fixture(scope="module")
def world(client, course, engine) -> dict[str, Any]:
    assignment = course.assignment()
    (student_id, student), (_, other) = course.students(2)
    timed = course.assignment(time_limit=600)
    for started in (student, other):
        url = f"{course.path}/assignments/{timed}/start"
        assert client.post(url, headers=started).status_code == 200
    (_, ta) = course.member("ta")
    (_, instructor) = course.member("instructor")
    elsewhere = Course(client, make_instructor(engine))
    (_, outsider) = elsewhere.student()
    with Session(engine) as session, session.begin():
        admin = create_user(session, name="Admin", role=Role.ADMIN, user_id=unique("admin")).token or ""
    submission = course.submit(assignment, student, RIGHT).json()["id"]
    job = client.post(f"{course.path}/assignments/{assignment}/regrade", headers=course.instructor).json()["job"]
    headers = {
        "none": {},
        "bad": auth("not-a-token"),
        "student": student,
        "other": other,
        "outsider": outsider,
        "ta": ta,
        "foreign": elsewhere.instructor,
        "instructor": instructor,
        "owner": course.instructor,
        "admin": auth(admin),
    }

    uploaded = client.post(
        f"{course.path}/problem-sets",
        content=WRITTEN_SET.encode(),
        headers={**course.instructor, "Content-Type": "application/yaml"},
    )
    assert uploaded.status_code == 201, uploaded.text
    written = course.assignment(problem_set="words")
    client.post(f"{course.path}/assignments/{written}/grading/release", headers=course.instructor)

    def written_answer() -> int:
        made = course.submit(written, student, {"q1.why": "The kernel's extent."})
        assert made.status_code == 201, made.text
        return int(made.json()["id"])

    def graded() -> int:
        submission_id = written_answer()
        url = f"/api/v1/submissions/{submission_id}/parts/q1.why/grading"
        assert client.put(url, json=_no_items(), headers=course.instructor).status_code == 200
        return submission_id

    def asked() -> int:
        submission_id = graded()
        url = f"/api/v1/submissions/{submission_id}/parts/q1.why/regrade-request"
        assert client.post(url, json=_message(), headers=student).status_code == 201
        return submission_id

    sealed = course.assignment(access={"one_session": True})
    coded = course.assignment(problem_set="numpy-convolution")

    def bound() -> str:
        bound_id, bound_token = course.student()
        assert course.submit(sealed, bound_token, RIGHT).status_code == 201
        return bound_id

    def started() -> str:
        started_id, started_token = course.student()
        assert client.post(f"{course.path}/assignments/{timed}/start", headers=started_token).status_code == 200
        return started_id

    def extended() -> str:
        student_id = course.student()[0]
        url = f"{course.path}/assignments/{assignment}/extensions/{student_id}"
        assert client.put(url, json=_extension(), headers=course.instructor).status_code == 200
        return student_id

    def labelled() -> str:
        name = unique("label-")
        url = f"{course.path}/accommodations/{name}"
        assert client.put(url, json=_accommodation(), headers=course.instructor).status_code == 200
        return name

    return {
        "c": lambda: course.id,
        "p": lambda: "conv-pool-basics",
        "a": lambda: assignment,
        "d": lambda: course.assignment(),
        "s": lambda: submission,
        "m": lambda: course.student()[0],
        "x": extended,
        "l": labelled,
        "j": lambda: job,
        "t": lambda: client.post("/api/v1/account/tokens", json=_token_name(), headers=student).json()["id"],
        "w": lambda: written,
        "e": lambda: timed,
        "v": lambda: student_id,
        "o": lambda: sealed,
        "h": lambda: coded,
        "b": bound,
        "n": started,
        "k": lambda: "q1.why",
        "g": written_answer,
        "r": graded,
        "q": asked,
        "headers": headers,
    }


def _send(client, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    """JSON, or a set file as YAML."""
    if isinstance(body, str):
        return client.request(method, url, content=body, headers={**headers, "Content-Type": "application/yaml"})
    return client.request(method, url, json=body, headers=headers)


def _url(path: str, fill: dict[str, Callable[[], Any]]) -> str:
    values = {name: make() for name, make in fill.items() if f"{{{name}}}" in path}
    return path.format(**values)


@pytest.mark.parametrize(("method", "path", "body", "expected"), TABLE, ids=[f"{m} {p}" for m, p, _, _ in TABLE])
@pytest.mark.parametrize("caller", CALLERS)
def test_status_by_caller(client, world, caller, method, path, body, expected) -> None:
    response = _send(client, method, _url(path, world), body(), world["headers"][caller])
    assert response.status_code == expected[CALLERS.index(caller)], response.text
    if response.status_code >= 400:
        assert response.json()["detail"]
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == "Bearer"


PLACEHOLDERS = "apsmxjtwkgrqdeln"


@pytest.mark.parametrize("caller", ["student", "ta", "owner"])
@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, _, _ in TABLE if any(f"{{{name}}}" in p for name in PLACEHOLDERS)]
)
def test_unknown_ids_are_404(client, world, caller, method, path) -> None:
    unknown = {name: (lambda: "no-such-id") for name in PLACEHOLDERS} | {
        "s": lambda: "987654321",
        "k": lambda: "q9.nope",  # (an answer key's shape: anything else is no route at all)
        "g": lambda: "987654321",
        "r": lambda: "987654321",
        "q": lambda: "987654321",
        "j": lambda: "987654321",
        "t": lambda: "987654321",
        "c": world["c"],
        "v": world["v"],  # (the student whose clock: the assignment is the unknown id)
    }
    body = next(r[2] for r in TABLE if r[0] == method and r[1] == path)()
    response = _send(client, method, _url(path, unknown), body, world["headers"][caller])
    # a caller asking for what their role may not do learns only that it is forbidden (or, for what
    # is not a course's, that it does not exist)
    row = next(r for r in TABLE if r[0] == method and r[1] == path)
    expected = row[3][CALLERS.index(caller)]
    course_s = path.startswith(C)
    assert response.status_code == (404 if expected < 400 or expected == 404 or not course_s else 403), response.text


@pytest.mark.parametrize("caller", ["student", "owner", "admin"])
@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _, _ in TABLE if p.startswith(C)])
def test_an_unknown_course_is_404_for_everyone(client, world, caller, method, path) -> None:
    fill = {**world, "c": lambda: unique("no-course")}
    body = next(r[2] for r in TABLE if r[0] == method and r[1] == path)()
    response = _send(client, method, _url(path, fill), body, world["headers"][caller])
    assert response.status_code == 404, response.text
    assert "No course" in response.json()["detail"]


def test_the_table_covers_every_endpoint(app) -> None:
    routes = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    names = {
        "{c}": "{course_id}",
        "{a}": "{assignment_id}",
        "{s}": "{submission_id}",
        "/members/{m}": "/members/{member_id}",
        "/extensions/{m}": "/extensions/{student_id}",
        "/students/{m}": "/students/{student_id}",
        "/accommodations/time-1.5": "/accommodations/{name}",
        "{l}": "{name}",
        "{x}": "{student_id}",
        "{p}": "{set_id}",
        "{j}": "{job_id}",
        "{t}": "{token_id}",
        "{w}": "{assignment_id}",
        "{d}": "{assignment_id}",
        "{e}": "{assignment_id}",
        "{o}": "{assignment_id}",
        "{h}": "{assignment_id}",
        "{b}": "{student_id}",
        "{n}": "{student_id}",
        "{k}": "{key}",
        "{g}": "{submission_id}",
        "{r}": "{submission_id}",
        "{q}": "{submission_id}",
    }
    table = set()
    for method, path, _, _ in TABLE:
        for placeholder, name in names.items():
            path = path.replace(placeholder, name)
        table.add((method, path.partition("?")[0]))  # (a query the call needs is not the route's)
    assert routes == table
