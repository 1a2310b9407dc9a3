"""Code parts on the command line, through the real sandbox: ``grader check SET`` runs the set's
solutions and its mutant check, ``grader check SET KEY FILE`` grades a module, ``grader grade`` grades
code answers in JSON Lines (and Gradescope results with a row per test), and a Gradescope bundle
grades a ``KEY.py`` file; without a sandbox every command says so and exits 1."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import gradescope_runner
from cli.app import app
from problems.loader import BUILT_IN, load_bank
from sandbox import Call, CallResult, SandboxUnavailable
from tests.cli.test_gradescope import autograde
from tests.sandbox.probes import require_bwrap

runner = CliRunner()
SET = load_bank()["numpy-convolution"]
CONV = SET.solution_of("conv.forward")
NO_BIAS = CONV.replace("axes=([1, 2, 3], [1, 2, 3])) + b", "axes=([1, 2, 3], [1, 2, 3]))")


@pytest.fixture(autouse=True)
def _bubblewrap() -> None:
    require_bwrap()


class _NoSandbox:
    """A sandbox that cannot start, as on a machine without bubblewrap."""

    def __init__(self, *_: object, **__: object) -> None:
        pass

    def run(self, source: str, calls: Sequence[Call]) -> list[CallResult]:
        raise SandboxUnavailable("bubblewrap is not installed")

    def close(self) -> None:
        pass


def test_check_a_set_runs_its_solutions_and_its_mutants() -> None:
    result = runner.invoke(app, ["check", "numpy-convolution"])
    assert result.exit_code == 0, result.output
    assert "numpy-convolution: OK (4 code parts, 17 tests: the solutions pass every one)" in result.output


def test_check_a_set_whose_solution_fails_names_the_test_and_exits_1(tmp_path: Path) -> None:
    text = (BUILT_IN / "numpy-convolution.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("id: numpy-convolution", "id: broken").replace(" + b\n", "\n", 1), encoding="utf-8")
    result = runner.invoke(app, ["check", str(broken)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith(str(broken))]
    assert len(lines) == 5  # every test of conv.forward, each at its own line
    assert all("conv.parts.0.tests." in line and "the solution fails the test" in line for line in lines)
    assert "bias" in lines[0]


def test_check_one_code_answer_from_a_file(tmp_path: Path) -> None:
    module = tmp_path / "conv.py"
    module.write_text(NO_BIAS, encoding="utf-8")
    result = runner.invoke(
        app, ["check", "numpy-convolution", "conv.forward", str(module), "--student", "s1", "--secret", "k"]
    )
    assert result.exit_code == 0, result.output
    assert "conv.forward: incorrect (0/6)" in result.output
    assert "mistake: bias-omitted" in result.output
    assert result.output.count("[bias-omitted]") == 5


def test_grade_runs_code_answers_and_writes_every_test(tmp_path: Path) -> None:
    lines = tmp_path / "answers.jsonl"
    lines.write_text(
        json.dumps({"student": "ann", "answers": {"conv.forward": CONV, "pool.forward": "def f(:"}})
        + "\n"
        + json.dumps({"student": "bob", "answers": {"conv.forward": NO_BIAS}})
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["grade", str(lines), "--set", "numpy-convolution", "--secret", "k"])
    assert result.exit_code == 0, result.output
    ann, bob = (json.loads(line) for line in result.stdout.splitlines() if line.startswith("{"))
    assert ann["parts"]["conv.forward"]["status"] == "correct" and ann["score"] == 6.0
    assert len(ann["parts"]["conv.forward"]["tests"]) == 5
    assert ann["parts"]["pool.forward"]["status"] == "invalid"
    assert ann["parts"]["conv.backward"]["status"] == "unanswered"
    assert bob["parts"]["conv.forward"]["misconception"] == "bias-omitted" and bob["score"] == 0.0


def test_gradescope_results_have_a_row_per_code_test_with_its_visibility(tmp_path: Path) -> None:
    lines = tmp_path / "answers.jsonl"
    lines.write_text(json.dumps({"student": "ann", "answers": {"conv.forward": CONV}}) + "\n", encoding="utf-8")
    out = tmp_path / "results"
    result = runner.invoke(
        app, ["grade", str(lines), "--set", "numpy-convolution", "--format", "gradescope", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    results = json.loads((out / "ann" / "results.json").read_text())
    rows = [test for test in results["tests"] if test["name"].startswith("conv.forward: ")]
    assert [row["visibility"] for row in rows] == ["visible", "visible", "hidden", "hidden", "after_due_date"]
    assert all(row["status"] == "passed" and row["score"] == row["max_score"] for row in rows)
    assert sum(row["max_score"] for row in rows) == 6.0
    assert {"conv.backward", "pool.forward", "pool.backward"} <= {test["name"] for test in results["tests"]}


def test_without_a_sandbox_grading_code_says_so_and_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gradescope_runner, "Sandbox", _NoSandbox)
    lines = tmp_path / "answers.jsonl"
    lines.write_text(json.dumps({"student": "ann", "answers": {"conv.forward": CONV}}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["grade", str(lines), "--set", "numpy-convolution"])
    assert result.exit_code == 1
    record = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("{")))
    assert record["parts"]["conv.forward"]["status"] == "invalid"
    assert "code parts were not graded: Code is not graded on this server: the sandbox could not start" in result.output
    checked = runner.invoke(app, ["check", "numpy-convolution"])
    assert checked.exit_code == 1
    assert "The sandbox could not start, so the solutions were not run: bubblewrap is not installed" in checked.output
    one = runner.invoke(app, ["check", "numpy-convolution", "conv.forward", CONV])
    assert one.exit_code == 1 and "conv.forward: invalid" in one.output


def test_a_gradescope_bundle_grades_a_code_file(tmp_path: Path) -> None:
    bundle = tmp_path / "code.zip"
    # a variant secret of its own, not a new one each run: some variants draw inputs on which a test
    # but the first passes without the bias ("small whole numbers, no padding": 1.2 of 6 points, in a
    # full run and in about one secret of a hundred tried), and this test asks that none pass
    secret = ["--secret", "bundle-test-variant"]
    made = runner.invoke(app, ["gradescope", "bundle", "numpy-convolution", "--out", str(bundle), *secret])
    assert made.exit_code == 0, made.output
    metadata = {"users": [{"id": 4242, "email": "ada@example.org", "name": "Ada"}]}  # whose inputs are drawn
    results = autograde(bundle, tmp_path / "autograder", {"conv.forward.py": NO_BIAS}, metadata)
    rows = {test["name"]: test for test in results["tests"]}
    first = rows["conv.forward: one image, a 3×3 kernel, padding 1"]
    assert (first["status"], first["visibility"]) == ("failed", "visible")
    assert "Mistake: bias-omitted" in first["output"]
    assert results["score"] == 0.0
