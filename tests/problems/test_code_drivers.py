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


DIGITS = """\
        driver: |
          return {"accuracy": float(student.fit_and_score(x_train, y_train, x_test, y_test))}
        data: digits
        outputs: {accuracy: {at_least: 0.9}}
        tests:
          - {name: the digits}
          - {name: a second split, seed: 2}
"""


def test_data_digits_binds_a_split_of_every_digit_drawn_per_student() -> None:
    from sklearn.datasets import load_digits

    problem_set = parse_set(HEAD + DIGITS)
    first, second = (call.kwargs for call in calls_for(problem_set, "layers.affine", "s1"))
    assert [first[name].shape for name in ("x_train", "y_train", "x_test", "y_test")] == [
        (1437, 1, 8, 8),
        (1437,),
        (360, 1, 8, 8),
        (360,),
    ]
    bunch = load_digits()
    images = np.concatenate([first["x_train"], first["x_test"]])[:, 0] * 16.0
    labels = np.concatenate([first["y_train"], first["y_test"]])
    # every digit once, with its own label: the split is a permutation of scikit-learn's data
    order = np.lexsort(images.reshape(len(images), -1).T)
    expected = np.lexsort(bunch.images.reshape(len(images), -1).T)
    assert np.array_equal(images[order], bunch.images[expected])
    assert np.array_equal(labels[order], bunch.target[expected])
    again = calls_for(problem_set, "layers.affine", "s1")[0].kwargs
    other = calls_for(problem_set, "layers.affine", "s2")[0].kwargs
    assert np.array_equal(again["y_test"], first["y_test"])  # type: ignore[arg-type]
    assert not np.array_equal(other["y_test"], first["y_test"])  # type: ignore[arg-type]
    assert not np.array_equal(second["y_test"], first["y_test"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("        data: digits\n", "        data: digits\n        inputs: {x_train: {shape: [2]}}\n",
         "`data: digits` binds 'x_train' already"),
        ("          - {name: a second split, seed: 2}", "          - {name: a second split, y_test: 2}",
         "`data: digits` binds 'y_test' already"),
        ("        data: digits\n", "        data: cifar\n", "Input should be 'digits'"),
    ],
)  # fmt: skip
def test_data_that_cannot_be_bound_is_refused(old: str, new: str, said: str) -> None:
    assert old in DIGITS
    found = _issues(HEAD + DIGITS.replace(old, new))
    assert any(said in message for _, _, message in found), found


def test_a_kind_draws_its_own_inputs_and_binds_no_data() -> None:
    kind = "        code: conv.forward\n        data: digits\n        tests:\n"
    kind += "          - {name: t, shapes: {x: [1, 1, 3, 3], w: [1, 1, 2, 2]}}\n"
    found = _issues(HEAD + kind)
    assert any("a driver's part binds data" in message for _, _, message in found), found
