"""``--help`` shows a flag as a flag (``--demo``, never ``--demo <bool>``) and an option's value
type as before (``--port <int range>``), on every command."""

from __future__ import annotations

import re

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from cli.app import app

runner = CliRunner()


def commands() -> list[list[str]]:
    """Every command's words (``["lti", "register"]``), found by walking the command tree."""
    found: list[list[str]] = []

    def walk(command: object, words: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children is None:
            found.append(words)
            return
        for name, child in children.items():
            walk(child, [*words, name])

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
