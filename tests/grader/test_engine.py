"""Grading a submission: statuses, tolerances, partial credit, feedback that points at the
error without giving the answer away, error carried forward, and nothing raised."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.engine import grade_submission, preview_submission
from grader.results import GradedPart, Status
from problems import sets
from problems.loader import BUILT_IN, load_bank, load_set, parse_set
from problems.render import to_json

BANK = load_bank()


def graded(set_id: str, answers: dict[str, Any], student: str | None = None) -> dict[str, GradedPart]:
    return grade_submission(BANK[set_id], answers, student=student).parts


# -- statuses and totals ----------------------------------------------------------------------


def test_missing_answers_are_unanswered_and_unknown_keys_are_reported() -> None:
    result = grade_submission(BANK["rgb-convolution"], {"q7.shape": "126x126x16", "q99.shape": "1x1x1"})
    assert result.parts["q7.shape"].status is Status.CORRECT
    assert result.parts["q8.shape"].status is Status.UNANSWERED
    assert result.unknown_keys == ("q99.shape",)
    assert (result.score, result.max_score) == (1.0, 10.0)


def test_an_unreadable_answer_is_invalid_scores_zero_and_says_what_form_is_expected() -> None:
    part = graded("rgb-convolution", {"q9.params": "a few hundred"})["q9.params"]
    assert (part.status, part.score) == (Status.INVALID, 0.0)
    assert "Write a whole number, like 2432" in part.feedback


def test_blank_answers_are_unanswered_not_invalid() -> None:
    parts = graded("rgb-convolution", {"q9.params": "   ", "q9.filters": None})
    assert parts["q9.params"].status is parts["q9.filters"].status is Status.UNANSWERED


# -- numbers: exact counts, tolerant reals, percentages ---------------------------------------


def test_counts_are_exact_and_a_near_miss_says_so() -> None:
    right, near = 2432, 2433  # t1g.conv1: (5·5·3 + 1)·32
    assert graded("cifar-convnet", {"t1g.conv1": right})["t1g.conv1"].status is Status.CORRECT
    part = graded("cifar-convnet", {"t1g.conv1": near})["t1g.conv1"]
    assert part.status is Status.INCORRECT
    assert "Close, but not exact" in part.feedback


def test_a_percentage_is_graded_with_the_tolerance_it_shows() -> None:
    # 1 − 9792/204800 = 95.21…%: three significant figures are enough
    part = graded("mobilenet-yolo", {"q1c.param_reduction2": "95.2%"})["q1c.param_reduction2"]
    assert part.status is Status.CORRECT
    assert part.tolerance == "±0.5% relative or ±1e-09 absolute"
    wrong = graded("mobilenet-yolo", {"q1c.param_reduction2": "90%"})["q1c.param_reduction2"]
    assert wrong.status is Status.INCORRECT


#: Parts computed from counts: 308 and 3,300 parameters (3·3·3·11 + 11, 3·3·11·33 + 33), and what
#: follows from them.
DERIVED = """\
id: derived-exact
title: Parts computed from counts
problems:
  - id: q1
    title: Two layers
    type: network
    input: [32, 32, 3]
    layers:
      - {kind: conv, name: c1, out_channels: 11, kernel: 3}
      - {kind: conv, name: c2, out_channels: 33, kernel: 3}
    parts:
      - {key: p1, quantity: params.c1}
      - {key: p2, quantity: params.c2}
      - {key: prod, quantity: {product: [{ratio: ["@q1.p2", 100]}, 11]}}
      - {key: per, quantity: {ratio: ["@q1.p2", "@q1.p1"]}}
      - {key: rounded, quantity: {ratio: ["@q1.p2", "@q1.p1"]}, tolerance: {rel: 0.001}}
      - {key: saved, quantity: {reduction: ["@q1.p2", "@q1.p1"]}}
