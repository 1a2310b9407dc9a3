"""A code part with a driver in a set file: its inputs by size expressions of the test's settings
(parsed, never evaluated), outputs and their rules, mistakes as edits of the solution; every bad
field refused at its line with a sentence; and each student's draw the same every time."""

from __future__ import annotations

import numpy as np
import pytest

from grader.code.plan import calls_for, planned
from problems.code import expressions
from problems.code.spec import MAX_ELEMENTS, MAX_TEST_ELEMENTS, Accuracy, AtLeast
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
    ("written", "dtype"),
    [
        ("{value: [[1, 2]]}", np.int64),  # whole numbers as written: labels index as they do in numpy
        ("{value: [[1.5, 2]]}", np.float64),
        ("{value: [[1, 2]], dtype: float32}", np.float32),
        ("{value: [[1, 2]], dtype: float64}", np.float64),
    ],
)
def test_a_fixed_input_keeps_its_integers_or_takes_its_dtype(written: str, dtype: type) -> None:
    """What the sandbox binds for the student's call and the solution's alike (one call, both runs)."""
    problem_set = parse_set(HEAD + PART.replace("inputs: {x: {value: [[1, 2]]}}", f"inputs: {{x: {written}}}"))
    seed = calls_for(problem_set, "layers.affine", "s1")[1].kwargs["x"]
    assert isinstance(seed, np.ndarray) and seed.dtype == dtype
    assert np.array_equal(seed, [[1.5 if "1.5" in written else 1, 2]])


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
            "inputs: {x: {value: [[1, 2]]}}",
            "inputs: {x: {value: [[1.5, 2]], dtype: int64}}",
            "parts.0.tests.1.inputs.x",
            "`dtype: int64` holds whole numbers",
        ),
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
          return {"pred": student.fit_and_predict(x_train, y_train, x_test)}
        data: digits
        outputs: {pred: {accuracy: y_test, at_least: 0.9}}
        tests:
          - {name: the digits}
          - {name: a second split, seed: 2}
"""


def test_data_digits_binds_a_split_of_every_digit_drawn_per_student_and_keeps_the_test_labels() -> None:
    from sklearn.datasets import load_digits

    problem_set = parse_set(HEAD + DIGITS)
    part = problem_set.code()["layers.affine"]
    assert part.rules == {"pred": Accuracy(accuracy="y_test", at_least=0.9)}
    first, second = (call.kwargs for call in calls_for(problem_set, "layers.affine", "s1"))
    # what the sandbox is handed: the training split and the test images, never their labels
    assert sorted(first) == ["x_test", "x_train", "y_train"]
    assert [first[name].shape for name in ("x_train", "y_train", "x_test")] == [  # type: ignore[union-attr]
        (1437, 1, 8, 8),
        (1437,),
        (360, 1, 8, 8),
    ]
    kept = [plan.drawn.kept["y_test"] for plan in planned(problem_set, "layers.affine", "s1")]
    assert kept[0].shape == (360,) and kept[0].dtype == np.int64
    bunch = load_digits()
    images = np.concatenate([first["x_train"], first["x_test"]])[:, 0] * 16.0
    labels = np.concatenate([first["y_train"], kept[0]])
    # every digit once, with its own label: the split is a permutation of scikit-learn's data
    order = np.lexsort(images.reshape(len(images), -1).T)
    expected = np.lexsort(bunch.images.reshape(len(images), -1).T)
    assert np.array_equal(images[order], bunch.images[expected])
    assert np.array_equal(labels[order], bunch.target[expected])
    again = planned(problem_set, "layers.affine", "s1")[0].drawn.kept["y_test"]
    other = planned(problem_set, "layers.affine", "s2")[0].drawn.kept["y_test"]
    assert np.array_equal(again, kept[0])
    assert not np.array_equal(other, kept[0])
    assert not np.array_equal(kept[1], kept[0])
    assert not np.array_equal(second["x_test"], first["x_test"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("        data: digits\n", "        data: digits\n        inputs: {x_train: {shape: [2]}}\n",
         "`data: digits` binds 'x_train' already"),
        ("          - {name: a second split, seed: 2}", "          - {name: a second split, y_test: 2}",
         "`data: digits` keeps 'y_test' for judging"),
        ("        data: digits\n", "        data: cifar\n", "Input should be 'digits'"),
        ("{accuracy: y_test,", "{accuracy: y_train,", "keeps no 'y_train' (`data: digits` keeps y_test)"),
        ("        data: digits\n", "", "the test 'the digits' keeps no 'y_test'"),
        ("{accuracy: y_test, at_least: 0.9}", "{accuracy: y_test, at_least: 90}", "less than or equal to 1"),
    ],
)  # fmt: skip
def test_data_that_cannot_be_bound_or_kept_is_refused(old: str, new: str, said: str) -> None:
    assert old in DIGITS
    found = _issues(HEAD + DIGITS.replace(old, new))
    assert any(said in message for _, _, message in found), found


#: The issue's part as it was written: the driver scores the predictions against ``y_test`` itself, in the
#: student's process, and the service only compares that number with 0.9.
SCORED_INSIDE = """\
        driver: |
          pred = student.fit_and_predict(x_train, y_train, x_test)
          return {"acc": float(np.mean(pred == y_test))}
        data: digits
        outputs: {acc: {at_least: 0.9}}
        tests:
          - {name: the digits}
