"""A set's code parts checked before students see them: tests that cannot catch and name a
built-in mistake refuse the set at the part's tests (``check_set``, pure), and a solution that fails
a test refuses it at that test (``check_solution``, through the real sandbox)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from grader.code import Run, check_solution, mutant_issues
from grader.selftest import check_set
from problems.loader import load_bank, parse_set
from sandbox import Call, CallResult, Sandbox
from tests.sandbox.probes import LIMITS, require_bwrap

BANK = load_bank()
SOLUTION = BANK["numpy-convolution"].solution_of("conv.forward")


def _set(tests: str, solution: str = SOLUTION) -> str:
    indented = "".join(f"      {line}\n" for line in solution.splitlines())
    return (
        "id: code-check\ntitle: Code\nproblems:\n  - id: conv\n    type: code\n    solution: |\n"
        + indented
        + "    parts:\n      - key: forward\n        code: conv.forward\n        tests:\n"
        + tests
    )


ENOUGH = (
    "          - {name: a, shapes: {x: [1, 3, 5, 5], w: [2, 3, 3, 3]}, pad: 1}\n"
    "          - {name: b, shapes: {x: [2, 3, 7, 7], w: [4, 3, 3, 3]}, stride: 2, pad: 1}\n"
    "          - {name: c, shapes: {x: [2, 2, 6, 6], w: [3, 2, 5, 5]}, pad: 2}\n"
)


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    require_bwrap()
    with Sandbox(LIMITS) as sandbox:
        sandbox.start()
        yield sandbox


def _run(box: Sandbox) -> Run:
    def run(runtime: str, source: str, calls: Sequence[Call]) -> list[CallResult]:
        return box.run(source, calls)

    return run


def test_tests_that_catch_every_mistake_pass() -> None:
    assert mutant_issues(parse_set(_set(ENOUGH))) == []
    assert check_set(BANK["numpy-convolution"]) == []


def test_tests_without_padding_cannot_catch_padding_mistakes() -> None:
    problem_set = parse_set(_set("          - {name: a, shapes: {x: [2, 3, 7, 7], w: [4, 3, 3, 3]}, stride: 2}\n"))
    issues = check_set(problem_set)
    named = {issue.message.split("'")[1] for issue in issues}
    assert named == {"padding-one-side", "padding-ignored"}
    tests_line = _set("").count("\n") + 1  # the tests' list, below `tests:`
    assert {(issue.line, issue.field, issue.problem) for issue in issues} == {(tests_line, "parts.0.tests", "conv")}
    assert "no test of conv.forward catches the mistake 'padding-ignored'" in issues[0].message + issues[1].message


def test_a_one_by_one_kernel_at_stride_one_cannot_catch_a_flip_nor_a_stride() -> None:
    problem_set = parse_set(_set("          - {name: a, shapes: {x: [1, 2, 4, 4], w: [3, 2, 1, 1]}, pad: 1}\n"))
    named = {issue.message.split("'")[1] for issue in mutant_issues(problem_set)}
    assert named == {"kernel-flipped", "stride-ignored", "padding-one-side"}


def test_a_backward_set_of_one_image_cannot_catch_a_gradient_not_summed_over_the_batch() -> None:
    at_zero = (
        "          - {name: d, shapes: {x: [1, 3, 5, 5], w: [2, 3, 3, 3]}}\n"  # (a crop [pad:-pad] shows at pad 0)
    )
    text = _set(ENOUGH + at_zero).replace("code: conv.forward", "code: conv.backward").replace("x: [2,", "x: [1,")
    named = [issue.message.split("'")[1] for issue in mutant_issues(parse_set(text))]
    assert named == ["gradient-not-summed-over-batch"]


def test_the_solution_passes_its_tests(box: Sandbox) -> None:
    assert check_solution(parse_set(_set(ENOUGH)), _run(box)) == []
    assert check_solution(BANK["numpy-convolution"], _run(box)) == []


def test_a_solution_failing_a_test_is_refused_at_that_test(box: Sandbox) -> None:
    wrong = SOLUTION.replace("j * stride : j * stride + kw]", "j * stride : j * stride + kw][:, :, ::-1, ::-1]")
    text = _set(ENOUGH, wrong)
    issues = check_solution(parse_set(text), _run(box))
    assert [issue.field for issue in issues] == ["parts.0.tests.0", "parts.0.tests.1", "parts.0.tests.2"]
    lines = text.splitlines()
    assert [lines[issue.line - 1].strip()[:10] for issue in issues if issue.line] == [
        "- {name: a",
        "- {name: b",
        "- {name: c",
    ]
    assert issues[0].message.startswith("the solution fails the test 'a': incorrect: Your output is wrong at [0, ")
    assert "kernel" in issues[0].message  # named: the solution flipped its kernel
