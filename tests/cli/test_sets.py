"""``grader sets``: validate (compiler-style issues, exit codes), schema (every built-in set
validates against it, broken files do not) and the reference page (equal to the committed one)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema_rs
import pytest
import yaml
from typer.testing import CliRunner

from cli.app import app
from cli.reference import ANCHORS_EXAMPLE, PAGE, reference_page
from grader.code.plan import calls_for
from problems.code.spec import Accuracy
from problems.loader import BUILT_IN, parse_set

runner = CliRunner()
ROOT = Path(__file__).parents[2]

GOOD = """\
id: mine
title: My set
source: Week 3 exercises
problems:
  - id: q1
    title: One layer
    text: A {input.0}×{input.1} input.
    type: network
    input: [32, 32, 3]
    layers:
      - {kind: conv, name: conv, out_channels: 16, kernel: 3}
    parts:
      - key: params
        quantity: params.conv
        checks:
          - {answer: 448, status: correct}
"""
#: Two schema issues, an unknown header field (line 3) and a wrong type (line 11), and a self-test that
#: fails (line 16), which runs only once the file loads.
BROKEN = (
    GOOD.replace("source: Week 3 exercises", "sauce: Week 3 exercises")
    .replace("out_channels: 16", "out_channels: sixteen")
    .replace("{answer: 448, status: correct}", "{answer: 449, status: correct}")
)
#: Only the self-test fails: the schema holds, the set solves.
UNTRUE = GOOD.replace("{answer: 448, status: correct}", "{answer: 449, status: correct}")
LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<where>[\w.]+): (?P<message>.+)$")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_is_ok_and_exits_0(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", GOOD)
    result = runner.invoke(app, ["sets", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{path}: OK (set 'mine', 1 answer key, version ")


def test_every_issue_is_printed_file_line_column_field_message(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken.yaml", BROKEN)
    result = runner.invoke(app, ["sets", "validate", str(broken)])
    assert result.exit_code == 1
    found = [LINE.match(line) for line in result.output.splitlines()]
    assert all(found), result.output
    assert [(m["file"], int(m["line"]), m["where"]) for m in found if m] == [
        (str(broken), 3, "sauce"),
        (str(broken), 11, "q1.layers.0.conv.out_channels"),
    ]
    # the self-test runs once the file loads: its issue is at the check's line
    untrue = write(tmp_path, "untrue.yaml", UNTRUE)
    result = runner.invoke(app, ["sets", "validate", str(untrue)])
    assert result.exit_code == 1
    assert result.output == f"{untrue}:16:13: q1.parts.0.checks.0: the answer 449 is graded incorrect, not correct\n"


def test_each_file_is_reported_and_any_issue_exits_1(tmp_path: Path) -> None:
    good, broken = write(tmp_path, "good.yaml", GOOD), write(tmp_path, "broken.yaml", BROKEN)
    missing, binary = tmp_path / "missing.yaml", tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00id")
    result = runner.invoke(app, ["sets", "validate", str(good), str(missing), str(broken), str(binary)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{good}: OK")
    assert lines[1] == f"{missing}: cannot read the file: No such file or directory"
    assert sum(line.startswith(f"{broken}:") for line in lines) == 2
    assert lines[-1].startswith(f"{binary}: cannot read the file: ")
    assert "Traceback" not in result.output


def test_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["sets", "validate"]).exit_code == 2
    assert runner.invoke(app, ["sets", "validate", "--strict", "x.yaml"]).exit_code == 2


def test_every_built_in_set_validates() -> None:
    files = sorted(str(path) for path in BUILT_IN.glob("*.yaml"))
    result = runner.invoke(app, ["sets", "validate", *files])
    assert result.exit_code == 0, result.output
    assert len([line for line in result.output.splitlines() if ": OK (" in line]) == len(files)


# --- hostile files: refused at a line, never a crash nor a hang -------------------------------------

HOSTILE_HEADER = "id: hostile\ntitle: Hostile\nproblems:\n"


def hostile_network(input: str, step: str) -> str:
    return (
        HOSTILE_HEADER + f"  - id: q1\n    type: network\n    input: {input}\n    layers:\n      - {step}\n"
        "    parts:\n      - {key: out, quantity: output}\n"
    )


def hostile_conv(padding: int) -> str:
    return (
        HOSTILE_HEADER + "  - id: q1\n    type: conv2d\n    input: [[1, 2], [3, 4]]\n    kernel: [[1]]\n"
        f"    padding: {padding}\n    parts:\n      - {{key: out, quantity: output}}\n"
    )


def laughs() -> str:
    lines = ["  - id: q1", "    type: derived", "    a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"    b{i}: &b{i} [" + ", ".join([f"*{'a' if i == 1 else f'b{i - 1}'}"] * 10) + "]" for i in range(1, 10)]
    return HOSTILE_HEADER + "\n".join(lines) + "\n"


#: The files that crashed or exhausted the service before the budgets (``problems/budgets.py``),
#: each with the line it is refused at and the budget it names.
HOSTILE = {
    "nested-30k": (HOSTILE_HEADER + "  - " + "[" * 30_000 + "\n", 4, "nesting"),
    "nested-1m": (HOSTILE_HEADER + "  - " + "[" * 1_000_000 + "]" * 1_000_000 + "\n", 4, "nesting"),
    "block-nested-1m": (HOSTILE_HEADER + "  - " + "- " * 1_000_000 + "x\n", 4, "nesting"),
    "laughs": (laughs(), 10, "the nodes of a set file"),
    "repeat-1e9": (
        hostile_network("[32, 32, 3]", "{kind: repeat, name: r, times: 1000000000, layer: {kind: activation}}"),
        8,
        "the layer instances of a network",
    ),
    "until-3001": (
        hostile_network(
            "[3001, 3001, 1]",
            "{kind: repeat, name: r, until: {size: 1}, layer: {kind: conv, out_channels: 1, kernel: 2}}",
        ),
        8,
        "the layer instances of a network",
    ),
    "padding-5000": (hostile_conv(5000), 8, "a window's settings"),
    "padding-500": (hostile_conv(500), 8, "the elements of a matrix"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_exits_1_at_its_line_in_a_subprocess(tmp_path: Path, name: str) -> None:
    """In a process of its own, as an author runs it: a crash (a segfault is exit 139) or a hang
    (the timeout) fails the test instead of taking the test run down."""
    text, line, budget = HOSTILE[name]
    path = write(tmp_path, f"{name}.yaml", text)
    grader = Path(sys.executable).parent / "grader"
    done = subprocess.run([str(grader), "sets", "validate", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stderr == ""
    found = [LOCATED.match(output) for output in done.stdout.splitlines()]
    assert found and all(found), done.stdout
    first = found[0]
    assert first is not None and (first["file"], int(first["line"])) == (str(path), line)
    assert f"over the budget for {budget}" in first["message"]


#: ``FILE:LINE:COL: [WHERE:] MESSAGE`` (an issue of the YAML itself has no field).
LOCATED = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?:(?P<where>[\w.]+): )?(?P<message>.+)$")


# --- the JSON Schema ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> jsonschema_rs.Validator:
    result = runner.invoke(app, ["sets", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    return jsonschema_rs.validator_for(schema)


@pytest.mark.parametrize("path", sorted(BUILT_IN.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_built_in_set_validates_against_the_schema(validator: jsonschema_rs.Validator, path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [error.message for error in validator.iter_errors(data)] == []


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "examples").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_set_validates_against_the_schema(validator: jsonschema_rs.Validator, path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [error.message for error in validator.iter_errors(data)] == []


def test_the_example_sets_of_the_tests_validate_against_the_schema(validator: jsonschema_rs.Validator) -> None:
    assert validator.is_valid(yaml.safe_load(GOOD))
    assert validator.is_valid(yaml.safe_load(UNTRUE))  # a self-test that fails is no schema error


def test_a_set_with_pools_validates_against_the_schema_and_a_wrong_pool_does_not(
    validator: jsonschema_rs.Validator,
) -> None:
    data = yaml.safe_load((Path(__file__).parents[2] / "examples" / "pooled-quiz.yaml").read_text(encoding="utf-8"))
    assert [error.message for error in validator.iter_errors(data)] == []
    pool = data["problems"][1]["pool"]
    for wrong in ({**pool, "choose": 0}, {**pool, "problems": []}, {**pool, "pick": 1}, {"problems": pool["problems"]}):
        assert not validator.is_valid({**data, "problems": [data["problems"][0], {"pool": wrong}]})
    nested = {"pool": {"choose": 1, "problems": [{"pool": pool}]}}
    assert not validator.is_valid({**data, "problems": [data["problems"][0], nested]})


def test_the_reference_example_of_derived_anchor_levels_validates_against_the_schema(
    validator: jsonschema_rs.Validator,
) -> None:
    """Levels `from` a backbone (whose blocks `use` templates) and at a `stride`; a level's `from` is
    one name, never the list a network step's may be."""
    block = ANCHORS_EXAMPLE.split("```yaml\n")[1].split("```")[0]
    data = {"id": "example", "title": "Example", "problems": yaml.safe_load(block)}
    assert [error.message for error in validator.iter_errors(data)] == []
    data["problems"][0]["levels"][0]["from"] = ["conv4"]
    assert not validator.is_valid(data)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # an unknown field in the header, in an entry, in a layer, in a part, in a check
        ("source: Week 3 exercises", "sauce: Week 3 exercises"),
        ("    title: One layer", "    title: One layer\n    titel: x"),
        ("kernel: 3}", "kernel: 3, kernal: 3}"),
        ("        quantity: params.conv", "        quantity: params.conv\n        point: 2"),
        ("status: correct}", "status: correct, note: x}"),
        # a wrong type, a missing field, an unknown problem type, an unknown layer kind, an empty title
        ("out_channels: 16", "out_channels: sixteen"),
        ("    input: [32, 32, 3]\n", ""),
        ("type: network", "type: networks"),
        ("kind: conv,", "kind: convolution,"),
        ("    title: One layer", '    title: ""'),
        # a check's status that is no verdict, a draw that is none of the forms
        ("status: correct}", "status: right}"),
        ("    parts:", "    vary:\n      input.0: {between: [1, 2]}\n    parts:"),
    ],
)
def test_a_broken_file_does_not_validate_against_the_schema(
    validator: jsonschema_rs.Validator, old: str, new: str
) -> None:
    assert old in GOOD
    assert not validator.is_valid(yaml.safe_load(GOOD.replace(old, new, 1)))


