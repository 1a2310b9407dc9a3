"""The grading page through the test client: who may open it, one answer at a time then the next
ungraded, a group at once, a grader's write over another's change refused and shown, names hidden
by default, release and the rubric editor for owners and instructors only."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from written_course import WHY, grade, queue_of, written_course

from page_client import Browser


def browser_of(app: Any, headers: dict[str, str]) -> Browser:
    return Browser(app).signed_in(headers["Authorization"].removeprefix("Bearer "))


def class_of(client: TestClient, engine: Any, answers: list[str]) -> tuple[Any, str, list[int]]:
    course, aid = written_course(client, engine)
    students = course.students(len(answers))
    ids = [
        course.submit(aid, headers, {WHY: text}).json()["id"]
        for text, (_, headers) in zip(answers, students, strict=True)
    ]
    return course, aid, ids


def shown_submission(html: str) -> int:
    found = re.search(r'name="submission" value="(\d+)"', html)
    assert found, "no answer shown"
    return int(found.group(1))


def test_who_may_open_the_grading_page(app: Any, client: TestClient, engine: Any) -> None:
    course, aid, _ = class_of(client, engine, ["kernel"])
    path = f"/courses/{course.id}/assignments/{aid}/grading"
    (_, student) = course.students(1)[0]
    assert browser_of(app, student).get(path).status_code == 403
    _, ta = course.member("ta")
    page = browser_of(app, ta).get(path)
    assert page.status_code == 200 and "Graded 0 of 1" in page.text
    assert "Release grades" not in page.text and "Edit the rubric" not in page.text  # a TA grades only
    page = browser_of(app, course.instructor).get(path)
    assert "Release grades" in page.text and "Edit the rubric" in page.text


def test_a_ta_grades_one_answer_then_the_next_ungraded(app: Any, client: TestClient, engine: Any) -> None:
    course, aid, ids = class_of(client, engine, ["kernel <b>extent</b>", "formula W - K + 1", "no idea"])
    _, ta = course.member("ta")
    browser = browser_of(app, ta)
    path = f"/courses/{course.id}/assignments/{aid}/grading"
    page = browser.get(path)
    first = shown_submission(page.text)
    assert first in ids and "Answer 1 of 3" in page.text
    assert "Student 0" not in page.text  # names hidden by default
    marked = browser.get(path + f"?key={WHY}&at={ids[0]}").text
    assert "kernel &lt;b&gt;extent&lt;/b&gt;" in marked and "<b>extent" not in marked  # shown as typed, escaped
    item = queue_of(course, aid)["rubric"]["items"][0]["id"]
    saved = browser.post(
        path, {"key": WHY, "submission": str(first), f"version-{first}": "0", "item": str(item), "comment": "ok"}
    )
    assert saved.status_code == 303, saved.text
    page = browser.get(saved.headers["location"])
    second = shown_submission(page.text)
    assert second != first and "Graded 1 of 3" in page.text
    entry = next(e for e in queue_of(course, aid)["entries"] if e["submission"] == first)
    assert (entry["grading"]["score"], entry["grading"]["comment"]) == (1.0, "ok")
    names = browser.get(path + f"?key={WHY}&names=1&at={first}")
    assert "Student" in names.text


def test_a_stale_write_is_refused_and_shows_the_other_graders_grading(
    app: Any, client: TestClient, engine: Any
) -> None:
    course, aid, (submission,) = class_of(client, engine, ["kernel"])
    _, ta = course.member("ta")
    browser = browser_of(app, ta)
    path = f"/courses/{course.id}/assignments/{aid}/grading"
    browser.get(path)
    assert grade(course, submission, [], adjustment=2).status_code == 200  # another grader, meanwhile
    stale = browser.post(path, {"key": WHY, "submission": str(submission), f"version-{submission}": "0"})
    assert stale.status_code == 409
    assert "Another grader changed this grading" in stale.text and "version 1" in stale.text
    assert queue_of(course, aid)["entries"][0]["grading"]["score"] == 2.0  # theirs kept


def test_a_group_is_graded_at_once(app: Any, client: TestClient, engine: Any) -> None:
    answers = ["Fewer multiplications.", "fewer multiplications", "Fewer multiplication.", "Mixes channels."]
    course, aid, ids = class_of(client, engine, answers)
    browser = browser_of(app, course.instructor)
    path = f"/courses/{course.id}/assignments/{aid}/grading"
    group = next(g for g in queue_of(course, aid)["groups"] if ids[0] in g["members"])
    page = browser.get(path + f"?key={WHY}&group={group['id']}")
    assert page.status_code == 200 and "A group of 3 similar answers" in page.text
    fields = [("key", WHY), ("group", str(group["id"])), ("adjustment", "0.5")]
    fields += [
        (name, value)
        for member in group["members"]
        for name, value in (("submission", str(member)), (f"version-{member}", "0"))
    ]
    body = urlencode([("csrf", browser.csrf), *fields])  # (a field many times: the group's members)
    saved = browser.client.post(path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert saved.status_code == 303, saved.text
    scores = {e["submission"]: e["grading"] for e in queue_of(course, aid)["entries"]}
    assert [scores[i]["score"] for i in ids[:3]] == [0.5, 0.5, 0.5] and scores[ids[3]] is None


def test_runners_release_and_edit_the_rubric_a_ta_cannot(app: Any, client: TestClient, engine: Any) -> None:
    course, aid, (submission,) = class_of(client, engine, ["kernel"])
    items = queue_of(course, aid)["rubric"]["items"]
    assert grade(course, submission, [items[0]["id"]]).status_code == 200
    path = f"/courses/{course.id}/assignments/{aid}/grading"
    _, ta = course.member("ta")
    ta_browser = browser_of(app, ta)
    ta_browser.get(path)
    assert ta_browser.post(path + "/release").status_code == 403
    browser = browser_of(app, course.instructor)
    browser.get(path)
    form = {"key": WHY, "row": "", "points-0": "2", "text-0": items[0]["text"], "note-0": "", "key-0": ""}
    form["row"] = str(items[0]["id"])  # only the first item kept, now worth 2 (the others removed)
    edited = browser.post(path + "/rubric", form)
    assert edited.status_code == 303, edited.text
    rubric = client.get(f"{course.path}/assignments/{aid}/rubrics/{WHY}", headers=course.instructor).json()
    assert [(i["points"], i["text"]) for i in rubric["items"]] == [(2.0, items[0]["text"])]
    assert queue_of(course, aid)["entries"][0]["grading"]["score"] == 2.0  # re-scored
    assert browser.post(path + "/release").status_code == 303
    assert client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["grades_released_at"]
    assert browser.post(path + "/release", csrf=False).status_code == 403  # no CSRF token


def test_an_assignment_without_written_parts_says_so(app: Any, client: TestClient, engine: Any) -> None:
    from factories import Course, make_instructor

    course = Course(client, make_instructor(engine))
    aid = course.assignment()
    page = browser_of(app, course.instructor).get(f"/courses/{course.id}/assignments/{aid}/grading")
    assert page.status_code == 200 and "no written part" in page.text


def test_the_staff_assignment_page_links_to_the_grading_of_its_written_parts(
    app: Any, client: TestClient, engine: Any
) -> None:
    course, aid, _ = class_of(client, engine, ["kernel"])
    page = browser_of(app, course.instructor).get(f"/courses/{course.id}/assignments/{aid}")
    assert f'href="/courses/{course.id}/assignments/{aid}/grading"' in page.text and "q1.why, q2.compare" in page.text


def test_staff_split_confirm_and_move_groups_from_the_page(app: Any, client: TestClient, engine: Any) -> None:
    answers = ["Fewer multiplications.", "fewer multiplications", "Fewer multiplication.", "Mixes channels."]
    course, aid, ids = class_of(client, engine, answers)
    browser = browser_of(app, course.instructor)
    path = f"/courses/{course.id}/assignments/{aid}/grading"
    group = next(g for g in queue_of(course, aid)["groups"] if ids[0] in g["members"])
    browser.get(path + f"?key={WHY}&group={group['id']}")
    body = urlencode(
        [
            ("csrf", browser.csrf),
            ("key", WHY),
            ("group", str(group["id"])),
            ("action", "split"),
            ("member", str(ids[2])),
        ]
    )
    split = browser.client.post(
        path + "/groups", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert split.status_code == 303, split.text
    confirmed = [g["members"] for g in queue_of(course, aid)["groups"] if g["how"] == "confirmed"]
    assert confirmed == [sorted([ids[0], ids[1]]), [ids[2]]]
    alone = next(g for g in queue_of(course, aid)["groups"] if g["members"] == [ids[3]])
    moved = browser.post(path + "/groups", {"key": WHY, "action": "move", "submission": str(ids[3]), "target": "1"})
    assert moved.status_code == 303, moved.text
    groups = {g["id"]: g for g in queue_of(course, aid)["groups"]}
    assert groups[1]["members"] == sorted([ids[0], ids[1], ids[3]]) and groups[1]["how"] == "confirmed"
    assert alone["id"] not in groups or ids[3] not in groups[alone["id"]]["members"]
