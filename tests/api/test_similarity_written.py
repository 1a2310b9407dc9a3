"""Written answers in the similarity report, on both backends: among a class's honest answers to
one question (each in words of its own, most repeating the textbook's sentence, two quoting the
question), a paragraph copied between two students heads the ranking with the copied paragraph as
its passage; what the whole class writes and the question's own words weigh nothing; the pair is
shown side by side with its passage highlighted on both.

The answers are stored as submissions, as the service leaves them: the submit path is not what is
tested here."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.kit.db import writer

from factories import Course, finished_job, graded_row
from page_client import Browser

SET = "architectures-in-words"
PART = "w1.differences"
TEXTBOOK = (
    "ResNet adds the input of a block to its output, while DenseNet concatenates the feature maps of all earlier "
    "layers."
)
QUESTION = (
    "Explain the primary differences between ResNet's residual connections and DenseNet's dense connections, "
    "and give an advantage of each."
)
COPIED = (
    "Think of a residual block as a correction layer sitting on a highway: the signal rides the shortcut "
    "untouched and the block only learns a small nudge, which is why a hundred such blocks still train, "
    "whereas a dense block hoards every earlier map like a librarian who never throws a book away."
)
#: Each student's own words, a sentence per point, built from slots of different sizes (5, 7, 11,
#: 13), so that two students say a phrase alike now and then but never an answer.
OPENINGS = ("In my view", "Put simply", "Briefly", "To summarise", "Roughly speaking")
VERBS = ("sums", "combines", "merges", "joins", "mixes", "fuses", "blends")
OBJECTS = (
    "gradients",
    "errors",
    "updates",
    "signals",
    "derivatives",
    "losses",
    "deltas",
    "corrections",
    "adjustments",
    "partials",
    "slopes",
)
REASONS = (
    "parameter count",
    "memory cost",
    "model size",
    "weight budget",
    "layer width",
    "compute bill",
    "storage",
    "footprint",
    "training cost",
    "channel count",
    "filter total",
    "kernel tally",
    "bill",
)


def honest(i: int) -> str:
    """Student ``i``'s own answer (most repeat the textbook's sentence, as a class does)."""
    own = (
        f"{OPENINGS[i % 5]}, a residual shortcut {VERBS[i % 7]} the identity back in so {OBJECTS[i % 11]} "
        f"reach layer {i + 3} intact. Dense growth keeps the {REASONS[i % 13]} down, "
        f"since reused features cost student {i} less."
    )
    return f"{TEXTBOOK} {own}" if i % 4 else own


def _store(app: Any, course: Course, assignment: str, student: str, text: str) -> None:
    with Session(writer(app.state.engine)) as session, session.begin():
        version = app.state.library.built_in()[SET].version
        session.add(graded_row(course.id, assignment, student, {PART: text}, set_version=version, max_score=9.0))


@pytest.fixture(scope="module")
def written(app: Any, course: Course) -> dict[str, Any]:
    """Ten honest answers, two of which quote the question; two more carry the copied paragraph
    among words of their own."""
    students = [sid for sid, _ in course.students(12)]
    assignment = course.assignment(SET)
    texts = {student: honest(i) for i, student in enumerate(students[:10])}
    texts[students[0]] = f"{QUESTION} {texts[students[0]]}"
    texts[students[1]] = f"{QUESTION} {texts[students[1]]}"
    texts[students[10]] = f"{honest(10)} {COPIED}"
    texts[students[11]] = f"My answer: {COPIED} That is the gist, for student {11}."
    for student, text in texts.items():
        _store(app, course, assignment, student, text)
    path = f"{course.path}/assignments/{assignment}/similarity"
    started = course.client.post(path, json={}, headers=course.instructor)
    assert started.status_code == 202, started.text
    assert finished_job(course.client, started.json()["job"], course.instructor)["status"] == "done"
    report = course.client.get(path, headers=course.instructor)
    assert report.status_code == 200, report.text
    return {"assignment": assignment, "students": students, "texts": texts, "report": report.json()}


def test_a_copied_paragraph_heads_the_written_ranking(written: dict[str, Any]) -> None:
    report, students = written["report"], written["students"]
    copied = sorted(students[10:])
    assert PART in report["parts"] and report["students"] == 12
    best = report["pairs"][0]
    assert best["students"] == copied and best["parts"] == [PART]
    (part,) = best["written"]
    assert part["part"] == PART and part["score"] == best["score"] > 0.5
    (passage,) = part["passages"]
    assert COPIED.startswith(passage["text"].removesuffix("…")[:-1]) and len(passage["text"]) > 200
    first, second = (written["texts"][student] for student in copied)
    assert first[slice(*passage["first"])] == second[slice(*passage["second"])] == COPIED.removesuffix(".")
    honest_pairs = [pair for pair in report["pairs"] if pair["students"] != copied]
    assert all(pair["score"] < best["score"] / 2 for pair in honest_pairs)


def test_what_the_class_writes_and_the_question_weigh_nothing(written: dict[str, Any]) -> None:
    """The textbook's sentence (most of the class) and the question (two students quote it) are in
    no passage: the two who quote the question are no pair for it."""
    students = written["students"]
    passages = [p["text"] for pair in written["report"]["pairs"] for w in pair["written"] for p in w["passages"]]
    assert passages and not any("concatenates the feature maps" in text for text in passages)
    assert not any("residual connections and DenseNet" in text for text in passages)
    assert sorted(students[:2]) not in [pair["students"] for pair in written["report"]["pairs"]]


def test_the_pair_side_by_side_highlights_the_passage(app: Any, course: Course, written: dict[str, Any]) -> None:
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    first, second = sorted(written["students"][10:])
    path = f"/courses/{course.id}/assignments/{written['assignment']}/similarity"
    listed = staff.get(path)
    assert listed.status_code == 200 and "<q>Think of a residual block as a correction" in listed.text
    page = staff.get(f"{path}/compare", params={"first": first, "second": second})
    assert page.status_code == 200, page.text
    assert page.text.count('data-passage="1"') == 2 and f"Written answers to {PART}" in page.text
    assert "librarian who never throws a book away</mark>" in page.text
    csv = staff.get(f"{path}.csv")
    assert csv.status_code == 200 and "librarian" in csv.text.splitlines()[1]
    # (an assignment of written parts alone links to its report, under a name for code and words)
    assignment_page = staff.get(path.removesuffix("/similarity"))
    assert f'<a href="{path}">Similar work</a>' in assignment_page.text
