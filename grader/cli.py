"""The ``grader`` command line: a thin layer over keyword-only library functions."""

from __future__ import annotations

import typer

from grader.commands.problems import problems_app

app = typer.Typer(help="Grade convolutional-network homework.", no_args_is_help=True, add_completion=False)
app.add_typer(problems_app, name="problems")


if __name__ == "__main__":  # pragma: no cover
    app()
