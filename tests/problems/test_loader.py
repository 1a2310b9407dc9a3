"""A wrong set file is refused at load time, naming the file, the problem and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from problems.loader import SetFileError, load_bank, load_set

HEADER = "id: broken\ntitle: A broken set\n"
CONV = """
  - id: q1
    type: conv2d
    input: [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    kernel: [[1, 0], [0, 1]]
"""


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(header + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # an unknown problem type, and a missing one
        (
            "problems:\n  - {id: q1, type: convolution3d, parts: [{key: a, quantity: output}]}\n",
            ["problem 'q1'", "field 'type'", "'convolution3d'"],
        ),
        ("problems:\n  - {id: q1, parts: [{key: a, quantity: output}]}\n", ["problem 'q1'", "field 'type'"]),
        # a bad parameter: a negative channel count, a ragged matrix, a misspelt field
        (
            "problems:\n  - id: q1\n    type: network\n    input: [8, 8, 3]\n"
            "    layers: [{kind: conv, out_channels: -4, kernel: 3}]\n    parts: [{key: a, quantity: params.total}]\n",
            ["problem 'q1'", "out_channels", "greater than 0"],
        ),
        (
            "problems:\n  - {id: q1, type: conv2d, input: [[1, 2], [3]], kernel: [[1]],"
            " parts: [{key: a, quantity: output}]}\n",
            ["problem 'q1'", "field 'input", "different lengths"],
        ),
        (
            "problems:" + CONV + "    strid: 2\n    parts: [{key: a, quantity: output}]\n",
            ["problem 'q1'", "field 'strid'", "Extra inputs"],
        ),
        # duplicate keys: in one YAML mapping, and two parts with one answer key
        (
            "problems:" + CONV + "    stride: 1\n    stride: 2\n    parts: [{key: a, quantity: output}]\n",
            ["duplicate key 'stride'"],
        ),
        (
            "problems:" + CONV + "    parts: [{key: a, quantity: output}, {key: a, quantity: shape}]\n",
            ["duplicate answer key 'q1.a'"],
        ),
        # answers that are undefined: an unknown quantity, a kernel larger than the input,
        # a reference to a key that does not exist, parts that refer to each other
        (
            "problems:" + CONV + "    parts: [{key: a, quantity: outptu}]\n",
            ["problem 'q1'", "unknown quantity 'outptu'"],
        ),
        (
            "problems:\n  - id: q1\n    type: network\n    input: [4, 4, 3]\n"
            "    layers: [{kind: conv, out_channels: 4, kernel: 7}]\n    parts: [{key: a, quantity: params.total}]\n",
            ["problem 'q1'", "answer undefined", "smaller than the kernel"],
        ),
        ("problems:" + CONV + "    parts: [{key: a, quantity: {sum: ['@q9.x', 1]}}]\n", ["answer undefined", "'q9.x'"]),
        (
            "problems:" + CONV + "    parts:\n      - {key: a, quantity: {sum: ['@q1.b']}}\n"
            "      - {key: b, quantity: {sum: ['@q1.a']}}\n",
            ["circle"],
        ),
        # a varied path the problem does not declare, and a text placeholder that is no parameter
        (
            "randomized: true\nproblems:"
            + CONV
            + "    vary: {paddin: {choice: [0, 1]}}\n    parts: [{key: a, quantity: output}]\n",
            ["problem 'q1'", "field 'vary.paddin'"],
        ),
        (
            "problems:" + CONV + "    text: 'Stride {stride}'\n    parts: [{key: a, quantity: output}]\n",
            ["problem 'q1'", "field 'text'", "{stride}"],
        ),
    ],
)
def test_a_wrong_set_file_is_refused_with_where_and_why(tmp_path: Path, body: str, expected: list[str]) -> None:
    with pytest.raises(SetFileError) as caught:
        load_set(write(tmp_path, body))
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "broken.yaml"))
    for fragment in expected:
        assert fragment in message


def test_a_randomized_set_that_can_never_be_solved_is_refused(tmp_path: Path) -> None:
    body = (
        "randomized: true\nproblems:" + CONV + "    vary: {kernel: {matrix: {rows: 5, values: [0, 1]}}}\n"
        "    parts: [{key: a, quantity: output}]\n"
    )
    with pytest.raises(SetFileError, match="no valid variant"):
        load_set(write(tmp_path, body))


def test_two_files_with_one_set_id_are_refused(tmp_path: Path) -> None:
    body = "problems:" + CONV + "    parts: [{key: a, quantity: output}]\n"
    (tmp_path / "a.yaml").write_text(HEADER + body)
    (tmp_path / "b.yaml").write_text(HEADER + body)
    with pytest.raises(SetFileError, match="already used"):
        load_bank(tmp_path)


def test_not_yaml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SetFileError, match="not valid YAML"):
        load_set(write(tmp_path, "problems: [unclosed\n"))


# Pooling's parameters are stated once (``PoolWindow``) for the network layer and the problem alike,
# and so is the rule that average pooling takes no dilation (``nn.AvgPool2d`` has none): the problem
# type skipped it and then failed with KeyError: 'avg'.
@pytest.mark.parametrize(
    "problem",
    [
        "    type: pool2d\n    mode: avg\n    kernel: 2\n    dilation: 2\n    input: [[1, 2], [3, 4]]\n",
        "    type: network\n    input: [8, 8, 1]\n    layers: [{kind: pool, mode: avg, kernel: 2, dilation: 2}]\n",
    ],
    ids=["pool2d", "network"],
)
def test_average_pooling_with_a_dilation_is_refused_in_both_places(tmp_path: Path, problem: str) -> None:
    body = "problems:\n  - id: q1\n" + problem + "    parts: [{key: a, quantity: shape}]\n"
    with pytest.raises(SetFileError, match="average pooling has no dilation"):
        load_set(write(tmp_path, body))
