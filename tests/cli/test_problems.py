"""``grader problems`` through typer's CliRunner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()


def test_list_names_every_built_in_set() -> None:
    result = runner.invoke(app, ["problems", "list"])
    assert result.exit_code == 0
    for set_id in ("fc-vs-conv", "rgb-convolution", "conv-pool-basics", "mobilenet-yolo", "cifar-convnet"):
        assert set_id in result.output


def test_show_prints_statements_and_keys() -> None:
    result = runner.invoke(app, ["problems", "show", "rgb-convolution"])
    assert result.exit_code == 0
    assert "q8.shape" in result.output and "stride 2" in result.output


def test_show_a_student_variant_differs_between_students_and_secrets() -> None:
    def show(*options: str) -> str:
        result = runner.invoke(app, ["problems", "show", "conv-arithmetic", *options])
        assert result.exit_code == 0, result.output
        return result.output

    first, second = show("--secret", "k", "--student", "a"), show("--secret", "k", "--student", "b")
    assert "c1.output" in first and first != second
    assert show("--secret", "other", "--student", "a") != first  # another assignment's secret
    assert show("--seed", "1") != show("--seed", "2")


def test_solve_json_gives_every_key() -> None:
    result = runner.invoke(app, ["problems", "solve", "fc-vs-conv", "--json"])
    assert result.exit_code == 0
    answers = json.loads(result.output)
    assert answers["p2a.total"] == 11336941156
    assert answers["p3.conv"] == [[1, 0], [-1, 4]]


def test_an_unknown_set_is_a_clear_error() -> None:
    result = runner.invoke(app, ["problems", "solve", "no-such-set"])
    assert result.exit_code == 2
    assert "No problem set 'no-such-set'" in result.output and "fc-vs-conv" in result.output


def test_solve_steps_json_gives_each_key_its_value_and_worked_steps() -> None:
    """``{KEY: {"value", "steps": [{"text", "tex"?, "value"?}]}}``, the last step on the value."""
    plain = json.loads(runner.invoke(app, ["problems", "solve", "conv-arithmetic", "--seed", "3", "--json"]).output)
    result = runner.invoke(app, ["problems", "solve", "conv-arithmetic", "--seed", "3", "--steps", "--json"])
    assert result.exit_code == 0, result.output
    worked = json.loads(result.output)
    assert set(worked) == set(plain)
    for key, entry in worked.items():
        assert entry["value"] == plain[key]
        assert entry["steps"] and all(set(step) <= {"text", "tex", "value"} for step in entry["steps"])
        assert entry["steps"][-1]["value"] == plain[key]


def test_solve_steps_prints_numbered_steps() -> None:
    result = runner.invoke(app, ["problems", "solve", "rgb-convolution", "--steps"])
    assert result.exit_code == 0, result.output
    assert "q8.shape" in result.output and "  1. " in result.output
    assert "H_out = ⌊(H − (K − 1) − 1)/S⌋ + 1 = ⌊(128 − (3 − 1) − 1)/2⌋ + 1 = 63" in result.output


def test_check_steps_adds_the_worked_solution_to_the_graded_part() -> None:
    result = runner.invoke(app, ["check", "rgb-convolution", "q8.shape", "62x62x16", "--steps", "--json"])
    assert result.exit_code == 0, result.output
    part = json.loads(result.output)
    assert part["misconception"] == "missing-plus-one" and "at step 2" in part["feedback"]
    assert part["solution"][-1] == {"text": "Written in the order H×W×C: 63 × 63 × 16", "value": [63, 63, 16]}
    plain = json.loads(runner.invoke(app, ["check", "rgb-convolution", "q8.shape", "62x62x16", "--json"]).output)
    assert "solution" not in plain