# --- the reference page --------------------------------------------------------------------------


def test_the_committed_reference_page_is_the_generated_one() -> None:
    committed = (ROOT / PAGE).read_text(encoding="utf-8")
    assert committed == reference_page(), "run: grader sets reference > docs/set-files.md"
    result = runner.invoke(app, ["sets", "reference"])
    assert result.exit_code == 0 and result.output == committed


def test_the_reference_has_a_table_of_an_inputs_fields_drawn_and_given() -> None:
    page = reference_page()
    drawn = page.index("### An input drawn")
    given = page.index("### An input given", drawn)
    assert "| `shape` | list of integer \\| string | required |" in page[drawn:given]
    assert "| `dtype` | `float64` \\| `float32` \\| `int64` | `float64` |" in page[drawn:given]
    assert "| `dtype` | `float64` \\| `float32` \\| `int64` | — | The array's type; by default `int64`" in page[given:]


def test_the_reference_names_every_problem_type_layer_kind_draw_and_mistake() -> None:
    page = reference_page()
    for heading in ("### `type: conv2d`", "### `type: network`", "### `type: yolo`", "### `kind: repeat`"):
        assert heading in page
    for name in ("`same_as`", "`checks`", "`{layers.7.out_features}`", "`anchors`", "`bias-omitted`", "`matrix`"):
        assert name in page


