"""The ``grader`` command line: a thin layer over keyword-only library functions.

The commands that grade (``problems``, ``sets``, ``check``, ``grade``, ``gradescope``, and
``capacity``, which measures a set's grading) import the engine, sympy and the sandbox's client,
seconds on a loaded machine; they are imported when one of them is run (or ``--help`` lists them),
so ``grader serve``, ``grader users create`` and every worker uvicorn spawns (which imports this
module again) do not pay for them."""

from __future__ import annotations

from collections.abc import Callable
from difflib import get_close_matches
from importlib import import_module
from typing import Any, Literal

import typer
from typer.core import TyperGroup

import cli.flags  # noqa: F401  (flags shown without a type in --help)
from api.kit.collector import collector_paused
from cli.courses import courses_app
from cli.lti import lti_app
from cli.service import db_app, serve, users_app
from cli.worker import worker

#: The root's rich help: docstrings wrap as paragraphs, as in the source.
MARKUP: Literal["markdown"] = "markdown"

#: The commands imported when used: the module and the attribute (a Typer app, or a function for a
#: command of its own).
LAZY: dict[str, tuple[str, str]] = {
    "problems": ("cli.problems", "problems_app"),
    "sets": ("cli.sets", "sets_app"),
    "check": ("cli.grading", "check"),
    "grade": ("cli.grading", "grade"),
    "similarity": ("cli.similarity", "similarity"),
    "gradescope": ("cli.gradescope", "gradescope_app"),
    "capacity": ("cli.capacity", "capacity"),
}
#: Every command in the order ``--help`` lists them (commands, then groups, as Typer does).
ORDER = (
    "check",
    "grade",
    "similarity",
    "serve",
    "worker",
    "capacity",
    "problems",
    "sets",
    "gradescope",
    "db",
    "users",
    "courses",
    "lti",
)


class Commands(TyperGroup):
    """The root group: a command of :data:`LAZY` is imported and built the first time it is looked
    up, as Typer would have built it had it been registered on the root."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(ORDER)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in LAZY and cmd_name not in self.commands:
            self.add_command(_built(cmd_name, *LAZY[cmd_name]), cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in ORDER:  # a typo: Typer suggests from the commands built, so build its neighbours
            for name in get_close_matches(args[0], ORDER):
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


def _built(name: str, module: str, attribute: str) -> Any:
    """The click command Typer makes of ``module.attribute`` under ``name`` on a root like ours."""
    with collector_paused():
        target: typer.Typer | Callable[..., Any] = getattr(import_module(module), attribute)
    holder = typer.Typer(rich_markup_mode=MARKUP, add_completion=False)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    return typer.main.get_group(holder).commands[name]


app = typer.Typer(
    cls=Commands,
    help="Grade convolutional-network homework.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=MARKUP,
)
app.command("serve")(serve)
app.command("worker")(worker)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(courses_app, name="courses")
app.add_typer(lti_app, name="lti")


if __name__ == "__main__":  # pragma: no cover
    app()
