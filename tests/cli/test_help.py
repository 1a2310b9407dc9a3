"""``--help`` shows a flag as a flag (``--demo``, never ``--demo <bool>``) and an option's value
type as before (``--port <int range>``), on every command."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from cli.app import LAZY, ORDER, app

runner = CliRunner()


def commands() -> list[list[str]]:
    """Every command's words (``["lti", "register"]``), found by walking the command tree."""
    found: list[list[str]] = []

    def walk(command: Any, words: list[str]) -> None:
        if not hasattr(command, "commands"):
            found.append(words)
            return
        for name in command.list_commands(None):  # (the root's lazy commands are built when looked up)
            walk(command.get_command(None, name), [*words, name])

    walk(get_command(app), [])
    return found


@pytest.mark.parametrize("words", commands(), ids=" ".join)
def test_flags_take_no_type_in_help(words: list[str]) -> None:
    shown = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "200", "TERM": "dumb"})
    assert shown.exit_code == 0, shown.output
    assert "<bool>" not in shown.output
    assert re.search(r"--help\s+Show this message and exit", shown.output)


def test_options_keep_their_value_type() -> None:
    shown = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200", "TERM": "dumb"}).output
    assert re.search(r"--port\s+<int range>", shown) and re.search(r"--demo\s+Load the demo course", shown)


def test_serving_imports_nothing_that_grades() -> None:
    """``grader serve`` and ``grader users create`` (and each worker uvicorn spawns, which imports
    the command line again) start without the engine, sympy or the sandbox's client: the commands
    that grade are imported when run."""
    heavy = ("grader.engine", "sympy", "sandbox", "cli.grading")
    script = f"import sys, cli.app; print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""
    assert runner.invoke(app, ["grade", "--help"], env={"COLUMNS": "200", "TERM": "dumb"}).exit_code == 0


def test_grading_numbers_imports_no_formula_or_grouping_library(tmp_path: Path) -> None:
    """``grader grade`` on a set of numbers never imports sympy (about half a second of its start:
    formulas are read and solved by modules that import it when they run), nor scikit-learn, SciPy
    or torch; it still grades the submission."""
    answers = tmp_path / "one.jsonl"
    answers.write_text(json.dumps({"student": "s1", "answers": {"ex4.conv1_params": "3640"}}) + "\n")
    heavy = ("sympy", "sklearn", "scipy", "torch")
    script = (
        "import sys; from cli.app import app\n"
        "try:\n    app(['grade', sys.argv[1], '--set', 'conv-pool-basics'])\n"
        "except SystemExit as done:\n    assert not done.code, done.code\n"
        f"print('imported:', *(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", script, str(answers)], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "imported:", done.stderr
    (graded,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert graded["student"] == "s1" and graded["parts"]["ex4.conv1_params"]["score"] == 1.0


def test_a_commands_modules_are_imported_with_the_collector_paused_then_frozen_out_of_it() -> None:
    """The objects ``grader grade``'s import makes live as long as the command: the collector is
    off while they are made, and they are frozen out of it after, with the collector on again."""
    script = (
        "import gc; from cli.app import _built\n"
        "before = gc.get_freeze_count()\n"
        "_built('grade', 'cli.grading', 'grade')\n"
        "print(gc.isenabled(), gc.get_freeze_count() - before)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    enabled, frozen = done.stdout.split()
    assert enabled == "True" and int(frozen) > 10_000, done.stdout


def test_the_help_lists_every_command_registered_or_imported_when_used() -> None:
    """``ORDER`` is the root's listing: a command registered on ``app`` or added to ``LAZY`` and
    left out of it would run but never show in ``--help``."""
    registered = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert sorted(ORDER) == sorted(registered | set(LAZY))
