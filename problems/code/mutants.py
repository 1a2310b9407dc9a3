"""The mistakes an instructor names as mutants of their solution: the module each one is, and
why an edit cannot make one (its text not found exactly once, or a mutant that is the solution
itself). Text only: a mutant runs in the sandbox, never here."""

from __future__ import annotations

from collections.abc import Sequence

from problems.code.spec import Mistake


def source(mistake: Mistake, solution: str) -> str:
    """The mutant's module: the solution with the edit made, or the mistake's own module."""
    if mistake.solution is not None:
        return mistake.solution
    assert mistake.replace is not None and mistake.with_ is not None
    return solution.replace(mistake.replace, mistake.with_, 1)


def problem(mistake: Mistake, solution: str) -> tuple[str, str] | None:
    """Why the mistake is no mutant of ``solution`` (the field, and a sentence), or None."""
    if mistake.replace is not None:
        found = solution.count(mistake.replace)
        if found != 1:
            times = "is not found in" if not found else f"is found {found} times in"
            return "replace", f"the text {_quoted(mistake.replace)} {times} the solution: give text found exactly once"
    if _same(source(mistake, solution), solution):
        field = "with" if mistake.replace is not None else "solution"
        return field, f"the mistake {mistake.code!r} leaves the solution as it is (only spaces or blank lines differ)"
    return None


def first_problem(mistakes: Sequence[Mistake], solution: str) -> tuple[int, str, str] | None:
    """The first mistake that is no mutant of ``solution``: its index, field and why."""
    for index, mistake in enumerate(mistakes):
        found = problem(mistake, solution)
        if found is not None:
            return index, *found
    return None


def _same(one: str, other: str) -> bool:
    """Whether two modules differ at most by trailing spaces and blank lines."""

    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.splitlines() if line.strip()]

    return lines(one) == lines(other)


def _quoted(text: str) -> str:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return repr(shown)
