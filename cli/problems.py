"""``grader problems``: browse the bank, read statements, see reference answers."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.variants import SecretOption, SeedOption, StudentOption, chosen_variant
from problems.choices import ChoicePart
from problems.loader import BUILT_IN, SetFileError, load_bank, load_set
from problems.parts import WrittenPart
from problems.render import to_json, to_text
from problems.sets import ProblemSet
from problems.solutions import solutions

problems_app = typer.Typer(help="The problem sets in the bank.", no_args_is_help=True)
console = Console()

#: What makes a SET argument a path to a set file rather than a built-in id.
SET_SUFFIXES = (".yaml", ".yml")


@lru_cache(maxsize=1)
def bank() -> dict[str, ProblemSet]:
    """The built-in sets; a broken set file is reported, not a traceback."""
    try:
        return load_bank()
    except SetFileError as error:
        console.print(f"[red]Cannot load the problem bank:[/red] {error}", markup=True, highlight=False)
        raise typer.Exit(code=1) from None


def find_set(set_id: str) -> ProblemSet:
    """The set, by built-in id or path to a set file, or a clear error listing the ones there are.
    A built-in set is loaded from its own file (``sets/ID.yaml``) alone where it is there: loading
    and checking the whole bank takes seconds, a command about one set needs that one."""
    if Path(set_id).suffix in SET_SUFFIXES:
        return _set_file(set_id)
    own = BUILT_IN / f"{set_id}.yaml"
    if set_id.replace("-", "").replace("_", "").isalnum() and own.is_file():
        found = _built_in(set_id)
        if found is not None:
            return found
    sets = bank()
    if set_id not in sets:
        known = ", ".join(sorted(sets))
        console.print(f"[red]No problem set {set_id!r}.[/red] Known sets: {known}")
        raise typer.Exit(code=2)
    return sets[set_id]


@lru_cache(maxsize=4)
def _built_in(set_id: str) -> ProblemSet | None:
    """The built-in set ``set_id`` from its own file, or None where that file holds another id (the
    bank then finds it, or says it is not there)."""
    try:
        found = load_set(BUILT_IN / f"{set_id}.yaml")
    except SetFileError as error:
        console.print(f"[red]Cannot load the problem bank:[/red] {escape(str(error))}", highlight=False)
        raise typer.Exit(code=1) from None
    return found if found.id == set_id else None


@lru_cache(maxsize=4)
def _set_file(path: str) -> ProblemSet:
    if not Path(path).is_file():
        console.print(f"[red]No set file {escape(repr(path))}.[/red]", highlight=False)
        raise typer.Exit(code=2)
    try:
        return load_set(Path(path))
    except SetFileError as error:
        console.print(f"[red]Cannot load the set file:[/red] {escape(str(error))}", highlight=False)
        raise typer.Exit(code=1) from None


def set_source(set_id: str) -> Path:
    """The YAML file a set comes from: the path given, or the built-in file that declares that id."""
    find_set(set_id)
    if Path(set_id).suffix in SET_SUFFIXES:
        return Path(set_id)
    for path in sorted(BUILT_IN.glob("*.yaml")):
        if yaml.safe_load(path.read_text(encoding="utf-8")).get("id") == set_id:
            return path
    raise AssertionError(f"the bank has {set_id!r} but no file declares it")  # pragma: no cover


@problems_app.command("list")
def list_sets() -> None:
    """The problem sets in the bank."""
    table = Table("set", "title", "parts", "randomized")
    for problem_set in bank().values():
        table.add_row(
            problem_set.id,
            problem_set.title,
            str(len(problem_set.answer_keys())),
            "yes" if problem_set.randomized else "no",
        )
    console.print(table)


@problems_app.command("show")
def show(
    set_id: str = typer.Argument(..., metavar="SET"),
    seed: SeedOption = None,
    secret: SecretOption = None,
    student: StudentOption = None,
) -> None:
    """The statements, for one variant if the set is randomized (--seed N, or --secret S --student ID);
    of a set with pools or shuffle, that variant's problems in its order."""
    key = chosen_variant(seed=seed, secret=secret, student=student)
    chosen = find_set(set_id).drawn(key).variant(key)
    console.print(f"[bold]{chosen.title}[/bold] ({chosen.id})")
    seen: set[str] = set()
    for problem in chosen.problems:
        if problem.id not in seen:
            console.print(f"\n[bold]{problem.id}[/bold] {problem.title}")
            seen.add(problem.id)
        statement = problem.statement()
        if statement:
            console.print(statement, markup=False, highlight=False)
        for part in problem.in_order():
            written = ", written" if isinstance(part, WrittenPart) else ""
            console.print(f"  [cyan]{problem.id}.{part.key}[/cyan] ({part.points:g} pt{written}) {part.prompt}")
            if isinstance(part, ChoicePart):  # in the file's order: the letters answers name
                for option, choice in zip(part.ids, part.choices, strict=True):
                    console.print(f"    {option}) {escape(choice.text)}", highlight=False)


@problems_app.command("solve")
def solve(
    set_id: str = typer.Argument(..., metavar="SET"),
    seed: SeedOption = None,
    secret: SecretOption = None,
    student: StudentOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON object of key → answer."),
    steps: bool = typer.Option(False, "--steps", help="With each answer, its worked steps."),
) -> None:
    """The reference answers of one variant (an instructor's tool); --steps adds the worked solutions."""
    problem_set, variant = find_set(set_id), chosen_variant(seed=seed, secret=secret, student=student)
    answers = problem_set.solve(variant)
    if steps:
        _print_steps(problem_set, variant, as_json)
        return
    # a choice part's right letters (in the file's order), listed where the part is
    sent: dict[str, object] = {key: to_json(a.kind, a.value) for key, a in answers.items()}
    sent |= {key: part.right_answer for key, part in problem_set.choice().items()}
    ordered = [key for key in problem_set.answer_keys() if key in sent]
    if as_json:
        lines = [f"  {json.dumps(key)}: {json.dumps(sent[key])}" for key in ordered]
        print("{\n" + ",\n".join(lines) + "\n}")
        return
    table = Table("key", "kind", "answer")
    for key in ordered:
        answer = answers.get(key)
        if answer is None:
            table.add_row(key, "choice", ", ".join(sorted(problem_set.choice()[key].right)))
        else:
            table.add_row(key, answer.kind.value, to_text(answer.kind, answer.value))
    console.print(table)


def _print_steps(problem_set: ProblemSet, variant: str | None, as_json: bool) -> None:
    """``{KEY: {"value", "steps": [{"text", "tex"?, "value"?}]}}``, or each key's steps as text."""
    answers = problem_set.solve(variant)
    worked = solutions(problem_set, variant)
    if as_json:
        found = {
            key: {"value": to_json(a.kind, a.value), "steps": [step.to_json() for step in worked.get(key, ())]}
            for key, a in answers.items()
        }
        print(json.dumps(found, indent=2, ensure_ascii=False))
        return
    for key, answer in answers.items():
        console.print(f"\n[cyan]{key}[/cyan] = {escape(to_text(answer.kind, answer.value))}", highlight=False)
        for number, step in enumerate(worked.get(key, ()), start=1):
            console.print(f"  {number}. {escape(step.text)}", highlight=False, soft_wrap=True)