"""


def test_a_driver_that_reads_the_held_out_labels_is_refused_at_its_line_with_the_form_that_replaces_it() -> None:
    text = HEAD + SCORED_INSIDE
    ((line, field, message),) = _issues(text)
    assert field == "parts.0.driver"
    assert line == text.splitlines().index("        driver: |") + 1
    assert message.startswith("line 2 of the driver reads `y_test`, which `data: digits` keeps outside the sandbox")
    assert "`outputs: {pred: {accuracy: y_test, at_least: 0.9}}`" in message
    # a test's own `data` keeps it too
    own = SCORED_INSIDE.replace("        data: digits\n", "").replace(
        "{name: the digits}", "{name: the digits, data: digits}"
    )
    ((_, field, message),) = _issues(HEAD + own)
    assert field == "parts.0.driver" and "reads `y_test`" in message


def test_the_held_out_labels_named_in_a_comment_a_string_or_an_attribute_are_not_a_read() -> None:
    driver = (
        "          # scored outside against y_test\n"
        '          pred = student.fit_and_predict(x_train, y_train, x_test, name="y_test")\n'
        '          return {"pred": pred, "seen": student.y_test}\n'
    )
    text = DIGITS.replace('          return {"pred": student.fit_and_predict(x_train, y_train, x_test)}\n', driver)
    text = text.replace("outputs: {pred:", "outputs: {seen: shape, pred:")
    assert parse_set(HEAD + text).code()["layers.affine"].output_names == ("seen", "pred")
    # and a name without data that keeps it is the instructor's own
    own = SCORED_INSIDE.replace(
        "        data: digits\n",
        "        inputs: {y_test: {shape: [3]}, x_train: {shape: [3]}, y_train: {shape: [3]}, x_test: {shape: [3]}}\n",
    )
    assert parse_set(HEAD + own).code()["layers.affine"].rules == {"acc": AtLeast(at_least=0.9)}


@pytest.mark.parametrize(
    ("outputs", "said"),
    [
        ("{first: {accuracy: y_test, at_least: 0.9}, better: {best_of: [first, other]}}",
         "'other' is not an output judged by `accuracy`"),
        ("{first: {accuracy: y_test, at_least: 0.9}, other: equal, better: {best_of: [first, other]}}",
         "'other' is not an output judged by `accuracy`"),
        ("{first: {accuracy: y_test, at_least: 0.9}, better: {best_of: [first, first]}}",
         "an output is listed twice"),
    ],
)  # fmt: skip
def test_a_best_of_compares_accuracy_outputs(outputs: str, said: str) -> None:
    text = DIGITS.replace("outputs: {pred: {accuracy: y_test, at_least: 0.9}}", f"outputs: {outputs}")
    ((line, field, message),) = _issues(HEAD + text)
    assert (field, message) == ("parts.0.outputs.better.best_of", said) and line is not None


def test_a_kind_draws_its_own_inputs_and_binds_no_data() -> None:
    kind = "        code: conv.forward\n        data: digits\n        tests:\n"
    kind += "          - {name: t, shapes: {x: [1, 1, 3, 3], w: [1, 1, 2, 2]}}\n"
    found = _issues(HEAD + kind)
    assert any("a driver's part binds data" in message for _, _, message in found), found
