"""An instructor's set check as a job, on both backends: an upload with code parts answers 202 with
its check queued, and ``GET .../problem-sets/{set}`` reads it back, passed or failed with its issues
at their lines; a set without code has passed at once; an assignment (created or moved) on a version
whose check has not passed is refused with a sentence, and accepted once it passed; a file whose
modules do not compile is still refused at once. (On SQLite the service's check runner runs the
checks; on PostgreSQL a procrastinate worker, in the test's process: ``factories.finished_check``.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from factories import Course, checks_held, finished_check, finished_job, set_file, unique

YAML = {"Content-Type": "application/yaml"}
BUILT_IN = Path(__file__).parents[2] / "problems" / "sets" / "numpy-convolution.yaml"
#: The line of the built-in solution's forward step, and a wrong one in its place.
RIGHT_STEP = "out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b"
WRONG_STEP = "out[:, :, i, j] = 0"


def own_set(set_id: str, *, title: str = "Our convolution in numpy", step: str = RIGHT_STEP) -> str:
    """The built-in numpy set as a course's own (``title`` makes another version, ``step`` breaks it)."""
    text = BUILT_IN.read_text().replace("id: numpy-convolution", f"id: {set_id}", 1)
    text = text.replace("title: Convolution and pooling in numpy", f"title: {title}", 1)
    return text.replace(RIGHT_STEP, step)


def upload(course: Course, text: str) -> Any:
    return course.client.post(
        f"{course.path}/problem-sets", content=text.encode(), headers={**YAML, **course.instructor}
    )


def checked(course: Course, reply: dict[str, Any]) -> dict[str, Any]:
    return finished_check(course.client, course.path, reply["id"], reply["version"], course.instructor)


@pytest.fixture
def held_checks(app: Any) -> Iterator[Callable[[], None]]:
    with checks_held(app) as release:
        yield release


def test_an_upload_with_code_answers_202_and_its_check_is_read_back_passed(client, course) -> None:
    set_id = unique("conv-")
    reply = upload(course, own_set(set_id))
    assert reply.status_code == 202, reply.text
    made = reply.json()
    assert made["id"] == set_id and made["built_in"] is False and made["versions"] == [made["version"]]
    assert made["check"]["status"] in ("queued", "running") and made["check"]["issues"] == []
    assert made["check"]["job"] is not None

    found = checked(course, made)
    check = found["check"]
    assert (check["status"], check["issues"]) == ("passed", [])
    assert 0 < check["done"] <= check["total"] and check["seconds"] > 0
    assert check["started_at"] <= check["finished_at"]
    job = finished_job(client, check["job"], course.instructor)
    assert (job["kind"], job["status"], job["set_version"], job["assignment"]) == (
        "set_check",
        "done",
        made["version"],
        None,
    )
    # the same file again: the version the course has, checked already (nothing runs)
    again = upload(course, own_set(set_id))
    assert again.status_code == 200, again.text
    assert again.json()["check"] == check
    listed = {s["id"]: s for s in client.get(f"{course.path}/problem-sets", headers=course.instructor).json()}
    assert listed[set_id]["check"]["status"] == "passed"
    assert listed["numpy-convolution"]["check"]["status"] == "passed"  # (a built-in set)
    course.assignment(problem_set=set_id)


def test_a_set_without_code_parts_has_passed_at_once(client, course) -> None:
    reply = upload(course, set_file(unique("plain-")))
    assert reply.status_code == 201, reply.text
    assert reply.json()["check"] == {
        "status": "passed",
        "issues": [],
        "job": None,
        "done": 0,
        "total": None,
        "seconds": None,
        "started_at": None,
        "finished_at": None,
    }
    read = client.get(f"{course.path}/problem-sets/{reply.json()['id']}", headers=course.instructor)
    assert read.status_code == 200 and read.json() == reply.json()


def test_a_failing_solution_fails_its_check_with_each_issue_at_its_line(client, course) -> None:
    text = own_set(unique("broken-"), step=WRONG_STEP)
    reply = upload(course, text)
    assert reply.status_code == 202, reply.text
    check = checked(course, reply.json())["check"]
    assert check["status"] == "failed"
    issues = check["issues"]
    assert issues and all("the solution fails the test" in issue["message"] for issue in issues), issues
    lines = text.splitlines()
    for issue in issues:  # each at its test's line: the forward part's tests
        assert issue["field"].startswith("conv.parts.0.tests."), issue
        assert "name" in lines[issue["line"] - 1], (issue, lines[issue["line"] - 1])


