"""The budgets of ``problems.budgets``: each way a small set file could ask for unbounded time or
memory is refused at its line, naming the budget, before the work starts (or, for the work of
checking a whole set, as soon as it passes the budget); and the sets of a course stay well within.

Nothing here is timed: that the checks are bounded follows from where they stand (the YAML's
events before any tree, a network's size before its plan) and from the work meter, whose count
the property tests read. ``tests/cli/test_sets.py`` runs the hostile files through ``grader sets
validate`` in a subprocess with a timeout, so that a regression fails rather than hangs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.reading.values import MAX_ELEMENTS as READABLE_ELEMENTS
from grader.selftest import check_set
from problems import budgets
from problems.loader import BUILT_IN, Issue, SetFileError, parse_set
from problems.sets import SolveError
from problems.types.network import NetworkProblem

from set_texts import issues_of

ROOT = Path(__file__).parents[2]
HEADER = "id: hostile\ntitle: A hostile set\nproblems:\n"


def only(text: str) -> Issue:
    issues = issues_of(text)
    assert len(issues) == 1, issues
    return issues[0]


def network(layers: str, input: str = "[32, 32, 3]", extra: str = "", randomized: bool = False) -> str:
    """A set of one network problem (``layers``: its steps, one flow mapping per line, from line 8)."""
    header = HEADER.replace("problems:", "randomized: true\nproblems:") if randomized else HEADER
    return (
        header
        + f"  - id: q1\n    type: network\n    input: {input}\n{extra}    layers:\n"
        + "".join(f"      - {line}\n" for line in layers.strip().splitlines())
        + "    parts:\n      - {key: out, quantity: output}\n"
    )


# --- the file: its length, nesting and nodes -----------------------------------------------------


@pytest.mark.parametrize("depth", [budgets.MAX_DEPTH + 1, 1_000, 30_000, 1_000_000])
def test_flow_nesting_is_refused_at_its_line_at_any_depth(depth: int) -> None:
    """``[[[[...``: libyaml's composer recursed in C (30,000 levels crashed the process); the events
    are checked before any tree is built, so a million levels are refused where the 33rd opens."""
    for closed in (False, True):
        text = HEADER + "  - " + "[" * depth + ("]" * depth if closed else "") + "\n"
        issue = only(text)
        assert (issue.line, issue.column) == (4, 5 + budgets.MAX_DEPTH - 2)
        assert f"over the budget for nesting ({budgets.MAX_DEPTH})" in issue.message


@pytest.mark.parametrize("depth", [budgets.MAX_DEPTH + 1, 1_000, 1_000_000])
def test_block_sequence_nesting_is_refused(depth: int) -> None:
    """``- - - - x``: block sequences nested on one line."""
    issue = only(HEADER + "  - " + "- " * depth + "x\n")
    assert issue.line == 4 and "budget for nesting" in issue.message


@pytest.mark.parametrize("depth", [budgets.MAX_DEPTH + 1, 1_000])
def test_block_mapping_nesting_is_refused(depth: int) -> None:
    """``a:\\n  b:\\n    c: ...``: each level one more line (a thousand levels fill 1 MB)."""
    lines = [HEADER + "  - id: q1\n    type: derived\n    deep:\n"]
    lines += [" " * (6 + 2 * level) + f"k{level}:\n" for level in range(depth)]
    lines.append(" " * (6 + 2 * depth) + "1\n")
    issue = only("".join(lines))
    # the mapping of ``k0`` (line 7) is the 4th level, and a key inside the 32nd is one too many
    assert issue.line == 7 + budgets.MAX_DEPTH - 4 and "budget for nesting" in issue.message


def test_a_file_too_long_is_refused_before_it_is_read() -> None:
    issue = only(HEADER + "# " + "x" * budgets.MAX_TEXT + "\n")
    assert issue.line is None and "budget for the characters of a set file" in issue.message


def test_many_nodes_are_refused_where_they_pass_the_budget() -> None:
    row = "[" + ", ".join(["1"] * 1000) + "]"
    issue = only(HEADER + "  - id: q1\n    type: derived\n    rows:\n" + f"      - {row}\n" * 200)
    # 14 nodes before the rows (the header, the entry, its keys), 1,001 in each row from line 7
    assert issue.line == 7 + (budgets.MAX_NODES - 14) // 1001 and "budget for the nodes of a set file" in issue.message


def test_aliases_count_as_the_nodes_they_repeat() -> None:
    """The billion laughs: nine levels of ten aliases each to the level below are 10⁹ nodes in
    three lines; they are counted as such, and refused at the alias that passes the budget."""
    lines = ["  - id: q1", "    type: derived", "    a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        below = "a" if level == 1 else f"b{level - 1}"
        lines.append(f"    b{level}: &b{level} [" + ", ".join([f"*{below}"] * 10) + "]")
    issue = only(HEADER + "\n".join(lines) + "\n")
    # b1 (line 7) repeats 100 nodes, b2 1,000, ...: b4 (line 10) passes 100,000
    assert issue.line == 10 and "budget for the nodes of a set file" in issue.message


def test_aliases_count_for_the_depth_they_repeat() -> None:
    lines = ["  - id: q1", "    type: derived", "    a: &a [[[[[[[[[[[[[[x]]]]]]]]]]]]]]"]
    lines += [f"    b{i}: &b{i} [[*{'a' if i == 0 else f'b{i - 1}'}]]" for i in range(10)]
    issue = only(HEADER + "\n".join(lines) + "\n")
    assert "budget for nesting" in issue.message and issue.line is not None and issue.line > 6


def test_a_value_that_contains_itself_is_refused() -> None:
    """``&a [*a]`` is a list that holds itself: every walk over it would recurse without end."""
    issue = only(HEADER + "  - id: q1\n    type: derived\n    loop: &a [1, *a]\n")
    assert (issue.line, issue.column) == (6, 18) and "a value containing itself" in issue.message


@pytest.mark.parametrize(
    ("scalar", "why"),
    [("1" * 5000, "digits"), ("2026-13-45", "month")],
)
def test_a_scalar_python_cannot_hold_is_refused_at_its_line(scalar: str, why: str) -> None:
    issue = only(HEADER + f"  - id: q1\n    type: derived\n    value: {scalar}\n")
    assert (issue.line, issue.column) == (6, 12) and why in issue.message


# --- networks --------------------------------------------------------------------------------------


@pytest.mark.parametrize("times", [budgets.MAX_LAYERS + 1, 100_000, 1_000_000_000])
def test_a_repeat_of_huge_times_is_refused_at_its_times(times: int) -> None:
    """``times: 1000000000`` grew the server to 24 GB; now the field is over its budget."""
    issue = only(network(f"{{kind: repeat, name: r, times: {times}, layer: {{kind: activation}}}}"))
    assert issue.line == 8 and issue.field == "layers.0.repeat.times"
    assert f"over the budget for the layer instances of a network ({budgets.MAX_LAYERS:,})" in issue.message


def test_nested_repeats_multiply_and_are_refused_at_the_repeat_that_passes() -> None:
    """100 instances of a block of 100 instances: each within the budget, 10,000 together."""
    text = network(
        """
{kind: conv, out_channels: 8, kernel: 3, padding: 1}
{kind: repeat, name: outer, times: 100, layers: [{kind: repeat, name: inner, times: 100, layer: {kind: activation}}]}
"""
    )
    issue = only(text)
    assert issue.line == 9 and issue.field == "layers.1.times"
    assert "10,000 layer instances" in issue.message and "budget for the layer instances" in issue.message


def test_the_innermost_repeat_over_the_budget_is_the_one_named() -> None:
    text = network(
        "{kind: repeat, name: outer, times: 2, layers: "
        "[{kind: activation}, {kind: repeat, name: inner, times: 1500, layers: [{kind: activation}, {kind: dropout}]}]}"
    )
    issue = only(text)
    assert issue.field == "layers.0.layers.1.times" and "3,000 layer instances" in issue.message


def test_repeats_together_over_the_budget_are_refused_at_the_layers() -> None:
    steps = "\n".join(f"{{kind: repeat, name: r{i}, times: 800, layer: {{kind: activation}}}}" for i in range(3))
    issue = only(network(steps))
    assert issue.field == "layers" and "2,400 layer instances" in issue.message


def test_blocks_that_use_blocks_are_counted_as_they_expand() -> None:
    """Templates can multiply too: ten uses of a block of ten uses of ... are refused at the first
    use that makes more values than a file may have nodes."""
    blocks = ["    blocks:", "      b0:", "        - {kind: activation}"]
    for level in range(1, 8):
        blocks.append(f"      b{level}:")
        blocks += [f"        - {{kind: block, name: x{i}, use: b{level - 1}}}" for i in range(10)]
    text = network("{kind: block, name: top, use: b7}", extra="\n".join(blocks) + "\n")
    issue = only(text)
    assert "budget for the nodes of a set file" in issue.message


@pytest.mark.parametrize(
    ("side", "at"),
    [(3001, "until"), (budgets.MAX_SIDE, "until")],
)
def test_repeat_until_on_a_huge_input_is_bounded_and_refused(side: int, at: str) -> None:
    """``until: {size: 1}`` on a 3001×3001 input took 171 s (each count ran the network again);
    now the instances are planned once and the search stops where the budget on layer instances
    does, refused at the repeat's ``until``."""
    text = network(
        "{kind: repeat, name: r, until: {size: 1}, layer: {kind: conv, out_channels: 1, kernel: 2}}",
        input=f"[{side}, {side}, 1]",
    )
    issue = only(text)
    assert issue.line == 8 and issue.field == f"layers.0.{at}"
    assert f"in {budgets.MAX_LAYERS:,} instances" in issue.message and "budget for the layer instances" in issue.message


def test_repeat_until_within_the_budget_still_solves() -> None:
    """223 convolutions of 2×2 take 224 to 1: far more than a course asks, well within."""
    problem = NetworkProblem.model_validate(
        {
            "type": "network",
            "input": [224, 224, 1],
            "layers": [
                {
                    "kind": "repeat",
                    "name": "r",
                    "until": {"size": 1},
                    "layer": {"kind": "conv", "out_channels": 1, "kernel": 2},
                }
            ],
        }
    )
    with budgets.metered(10**9) as meter:
        assert problem.solve()["count.r"].value == 223
    assert meter.used < 3 * 224 * budgets.STEPS_PER_LAYER  # the search walks each instance once


def test_repeat_until_at_the_end_keeps_what_each_count_shares() -> None:
    text = network(
        """
{kind: repeat, name: r, until: {size: 1, at: end}, layer: {kind: conv, out_channels: 1, kernel: 2}}
{kind: repeat, name: t, times: 10, layer: {kind: activation}}
""",
        input="[3001, 3001, 1]",
    )
    issue = only(text)
    assert "budget" in issue.message


@pytest.mark.parametrize(
    ("layer", "field", "budget"),
    [
        ("{kind: conv, out_channels: 2000000, kernel: 3}", "layers.0.conv.out_channels", "a layer's units"),
        ("{kind: conv, out_channels: 8, kernel: 5000}", "layers.0.conv.kernel", "a window's settings"),
        ("{kind: conv, out_channels: 8, kernel: 3, padding: 5000}", "layers.0.conv.padding", "a window's settings"),
        ("{kind: conv, out_channels: 8, kernel: 3, padding: [[0, 5000], 1]}", "layers.0.conv.padding", "a window's"),
        ("{kind: pool, kernel: 2, stride: [1, 20000]}", "layers.0.pool.stride", "a window's settings"),
        ("{kind: upsample, scale: 1000}", "layers.0.upsample.scale", "an upsampling factor"),
        ("{kind: upsample, scale: .inf}", "layers.0.upsample.scale", "an upsampling factor"),
        ("{kind: upsample, size: 100000}", "layers.0.upsample.size", "a map's side"),
        ("{kind: adaptive_pool, size: [1, 100000]}", "layers.0.adaptive_pool.size", "a map's side"),
        ("{kind: pad, padding: 100000}", "layers.0.pad.padding", "a map's side"),
        ("{kind: linear, out_features: 2000000}", "layers.0.linear.out_features", "a layer's units"),
    ],
)
def test_a_setting_over_its_budget_is_refused_at_its_field(layer: str, field: str, budget: str) -> None:
    issue = only(network(layer))
    assert issue.line == 8 and issue.field == field, issue
    assert f"budget for {budget}" in issue.message


@pytest.mark.parametrize(
    ("input", "index", "budget"),
    [("[5000, 32, 3]", 0, "a map's side"), ("[32, 32, 2000000]", 2, "a layer's units"), ("[2000000]", 0, "units")],
)
def test_an_input_over_its_budget_is_refused_at_its_size(input: str, index: int, budget: str) -> None:
    issue = only(network("{kind: flatten}", input=input))
    assert issue.line == 6 and issue.field == f"input.{index}" and budget in issue.message


@pytest.mark.parametrize(
    ("layers", "made"),
    [
        ("{kind: upsample, scale: 64}\n{kind: upsample, scale: 64}", "map"),
        ("{kind: conv, out_channels: 8, kernel: 1, padding: 1000}\n" * 3, "map"),
        (
            "{kind: conv, out_channels: 900000, kernel: 1}\n{kind: concat, from: [input, conv]}".replace(
                "kernel: 1}", "kernel: 1, name: conv}", 1
            ).replace("from: [input, conv]", "from: [conv, conv]"),
            "channels",
        ),
    ],
)
def test_a_layer_that_makes_a_map_over_the_budget_is_refused_at_its_line(layers: str, made: str) -> None:
    issues = issues_of(network(layers, input="[64, 64, 3]"))
    found = [i.message for i in issues if "it makes" in i.message and "over the budget" in i.message]
    assert found and made in found[0], issues


# --- image problems ------------------------------------------------------------------------------


def conv(lines: str, kind: str = "conv2d") -> str:
    return (
        HEADER
        + f"  - id: q1\n    type: {kind}\n"
        + "".join(f"    {line}\n" for line in lines.strip().splitlines())
        + "    parts:\n      - {key: out, quantity: shape}\n"
    )


@pytest.mark.parametrize(("padding", "line"), [(500, 8), (1000, 8)])
def test_padding_that_would_allocate_gigabytes_is_refused_at_the_padding(padding: int, line: int) -> None:
    """``padding: 5000`` took 64 s and 7.4 GB; 20,000 asked numpy for 12 GiB. Within the budget on a
    window, the output it would make is still over the budget on a matrix: refused before numpy runs."""
    issue = only(conv(f"input: [[1, 2], [3, 4]]\nkernel: [[1]]\npadding: {padding}"))
    assert (issue.line, issue.field) == (line, "padding") and "budget for the elements of a matrix" in issue.message


def test_padding_over_the_window_budget_is_refused_as_a_setting() -> None:
    issue = only(conv("input: [[1, 2], [3, 4]]\nkernel: [[1]]\npadding: 20000"))
    assert issue.field == "padding" and "budget for a window's settings" in issue.message


def test_a_written_image_over_the_budget_is_refused_at_the_input() -> None:
    rows = "[" + ", ".join("[" + ", ".join(["1"] * 101) + "]" for _ in range(101)) + "]"
    issue = only(conv(f"input: {rows}\nkernel: [[1]]"))
    assert (issue.line, issue.field) == (6, "input") and "10,201 elements" in issue.message


def test_a_kernel_on_many_channels_is_counted_before_it_is_made() -> None:
    """One kernel stands for one filter per channel: 10,000 channels of a 50×50 kernel would be
    25 million weights, counted and refused before numpy makes them."""
    image = "[" + ", ".join(["[[1]]"] * 10_000) + "]"
    kernel = "[" + ", ".join("[" + ", ".join(["1"] * 50) + "]" for _ in range(50)) + "]"
    issue = only(conv(f"input: {image}\nkernel: {kernel}\npadding: 25"))
    assert issue.field == "kernel" and "budget for the elements of a matrix" in issue.message


def test_a_convolution_over_the_work_budget_is_refused() -> None:
    image = "[" + ", ".join("[" + ", ".join(["1"] * 100) + "]" for _ in range(100)) + "]"
    kernel = "[" + ", ".join("[" + ", ".join(["1"] * 40) + "]" for _ in range(40)) + "]"
    issue = only(conv(f"input: {image}\nkernel: {kernel}"))  # 61×61 outputs of 1,600 each
    assert issue.field == "input" and "budget for the work of an image problem" in issue.message


def test_a_transposed_convolution_over_the_budget_is_refused() -> None:
    issue = only(conv("input: [[1, 2], [3, 4]]\nkernel: [[1, 1], [1, 1]]\nstride: 1000", "conv_transpose2d"))
    assert issue.field == "input" and "budget for the elements of a matrix" in issue.message


def test_a_pooling_over_the_budget_is_refused() -> None:
    image = "[" + ", ".join("[" + ", ".join(["1"] * 100) + "]" for _ in range(100)) + "]"
    issue = only(conv(f"input: {image}\nkernel: 200\npadding: 100\nstride: 2", "pool2d"))  # 51×51 windows of 200×200
    assert issue.field == "kernel" and "budget for the work of an image problem" in issue.message


@pytest.mark.parametrize("draw", ["{rows: 1000}", "{rows: [2, 200], cols: 60}", "{rows: 10, channels: [1, 101]}"])
def test_a_drawn_matrix_over_the_budget_is_refused_at_the_draw(draw: str) -> None:
    text = conv(f"input: [[1, 2], [3, 4]]\nkernel: [[1]]\nvary: {{input: {{matrix: {draw}}}}}").replace(
        "problems:", "randomized: true\nproblems:"
    )
    issue = only(text)
    assert (issue.line, issue.field) == (9, "vary.input.matrix")
    assert "budget for the elements of a matrix" in issue.message


def test_the_matrix_budget_is_what_a_student_may_answer() -> None:
    assert budgets.MAX_ELEMENTS == READABLE_ELEMENTS


# --- a set: its parts, checks, references, and the work of checking it ------------------------------


def derived(parts: int, checks: int = 0) -> str:
    lines = [HEADER + "  - id: q1\n    type: inverse\n    find: kernel\n    size_in: 32\n    size_out: 28\n    parts:"]
    for number in range(parts):
        check = " checks: [{answer: 5, status: correct}]," if number < checks else ""
        lines.append(f"      - {{key: k{number},{check} quantity: kernel}}")
    return "\n".join(lines) + "\n"


def test_parts_over_the_budget_are_refused_at_the_first_too_many() -> None:
    assert parse_set(derived(budgets.MAX_PARTS))
    issue = only(derived(budgets.MAX_PARTS + 5))
    assert issue.line == 10 + budgets.MAX_PARTS and "budget for the parts of a set" in issue.message


def test_checks_over_the_budget_are_refused_at_the_first_too_many() -> None:
    one = "{answer: 5, status: correct}"
    text = derived(budgets.MAX_PARTS, checks=budgets.MAX_PARTS).replace(f"[{one}]", f"[{one}, {one}]")
    issue = only(text)  # two checks a part: the first check of the 51st part is the 101st
    assert (issue.line, issue.field) == (10 + budgets.MAX_CHECKS // 2, f"parts.{budgets.MAX_CHECKS // 2}.checks.0")
    assert "budget for the checks of a set" in issue.message


def test_a_long_chain_of_references_is_refused_not_recursed_into() -> None:
    links = budgets.MAX_REFERENCES + 5  # each part adds 1 to the next one's answer: p0 is solved first
    parts = [f"      - {{key: p{i}, quantity: {{sum: ['@q1.p{i + 1}', 1]}}}}" for i in range(links - 1)]
    parts += [f"      - {{key: p{links - 1}, quantity: kernel}}"]
    text = HEADER + "  - id: q1\n    type: inverse\n    find: kernel\n    size_in: 32\n    size_out: 28\n    parts:\n"
    issues = issues_of(text + "\n".join(parts) + "\n")
    assert any("budget for references between parts" in i.message for i in issues)


def networks(count: int, times: int) -> str:
    entry = (
        "  - id: n{i}\n    type: network\n    input: [32, 32, 8]\n    layers:\n"
        "      - {{kind: repeat, name: r, times: {times},\n"
        "         layer: {{kind: conv, out_channels: 8, kernel: 3, padding: 1}}}}\n"
        "    parts:\n      - {{key: p, quantity: params.total}}\n"
    )
    return HEADER + "".join(entry.format(i=i, times=times) for i in range(count))


def test_the_work_of_checking_a_set_is_counted_and_refused_at_the_problem_that_passes_it() -> None:
    """Each network within its budget, the set over its own: refused at the problem that passed it,
    with nothing solved after."""
    per_network = 1000 * budgets.STEPS_PER_LAYER
    count = budgets.MAX_WORK // per_network + 2
    issue = only(networks(count, 1000))
    over = budgets.MAX_WORK // per_network
    assert issue.problem == f"n{over}" and issue.line == 4 + 8 * over
    assert f"over the budget for checking a set ({budgets.MAX_WORK:,})" in issue.message


def test_a_randomized_set_counts_every_probe_variant() -> None:
    text = network(
        "{kind: repeat, name: r, times: 500, layer: {kind: conv, out_channels: 8, kernel: 3, padding: 1}}",
        extra="    vary: {input.0: {int: [30, 34]}}\n",
        randomized=True,
    )
    assert "budget for checking a set" in only(text).message
    assert parse_set(text.replace("randomized: true\n", "").replace("    vary: {input.0: {int: [30, 34]}}\n", ""))


# --- the sets of a course stay within ------------------------------------------------------------------


def built_in_files() -> Iterator[Path]:
    yield from sorted(BUILT_IN.glob("*.yaml"))
    yield from sorted((ROOT / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", list(built_in_files()), ids=lambda p: p.name)
def test_every_built_in_set_is_well_within_the_budgets(path: Path) -> None:
    """Loaded, with half the budget on work to spare (``classic-architectures``, the largest, takes
    about 3,700 steps), and a hundredth of the budget on characters."""
    text = path.read_text(encoding="utf-8")
    assert len(text) < budgets.MAX_TEXT // 100
    assert work_of(text) <= budgets.MAX_WORK // 2


def resnet152() -> dict:
    """ResNet-152 written like the built-in ResNet-50 (3, 8, 36 and 3 bottlenecks)."""
    classics = yaml.safe_load((BUILT_IN / "classic-architectures.yaml").read_text(encoding="utf-8"))
    entry = next(p for p in classics["problems"] if p["id"] == "resnet50")
    params = {k: v for k, v in entry.items() if k not in ("id", "title", "text", "parts")}
    for step, times in zip(params["layers"][4:8], (3, 8, 36, 3), strict=True):
        step["times"] = times
    return params


def test_resnet152_on_224_validates_and_matches_torchvision() -> None:
    """torchvision's resnet152: 60,192,808 parameters; 1,547 layer instances with its batch norms,
    activations and sums, within the budget of a network and of a set."""
    problem = NetworkProblem.model_validate(resnet152())
    with budgets.metered() as meter:
        solved = problem.solve()
    assert solved["params.total"].value == 60_192_808
    assert len(problem.network().records) <= budgets.MAX_LAYERS
    assert meter.used <= budgets.MAX_WORK
    entry = {"id": "r", "parts": [{"key": "p", "quantity": "params.total"}], **resnet152()}
    text = yaml.safe_dump({"id": "resnet152", "title": "ResNet-152", "problems": [entry]})
    assert parse_set(text).solve()["r.p"].value == 60_192_808


# --- a stored version is read, not solved again ---------------------------------------------------------


def test_a_version_checked_before_is_read_without_solving_it() -> None:
    """``probes=False`` (the service's stored versions): the file is read and validated, within
    the budgets, but no key is solved until asked for."""
    unsolvable = network("{kind: conv, out_channels: 8, kernel: 40}")
    assert "answer undefined" in only(unsolvable).message
    problem_set = parse_set(unsolvable, probes=False)
    with pytest.raises(SolveError):
        problem_set.solve()
    with pytest.raises(SetFileError, match="budget for the layer instances"):
        parse_set(network("{kind: repeat, name: r, times: 100000, layer: {kind: activation}}"), probes=False)


# --- property: any file within reach of the budgets is checked or refused, with bounded work -----------


#: A number near a budget: small ones as a course writes them, the budget itself, and just over it.
def near(limit: int, low: int = 1) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(low, min(limit, 8)), st.sampled_from([limit, limit + 1]), st.integers(low, limit + 1))


WINDOW = near(budgets.MAX_WINDOW)
LAYERS: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.fixed_dictionaries(
        {"kind": st.just("conv"), "out_channels": near(budgets.MAX_UNITS), "kernel": WINDOW},
        optional={"stride": WINDOW, "padding": near(budgets.MAX_WINDOW, 0), "dilation": WINDOW},
    ),
    st.fixed_dictionaries(
        {"kind": st.just("conv_transpose"), "out_channels": near(64), "kernel": WINDOW},
        optional={"stride": near(16)},
    ),
    st.fixed_dictionaries({"kind": st.just("pool"), "kernel": WINDOW}, optional={"stride": WINDOW}),
    st.fixed_dictionaries({"kind": st.just("upsample"), "scale": near(budgets.MAX_SCALE)}),
    st.fixed_dictionaries({"kind": st.just("adaptive_pool"), "size": near(budgets.MAX_SIDE)}),
    st.fixed_dictionaries({"kind": st.sampled_from(["activation", "batchnorm"])}),
)


def steps(depth: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Layers, and repeats of layers or of blocks of steps (nested ``depth`` deep)."""
    if depth == 0:
        return st.lists(LAYERS, min_size=1, max_size=3)
    repeat = st.fixed_dictionaries(
        {"kind": st.just("repeat"), "times": near(budgets.MAX_LAYERS, 0), "layers": steps(depth - 1)}
    )
    return st.lists(st.one_of(LAYERS, repeat), min_size=1, max_size=3)


@st.composite
def network_files(draw: st.DrawFn) -> str:
    layers = draw(steps(2))
    if draw(st.booleans()):  # a repeat until a size, at the top
        layer = draw(LAYERS)
        until = {"size": draw(near(budgets.MAX_SIDE)), "at": draw(st.sampled_from(["self", "end"]))}
        layers.insert(draw(st.integers(0, len(layers))), {"kind": "repeat", "layer": layer, "until": until})
    for index, step in enumerate(_walk(layers)):
        if step["kind"] == "repeat":
            step["name"] = f"r{index}"
    side = near(budgets.MAX_SIDE)
    entry = {
        "id": "q1",
        "type": "network",
        "input": [draw(side), draw(side), draw(near(64))],
        "layers": layers,
        "parts": [{"key": "out", "quantity": "output"}, {"key": "macs", "quantity": "macs.total"}],
    }
    if draw(st.booleans()):
        entry["vary"] = {"input.0": {"int": [1, draw(side)]}}
    return yaml.safe_dump(
        {"id": "p", "title": "P", "randomized": "vary" in entry, "problems": copies(entry, draw(st.integers(1, 3)))}
    )


def _walk(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield step
        yield from _walk(step.get("layers", []))


@st.composite
def image_files(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["conv2d", "conv_transpose2d", "pool2d"]))
    entry: dict[str, Any] = {"id": "q1", "type": kind, "input": [[1, 2], [3, 4]]}
    entry["kernel"] = 2 if kind == "pool2d" else [[1, 0], [0, 1]]
    if draw(st.booleans()):
        entry["padding"] = draw(near(budgets.MAX_WINDOW, 0) if kind != "pool2d" else st.integers(0, 1))
    if draw(st.booleans()):
        entry["stride"] = draw(WINDOW)
    matrix = {"rows": draw(near(150)), "cols": draw(near(150))}
    entry["vary"] = {"input": {"matrix": matrix}}
    if kind != "pool2d" and draw(st.booleans()):
        entry["vary"]["kernel"] = {"matrix": {"rows": draw(near(60)), "cols": draw(near(60))}}
    entry["parts"] = [{"key": "out", "quantity": "shape"}]
    return yaml.safe_dump(
        {"id": "p", "title": "P", "randomized": True, "problems": copies(entry, draw(st.integers(1, 3)))}
    )


def copies(entry: dict[str, Any], count: int) -> list[dict[str, Any]]:
    return [{**entry, "id": f"q{number}"} for number in range(count)]


def work_of(text: str) -> int:
    """The steps of work the loader counts checking a set file (that loads, and passes through the
    self-test, or is refused with issues), each charge at most the largest one a solver makes."""
    peak = [0]
    largest = budgets.image_steps(macs=budgets.MAX_MACS, outputs=budgets.MAX_ELEMENTS, windows=budgets.MAX_ELEMENTS)
    charge = budgets.Meter.charge

    def counted(meter: budgets.Meter, steps: int) -> None:
        assert steps <= largest
        if meter.limit == budgets.MAX_WORK:  # the loader's meter
            peak[0] = max(peak[0], meter.used + steps)
        charge(meter, steps)

    with mock.patch.object(budgets.Meter, "charge", counted):
        try:
            problem_set = parse_set(text, "random.yaml")
        except SetFileError as error:
            assert error.issues
            return peak[0]
    assert isinstance(check_set(problem_set), list)  # and the self-test, as validation runs it
    return peak[0]


def checked_within_budget(text: str) -> None:
    """The file loads or is refused with issues, and no more work is done than the budget (and one
    charge past it: the one that went over)."""
    largest = budgets.image_steps(macs=budgets.MAX_MACS, outputs=budgets.MAX_ELEMENTS, windows=budgets.MAX_ELEMENTS)
    assert work_of(text) <= budgets.MAX_WORK + largest


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(network_files())
def test_any_network_within_reach_of_the_budgets_is_checked_with_bounded_work(text: str) -> None:
    checked_within_budget(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(image_files())
def test_any_image_problem_within_reach_of_the_budgets_is_checked_with_bounded_work(text: str) -> None:
    checked_within_budget(text)
