"""``grader similarity``: the similarity report of a file of submissions (the lines ``grader grade``
reads), offline: pairs ranked by score with what they share, and clusters of three or more.

The set's solutions and the ``--starter`` files weigh nothing; ``--reference`` files (past terms)
are compared against and never paired with each other. Nothing is run: code is only lexed
(:mod:`grader.code_similarity`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli import batch
from cli.problems import find_set
from grader.code_similarity import Report, Submission, similarity_report

console = Console(stderr=True)
#: The largest starter or reference file read, in bytes.
MAX_FILE = 1 << 20
#: Reference files read from a folder, at most.
MAX_REFERENCES = 10_000


def similarity(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="JSON Lines, as for grade.")],
    set_id: Annotated[str, typer.Option("--set", metavar="SET", help="The problem set: a built-in id or a set file.")],
    starter: Annotated[
        list[Path] | None,
        typer.Option("--starter", exists=True, dir_okay=False, help="Starter code given to students (repeatable)."),
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option("--reference", exists=True, file_okay=False, help="A folder of past terms' files (.py, .ipynb)."),
    ] = None,
    part: Annotated[
        list[str] | None, typer.Option("--part", help="Compare only these code parts (repeatable).")
    ] = None,
    graded: Annotated[
        Path | None,
        typer.Option("--graded", exists=True, dir_okay=False, help="grader grade's JSON Lines: the same mistakes."),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, max=100_000, help="Pairs listed.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON on stdout.")] = False,
) -> None:
    """Rank the pairs of a class's code by similarity: evidence for a person to judge, not a verdict.

    A pair's score (0 to 1) weighs what the two share by how rare it is in the class: what half the
    class writes counts for nothing, nor do the set's solutions and the starter code. Each pair
    shows the tokens of code it shares, the parts, the rarest shared fragments, and the same rare
    mistakes when `--graded` gives `grader grade`'s output.
    """
    problem_set = find_set(set_id)
    code_keys = list(problem_set.code())
    if not code_keys:
        console.print(f"{set_id} has no code parts: nothing to compare.", highlight=False, markup=False)
        raise typer.Exit(code=2)
    unknown = sorted(set(part or ()) - set(code_keys))
    if unknown:
        console.print(
            f"No code part {', '.join(unknown)} in {set_id}. Code parts: {', '.join(code_keys)}", markup=False
        )
        raise typer.Exit(code=2)
    submissions = _submissions(file, code_keys)
    submissions += _references(reference) if reference else []
    starters = [_read(path) for path in starter or ()]
    starters += list(dict.fromkeys(problem_set.solution_of(key) for key in code_keys))
    mistakes = _mistakes(graded, code_keys) if graded else None
    report = similarity_report(submissions, starter=starters, parts=part or None, limit=top, mistakes=mistakes)
    if as_json:
        print(json.dumps(report.to_json(), indent=1))
    else:
        _show(report)


def _submissions(file: Path, code_keys: list[str]) -> list[Submission]:
    """The file's lines' code answers; a malformed line or a student seen before is named on stderr."""
    found: dict[str, Submission] = {}
    with file.open(encoding="utf-8-sig", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            parsed = batch.parse_jsonl_line(number, line)
            if isinstance(parsed, batch.BadLine):
                _say(f"{file}:{parsed.line}: skipped: {parsed.reason}")
                continue
            if parsed.student in found:
                _say(f"{file}:{number}: skipped: student {parsed.student!r} already read")
                continue
            parts = {key: value for key, value in parsed.answers.items() if key in code_keys and isinstance(value, str)}
            found[parsed.student] = Submission(parsed.student, parts)
    return list(found.values())


def _references(folder: Path) -> list[Submission]:
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".py", ".ipynb"))[:MAX_REFERENCES]
    return [Submission(f"reference:{p.relative_to(folder)}", {"code": _read(p)}, reference=True) for p in paths]


def _read(path: Path) -> str:
    with path.open("rb") as handle:
        return handle.read(MAX_FILE).decode("utf-8", errors="replace")


def _mistakes(graded: Path, code_keys: list[str]) -> dict[str, list[str]]:
    """Each student's failed tests of code parts, by named mistake, or else by the feedback (the
    values it got), from ``grader grade``'s JSON Lines."""
    mistakes: dict[str, list[str]] = {}
    with graded.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                record: Any = json.loads(line[: batch.MAX_LINE])
            except (ValueError, RecursionError):
                continue
            if not isinstance(record, dict) or not isinstance(record.get("parts"), dict):
                continue
            made = mistakes.setdefault(str(record.get("student")), [])
            for key in code_keys:
                tests = (record["parts"].get(key) or {}).get("tests") or []
                for test in tests if isinstance(tests, list) else []:
                    if isinstance(test, dict) and test.get("status") not in ("passed", None):
                        what = test.get("misconception") or f"{test.get('name')}: {test.get('feedback')}"
                        made.append(f"{key}: {what}")
    return mistakes


def _show(report: Report) -> None:
    table = Table(title=f"Similar pairs of {report.students} submissions ({report.pairs_compared} pairs compared)")
    for column in ("#", "students", "score", "shared tokens", "parts", "same mistakes", "rarest shared fragment"):
        table.add_column(column, overflow="fold")
    for rank, pair in enumerate(report.pairs, 1):
        table.add_row(
            str(rank),
            " & ".join(pair.students),
            f"{pair.score:.2f}",
            str(pair.shared_tokens),
            ", ".join(pair.parts),
            "; ".join(pair.same_mistakes),
            pair.fragments[0][:80] if pair.fragments else "",
        )
    Console(width=200).print(table)
    for number, cluster in enumerate(report.clusters, 1):
        print(f"cluster {number}: {', '.join(cluster)}")


def _say(text: str) -> None:
    console.print(text, highlight=False, markup=False, soft_wrap=True)
