"""A code part with a driver in a set file: its inputs by size expressions of the test's settings
(parsed, never evaluated), outputs and their rules, mistakes as edits of the solution; every bad
field refused at its line with a sentence; and each student's draw the same every time."""

from __future__ import annotations

import numpy as np
import pytest

from grader.code.plan import calls_for
from problems.code import expressions
from problems.code.spec import MAX_ELEMENTS, MAX_TEST_ELEMENTS
from problems.loader import SetFileError, parse_set

SOLUTION = """\
import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)
"""

HEAD = (
    "id: drivers\ntitle: Drivers\nproblems:\n  - id: layers\n    type: code\n    solution: |\n"
    + "".join(f"      {line}\n" if line else "\n" for line in SOLUTION.splitlines())
    + "    parts:\n      - key: affine\n"
)

PART = """\
        driver: |
          out, _ = student.affine_forward(x, w, b)
          return {"out": out}
        inputs:
          x: {shape: [N, D]}
          w: {shape: [D, M], low: -2, high: 2}
          b: {shape: [M]}
        outputs: {out: equal}
        mistakes:
          - {code: bias-omitted, replace: "@ w + b", with: "@ w"}
        tests:
          - {name: a batch, N: 3, D: 4, M: 2}
          - {name: the seed's own numbers, N: 1, D: 2, M: 2, inputs: {x: {value: [[1, 2]]}}}
"""


def _issues(text: str) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(SetFileError) as caught:
        parse_set(text)
    return [(issue.line, issue.field, issue.message) for issue in caught.value.issues]


def test_a_driver_part_is_read_without_a_kind() -> None:
    part = parse_set(HEAD + PART).code()["layers.affine"]
    assert part.kind is None and part.code is None
    assert part.output_names == ("out",) and part.rules == {"out": "equal"}
    assert [mistake.code for mistake in part.mistakes] == ["bias-omitted"]
    assert part.tests[0].settings == {"N": 3, "D": 4, "M": 2}
    assert part.points == 2.0 and part.seconds(part.tests[0]) == 10.0


