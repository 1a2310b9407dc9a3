"""Choice parts offline, on the example ``examples/layer-picks.yaml``: its options quote counts the
solvers compute (so the text an instructor wrote cannot drift from the numbers), ``grader problems
solve`` lists the right letters where the parts are, ``show`` lists the options by letter, and
``grader check`` takes a part of several picks as a JSON list."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.app import app
from problems.loader import load_set

EXAMPLE = str(Path(__file__).parents[2] / "examples" / "layer-picks.yaml")
runner = CliRunner()


def test_the_examples_options_quote_the_counts_the_solvers_compute() -> None:
    problem_set = load_set(Path(EXAMPLE))
    (net, _) = problem_set.problems
    params = {name: net.quantities[f"params.{name}"].value for name in ("conv1", "conv2", "fc")}
    assert params == {"conv1": 448, "conv2": 4640, "fc": 20490}
    most = problem_set.choice()["net.most"]
    for option, (name, count) in zip(most.choices, params.items(), strict=False):
        assert option.text.startswith(f"{name}:") and option.text.endswith(f"{count:,}")
    ((right,),) = [sorted(most.right)]
    assert most.option(right).text.startswith(max(params, key=lambda name: params[name]))


def test_solve_lists_the_right_letters_where_the_parts_are() -> None:
    result = runner.invoke(app, ["problems", "solve", EXAMPLE, "--json"])
    assert result.exit_code == 0, result.output
    solved = json.loads(result.output)
    assert list(solved) == ["net.conv2", "net.fc", "net.most", "net.learned", "why.instead"]
    assert (solved["net.most"], solved["net.learned"], solved["why.instead"]) == ("c", ["a", "c", "d"], "a")
    shown = runner.invoke(app, ["problems", "show", EXAMPLE])
    assert shown.exit_code == 0 and "    d) pool2" in shown.output


def test_check_grades_picks_and_says_the_form_a_part_takes() -> None:
    result = runner.invoke(app, ["check", EXAMPLE, "net.learned", '["a", "b", "c", "d"]', "--json"])
    assert result.exit_code == 0, result.output
    graded = json.loads(result.output)
    assert (graded["status"], graded["score"], graded["misconception"]) == ("partial", 0.666667, "pooling-has-weights")
    wrong = json.loads(runner.invoke(app, ["check", EXAMPLE, "net.learned", "a, c", "--json"]).output)
    assert wrong["status"] == "invalid" and "list of the letters" in wrong["feedback"]
    one = json.loads(runner.invoke(app, ["check", EXAMPLE, "net.most", "d", "--json"]).output)
    assert (one["status"], one["feedback"]) == ("incorrect", "A pooling layer has no weights.")
