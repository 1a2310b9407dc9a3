"""Code parts in a set file: read into the set (keys, points, runtime with the problem's packages), and
every wrong field refused at its line with a sentence: an unknown kind, an unknown setting, shapes that
do not fit, points that do not add up, a code part outside a `type: code` problem, the budgets on
tests, and a package the sandbox does not know."""

from __future__ import annotations

from itertools import combinations
from typing import get_args

import pytest

from problems.code.parts import MAX_CALLS, MAX_ELEMENTS, MAX_TESTS
from problems.loader import SetFileError, load_bank, parse_set
from problems.types.code import Base, CodeProblem, Package
from sandbox import PACKAGES, RUNTIMES, runtime_name, runtime_parts

HEAD = """\
id: code-set
title: Code
problems:
  - id: conv
    type: code
    solution: |
      def conv_forward(x, w, b, stride=1, pad=0):
          return x
    parts:
      - key: forward
        code: conv.forward
"""


def _set(tail: str) -> str:
    return HEAD + tail


def _issues(text: str) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(SetFileError) as caught:
        parse_set(text)
    return [(issue.line, issue.field, issue.message) for issue in caught.value.issues]


def test_a_code_part_is_read_with_its_points_and_runtime() -> None:
    problem_set = parse_set(
        _set(
            """\
        points: 4
        tests:
          - {name: one, shapes: {x: [1, 3, 5, 5], w: [2, 3, 3, 3]}, pad: 1, points: 1}
          - {name: two, shapes: {x: [2, 3, 7, 7], w: [4, 3, 3, 3]}, stride: 2, visibility: hidden}
"""
        )
    )
    part = problem_set.code()["conv.forward"]
    assert (part.runtime, part.called, part.points, part.test_points()) == ("numpy", "conv_forward", 4.0, [1.0, 3.0])
    assert problem_set.answer_keys() == ["conv.forward"] and problem_set.max_score() == 4.0
    assert problem_set.parts() == {} and problem_set.solve() == {}


def test_without_points_a_part_is_worth_its_tests() -> None:
    problem_set = parse_set(
        _set(
            "        tests:\n          - {name: a, shapes: {x: [1, 1, 3, 3], w: [1, 1, 2, 2]}, points: 2}\n"
            "          - {name: b, shapes: {x: [1, 1, 3, 3], w: [1, 1, 2, 2]}}\n"
        )
    )
    assert problem_set.code()["conv.forward"].points == 3.0


@pytest.mark.parametrize(
    ("tail", "line", "field", "message"),
    [
        (
            "        tests:\n          - {name: a, shapes: {x: [1, 3, 5, 5], w: [2, 2, 3, 3]}}\n",
            13,
            "parts.0.tests.0.shapes.w",
            "the filters span 2 channels, the input has 3",
        ),
        (
            "        tests:\n          - {name: a, shapes: {x: [1, 3, 5, 5], w: [2, 3, 3, 3]}, strides: 2}\n",
            13,
            "parts.0.tests.0.strides",
            "conv.forward tests take no setting 'strides' (its settings: `stride`, `pad`): did you mean `stride`?",
        ),
        (
            "        tests:\n          - {name: a, shapes: {x: [1, 3, 5, 5]}}\n",
            13,
            "parts.0.tests.0.shapes",
            "conv.forward tests give the shape of 'w' (rank 4)",
        ),
        (
            "        tests:\n          - {name: a, shapes: {x: [1, 3, 2, 2], w: [2, 3, 3, 3]}}\n",
            13,
            "parts.0.tests.0.shapes.w",
            "a 3×3 kernel is larger than the padded 2×2 input",
        ),
        (
            "        points: 2\n        tests:\n"
            "          - {name: a, shapes: {x: [1, 1, 3, 3], w: [1, 1, 2, 2]}, points: 3}\n",
            12,
            "parts.0.points",
            "the tests' points add up to 3, not the part's 2",
        ),
    ],
)
def test_a_wrong_test_is_refused_at_its_line(tail: str, line: int, field: str, message: str) -> None:
    ((found_line, found_field, found_message),) = _issues(_set(tail))
    assert (found_field, found_message) == (field, message)
    assert found_line == line


def test_a_misspelt_field_of_a_test_is_refused_with_what_was_meant() -> None:
    tail = "        tests:\n          - {name: a, shapes: {x: [1, 1, 3, 3], w: [1, 1, 2, 2]}, visiblity: hidden}\n"
    ((_, field, message),) = _issues(_set(tail))
    assert field == "parts.0.tests.0.visiblity"
    assert message.endswith(": did you mean `visibility`?")


def test_an_unknown_kind_is_refused_naming_the_kinds() -> None:
    ((_, field, message),) = _issues(
        _set("        tests:\n          - {name: a}\n").replace("conv.forward", "conv.sideways")
    )
    assert field == "parts.0.code"
    assert message == "no reference kind 'conv.sideways'; the kinds are " + ", ".join(
        sorted(__import__("problems.code.kinds", fromlist=["KINDS"]).KINDS)
    )


