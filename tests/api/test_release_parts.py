"""Releasing one written part's grades on its own, and the question asked while answers to it are
ungraded: 409 with their number, unless ``force`` (then those students see "awaiting a grader")."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from written_course import COMPARE, SHAPE, WHY, grade, queue_of, written_course

from page_client import Browser


def test_one_part_is_released_on_its_own_after_a_warning(client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine)
    (_, alice), (_, bob) = course.students(2)
    answers = {WHY: "The kernel's extent", SHAPE: "30x30x16", COMPARE: "Both add."}
    graded_one = course.submit(aid, alice, answers).json()["id"]
    ungraded_one = course.submit(aid, bob, answers).json()["id"]
    items = [item["id"] for item in queue_of(course, aid)["rubric"]["items"][:2]]
    assert grade(course, graded_one, items).status_code == 200
    assert grade(course, graded_one, [], key=COMPARE, adjustment=1).status_code == 200
    release = f"{course.path}/assignments/{aid}/grading/release"

    refused = client.post(f"{release}?key={WHY}", headers=course.instructor)
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith(
        f"1 answer to {WHY} is not graded yet; releasing now shows those students “awaiting a grader”."
    )
    assert client.get(f"/api/v1/submissions/{graded_one}", headers=alice).json()["parts"][WHY]["status"] == "pending"

    done = client.post(f"{release}?key={WHY}&force=true", headers=course.instructor)
    assert done.status_code == 200, done.text
    assert (done.json()["key"], done.json()["students"], done.json()["ungraded"]) == (WHY, 1, 1)
    mine = client.get(f"/api/v1/submissions/{graded_one}", headers=alice).json()
    assert mine["parts"][WHY]["score"] == 2 and mine["parts"][COMPARE]["status"] == "pending"  # that part only
    assert mine["awaiting_parts"] == [COMPARE]
    theirs = client.get(f"/api/v1/submissions/{ungraded_one}", headers=bob).json()
    assert theirs["parts"][WHY]["status"] == "pending" and sorted(theirs["awaiting_parts"]) == sorted([WHY, COMPARE])

    regrade = f"/api/v1/submissions/{graded_one}/parts/{{}}/regrade-request"
    assert client.post(regrade.format(WHY), json={"message": "Look again"}, headers=alice).status_code == 201
    assert client.post(regrade.format(COMPARE), json={"message": "Look again"}, headers=alice).status_code == 409

    whole = client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()
    assert whole["grades_released_at"] is None and list(whole["grades_released_parts"]) == [WHY]  # not every part
    everything = client.post(release, headers=course.instructor)
    assert everything.status_code == 409 and everything.json()["detail"].startswith("2 answers to the written parts")
    assert client.post(f"{release}?force=true", headers=course.instructor).json()["ungraded"] == 2
    assert client.get(f"/api/v1/submissions/{graded_one}", headers=alice).json()["awaiting_parts"] == []


def test_releasing_a_part_that_is_not_written_is_404(client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine)
    release = f"{course.path}/assignments/{aid}/grading/release"
    assert client.post(f"{release}?key={SHAPE}", headers=course.instructor).status_code == 404
    assert client.post(f"{release}?key=q9.none", headers=course.instructor).status_code == 404
    assert client.post(f"{release}?key={WHY}", headers=course.instructor).status_code == 200  # nothing to grade


def test_the_grading_page_asks_before_releasing_ungraded_answers(app: Any, client: TestClient, engine: Any) -> None:
    course, aid = written_course(client, engine)
    (_, alice), (_, bob) = course.students(2)
    for headers in (alice, bob):
        course.submit(aid, headers, {WHY: "The kernel's extent"})
    browser = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    path = f"/courses/{course.id}/assignments/{aid}/grading"
    page = browser.get(f"{path}?key={WHY}")
    assert 'id="release-part"' in page.text and 'id="release-all"' in page.text

    asked = browser.post(path + "/release", {"key": WHY})
    assert asked.status_code == 409
    assert f"2 answers to {WHY} are not graded yet; releasing now shows those students “awaiting a grader”." in (
        asked.text
    )
    assert 'id="release-anyway"' in asked.text and 'name="force" value="1"' in asked.text
    assert (
        client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["grades_released_parts"] == {}
    )

    done = browser.post(path + "/release", {"key": WHY, "force": "1"})
    assert done.status_code == 303 and done.headers["location"].endswith(f"?key={WHY}&done=released")
    page = browser.get(done.headers["location"])
    assert "This part&#39;s grades released" in page.text or "This part's grades released" in page.text
    assert 'id="release-part"' not in page.text and 'id="release-all"' in page.text
    assert browser.post(path + "/release", {"key": "q9.none"}).status_code == 404
