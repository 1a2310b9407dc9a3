"""A flag takes no value, so ``--help`` shows it as ``--demo``, never ``--demo <bool>``.

Typer's plain help leaves a flag's type out, but its rich help panel (the one ``grader --help``
prints) shows every option's type, flags' included, which reads as if ``--demo`` wanted a value.
Importing this module makes the panel leave it out too, for every command (``cli.app`` imports it);
``tests/cli/test_help.py`` holds every command's help to it."""

from __future__ import annotations

from typing import Any

from typer.core import TyperOption

_typed = TyperOption.display_type_rich


def _display_type_rich(option: TyperOption, ctx: Any) -> str | None:
    # (ctx: the click context typer passes, of the click typer bundles)
    return None if option.is_flag else _typed(option, ctx)


# (mypy refuses a method assigned on a class, and ctx's type is typer's private copy of click's)
TyperOption.display_type_rich = _display_type_rich  # type: ignore[method-assign,assignment]