def test_an_assignment_is_refused_on_a_version_whose_check_has_not_passed(client, course, held_checks) -> None:
    set_id = unique("held-")
    first = upload(course, own_set(set_id))
    assert first.status_code == 202, first.text
    body = {"id": unique("a"), "problem_set": set_id}
    refused = client.post(f"{course.path}/assignments", json=body, headers=course.instructor)
    assert refused.status_code == 409, refused.text
    assert "is still being checked" in refused.json()["detail"]
    assert "an assignment may use it once its check has passed" in refused.json()["detail"]
    held_checks()
    assert checked(course, first.json())["check"]["status"] == "passed"
    aid = course.assignment(problem_set=set_id)

    # a version that fails its check: neither a new assignment nor a move to it, and the way out is named
    broken = upload(course, own_set(set_id, title="Ours, broken", step=WRONG_STEP))
    assert broken.status_code == 202, broken.text
    assert checked(course, broken.json())["check"]["status"] == "failed"
    body = {"id": unique("a"), "problem_set": set_id}
    refused = client.post(f"{course.path}/assignments", json=body, headers=course.instructor)
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert "failed its check" in detail and "fix the file and upload it again" in detail
    assert f"Version {first.json()['version'][:12]} passed" in detail
    moved = client.patch(
        f"{course.path}/assignments/{aid}", json={"version": broken.json()["version"]}, headers=course.instructor
    )
    assert moved.status_code == 409, moved.text
    pinned = client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["set_version"]
    assert pinned == first.json()["version"]
    body = {"id": unique("a"), "problem_set": set_id, "version": first.json()["version"]}
    assert client.post(f"{course.path}/assignments", json=body, headers=course.instructor).status_code == 201


def test_a_failed_version_sent_again_is_checked_again(client, course) -> None:
    text = own_set(unique("again-"), step=WRONG_STEP)
    first = upload(course, text).json()
    failed = checked(course, first)["check"]
    assert failed["status"] == "failed"
    again = upload(course, text)
    assert again.status_code == 202, again.text
    rerun = checked(course, again.json())["check"]
    assert rerun["status"] == "failed" and rerun["job"] != failed["job"]


def test_a_module_that_does_not_compile_is_refused_at_once_at_its_line(client, course) -> None:
    text = own_set(unique("syntax-")).replace(
        "def conv_forward(x, w, b, stride=1, pad=0):", "def conv_forward(x, w, b:"
    )
    refused = upload(course, text)
    assert refused.status_code == 422, refused.text
    (issue,) = [issue for issue in refused.json()["detail"] if "does not compile" in issue["message"]]
    assert issue["line"] is not None and issue["field"] == "conv.solution"


def test_another_courses_instructor_reads_no_check(client, course, engine) -> None:
    from factories import make_instructor

    reply = upload(course, own_set(unique("mine-"))).json()
    other = Course(client, make_instructor(engine))
    read = client.get(f"{other.path}/problem-sets/{reply['id']}", headers=other.instructor)
    assert read.status_code == 404, read.text
    assert client.get(f"{course.path}/problem-sets/no-such-set", headers=course.instructor).status_code == 404
    checked(course, reply)


def test_a_fourth_check_at_once_is_refused_until_one_is_over(client, course, held_checks) -> None:
    waiting = [upload(course, own_set(unique("queued-"))) for _ in range(3)]
    assert [reply.status_code for reply in waiting] == [202] * 3
    set_id = unique("fourth-")
    refused = upload(course, own_set(set_id))
    assert refused.status_code == 429, refused.text
    assert refused.json()["detail"].startswith(
        "Not stored: 3 of your set checks are queued or running, the most at once"
    )
    assert refused.headers["Retry-After"] == "30"
    assert client.get(f"{course.path}/problem-sets/{set_id}", headers=course.instructor).status_code == 404
    held_checks()
    for reply in waiting:
        assert checked(course, reply.json())["check"]["status"] == "passed"
    assert upload(course, own_set(set_id)).status_code == 202
