"""Question pools and shuffling in set files: each refusal at its line; a student's draw stable,
their own, keyed by the secret, every problem drawn by some student; numbers kept whichever
problems are drawn; the points of a draw the same for every student."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from problems.issues import SetFileError
from problems.loader import load_set, parse_set
from problems.variants import variant_key

EXAMPLE = Path(__file__).parents[2] / "examples" / "pooled-quiz.yaml"
#: A fixed roster: the statistical checks below are deterministic.
STUDENTS = [f"student-{i:03d}" for i in range(200)]


def _prose(problem_id: str, points: int = 1, indent: str = "        ") -> str:
    return (
        f"{indent}- id: {problem_id}\n"
        f"{indent}  type: prose\n"
        f"{indent}  parts:\n"
        f"{indent}    - {{key: x, answer: text, points: {points}}}\n"
    )


def _set(pool: str, *, shuffle: bool = False, before: str = "") -> str:
    return (
        "id: pools\ntitle: Pools\n"
        + ("shuffle: true\n" if shuffle else "")
        + "problems:\n"
        + _prose("first", indent="  ")
        + before
        + pool
    )


def _pool(choose: object, members: str) -> str:
    return f"  - pool:\n      choose: {choose}\n      problems:\n{members}"


GOOD = _set(_pool(2, _prose("a") + _prose("b") + _prose("c")))


def _issues(text: str) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(SetFileError) as refused:
        parse_set(text, "pools.yaml")
    return [(issue.line, issue.field, issue.message) for issue in refused.value.issues]


def test_a_pool_is_read_with_its_problems_in_the_set() -> None:
    problem_set = parse_set(GOOD)
    assert problem_set.answer_keys() == ["first.x", "a.x", "b.x", "c.x"]
    assert [(pool.choose, pool.members) for pool in problem_set.pools] == [(2, (1, 2, 3))]
    assert problem_set.max_score() == 3.0  # first, and 2 of the pool's 1-point problems


def test_a_pool_choosing_more_than_it_holds_is_refused_at_its_choose() -> None:
    [(line, field, message)] = _issues(_set(_pool(3, _prose("a") + _prose("b"))))
    assert (line, field) == (9, "pool.choose")
    assert message == "choose is 3, but the pool holds 2 problems"


@pytest.mark.parametrize("choose", [0, -1])
def test_a_pool_choosing_none_is_refused(choose: int) -> None:
    [(line, field, message)] = _issues(_set(_pool(choose, _prose("a"))))
    assert (line, field) == (9, "pool.choose")
    assert message.startswith(f"choose is {choose}: a pool gives each student at least 1")


def test_an_empty_pool_is_refused_at_its_problems() -> None:
    [(line, field, message)] = _issues(_set("  - pool:\n      choose: 1\n      problems: []\n"))
    assert (line, field) == (10, "pool.problems")
    assert message == "an empty pool: list the problems it draws from"


def test_a_pool_without_choose_is_refused() -> None:
    [(line, field, message)] = _issues(_set("  - pool:\n      problems:\n" + _prose("a")))
    assert (line, field, message) == (9, "choose", "Field required")  # at the pool's mapping


def test_a_pool_inside_a_pool_is_refused_at_the_inner_pool() -> None:
    inner = "        - pool: {choose: 1, problems: []}\n"
    [(line, field, message)] = _issues(_set(_pool(1, _prose("a") + inner)))
    assert (line, field) == (15, "pool.problems.1.pool")
    assert message == "a pool inside a pool: a pool holds problems only"


def test_a_pool_entry_with_other_fields_is_refused() -> None:
    text = _set(_pool(1, _prose("a"))).replace("  - pool:\n", "  - title: Pooled\n    pool:\n", 1)
    [(line, field, message)] = _issues(text)
    assert (line, field) == (8, "title")
    assert message == "a pool entry holds only `pool` (move 'title' into one of its problems)"


def test_a_problem_id_in_two_pools_is_refused_at_both() -> None:
    text = _set(_pool(1, _prose("a") + _prose("b")) + _pool(1, _prose("c") + _prose("a").replace("x,", "y,")))
    issues = _issues(text)
    assert [(line, field) for line, field, _ in issues] == [(11, "id"), (26, "id")]
    assert all("the id 'a' is used by another problem of the set" in message for _, _, message in issues)


def test_a_pool_problem_sharing_an_id_with_a_problem_outside_is_refused() -> None:
    [(line, field, message)] = _issues(_set(_pool(1, _prose("first") + _prose("b"))))
    assert (line, field) == (11, "id")
    assert "'first' is used by another problem" in message


def test_a_pool_of_problems_worth_different_points_is_refused_at_the_one_that_differs() -> None:
    [(line, field, message)] = _issues(_set(_pool(1, _prose("a") + _prose("b", points=3))))
    assert (line, field) == (18, "parts")
    assert message.startswith("worth 3 points, but 'a' of the same pool is worth 1")


def test_a_part_building_on_a_part_of_a_pooled_problem_is_refused_at_its_quantity() -> None:
    network = (
        "  - id: {id}\n    type: network\n    input: [8, 8, 3]\n"
        "    layers: [{{kind: conv, name: c, out_channels: 4, kernel: 3}}]\n"
        "    parts:\n      - {{key: p, quantity: params.c}}\n"
    )
    pooled = _pool(1, network.format(id="a").replace("\n  ", "\n        ").replace("  - id", "        - id", 1))
    later = "  - id: total\n    type: prose\n    parts:\n      - {key: t, answer: text}\n"
    text = _set(pooled) + network.format(id="b").replace("quantity: params.c}", "quantity: {sum: ['@a.p', 1]}}")
    [(line, field, message)] = _issues(text + later)
    assert (line, field) == (22, "parts.0.quantity")
    assert message.startswith("builds on 'a.p', a part of a problem of a pool: a student who did not draw 'a'")


def test_an_issue_inside_a_pooled_problem_is_placed_at_its_line() -> None:
    text = _set(_pool(1, _prose("a") + _prose("b").replace("answer: text", "answer: text, pointz: 2")))
    [(line, field, message)] = _issues(text)
    assert (line, field) == (18, "parts.0.pointz")
    assert "Extra inputs are not permitted" in message


def _drawn(problem_set, student: str, secret: str = "secret-1") -> list[str]:
    return [problem.id for problem in problem_set.drawn(variant_key(student=student, secret=secret)).problems]


def test_a_students_draw_is_the_same_every_time_and_keeps_what_is_outside_the_pools() -> None:
    problem_set = parse_set(GOOD)
    again = parse_set(GOOD)  # another reading of the file: nothing kept between draws
    for student in STUDENTS[:20]:
        mine = _drawn(problem_set, student)
        assert mine == _drawn(again, student) == _drawn(problem_set, student)
        assert mine[0] == "first" and len(mine) == 3 and set(mine[1:]) <= {"a", "b", "c"}
        assert mine == sorted(mine, key=["first", "a", "b", "c"].index)  # without shuffle: the file's order


def test_draws_differ_across_students_and_every_problem_is_drawn() -> None:
    problem_set = load_set(EXAMPLE)
    draws = [tuple(sorted(_drawn(problem_set, student))) for student in STUDENTS]
    counts = Counter(problem for draw in draws for problem in draw)
    assert counts["intro"] == len(STUDENTS)
    pooled = {"max2", "max3", "avg2"}, {"s1", "s2", "s3", "s4"}
    assert all(
        sum(counts[p] for p in pool) == len(STUDENTS) * choose for pool, choose in zip(pooled, (1, 2), strict=True)
    )
    # every problem is drawn, each near its share (1 in 3; 2 in 4): never under half of it
    assert all(counts[p] > len(STUDENTS) / 3 / 2 for p in pooled[0])
    assert all(counts[p] > len(STUDENTS) / 2 / 2 for p in pooled[1])
    assert len(set(draws)) == 3 * 6  # every combination of the two pools is someone's


def test_the_draw_is_keyed_by_the_secret_not_the_student_id_alone() -> None:
    problem_set = load_set(EXAMPLE)
    one = [_drawn(problem_set, student, "secret-1") for student in STUDENTS[:40]]
    other = [_drawn(problem_set, student, "secret-2") for student in STUDENTS[:40]]
    by_id = [[p.id for p in problem_set.drawn(student).problems] for student in STUDENTS[:40]]
    assert one != other and one != by_id
    assert (
        sum(a != b for a, b in zip(one, other, strict=True)) > 20
    )  # most students draw otherwise under another secret


def test_shuffle_orders_each_students_problems_stably_and_differently() -> None:
    problem_set = parse_set(_set(_pool(2, _prose("a") + _prose("b") + _prose("c")), shuffle=True))
    orders = [_drawn(problem_set, student) for student in STUDENTS[:60]]
    assert orders == [_drawn(problem_set, student) for student in STUDENTS[:60]]
    assert all(len(order) == 3 and "first" in order for order in orders)
    assert len({order.index("first") for order in orders}) == 3  # first is not always first
    assert len({tuple(order) for order in orders}) > 6


def test_a_drawn_problem_keeps_the_numbers_the_whole_set_draws_for_it() -> None:
    problem_set = load_set(EXAMPLE)
    for student in STUDENTS[:5]:
        key = variant_key(student=student, secret="secret-1")
        mine = problem_set.drawn(key)
        whole = problem_set.solve(key)
        for answer_key, answer in mine.solve(key).items():
            assert str(answer.value) == str(whole[answer_key].value)
        assert mine.max_score() == problem_set.max_score() == 5.0
        assert set(mine.answer_keys()) < set(problem_set.answer_keys())


def test_staff_view_of_the_set_and_a_set_without_pools_are_the_whole_set() -> None:
    problem_set = load_set(EXAMPLE)
    assert problem_set.drawn(None) is problem_set
    plain = parse_set(_set(_prose("a", indent="  ")))
    assert not plain.draws_problems and plain.drawn("v:1") is plain