"""


@pytest.mark.parametrize(
    ("key", "answer", "status"),
    [
        # 3300/100·11 = 363 exactly: 364, within ±0.5%, is not it
        ("q1.prod", "363", Status.CORRECT),
        ("q1.prod", "364", Status.INCORRECT),
        # 3300/308 = 75/7: exact as a fraction, as arithmetic, or as the reference's own printout
        ("q1.per", "75/7", Status.CORRECT),
        ("q1.per", "3300/308", Status.CORRECT),
        ("q1.per", 75 / 7, Status.CORRECT),
        ("q1.per", "10.71", Status.INCORRECT),
        # rounding is accepted where the author wrote a tolerance
        ("q1.rounded", "10.71", Status.CORRECT),
        # 100·(1 − 308/3300) = 90.666…%: 90.67% is rounded
        ("q1.saved", "(1 - 308/3300)*100%", Status.CORRECT),
        ("q1.saved", "90.67%", Status.INCORRECT),
    ],
)
def test_a_part_computed_from_counts_is_exact_unless_it_gives_a_tolerance(
    key: str, answer: object, status: Status
) -> None:
    part = grade_submission(parse_set(DERIVED), {key: answer}).parts[key]
    assert part.status is status, part
    assert part.tolerance == ("±0.1% relative" if key == "q1.rounded" else "exact")
    if status is Status.INCORRECT:
        assert part.feedback.startswith(
            "Close, but not exact" if key == "q1.prod" else "Close, but this answer is exact"
        )


# -- matrices: the shape first, then element by element ---------------------------------------


def test_a_matrix_of_the_wrong_size_says_so_without_giving_the_size() -> None:
    part = graded("fc-vs-conv", {"p3.transposed": "[[1, 2], [3, 4]]"})["p3.transposed"]
    assert part.status is Status.INCORRECT
    assert part.feedback.startswith("Your answer is 2×2, which is not the size of the output")
    assert "6×6" not in part.feedback  # the size may be a question of its own


def test_matrices_earn_per_element_credit_and_feedback_names_the_positions() -> None:
    right = to_json(*_reference("fc-vs-conv", "p3.conv"))
    wrong = [row[:] for row in right]
    wrong[1][1] += 1
    part = graded("fc-vs-conv", {"p3.conv": wrong})["p3.conv"]
    assert (part.status, part.score) == (Status.PARTIAL, 0.75)
    # where to look, and nothing of the right values
    assert part.feedback == "3 of 4 elements are right; check (row, column) (2, 2)."


def test_a_part_without_partial_credit_is_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "strict.yaml"
    path.write_text(
        "id: strict\ntitle: Strict\nproblems:\n  - id: a\n    title: A\n    type: conv2d\n"
        "    input: [[1, 2], [3, 4]]\n    kernel: [[1]]\n"
        "    parts: [{key: out, quantity: output, partial: false}]\n"
    )
    part = grade_submission(load_set(path), {"a.out": [[1, 2], [3, 5]]}).parts["a.out"]
    assert (part.status, part.score) == (Status.INCORRECT, 0.0)


# -- shapes in the part's layout --------------------------------------------------------------


def test_shape_feedback_says_which_sizes_are_right() -> None:
    part = graded("rgb-convolution", {"q7.shape": "126x126x15"})["q7.shape"]
    assert part.feedback == "The height and width are right, but not the channel count."


def test_lists_of_shapes_earn_per_item_credit() -> None:
    # ex4: the last pooling (2×2, stride 2, pad 1) of 10×10 gives 6×6, not 5×5
    answer = "10x10x40; 10x10x40; 10x10x40; 10x10x20; 10x10x20; 5x5x20"
    part = graded("conv-pool-basics", {"ex4.shapes": answer})["ex4.shapes"]
    assert part.status is Status.PARTIAL
    assert part.score == pytest.approx(5 / 6, abs=1e-6)
    assert "check number 6" in part.feedback


# -- error carried forward ------------------------------------------------------------------


def test_a_later_shape_right_for_the_students_own_earlier_shape_earns_follow_through() -> None:
    """q1b: 128 → 5×5 conv, stride 2, pad 2 gives 64; a student who rounds up writes 65, and then
    (65 + 4 − 5)/2 + 1 = 33 and (33 + 4 − 5)/2 + 1 = 17 follow from it."""
    parts = graded("mobilenet-yolo", {"q1b.shape1": "65x65x64", "q1b.shape2": "33x33x128", "q1b.shape3": "17x17x256"})
    assert parts["q1b.shape1"].status is Status.INCORRECT
    for key, earlier in (("q1b.shape2", "q1b.shape1"), ("q1b.shape3", "q1b.shape2")):
        assert parts[key].follow_through, key
        assert parts[key].status is Status.CORRECT
        assert earlier in parts[key].feedback


def test_a_total_of_the_students_own_wrong_terms_earns_follow_through() -> None:
    hidden_without_bias = 150528 * 75264
    parts = graded("fc-vs-conv", {"p2a.hidden_params": hidden_without_bias, "p2a.output_params": 7526500,
                                  "p2a.total": hidden_without_bias + 7526500})  # fmt: skip
    assert parts["p2a.hidden_params"].misconception == "bias-omitted"
    assert parts["p2a.total"].follow_through
    assert parts["p2a.total"].status is Status.CORRECT


def test_no_follow_through_when_the_later_answer_follows_from_nothing_the_student_wrote() -> None:
    parts = graded("fc-vs-conv", {"p2a.hidden_params": 123, "p2a.output_params": 7526500, "p2a.total": 999})
    assert not parts["p2a.total"].follow_through
    assert parts["p2a.total"].status is Status.INCORRECT


def test_the_same_earlier_answers_are_followed_through_once_and_the_memo_stays_bounded(monkeypatch) -> None:
    """A class repeats its wrong earlier answers: following them through is solved once per set
    variant (the same verdicts after), and the memo keeps at most FOLLOWED_KEPT of them."""
    # a version of its own (the engine keeps a reference per set version): a memo of its own, empty
    text = (BUILT_IN / "mobilenet-yolo.yaml").read_text(encoding="utf-8") + "\n# followed through once\n"
    problem_set = parse_set(text, "memo.yaml")
    solved: list[str] = []
    follow = sets.ProblemSet._follow_through

    def counted(self: sets.ProblemSet, chosen: sets.ProblemSet, key: str, *rest: Any) -> Any:
        solved.extend([key] if self is problem_set else [])
        return follow(self, chosen, key, *rest)

    monkeypatch.setattr(sets.ProblemSet, "_follow_through", counted)
    answers = {"q1b.shape1": "65x65x64", "q1b.shape2": "33x33x128", "q1b.shape3": "17x17x256"}
    first, again = (grade_submission(problem_set, answers).parts for _ in range(2))
    assert first == again and first["q1b.shape3"].follow_through
    assert sorted(solved) == ["q1b.shape2", "q1b.shape3"]  # each once, not once per submission
    monkeypatch.setattr(sets, "FOLLOWED_KEPT", 3)
    for side in range(60, 66):
        grade_submission(problem_set, {"q1b.shape1": f"{side}x{side}x64", "q1b.shape2": "33x33x128"})
    assert len(problem_set._followed) == 3


_SHAPES = st.sampled_from([None, "", "64x64x64", "65x65x64", "63x63x64", "32x32x128", "33x33x128", "34x34x128",
                           "16x16x256", "17x17x256", "18x18x256", "idk"])  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_SHAPES, _SHAPES, _SHAPES), min_size=2, max_size=12))
def test_a_remembered_follow_through_grade_is_the_grade(submissions: list[tuple[str | None, ...]]) -> None:
    """A part that builds on earlier ones is remembered by its answer and theirs (its earlier
    parts' own follow-through included): a class's submissions graded one after another, from the
    cache, grade each as a process that has never seen another would."""
    assert_graded_in_turn_as_fresh("mobilenet-yolo", ("q1b.shape1", "q1b.shape2", "q1b.shape3"), submissions)


def assert_graded_in_turn_as_fresh(set_id: str, keys: tuple[str, ...], submissions: list[tuple[Any, ...]]) -> None:
    """The submissions (answers to ``keys``, None for none) graded one after another, from the
    cache, grade as each would in a process that has seen no other."""
    from grader.comparison.reference import reference_for

    sent = [{k: v for k, v in zip(keys, answers, strict=True) if v is not None} for answers in submissions]
    in_turn = [grade_submission(BANK[set_id], answers).parts for answers in sent]
    fresh = []
    for answers in sent:
        reference_for(BANK[set_id], None).forget()
        fresh.append(grade_submission(BANK[set_id], answers).parts)
    assert in_turn == fresh


_HIDDEN, _OUTPUT, _TOTAL = 11329414656, 7526500, 11336941156  # fc-vs-conv's p2a, with biases
_TERMS = st.sampled_from([None, "", "idk", _HIDDEN, str(_HIDDEN), 150528 * 75264, _HIDDEN + 1])
_OUTPUTS = st.sampled_from([None, _OUTPUT, 7526400, "7,526,500", "lots"])
_TOTALS = st.sampled_from([None, "  ", "idk", _TOTAL, f"~{_TOTAL}", 150528 * 75264 + _OUTPUT, _TOTAL + 1,
                           _HIDDEN + 1 + _OUTPUT, 150528 * 75264 + 7526400, 1.5])  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_TERMS, _OUTPUTS, _TOTALS), min_size=2, max_size=16))
def test_a_remembered_total_is_the_grade_whatever_its_terms(submissions: list[tuple[Any, ...]]) -> None:
    """A total is remembered by itself where its grade never looked at the terms it follows (no
    answer, an unreadable one, a right one) and with the wrong terms where it did: graded one
    after another from the cache, each submission grades as in a process that saw no other."""
    assert_graded_in_turn_as_fresh("fc-vs-conv", ("p2a.hidden_params", "p2a.output_params", "p2a.total"), submissions)


def test_a_right_total_after_wrong_terms_is_graded_once_whatever_the_terms(monkeypatch) -> None:
    """A class's right total comes after every combination of wrong terms: it is compared once,
    then recalled, not graded again for each combination; a wrong total is graded per combination
    (its credit follows the terms)."""
    import grader.engine as engine

    # a version of its own (the engine keeps its cache per set version): a cache of its own, empty
    text = (BUILT_IN / "fc-vs-conv.yaml").read_text(encoding="utf-8") + "\n# graded once\n"
    problem_set = parse_set(text, "once.yaml")
    compared: list[str] = []
    budgeted = engine._budgeted

    def counted(key: str, *rest: Any) -> GradedPart:
        compared.extend([key] if key == "p2a.total" else [])
        return budgeted(key, *rest)

    monkeypatch.setattr(engine, "_budgeted", counted)
    for hidden in range(_HIDDEN + 1, _HIDDEN + 21):
        part = grade_submission(problem_set, {"p2a.hidden_params": hidden, "p2a.total": _TOTAL}).parts["p2a.total"]
        assert (part.status, part.follow_through) == (Status.CORRECT, False)
    assert compared == ["p2a.total"]
    for hidden in range(_HIDDEN + 1, _HIDDEN + 4):
        part = grade_submission(problem_set, {"p2a.hidden_params": hidden, "p2a.total": hidden}).parts["p2a.total"]
        assert part.status is Status.INCORRECT  # the output layer's parameters left out of it
    assert len(compared) == 4


# -- randomized variants ----------------------------------------------------------------------


@pytest.mark.parametrize("student", ["ada", "grace"])
def test_each_student_is_graded_against_their_own_variant(student: str) -> None:
    mine = {k: to_json(a.kind, a.value) for k, a in BANK["conv-arithmetic"].solve(student).items()}
    assert grade_submission(BANK["conv-arithmetic"], mine, student=student).score == sum(
        p.points for p in BANK["conv-arithmetic"].parts().values()
    )
    other = "grace" if student == "ada" else "ada"
    assert grade_submission(BANK["conv-arithmetic"], mine, student=other).score < len(mine)


# -- preview ----------------------------------------------------------------------------------


def test_preview_shows_how_each_answer_was_read_without_grading() -> None:
    previews, unknown = preview_submission(BANK["rgb-convolution"], {"q7.shape": "(126, 126, 16)", "q8.shape": "?"})
    assert previews["q7.shape"].read_as == "126 × 126 × 16"
    assert not previews["q8.shape"].readable and "Write the shape as H × W × C" in (previews["q8.shape"].reason or "")
    assert not previews["q9.params"].answered
    assert unknown == ()


# -- nothing raises ---------------------------------------------------------------------------

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(BANK)), st.data())
def test_any_json_answer_to_any_key_is_graded_without_raising(set_id: str, data: st.DataObject) -> None:
    keys = BANK[set_id].answer_keys()
    answers = {key: data.draw(ANY_JSON) for key in data.draw(st.lists(st.sampled_from(keys), max_size=4))}
    result = grade_submission(BANK[set_id], answers, student="prop")
    assert set(result.parts) == set(keys)
    assert 0 <= result.score <= result.max_score


def _reference(set_id: str, key: str) -> tuple[Any, Any]:
    answer = BANK[set_id].solve()[key]
    return answer.kind, answer.value


def test_grading_from_many_threads_while_the_reference_cache_evicts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service grades in a thread pool: with a cache of two variants and ten students, lookups
    and evictions interleave constantly, and every grade must still come out right. (The race the
    cache's lock closes, a lookup between an eviction's steps, is too narrow to force here.)"""
    from concurrent.futures import ThreadPoolExecutor

    from grader.comparison import reference

    monkeypatch.setattr(reference, "CACHE_SIZE", 2)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up
    problem_set = BANK["conv-arithmetic"]
    students = [f"t{i}" for i in range(10)]
    right = {s: {k: to_json(a.kind, a.value) for k, a in problem_set.solve(s).items()} for s in students}
    full = sum(p.points for p in problem_set.parts().values())

    def grade_one(index: int) -> float:
        student = students[index % len(students)]
        return grade_submission(problem_set, right[student], student=student).score

    try:
        with ThreadPoolExecutor(8) as pool:
            scores = list(pool.map(grade_one, range(400)))
    finally:
        sys.setswitchinterval(interval)
    assert scores == [full] * 400


_NUMBERS = st.one_of(
    st.integers(-20, 20), st.floats(-20, 20, allow_nan=False).map(lambda x: round(x, 2)), st.booleans()
)


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from(["q1.output", "q11.R", "q7.shape"]),
    answer=st.one_of(
        st.lists(st.lists(_NUMBERS, min_size=1, max_size=4), min_size=1, max_size=4),
        st.lists(_NUMBERS, min_size=1, max_size=4),
    ),
)
def test_a_remembered_grade_is_the_grade(key: str, answer: list[Any]) -> None:
    """Grades of list answers (matrices, shapes sent as JSON) are remembered per set variant, keyed
    by their JSON text: grading the answer again, from the cache, and grading it in a process that
    has never seen it must agree, for values that differ only in type too (1, 1.0, true)."""
    from grader.comparison.reference import reference_for

    problem_set = BANK["rgb-convolution"]
    first = graded("rgb-convolution", {key: answer})[key]
    again = graded("rgb-convolution", {key: answer})[key]
    reference_for(problem_set, None).forget()
    fresh = graded("rgb-convolution", {key: answer})[key]
    assert first == again == fresh