def test_each_test_draws_its_sizes_and_a_test_replaces_an_input() -> None:
    problem_set = parse_set(HEAD + PART)
    first, seed = calls_for(problem_set, "layers.affine", "s1")
    assert first.function == "@driver" and first.args[1] == "out"
    assert {name: np.shape(value) for name, value in first.kwargs.items() if isinstance(value, np.ndarray)} == {
        "x": (3, 4),
        "w": (4, 2),
        "b": (2,),
    }
    assert (first.kwargs["N"], first.kwargs["D"], first.kwargs["M"]) == (3, 4, 2)
    w = first.kwargs["w"]
    assert isinstance(w, np.ndarray) and w.min() >= -2 and w.max() <= 2 and w.dtype == np.float64
    assert np.array_equal(seed.kwargs["x"], [[1.0, 2.0]])  # as written, for every student
    again = calls_for(problem_set, "layers.affine", "s1")[0]
    other = calls_for(problem_set, "layers.affine", "s2")[0]
    assert all(np.array_equal(first.kwargs[n], again.kwargs[n]) for n in "xwb")  # type: ignore[arg-type]
    assert not np.array_equal(first.kwargs["x"], other.kwargs["x"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "settings", "value"),
    [
        ("(H + 2*pad - HH) // stride + 1", {"H": 7, "pad": 1, "HH": 3, "stride": 2}, (7 + 2 - 3) // 2 + 1),
        ("N*C", {"N": 2, "C": 3}, 6),
        ("4", {}, 4),
        ("W - (K - 1)", {"W": 5, "K": 3}, 3),
    ],
)
def test_a_size_expression_is_integer_arithmetic_of_the_settings(
    text: str, settings: dict[str, int], value: int
) -> None:
    assert expressions.size(text, settings) == value


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("__import__('os').getpid()", "only numbers, settings and + - * // are allowed (not Call)"),
        ("N.real", "(not Attribute)"),
        ("N / 2", "only + - * // are allowed (not Div)"),
        ("N ** 40", "only + - * // are allowed (not Pow)"),
        ("1.5 * N", "only whole numbers are allowed"),
        ("N // 0", "divides by zero"),
        ("Q + 1", "names 'Q', which the test does not give"),
        ("N +", "is not integer arithmetic"),
        ("N*" * 150 + "N", "at most 200 characters"),
    ],
)
def test_a_size_expression_that_is_not_arithmetic_is_refused(text: str, said: str) -> None:
    with pytest.raises(expressions.SizeError) as caught:
        expressions.size(text, {"N": 2})
    assert said in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("x: {shape: [N, D]}", "np: {shape: [N, D]}", "parts.0.inputs.np", "would hide the driver's `np`"),
        ("{name: a batch, N: 3", "{name: a batch, student: 1, N: 3", "parts.0.tests.0.student", "reserved"),
        ("x: {shape: [N, D]}", "x: {shape: [N, Q]}", "parts.0.inputs.x.shape", "in the test 'a batch', 'Q' names"),
        ("x: {shape: [N, D]}", "x: {shape: [N, D * 0]}", "parts.0.inputs.x.shape", "every size is at least 1"),
        (
            "{name: a batch, N: 3, D: 4, M: 2}",
            "{name: a batch, N: 3, D: 400, M: 400}",
            "parts.0.inputs.w",
            f"budget for an input of a test ({MAX_ELEMENTS:,})",
        ),
        ("outputs: {out: equal}", "outputs: {out: closeish}", "parts.0.outputs.out", ""),
        (
            '"@ w + b", with: "@ w"',
            '"@ v + b", with: "@ w"',
            "parts.0.mistakes.0.replace",
            "is not found in the solution",
        ),
        ('"@ w + b", with: "@ w"', '"w", with: "v"', "parts.0.mistakes.0.replace", "is found 4 times in the solution"),
        ('"@ w + b", with: "@ w"', '"@ w + b", with: "@ w + b "', "parts.0.mistakes.0.with", "leaves the solution"),
        (
            "{name: a batch, N: 3,",
            "{name: a batch, shapes: {x: [1]}, N: 3,",
            "parts.0.tests.0.shapes",
            "draws its `inputs`",
        ),
    ],
)
def test_a_bad_driver_part_is_refused_at_its_field(old: str, new: str, field: str, message: str) -> None:
    assert old in PART
    issues = _issues(HEAD + PART.replace(old, new))
    assert len(issues) == 1, issues
    ((line, found_field, found_message),) = issues
    assert line is not None
    assert found_field is not None and found_field.startswith(field), (found_field, found_message)
    assert message in found_message


def test_the_inputs_of_a_test_together_are_budgeted() -> None:
    big = "{shape: [300, 300]}"
    many = ", ".join(f"y{number}: {big}" for number in range(5))
    text = (HEAD + PART).replace(
        "{name: a batch, N: 3, D: 4, M: 2}", f"{{name: big, N: 3, D: 4, M: 2, inputs: {{{many}}}}}"
    )
    ((_, field, message),) = _issues(text)
    assert field is not None and field.startswith("parts.0.tests.0")
    assert f"({MAX_TEST_ELEMENTS:,})" in message


def test_a_kind_with_a_driver_keeps_the_kinds_outputs_and_mistakes() -> None:
    text = HEAD.replace("affine", "forward") + (
        "        code: conv.forward\n"
        "        driver: |\n"
        '          out, _ = student.conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})\n'
        '          return {"output": out}\n'
        "        tests:\n          - {name: a, shapes: {x: [1, 1, 3, 3], w: [1, 1, 2, 2]}, pad: 1}\n"
    )
    problem_set = parse_set(text)
    part = problem_set.code()["layers.forward"]
    assert part.kind is not None and part.output_names == ("output",)
    (call,) = calls_for(problem_set, "layers.forward", "s1")
    assert call.function == "@driver" and call.args[1] == "output"
    assert sorted(call.kwargs) == ["b", "pad", "stride", "w", "x"] and (call.kwargs["stride"], call.kwargs["pad"]) == (
        1,
        1,
    )
    mistaken = text.replace("        tests:", "        mistakes: [{code: x, replace: a, with: b}]\n        tests:")
    ((_, field, message),) = _issues(mistaken)
    assert field == "parts.0.mistakes" and "names the kind's mistakes" in message
