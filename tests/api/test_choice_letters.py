"""A student's ids for a choice part's options tell nothing of the file's order, on both databases:
each student's options are lettered in the order they are shown (``a`` the first they see), so the
right option of ``q1.most`` (the file's first) carries any letter; a student answers with their own
letters, reads them back in every reply (their answers, how each was read, the released reference,
a refusal, a preview, a draft), while the service grades and stores the file's letters, which staff,
the statistics and the listing read. A timed draft submitted at time-up is read the same way."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from choice_course import LEARN, MOST, POOLING, RIGHT, choice_course, letters_of, parts_of
from fastapi.testclient import TestClient

from api.assignments.options import StudentLetters
from api.timed.sweep import sweep
from grader.choice import graded
from problems.loader import parse_set
from tests.problems.test_choice_parts import SET

#: Students enough that the right option's letter shows at every place: all three are seen but once
#: in ten million courses (3 × (2/3)^45).
CLASS = 45


def test_a_students_letters_map_to_the_files_and_back_and_an_unreadable_answer_stays_as_sent() -> None:
    problem_set = parse_set(SET, "picks.yaml")
    part = problem_set.choice()[MOST]
    for student in range(60):
        letters = StudentLetters.of(problem_set, f"v:{student}")
        order = letters.shown[MOST]
        for place, theirs in enumerate("abc"):
            assert letters.to_file(MOST, f" {theirs.upper()} ") == order[place]
            assert letters.to_student(MOST, order[place]) == theirs
            # how the file's letter was read, shown as the student's
            read_as = graded(MOST, part, order[place]).read_as
            assert letters.parts_shown({MOST: {"read_as": read_as}}) == {MOST: {"read_as": theirs}}
        assert letters.to_file(LEARN, ["c", "a"]) == ["c", "a"]  # shuffle: false, the file's letters
        assert letters.reference_shown({LEARN: ["a", "c"], MOST: "a"}) == {
            LEARN: ["a", "c"],
            MOST: "abc"[order.index("a")],
        }
        for unreadable in ("z", ["a"], "", None, 3, ["b", "b"]):  # left for the engine to refuse as sent
            assert letters.to_file(MOST, unreadable) == unreadable
    staff = StudentLetters.of(problem_set, None)
    assert staff.shown[MOST] == ("a", "b", "c") and staff.to_file(MOST, "b") == "b"
    # several picks, shuffled: each moved in the order sent; how they were read, and the right ones, sorted
    shuffled = parse_set(SET.replace("        shuffle: false\n", ""), "picks.yaml")
    learn = shuffled.choice()[LEARN]
    assert learn.shuffle and learn.right == {"a", "c"}
    for student in range(60):
        letters = StudentLetters.of(shuffled, f"v:{student}")
        theirs = ["abc"[letters.shown[LEARN].index(letter)] for letter in ("c", "a")]
        assert letters.to_file(LEARN, theirs) == ["c", "a"] and letters.to_student(LEARN, ["c", "a"]) == theirs
        read_as = graded(LEARN, learn, ["c", "a"]).read_as
        assert read_as == "a, c"
        assert letters.read_as_shown(LEARN, read_as) == ", ".join(sorted(theirs))
        assert letters.reference_shown({LEARN: learn.right_answer}) == {LEARN: sorted(theirs)}


def _detail(course: Any, aid: str, headers: dict[str, str]) -> dict[str, Any]:
    response = course.client.get(f"{course.path}/assignments/{aid}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _own_letters(course: Any, aid: str, headers: dict[str, str]) -> dict[str, str]:
    """The student's letters for ``q1.most``'s options (text → id), checked to be those of their order."""
    detail = _detail(course, aid, headers)
    assert [option["id"] for option in parts_of(detail)[MOST]["choices"]] == ["a", "b", "c"]
    return letters_of(detail, MOST)


def test_the_right_options_letter_is_spread_over_the_class_and_graded_as_the_files(
    client: TestClient, engine: Any
) -> None:
    course, aid = choice_course(client, engine, release_answers="immediately")
    students = course.students(CLASS)
    # what each student reads: their letter for the right option, and (released) the reference
    read = [(student, headers, _detail(course, aid, headers)) for student, headers in students]
    shown = Counter(letters_of(detail, MOST)[RIGHT] for _, _, detail in read)
    # the right option is the file's first, yet no student's letter for it gives that away
    assert set(shown) == {"a", "b", "c"}, shown
    wrong: list[str] = []
    for index, (student, headers, detail) in enumerate(read):
        assert [option["id"] for option in parts_of(detail)[MOST]["choices"]] == ["a", "b", "c"]  # their order's
        letters = letters_of(detail, MOST)
        assert detail["reference"][MOST] == letters[RIGHT]  # released, in their letters
        pick = letters[RIGHT] if index % 2 == 0 else letters[POOLING]
        if index % 2:
            wrong.append(student)
        sent = course.submit(aid, headers, {MOST: pick.upper(), LEARN: ["c", "a"]})
        assert sent.status_code == 201, sent.text
        body = sent.json()
        most = body["parts"][MOST]
        assert (body["answers"][MOST], most["read_as"], body["reference"][MOST]) == (pick, pick, letters[RIGHT])
        if index % 2 == 0:
            assert (most["status"], most["score"]) == ("correct", 2.0)
        else:
            assert (most["status"], most["misconception"]) == ("incorrect", "pooling-has-weights")
        assert body["reference"][LEARN] == ["a", "c"]  # a part without shuffle: the file's letters are theirs
        again = client.get(f"/api/v1/submissions/{body['id']}", headers=headers).json()
        assert (again["answers"][MOST], again["parts"][MOST]["read_as"]) == (pick, pick)

    # staff read the file's letters: every right pick is `a`, every pooling layer `b`
    listed = client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor).json()
    assert len(listed) == CLASS
    for submission in listed:
        letter = "b" if submission["student"] in wrong else "a"
        assert (submission["answers"][MOST], submission["parts"][MOST]["read_as"]) == (letter, letter)
        assert submission["reference"][MOST] == "a"
    one = client.get(f"/api/v1/submissions/{listed[0]['id']}", headers=course.instructor).json()
    assert one["answers"][MOST] in ("a", "b") and one["reference"][MOST] == "a"
    stats = client.get(f"{course.path}/assignments/{aid}/stats", headers=course.instructor).json()["keys"][MOST]
    assert stats["commonest_wrong_answers"] == [{"answer": "b", "count": len(wrong), "example": "b"}]
    assert stats["share_correct"] == round((CLASS - len(wrong)) / CLASS, 6)


def test_a_refusal_and_a_preview_read_the_picks_in_the_students_letters(client: TestClient, engine: Any) -> None:
    course, aid = choice_course(client, engine)
    # a student whose right option is not shown first (one of twenty: all have it first once in 3^20)
    found = [(h, letters) for _, h in course.students(20) if (letters := _own_letters(course, aid, h))[RIGHT] != "a"]
    headers, letters = found[0]
    right = letters[RIGHT]
    refused = course.submit(aid, headers, {MOST: right, LEARN: "a, c"})
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert detail["parts"][MOST]["read_as"] == right  # the readable part, as the student named it
    assert "Send a list of the letters you pick" in detail["unreadable"][LEARN]
    as_list = course.submit(aid, headers, {MOST: [right]})  # (the ids this student may use: their own letters)
    assert as_list.status_code == 422 and "among a, b, c" in as_list.json()["detail"]["unreadable"][MOST]
    previewed = client.post(
        f"{course.path}/assignments/{aid}/preview", json={"answers": {MOST: right}}, headers=headers
    ).json()
    assert previewed["parts"][MOST]["read_as"] == right and previewed["ready"] is True
    stored = course.submit(aid, headers, {MOST: right})
    assert stored.status_code == 201 and stored.json()["parts"][MOST]["status"] == "correct"
    assert stored.json()["attempt"] == 1  # no refusal used an attempt


def test_a_timed_draft_in_the_students_letters_is_submitted_in_the_files(
    app: Any, client: TestClient, engine: Any
) -> None:
    course, aid = choice_course(client, engine, time_limit=10)
    base = f"{course.path}/assignments/{aid}"
    picked: dict[str, str] = {}  # student → the file's letter of the option their draft picks
    drafts: dict[str, tuple[str, dict[str, str]]] = {}  # student → their letter for it, and their headers
    ends: list[datetime] = []
    for index, (student, headers) in enumerate(course.students(6)):
        started = client.post(f"{base}/start", headers=headers)
        assert started.status_code == 200, started.text
        ends.append(datetime.fromisoformat(started.json()["ends_at"].replace("Z", "+00:00")))
        letters = _own_letters(course, aid, headers)  # (the questions are shown once started)
        text, picked[student] = (RIGHT, "a") if index % 2 == 0 else (POOLING, "b")
        drafts[student] = (letters[text], headers)
        saved = client.put(f"{base}/draft", json={"answers": {MOST: letters[text]}}, headers=headers)
        assert saved.status_code == 200, saved.text
        assert client.get(f"{base}/draft", headers=headers).json()["answers"] == {MOST: letters[text]}
    sweep(app.state.time_keeper.time_up, now=max(ends) + timedelta(seconds=5))
    listed = client.get(f"{base}/submissions", headers=course.instructor).json()
    assert {s["student"]: s["answers"][MOST] for s in listed} == picked  # stored in the file's letters
    for submission in listed:
        status = "correct" if picked[submission["student"]] == "a" else "incorrect"
        assert submission["parts"][MOST]["status"] == status
    for own, headers in drafts.values():  # each student reads the attempt made for them in their own letters
        (theirs,) = client.get(f"{base}/submissions", headers=headers).json()
        assert (theirs["answers"][MOST], theirs["parts"][MOST]["read_as"]) == (own, own)