@pytest.mark.parametrize("key", ["q1.output", "q7.shape"])
def test_list_answers_equal_in_python_but_not_in_json_are_remembered_apart(key: str) -> None:
    """``[1, 0] == [True, False] == [1.0, 0.0]`` in Python; a cache keyed on the values would give
    the second the first's grade."""
    from grader.comparison.reference import reference_for

    variants = [[[1, 0], [0, 1]], [[True, False], [False, True]], [[1.0, 0.0], [0.0, 1.0]]]
    if key == "q7.shape":
        variants = [row[0] + row[1] for row in variants]
    problem_set = BANK["rgb-convolution"]
    cached = [graded("rgb-convolution", {key: answer})[key] for answer in variants]
    fresh = []
    for answer in variants:
        reference_for(problem_set, None).forget()
        fresh.append(graded("rgb-convolution", {key: answer})[key])
    assert cached == fresh


# -- a bug in grading is not an unreadable answer -------------------------------------------------


def test_a_part_whose_grading_raises_is_logged_and_told_apart_from_an_unreadable_one(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import grader.engine

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug in a comparison")

    monkeypatch.setattr(grader.engine, "compare", broken)
    problem_set = load_bank()["conv-pool-basics"]
    with caplog.at_level(logging.ERROR, logger="grader.engine"):
        # answers no other test grades, so that no remembered grade stands in for the comparison
        graded = grade_submission(problem_set, {"ex4.conv1_params": "3642", "ex5.params": "1 +"})
    assert graded.failed == ("ex4.conv1_params",)
    assert graded.unreadable == ["ex5.params"]
    assert graded.parts["ex4.conv1_params"].status is Status.INVALID
    failures = [r for r in caplog.records if r.name == "grader.engine"]
    assert len(failures) == 1 and "ex4.conv1_params" in failures[0].getMessage()
    assert failures[0].exc_info is not None and "a bug in a comparison" in str(failures[0].exc_info[1])
    previewed = graded.previewed()
    assert previewed["ex4.conv1_params"].readable and not previewed["ex5.params"].readable
    assert previewed["ex5.params"].reason == graded.parts["ex5.params"].feedback


def test_previewed_grades_say_what_preview_says() -> None:
    """The refusal of a submission explains itself from its grades; they agree with a fresh preview."""
    problem_set = load_bank()["conv-pool-basics"]
    answers = {"ex4.conv1_params": "3,640", "ex4.conv2_params": "[1, 2", "ex5.params": "1800"}
    previewed = grade_submission(problem_set, answers).previewed()
    fresh, _ = preview_submission(problem_set, answers)
    assert previewed == fresh


def test_graded_and_previewed_parts_come_in_the_order_of_the_file() -> None:
    """A total written before the terms it sums is solved after them, but listed where it was written."""
    problem_set = parse_set(
        "id: forward\ntitle: Forward\nproblems:\n  - id: q1\n    type: network\n    input: [32, 32, 3]\n"
        "    layers: [{kind: conv, name: c1, out_channels: 8, kernel: 3}]\n    parts:\n"
        '      - {key: total, quantity: {sum: ["@q1.a", 1]}}\n      - {key: a, quantity: params.c1}\n'
    )
    assert list(grade_submission(problem_set, {"q1.a": "224"}).parts) == ["q1.total", "q1.a"]
    assert list(preview_submission(problem_set, {})[0]) == ["q1.total", "q1.a"]
