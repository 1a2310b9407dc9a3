"""Which variant of a randomized set an offline command uses: ``--seed N``, or ``--secret S`` with a
student (``--student ID``; in ``grader grade`` each line's student), as the service draws them.

The service draws a student's numbers with a secret it keeps per assignment (instructors read it
as the assignment's ``variant_secret``), so a student id alone reproduces nothing; without either
option a randomized set's declared numbers are used."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from problems.variants import variant_key

console = Console(stderr=True)

SeedOption = Annotated[int | None, typer.Option("--seed", help="A numbered variant of a randomized set.")]
SecretOption = Annotated[
    str | None,
    typer.Option("--secret", help="The assignment's variant_secret (instructors read it from the assignment)."),
]
StudentOption = Annotated[
    str | None, typer.Option("--student", help="With --secret: this student's variant, as the service draws it.")
]


def chosen_variant(*, seed: int | None, secret: str | None, student: str | None) -> str | None:
    """The variant key the options name (None: the declared numbers); exit 2 for a mix that names none."""
    if seed is not None and (secret is not None or student is not None):
        _refuse("--seed names a variant by itself: give it without --secret and --student.")
    if (secret is None) != (student is None):
        _refuse(
            "--student and --secret go together: the service draws a student's numbers with the "
            "assignment's secret (its variant_secret), so the id alone reproduces nothing."
        )
    return variant_key(student=student, secret=secret, seed=seed)


def _refuse(message: str) -> None:
    console.print(f"[red]{message}[/red]", highlight=False)
    raise typer.Exit(code=2)