def test_the_held_out_labels_example_loads_and_keeps_y_test_from_the_call() -> None:
    """The section on what a driver computes: its part, under a problem of the torch runtime, loads,
    judges its predictions against `y_test` and binds everything but `y_test` for the driver."""
    from cli.reference import DRIVER_TRUST

    (block,) = re.findall(r"```yaml\n(.*?)\n *```", DRIVER_TRUST, re.DOTALL)
    head = "id: trust\ntitle: Trust\nproblems:\n  - id: digits\n    type: code\n    runtime: torch\n"
    head += "    solution: |\n      def train(x, y):\n          return None\n"
    problem_set = parse_set(head + block + "\n")
    part = problem_set.code()["digits.compare"]
    assert part.rules == {"pred": Accuracy(accuracy="y_test", at_least=0.9)}
    (call,) = calls_for(problem_set, "digits.compare", "s1")
    assert sorted(call.kwargs) == ["x_test", "x_train", "y_train"]
    assert "### What a driver computes, and what the service judges" in reference_page()


def test_the_walk_to_your_own_code_homework_assembles_into_a_set_that_loads() -> None:
    """The chapter's YAML blocks, one after the other, are one problem of a set file: each step
    of the walk is what an instructor would type, and together they load (driver, inputs,
    outputs, a mistake found once in the solution, a test with the worked example's own image)."""
    from cli.reference import OWN_CODE_HOMEWORK

    blocks = re.findall(r"```yaml\n(.*?)\n *```", OWN_CODE_HOMEWORK, re.DOTALL)
    assert len(blocks) == 6
    # each block sits in the numbered list, 3 spaces in
    body = "".join(re.sub(r"(?m)^   ", "", block) + "\n" for block in blocks)
    entry = textwrap.indent(body, "  ")
    problem_set = parse_set("id: own-code\ntitle: Own code\nproblems:\n" + entry)
    part = problem_set.code()["sobel.filter"]
    assert part.kind is None and [m.code for m in part.mistakes] == ["kernel-flipped"]
    assert [test.name for test in part.tests] == ["the worked example's 3×5 image", "a 6×7 image drawn for you"]


def test_validate_compiles_a_sets_code_and_says_what_only_check_runs(tmp_path: Path) -> None:
    """A driver that does not compile is refused by validate at its line, as an upload refuses it, and
    ``--mutants`` runs nothing on it (no mutant reported as caught); a good set with code is OK with a
    line naming what only ``grader check`` runs."""
    good = (BUILT_IN / "seed-code-tasks.yaml").read_text(encoding="utf-8")
    driver = '          return {"out": student.filter2d(image, kernel)}\n'
    assert driver in good
    unclosed = driver.replace(")}", ")")
    broken = write(tmp_path, "broken.yaml", good.replace(driver, unclosed))
    for extra in ([], ["--mutants"]):
        result = runner.invoke(app, ["sets", "validate", *extra, str(broken)])
        assert result.exit_code == 1, result.output
        (line,) = result.output.splitlines()
        assert line.startswith(f"{broken}:") and "sobel.parts.0.driver: the driver does not compile" in line
    result = runner.invoke(app, ["sets", "validate", str(write(tmp_path, "good.yaml", good))])
    assert result.exit_code == 0, result.output
    assert "its code is not run here" in result.output and "`grader check SET`" in result.output
