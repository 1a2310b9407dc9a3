"""Pools offline, on the example ``examples/pooled-quiz.yaml``: ``grader problems show --secret S
--student ID`` shows the problems the service draws for that student, in their order; without a
student, every problem; ``grader sets validate`` refuses a pool choosing more than it holds at its line."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from cli.app import app
from problems.loader import load_set
from problems.variants import variant_key

EXAMPLE = Path(__file__).parents[2] / "examples" / "pooled-quiz.yaml"
runner = CliRunner()


def _shown(output: str) -> list[str]:
    """The problem ids ``show`` heads its problems with, in order."""
    ids = [problem.id for problem in load_set(EXAMPLE).problems]
    return [line.split()[0] for line in output.splitlines() if line.split()[:1] and line.split()[0] in ids]


def test_show_with_a_secret_and_a_student_shows_that_students_draw() -> None:
    problem_set = load_set(EXAMPLE)
    for student in ("s1", "s2", "s3"):
        result = runner.invoke(app, ["problems", "show", str(EXAMPLE), "--secret", "k", "--student", student])
        assert result.exit_code == 0, result.output
        drawn = problem_set.drawn(variant_key(student=student, secret="k")).problem_ids()
        assert _shown(result.output) == drawn and len(drawn) == 4
    every = runner.invoke(app, ["problems", "show", str(EXAMPLE)])
    assert _shown(every.output) == [problem.id for problem in problem_set.problems]


def test_validate_refuses_a_pool_choosing_more_than_it_holds_at_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace("choose: 2", "choose: 5"), encoding="utf-8")
    result = runner.invoke(app, ["sets", "validate", str(bad)])
    assert result.exit_code == 1
    line = next(number for number, text in enumerate(bad.read_text().splitlines(), 1) if "choose: 5" in text)
    assert re.search(rf"bad\.yaml:{line}:\d+: .*choose is 5, but the pool holds 4 problems", result.output)


def test_a_failing_check_of_a_pooled_problem_is_reported_at_its_line(tmp_path: Path) -> None:
    """The self-tests name a problem by its place among the set's problems, not the file's: inside a
    pool the line is still the check's own."""
    text = EXAMPLE.read_text(encoding="utf-8")
    old = "            - {key: shape, quantity: shape, layout: HW, prompt: The output's size (H×W).}\n        - id: s2"
    assert old in text
    checked = old.replace("prompt:", 'checks: [{answer: "9x9", status: correct}], prompt:', 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(old, checked), encoding="utf-8")
    result = runner.invoke(app, ["sets", "validate", str(bad)])
    assert result.exit_code == 1
    line = next(number for number, text in enumerate(bad.read_text().splitlines(), 1) if "9x9" in text)
    assert re.search(rf"bad\.yaml:{line}:\d+: s1\.parts\.0\.checks", result.output), result.output
