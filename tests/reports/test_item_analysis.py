"""An exam's item statistics against a hand computation: five students answer a small exam of three
choice problems through the API, and ``GET .../stats`` (and the statistics page) give each problem's
difficulty (mean score fraction) and discrimination (its correlation with the rest of the exam),
and each option's count, share and discrimination, as numpy's ``corrcoef`` and scipy's
``pointbiserialr`` compute them from the scores written out below, on both databases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import pointbiserialr

from api.reports.items import Response, correlation, option_items, problem_items

from factories import Course, make_instructor
from page_client import Browser

SET = """\
id: exam
title: A small exam
problems:
  - id: q1
    type: prose
    text: Pooling.
    parts:
      - key: pick
        points: 2
        shuffle: false
        choices:
          - {text: none, correct: true}
          - {text: one per channel}
          - {text: one per window}
  - id: q2
    type: prose
    text: Stride.
    parts:
      - key: pick
        shuffle: false
        choices:
          - {text: smaller, correct: true}
          - {text: larger}
  - id: q3
    type: prose
    text: Padding.
    parts:
      - key: pick
        shuffle: false
        choices:
          - {text: same, correct: true}
          - {text: valid}
"""

#: Each student's picks, and the scores they earn (q1 is worth 2, the others 1).
PICKS = [("a", "a", "a"), ("a", "b", "a"), ("b", "a", "b"), ("c", "b", "b"), ("a", "b", "a")]
Q1 = np.array([2.0, 2, 0, 0, 2])
Q2 = np.array([1.0, 0, 1, 0, 0])
Q3 = np.array([1.0, 1, 0, 0, 1])


@pytest.fixture(scope="module")
def exam(client, engine) -> tuple[Course, str]:
    course = Course(client, make_instructor(engine))
    uploaded = client.post(
        f"{course.path}/problem-sets",
        content=SET.encode(),
        headers={**course.instructor, "Content-Type": "application/yaml"},
    )
    assert uploaded.status_code == 201, uploaded.text
    assignment = course.assignment(problem_set="exam")
    for (_, headers), (one, two, three) in zip(course.students(len(PICKS)), PICKS, strict=True):
        sent = course.submit(assignment, headers, {"q1.pick": one, "q2.pick": two, "q3.pick": three})
        assert sent.status_code == 201, sent.text
    return course, assignment


def r(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x, y)[0, 1])


def test_each_problem_and_option_against_a_hand_computation(client, exam) -> None:
    course, assignment = exam
    answer = client.get(f"{course.path}/assignments/{assignment}/stats?attempts=counted", headers=course.instructor)
    assert answer.status_code == 200, answer.text
    stats = answer.json()
    total = Q1 + Q2 + Q3
    expected = {"q1": (Q1, 2.0), "q2": (Q2, 1.0), "q3": (Q3, 1.0)}
    for name, (scores, top) in expected.items():
        item = stats["problems"][name]
        assert item["responses"] == 5
        assert item["difficulty"] == pytest.approx(float(np.mean(scores / top)), abs=1e-6)
        assert item["discrimination"] == pytest.approx(r(scores, total - scores), abs=1e-6)
    # a problem scored right or wrong: the point-biserial correlation, as scipy has it
    assert stats["problems"]["q2"]["discrimination"] == pytest.approx(pointbiserialr(Q2 > 0, Q1 + Q3)[0], abs=1e-6)
    # q1's options: a right (3 of 5), b and c one each; picking one against the rest of the exam
    rest = total - Q1
    options = {o["option"]: o for o in stats["keys"]["q1.pick"]["options"]}
    for letter in "abc":
        picked = np.array([1.0 if picks[0] == letter else 0.0 for picks in PICKS])
        assert options[letter]["count"] == int(picked.sum())
        assert options[letter]["share"] == pytest.approx(picked.mean(), abs=1e-6)
        assert options[letter]["discrimination"] == pytest.approx(r(picked, rest), abs=1e-6)
    assert [o["correct"] for o in options.values()] == [True, False, False]
    assert (options["a"]["count"], options["b"]["count"], options["c"]["count"]) == (3, 1, 1)
    # the page shows them
    page = Browser(client.app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    shown = page.get(f"/courses/{course.id}/assignments/{assignment}/stats?attempts=counted")
    assert shown.status_code == 200
    assert "difficulty and discrimination" in shown.text
    assert f"{float(np.mean(Q1 / 2)):.2f}" in shown.text and f"{r(Q1, total - Q1):.2f}" in shown.text


def test_undefined_where_there_is_no_spread_or_too_few() -> None:
    assert correlation([1.0], [2.0]) is None
    assert correlation([1.0, 1.0, 1.0], [0.0, 1.0, 2.0]) is None  # everyone had it right
    same = [Response({"q1": (1.0, 1.0), "q2": (0.0, 1.0)}, {"q1.pick": frozenset("a")})] * 3
    assert problem_items(same)["q1"].discrimination is None and problem_items(same)["q1"].difficulty == 1.0
    (a, b) = option_items(same, "q1.pick", [("a", True), ("b", False)])
    assert (a.count, a.share, b.count, b.share, a.discrimination) == (3, 1.0, 0, 0.0, None)
    assert option_items([], "q1.pick", [("a", True)])[0].share is None