def test_a_code_part_outside_a_code_problem_is_refused() -> None:
    text = _set("        tests:\n          - {name: a, shapes: {x: [1, 1, 3, 3], w: [1, 1, 2, 2]}}\n").replace(
        "    type: code\n    solution: |\n      def conv_forward(x, w, b, stride=1, pad=0):\n          return x\n",
        "    type: prose\n",
    )
    ((_, field, message),) = _issues(text)
    assert field == "parts.0.code"
    assert message.startswith("a code part belongs to a problem of `type: code`")


def test_the_budgets_on_tests_are_refused_with_the_budget_named() -> None:
    big = "        tests:\n          - {name: a, shapes: {x: [1, 1, 400, 400], w: [1, 1, 2, 2]}}\n"
    ((_, field, message),) = _issues(_set(big))
    assert field == "parts.0.tests.0.shapes.x"
    assert message == f"160,000 elements, over the budget for an input of a test ({MAX_ELEMENTS:,})"
    many = "        tests:\n" + "          - {name: a, shapes: {x: [1, 1, 3, 3], w: [1, 1, 2, 2]}}\n" * (MAX_TESTS + 1)
    ((_, field, message),) = _issues(_set(many))
    assert field == "parts.0.tests" and "at most 32 items" in message


def test_the_calls_of_a_whole_set_are_budgeted() -> None:
    one = "        tests:\n" + "          - {name: a, shapes: {x: [1, 1, 3, 3], w: [1, 1, 2, 2]}}\n" * MAX_TESTS
    parts = "".join(
        f"      - key: k{index}\n        code: conv.forward\n" + one for index in range(MAX_CALLS // MAX_TESTS + 1)
    )
    text = HEAD.split("      - key: forward")[0] + parts
    issues = _issues(text)
    assert len(issues) == 1
    assert issues[0][1] == f"parts.{MAX_CALLS // MAX_TESTS}.tests"
    budget = f"over the budget for the code tests of a set (the calls of one submission) ({MAX_CALLS})"
    assert issues[0][2] == f"{MAX_CALLS + MAX_TESTS} code tests, {budget}"


def test_a_torch_runtime_is_kept_and_the_built_in_set_loads() -> None:
    problem_set = parse_set(
        _set("        tests:\n          - {name: a, shapes: {x: [1, 1, 3, 3], w: [1, 1, 2, 2]}}\n").replace(
            "    type: code\n", "    type: code\n    runtime: torch\n"
        )
    )
    assert problem_set.code()["conv.forward"].runtime == "torch"
    bank = load_bank()["numpy-convolution"]
    assert list(bank.code()) == ["conv.forward", "conv.backward", "pool.forward", "pool.backward"]
    assert bank.max_score() == 20.0


def test_a_problems_packages_travel_with_its_parts_runtime() -> None:
    tests = "        tests:\n          - {name: a, shapes: {x: [1, 1, 3, 3], w: [1, 1, 2, 2]}}\n"
    with_packages = _set(tests).replace("    type: code\n", "    type: code\n    packages: [scipy]\n")
    assert parse_set(with_packages).code()["conv.forward"].runtime == "numpy+scipy"
    both = with_packages.replace("[scipy]", "[scipy, matplotlib]\n    runtime: torch")
    assert parse_set(both).code()["conv.forward"].runtime == "torch+matplotlib+scipy"  # sorted: one name per set


@pytest.mark.parametrize(
    ("packages", "field", "message"),
    [
        ("[requests]", "packages.0", "Input should be 'scipy' or 'matplotlib'"),
        ("[scipy, scipy]", "packages", "list each package once (scipy is listed more than once)"),
    ],
)
def test_a_package_the_sandbox_does_not_know_is_refused_at_its_line(packages: str, field: str, message: str) -> None:
    tests = "        tests:\n          - {name: a, shapes: {x: [1, 1, 3, 3], w: [1, 1, 2, 2]}}\n"
    text = _set(tests).replace("    type: code\n", f"    type: code\n    packages: {packages}\n")
    assert _issues(text) == [(6, field, message)]


def test_a_set_file_names_what_the_sandbox_knows_and_the_runtime_as_it_does() -> None:
    """problems names the runtimes and packages itself (a set file is checked without the sandbox)."""
    assert set(get_args(Base)) == set(RUNTIMES) and set(get_args(Package)) == set(PACKAGES)
    for base in RUNTIMES:
        for count in range(len(PACKAGES) + 1):
            for packages in combinations(reversed(PACKAGES), count):
                spec = CodeProblem(solution="x = 1", runtime=base, packages=packages)
                assert spec.sandbox_runtime == runtime_name(base, packages)
                assert runtime_parts(spec.sandbox_runtime) == (base, tuple(sorted(packages)))
