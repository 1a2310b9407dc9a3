"""The ``grader`` command line: a thin layer over keyword-only library functions."""

from __future__ import annotations

import typer

import cli.flags  # noqa: F401  (flags shown without a type in --help)
from cli.courses import courses_app
from cli.gradescope import gradescope_app
from cli.grading import check, grade
from cli.lti import lti_app
from cli.problems import problems_app
from cli.service import db_app, serve, users_app
from cli.sets import sets_app
from cli.worker import worker

app = typer.Typer(
    help="Grade convolutional-network homework.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",  # docstrings wrap as paragraphs, as in the source
)
app.add_typer(problems_app, name="problems")
app.add_typer(sets_app, name="sets")
app.command("check")(check)
app.command("grade")(grade)
app.add_typer(gradescope_app, name="gradescope")
app.command("serve")(serve)
app.command("worker")(worker)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(courses_app, name="courses")
app.add_typer(lti_app, name="lti")


if __name__ == "__main__":  # pragma: no cover
    app()
