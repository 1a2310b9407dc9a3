"""A wrong set file is refused at load time, naming the file, the problem and the field."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml

from problems.document import compose
from problems.loader import Issue, SetFileError, load_bank, load_set, parse_set

from set_texts import issues_of

HEADER = "id: broken\ntitle: A broken set\n"
CONV = """
  - id: q1
    title: A convolution
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
            "problems:\n  - {id: q1, title: T, type: convolution3d, parts: [{key: a, quantity: output}]}\n",
            ["problem 'q1'", "field 'type'", "'convolution3d'"],
        ),
        ("problems:\n  - {id: q1, title: T, parts: [{key: a, quantity: output}]}\n", ["problem 'q1'", "field 'type'"]),
        # a bad parameter: a negative channel count, a ragged matrix, a misspelt field
        (
            "problems:\n  - id: q1\n    title: T\n    type: network\n    input: [8, 8, 3]\n"
            "    layers: [{kind: conv, out_channels: -4, kernel: 3}]\n    parts: [{key: a, quantity: params.total}]\n",
            ["problem 'q1'", "out_channels", "greater than 0"],
        ),
        (
            "problems:\n  - {id: q1, title: T, type: conv2d, input: [[1, 2], [3]], kernel: [[1]],"
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
            "problems:\n  - id: q1\n    title: T\n    type: network\n    input: [4, 4, 3]\n"
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


def test_a_bank_is_read_once_while_its_files_are_unchanged_and_again_once_one_changes(tmp_path: Path) -> None:
    body = "problems:" + CONV + "    parts: [{key: a, quantity: output}]\n"
    (tmp_path / "a.yaml").write_text(HEADER + body)
    first, again = load_bank(tmp_path), load_bank(tmp_path)
    assert first == again and first is not again  # (a dict of its own each: a caller may change it)
    assert first["broken"] is again["broken"]  # (the set, immutable, read once)
    first.pop("broken")
    assert set(load_bank(tmp_path)) == {"broken"}
    (tmp_path / "a.yaml").write_text(HEADER.replace("A broken set", "Renamed") + body)
    assert load_bank(tmp_path)["broken"].title == "Renamed"
    (tmp_path / "b.yaml").write_text(HEADER.replace("broken", "second") + body)
    assert set(load_bank(tmp_path)) == {"broken", "second"}


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
    body = "problems:\n  - id: q1\n    title: T\n" + problem + "    parts: [{key: a, quantity: shape}]\n"
    with pytest.raises(SetFileError, match="average pooling has no dilation"):
        load_set(write(tmp_path, body))


# --- every issue, at its line and column ------------------------------------------------------------

#: A good file; each case below breaks one line of it, marked ``# <-``.
GOOD = """\
id: placed
title: Issues at their places
randomized: true
problems:
  - id: q1
    title: A convolution
    type: conv2d
    input: [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    kernel: [[1, 0], [0, 1]]
    stride: 1
    parts:
      - {key: a, quantity: output}
  - id: q2
    title: A network
    type: network
    input: [8, 8, 3]
    layers:
      - {kind: conv, name: c, out_channels: 4, kernel: 3}
      - {kind: pool, kernel: 2}
    vary:
      layers.0.kernel: {choice: [1, 3]}
    parts:
      - {key: params, quantity: params.total}
"""


def broken(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new + "  # <-", 1)


def marked(text: str, token: str) -> tuple[int, int]:
    """The line marked ``# <-`` (1-based) and the column of ``token`` on it."""
    lines = text.splitlines()
    number = next(i for i, line in enumerate(lines) if line.endswith("# <-"))
    return number + 1, lines[number].index(token) + 1


def test_the_good_file_loads() -> None:
    loaded = parse_set(GOOD)
    assert loaded.answer_keys() == ["q1.a", "q2.params"]
    assert loaded.version == hashlib.sha256(GOOD.encode()).hexdigest()[:12]


def test_a_problem_without_a_title_is_titled_by_its_id() -> None:
    """Set files written before titles were asked for stay valid, and no title is empty."""
    problem_set = parse_set(GOOD.replace("    title: A network\n", "", 1))
    assert {p.id: p.title for p in problem_set.problems}["q2"] == "Problem q2"


def without(line: str, mark: str) -> str:
    """The good file less one line, with another line marked."""
    assert line in GOOD and mark in GOOD
    return GOOD.replace(line + "\n", "", 1).replace(mark, mark + "  # <-", 1)


@pytest.mark.parametrize(
    ("text", "token", "field", "message"),
    [
        # a value of the wrong type: in the header, in a problem's parameters, in a part
        (broken("randomized: true", "randomized: often"), "often", "randomized", "valid boolean"),
        (broken("    stride: 1", "    stride: two"), "two", "stride", "none of its forms fits"),
        (
            broken("      - {key: a, quantity: output}", "      - {key: a, quantity: output, points: -1}"),
            "-1",
            "parts.0.points",
            "greater than 0",
        ),
        # an unknown field (its key is marked), an unknown problem type
        (broken("    stride: 1", "    strid: 1"), "strid", "strid", "Extra inputs"),
        (broken("    type: conv2d", "    type: convolution3d"), "convolution3d", "type", "'convolution3d'"),
        # a missing field: at the nearest node, the mapping that lacks it
        (
            broken("      - {kind: pool, kernel: 2}", "      - {kind: pool}"),
            "{kind: pool}",
            "layers.1.pool.kernel",
            "Field required",
        ),
        (without("    type: network", "  - id: q2"), "id: q2", "type", "missing the problem type"),
        # an empty title, a varied path the problem does not have, a placeholder that is no parameter
        (broken("    title: A network", '    title: ""'), '""', "title", "at least 1 character"),
        (
            broken("      layers.0.kernel: {choice: [1, 3]}", "      layers.0.kernl: {choice: [1, 3]}"),
            "layers.0.kernl",
            "vary.layers.0.kernl",
            "does not have",
        ),
        (
            broken("    title: A convolution", "    title: A convolution\n    text: Stride {strides}"),
            "Stride",
            "text",
            "{strides}",
        ),
        # a key given twice in one mapping: the second one is marked
        (broken("    stride: 1", "    stride: 1\n    stride: 2"), "stride", "stride", "duplicate key 'stride'"),
        # answers: a key taken by an earlier entry of the same id, a quantity the problem does not compute
        (
            broken("      - {key: params, quantity: params.total}", "      - {key: a, quantity: params.total}").replace(
                "  - id: q2", "  - id: q1"
            ),
            "a,",
            "parts.0.key",
            "duplicate answer key 'q1.a'",
        ),
        (
            broken("      - {key: a, quantity: output}", "      - {key: a, quantity: outptu}"),
            "outptu",
            "parts.0.quantity",
            "unknown quantity 'outptu'",
        ),
        # a kind the quantity cannot be asked as: at the part's kind, not at the top of the file
        (
            broken(
                "      - {key: params, quantity: params.total}",
                "      - {key: params, quantity: params.total, kind: shape}",
            ),
            "shape}",
            "parts.0.kind",
            "q2.params: an integer quantity cannot be asked as shape",
        ),
        # a tolerance on a count, which is graded exactly: refused at the tolerance, not ignored
        (
            broken(
                "      - {key: params, quantity: params.total}",
                "      - {key: params, quantity: params.total, tolerance: {rel: 0.01}}",
            ),
            "tolerance",
            "parts.0.tolerance",
            "an integer answer is graded exactly",
        ),
        # a draw that never gives a network that runs: at the draw
        (
            broken("      layers.0.kernel: {choice: [1, 3]}", "      layers.0.kernel: {choice: [9, 11]}"),
            "layers.0.kernel",
            "vary.layers.0.kernel",
            "no valid variant",
        ),
    ],
)
def test_an_issue_is_reported_at_its_line_and_column(text: str, token: str, field: str | None, message: str) -> None:
    (issue,) = issues_of(text)
    assert (issue.line, issue.column) == marked(text, token)
    assert issue.field == field
    assert message in issue.message


def test_a_yaml_syntax_error_is_reported_where_the_parser_stopped() -> None:
    text = broken("    kernel: [[1, 0], [0, 1]]", "    kernel: [[1, 0], [0, 1]]]")
    (issue,) = issues_of(text)
    assert (issue.line, issue.column) == marked(text, "]  #")
    assert issue.field is None and issue.message.startswith("not valid YAML")


def test_every_issue_of_a_file_is_reported_in_file_order() -> None:
    text = (
        GOOD.replace("title: Issues at their places", "title: [not, a, title]")
        .replace("    stride: 1", "    stride: 0.5")
        .replace("      - {kind: pool, kernel: 2}", "      - {kind: pool, kernel: 2, mode: median}")
    )
    issues = issues_of(text)
    lines = text.splitlines()
    assert [(i.line, i.problem, i.field) for i in issues] == [
        (2, None, "title"),
        (10, "q1", "stride"),
        (19, "q2", "layers.1.pool.mode"),
    ]
    assert lines[9] == "    stride: 0.5" and "median" in lines[18]
    # one line per issue in the error's text, each starting FILE:LINE:COL
    with pytest.raises(SetFileError) as refused:
        parse_set(text, "placed.yaml")
    assert [line.split(": ")[0] for line in str(refused.value).splitlines()] == [
        f"placed.yaml:{i.line}:{i.column}" for i in issues
    ]


def test_a_set_file_error_is_a_value_error_with_readable_lines() -> None:
    error = SetFileError("s.yaml", [Issue(3, 5, "stride", "too big", "q1"), Issue(None, None, None, "unreadable")])
    assert isinstance(error, ValueError)
    assert str(error) == "s.yaml:3:5: problem 'q1': field 'stride': too big\ns.yaml: unreadable"
    assert error.issues[0].located("s.yaml") == "s.yaml:3:5: q1.stride: too big"
    assert error.issues[1].located("s.yaml") == "s.yaml: unreadable"


def test_load_set_is_parse_set_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "placed.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_set(path) == parse_set(GOOD)
    path.write_text(broken("    stride: 1", "    strid: 1"), encoding="utf-8")
    with pytest.raises(SetFileError) as refused:
        load_set(path)
    assert refused.value.source == str(path)
    assert str(refused.value).startswith(f"{path}:10:5: problem 'q1': field 'strid'")


# Settings PyTorch refuses, each once accepted with a made-up answer (or a crash): refused at load
# time with the field named. Paths inside a network carry the layer kind pydantic reads them under.
NET = "    type: network\n    input: [8, 8, 3]\n    layers: [{LAYER}]\n    parts: [{key: a, quantity: params.total}]\n"
SQUARE = "    input: [[1, 2, 3], [4, 5, 6], [7, 8, 9]]\n    kernel: [[1, 0], [0, 1]]\n"


@pytest.mark.parametrize(
    ("problem", "field", "reason"),
    [
        # dilation 0: in a network, and in the convolution and pooling problems
        (
            NET.replace("LAYER", "kind: conv, out_channels: 4, kernel: 3, dilation: 0"),
            "layers.0.conv.dilation",
            "at least 1",
        ),
        ("    type: conv2d\n" + SQUARE + "    dilation: [1, 0]\n", "dilation", "at least 1"),
        (
            "    type: pool2d\n" + SQUARE.replace("kernel: [[1, 0], [0, 1]]", "kernel: 2") + "    dilation: 0\n",
            "dilation",
            "at least 1",
        ),
        # negative padding, and negative output padding
        (
            NET.replace("LAYER", "kind: conv, out_channels: 4, kernel: 3, padding: -1"),
            "layers.0.conv.padding",
            "negative",
        ),
        ("    type: conv2d\n" + SQUARE + "    padding: -1\n", "padding", "negative"),
        ("    type: conv_transpose2d\n" + SQUARE + "    padding: [0, -1]\n", "padding", "negative"),
        (
            "    type: conv_transpose2d\n" + SQUARE + "    stride: 2\n    output_padding: -1\n",
            "output_padding",
            "negative",
        ),
        (
            NET.replace("LAYER", "kind: conv_transpose, out_channels: 4, kernel: 3, stride: 2, output_padding: -1"),
            "layers.0.conv_transpose.output_padding",
            "negative",
        ),
        # kernel 0 in a network: a convolution, a transposed convolution, a pooling window
        (NET.replace("LAYER", "kind: conv, out_channels: 4, kernel: 0"), "layers.0.conv.kernel", "at least 1"),
        (
            NET.replace("LAYER", "kind: conv_transpose, out_channels: 4, kernel: [3, 0]"),
            "layers.0.conv_transpose.kernel",
            "at least 1",
        ),
        (NET.replace("LAYER", "kind: pool, kernel: 0"), "layers.0.pool.kernel", "at least 1"),
        # output padding not smaller than the stride or the dilation (in a transposed convolution problem too)
        (
            "    type: conv_transpose2d\n" + SQUARE + "    stride: 2\n    output_padding: 2\n",
            "output_padding",
            "not smaller than its stride 2",
        ),
        # groups that do not split the channels: the input's (known when the network runs), the output's
        (NET.replace("LAYER", "kind: conv, out_channels: 4, kernel: 3, groups: 2"), "layers.0.groups", "3 input"),
        (
            NET.replace("LAYER", "kind: conv_transpose, out_channels: 4, kernel: 3, groups: 2"),
            "layers.0.groups",
            "3 input",
        ),
        (NET.replace("LAYER", "kind: conv, out_channels: 5, kernel: 3, groups: 3"), "layers.0.conv.groups", "5 output"),
        # a window larger than the padded input, pooling padding more than half the kernel
        (NET.replace("LAYER", "kind: pool, kernel: 9"), "layers.0.kernel", "smaller than the pooling window 9"),
        (NET.replace("LAYER", "kind: pool, kernel: 3, padding: 2"), "layers.0.pool.padding", "more than half"),
        (
            "    type: conv2d\n    input: [[1, 2], [3, 4]]\n    kernel: [[1, 0, 1], [0, 1, 0], [1, 0, 1]]\n",
            "kernel",
            "smaller than the kernel",
        ),
    ],
)
def test_a_setting_torch_refuses_is_refused_with_its_field(
    tmp_path: Path, problem: str, field: str, reason: str
) -> None:
    body = "problems:\n  - id: q1\n    title: T\n" + problem
    if "parts:" not in problem:
        body += "    parts: [{key: a, quantity: shape}]\n"
    with pytest.raises(SetFileError) as refused:
        load_set(write(tmp_path, body))
    assert f"problem 'q1': field '{field}'" in str(refused.value)
    assert reason in str(refused.value)


def test_average_pooling_with_a_dilation_gets_a_sentence_not_a_key_error(tmp_path: Path) -> None:
    body = (
        "problems:\n  - id: q1\n    title: T\n    type: pool2d\n    mode: avg\n    kernel: 2\n    dilation: 2\n"
        "    input: [[1, 2, 3], [4, 5, 6], [7, 8, 9]]\n"
        "    parts: [{key: a, quantity: output}, {key: b, quantity: max}]\n"
    )
    with pytest.raises(SetFileError) as refused:
        load_set(write(tmp_path, body))
    assert str(refused.value).endswith(
        "field 'dilation': average pooling has no dilation (nn.AvgPool2d takes none), not 2"
    )


# A transposed convolution's filters are (C_in, C_out/groups, kh, kw): its bias has one value per
# output channel. The check used to count input channels, refusing the right bias and taking a wrong one.
TRANSPOSED = (
    "problems:\n  - id: q1\n    title: T\n    type: conv_transpose2d\n    input: [[[1, 2], [3, 4]], [[0, 1], [1, 0]]]\n"
    "    filters: [[[[1, 0], [0, 1]], [[1, 1], [0, 0]], [[2, 0], [0, 0]]], [[[0, 1], [1, 0]], [[0, 0], [1, 1]],"
    " [[0, 0], [0, 2]]]]\n    bias: BIAS\n    parts: [{key: out, quantity: output}, {key: shape, quantity: shape}]\n"
)


def test_a_transposed_bias_counts_the_output_channels(tmp_path: Path) -> None:
    loaded = load_set(write(tmp_path, TRANSPOSED.replace("BIAS", "[1, -1, 2]")))
    x = torch.tensor([[[1.0, 2], [3, 4]], [[0, 1], [1, 0]]])
    w = torch.tensor(np.asarray(loaded.problems[0].params["filters"], dtype=np.float32))
    expected = F.conv_transpose2d(x[None], w, torch.tensor([1.0, -1, 2]))[0].numpy()
    answers = loaded.solve()
    assert answers["q1.shape"].value == (3, 3, 3)
    np.testing.assert_array_equal(answers["q1.out"].value, expected)
    # the input channels' count (the old check) is one bias short: refused, naming the field
    with pytest.raises(SetFileError, match="field 'bias': 2 biases for 3 output channels"):
        load_set(write(tmp_path, TRANSPOSED.replace("BIAS", "[1, -1]")))
    with pytest.raises(RuntimeError, match="bias"):
        F.conv_transpose2d(x[None], w, torch.tensor([1.0, -1]))


def test_a_draw_that_is_never_valid_is_refused_naming_the_draw(tmp_path: Path) -> None:
    """Declared numbers that load, and a draw of a dilation torch refuses whatever it draws."""
    body = (
        "randomized: true\nproblems:\n  - id: q1\n    title: T\n"
        + NET.replace("LAYER", "kind: conv, name: c, out_channels: 4, kernel: 3, dilation: 1")
        + "    vary: {layers.0.dilation: {choice: [0, -1]}}\n"
    )
    with pytest.raises(SetFileError) as refused:
        load_set(write(tmp_path, body))
    message = str(refused.value)
    assert "problem 'q1': field 'vary.layers.0.dilation'" in message
    assert "no valid variant in 200 draws (the last: must be at least 1 on every axis" in message


def test_a_plain_scalars_value_is_yamls_however_often_its_text_comes() -> None:
    """The loader remembers a short plain scalar's tag by its text (``problems.document``): each
    text reads as PyYAML's own safe loader reads it, the first time and every time after, quoted
    or not, and past the texts it remembers."""
    texts = ["1", "-3", "0x1F", "0o17", "1_000", "1.5", "-.inf", ".nan", "1e3", "true", "No", "~", "null", "",
             "2026-11-28", "2026-11-28 17:45:00", "abc", "3 x", "0" * 40, "9" * 33]  # fmt: skip
    document = (
        "\n".join(f"- {text}\n- '{text}'" for text in texts * 2) + "\n- [" + ", ".join(map(str, range(5000))) + "]"
    )
    expected = yaml.load(document, Loader=yaml.SafeLoader)
    for _ in range(2):
        data, _ = compose(document, "case.yaml")
        assert repr(data) == repr(expected) and [type(v) for v in data] == [type(v) for v in expected]
