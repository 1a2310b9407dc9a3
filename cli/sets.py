"""``grader sets``: check set files offline as the service checks an upload before storing it (the
same ``parse_set``, ``check_set`` and ``compile_issues``; the checks that run code are ``grader
check``'s), the JSON Schema and reference page authors write them by, and
``push`` (``cli/push.py``) to upload them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.gradescope_runner import Sandboxes
from cli.mutations import uncaught
from cli.push import push
from cli.reference import reference_page
from grader.code.check import compile_issues
from grader.selftest import check_set
from problems.issues import Issue
from problems.loader import SetFileError, parse_set
from problems.setfile import set_file_schema
from sandbox import SandboxUnavailable

sets_app = typer.Typer(help="Set files: check them, upload them.", no_args_is_help=True)


def file_issues(path: Path) -> tuple[list[Issue], str]:
    """What is wrong with one set file (nothing for a good one), and a line on the set when it loads."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        return [Issue(None, None, None, f"cannot read the file: {reason}")], ""
    try:
        problem_set = parse_set(text, str(path))
    except SetFileError as error:
        return error.issues, ""
    keys = len(problem_set.answer_keys())
    summary = f"set {problem_set.id!r}, {keys} answer key{'s' if keys != 1 else ''}, version {problem_set.version}"
    issues = check_set(problem_set)
    if not issues and problem_set.code():  # (as an upload: its modules compiled apart, never in this process)
        issues = compile_issues(problem_set)
    return issues, summary


#: What validating a set with code parts does not do: the checks that run code, in the sandbox.
NOT_RUN_HERE = (
    "its code is not run here: each solution on its tests and each declared mistake are checked by "
    "`grader check SET` and an upload's check, in the sandbox"
)


@sets_app.command("validate")
def validate(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Set files (YAML).")],
    mutants: Annotated[
        bool,
        typer.Option(
            "--mutants",
            help="Also try standard mutations of each code solution in the sandbox and list those no test catches.",
        ),
    ] = False,
) -> None:
    """Check set files as the service checks an upload before storing it: the schema, the references,
    every probe variant, the set's own answer tests, and each code part's solution, driver and
    mistakes compiled (apart, never run). Running code is left to `grader check SET` and an upload's
    check (the solution on its tests, each declared mistake), in the sandbox; so is whether the
    server offers the `packages` a problem names. Prints FILE:LINE:COL: FIELD: MESSAGE per issue and a
    line per good file (and one saying what was not run, for a set with code); exits 1 if any file
    has an issue. With --mutants, each code solution's standard mutants
    (``+=`` made ``=``, a term dropped, a bound off by one, ``[p:-p]``, ``//`` made ``/``, a kernel
    flipped) are graded in the sandbox, and each one every test passes is listed (a note: an
    equivalent mutant may be right)."""
    failed = False
    for path in files:
        issues, summary = file_issues(path)
        for issue in issues:
            typer.echo(issue.located(str(path)))
        if issues:
            failed = True
        else:
            typer.echo(f"{path}: OK ({summary})")
            if not mutants and _has_code(path):
                typer.echo(f"{path}: {NOT_RUN_HERE}")
            if mutants:
                failed |= not _mutants(path)
    if failed:
        raise typer.Exit(code=1)


def _has_code(path: Path) -> bool:
    """Whether a set file that validated has code parts (it is read again: it parses)."""
    return bool(parse_set(path.read_text(encoding="utf-8"), str(path)).code())


def _mutants(path: Path) -> bool:
    """List the standard mutants of the set's code solutions that no test catches; False when the
    sandbox could not start."""
    problem_set = parse_set(path.read_text(encoding="utf-8"), str(path))
    if not problem_set.code():
        return True
    with Sandboxes() as sandboxes:
        try:
            found = uncaught(problem_set, sandboxes.run)
        except SandboxUnavailable as error:
            typer.echo(f"{path}: the sandbox could not start, so no mutant was run: {error}")
            return False
    for problem_id, mutant in found:
        where = f"line {mutant.line} of the solution" + (f" (in {mutant.function})" if mutant.function else "")
        typer.echo(f"{path}: problem {problem_id}: no test catches {mutant.what} at {where}")
    typer.echo(f"{path}: {len(found)} standard mutant{'s' if len(found) != 1 else ''} no test catches")
    return True


@sets_app.command("schema")
def schema() -> None:
    """The JSON Schema of a set file, for editors (yaml-language-server: put
    `# yaml-language-server: $schema=set-file.schema.json` at the top of a set file)."""
    typer.echo(json.dumps(set_file_schema(), indent=2, ensure_ascii=False))


@sets_app.command("reference")
def reference() -> None:
    """The reference for authors of set files (docs/set-files.md is this page)."""
    typer.echo(reference_page(), nl=False)


sets_app.command("push")(push)
