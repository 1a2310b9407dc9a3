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
