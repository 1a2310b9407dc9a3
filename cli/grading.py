"""``grader check`` (one answer) and ``grader grade`` (a file of submissions)."""

from __future__ import annotations

import difflib
import hashlib
import json
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cli import batch
from cli.problems import find_set
from cli.variants import SecretOption, SeedOption, StudentOption, chosen_variant
from grader.engine import grade_submission
from problems.sets import ProblemSet

console = Console(stderr=True)


def check(
    set_id: Annotated[str, typer.Argument(metavar="SET")],
    key: Annotated[str, typer.Argument(metavar="KEY")],
    answer: Annotated[str, typer.Argument(metavar="ANSWER")],
    seed: SeedOption = None,
    secret: SecretOption = None,
    student: StudentOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the graded part as JSON.")] = False,
    steps: Annotated[bool, typer.Option("--steps", help="With the worked solution (its `solution`).")] = False,
) -> None:
    """Grade one answer and print the graded part (a randomized set: --seed N, or --secret S --student ID)."""
    variant = chosen_variant(seed=seed, secret=secret, student=student)
    problem_set = find_set(set_id)
    key = _set_key(problem_set, set_id, key)
    part = grade_submission(problem_set, {key: answer}, student=variant, solutions=steps).parts[key]
    if as_json:
        print(json.dumps({"key": key, **part.to_json()}))
        return
    print(f"{key}: {part.status.value} ({part.score:g}/{part.max_score:g})")
    if part.read_as:
        print(f"read as: {part.read_as}")
    print(part.feedback)
    if part.misconception:
        print(f"mistake: {part.misconception}")
    for number, step in enumerate(part.solution or (), start=1):
        print(f"  {number}. {step.text}")


def _set_key(problem_set: ProblemSet, set_id: str, typed: str) -> str:
    """The set's own key for ``typed``: itself, or the one key it spells in another case (``q11.r``
    is ``q11.R``; graded and printed as the set spells it). Anything else exits 2 naming the keys,
    the likeliest first."""
    keys = problem_set.answer_keys()
    if typed in keys:
        return typed
    same = [key for key in keys if key.casefold() == typed.casefold()]
    if len(same) == 1:
        return same[0]
    near = difflib.get_close_matches(typed, keys, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(near)}?" if near else ""
    _say(f"No key {typed!r} in {set_id}.{hint} Keys: {', '.join(keys)}")
    raise typer.Exit(code=2)


_worker_set: ProblemSet | None = None


def _start_worker(set_id: str) -> None:
    global _worker_set
    _worker_set = find_set(set_id)


def _grade_chunk(
    chunk: list[batch.Item], output_format: str, keys: list[str], secret: str | None
) -> list[batch.Output]:
    assert _worker_set is not None
    return batch.grade_items(_worker_set, chunk, output_format, keys, secret)


def grade(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="JSON Lines or CSV.")],
    set_id: Annotated[str, typer.Option("--set", metavar="SET", help="The problem set: a built-in id or a set file.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output file (a folder for gradescope); default stdout.")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="jsonl, csv or gradescope.")] = "jsonl",
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes.")] = 1,
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            help="A randomized set: grade each line against its student's variant under this assignment's "
            "variant_secret (without it: the declared numbers).",
        ),
    ] = None,
) -> None:
    """Grade a file of submissions, with a progress bar; output in input order.

    **Input**, told apart by its first character: JSON Lines, one
    `{"student": "s1", "answers": {"q1.shape": "8x8x16", "q1.params": 448}}` per line; or CSV, a
    header with a `student` column and one column per answer key, then one row per student (an
    empty cell is unanswered).

    **Output** (`--format`): `jsonl`, one `{"student", "set", "score", "max_score", "parts",
    "unknown_keys"?}` per student; `csv`, one row per student with the total, each key's score and
    an `unknown_keys` column (joined by `;`); `gradescope`, a folder per student in `--out` holding
    a Gradescope `results.json`.

    Answer keys the set does not have are not graded: every format names them, and stderr sums
    them up. A malformed line is reported on stderr as `FILE:LINE: skipped: why` and skipped; so is
    a later line for a student already graded (the first line counts). Exit status 0 when the file
    could be read, whatever the students scored.
    """
    if output_format not in ("csv", "jsonl", "gradescope"):
        console.print(f"[red]Unknown format {output_format!r}:[/red] use csv, jsonl or gradescope.")
        raise typer.Exit(code=2)
    if output_format == "gradescope" and out is None:
        console.print("[red]--format gradescope writes one results.json per student: give --out FOLDER.[/red]")
        raise typer.Exit(code=2)
    problem_set = find_set(set_id)
    if problem_set.randomized and secret is None:
        # not an error (a class may have been given the declared numbers), but rarely what is meant
        _say(
            f"warning: {set_id} is randomized and no --secret was given: every line is graded against the "
            "set's declared numbers, not its student's variant (--secret: the assignment's variant_secret)"
        )
    keys = problem_set.answer_keys()
    items = _items(file)
    chunks = [items[i : i + batch.CHUNK] for i in range(0, len(items), batch.CHUNK)]
    writer = _Writer(output_format, out, keys)
    with _progress(len(items)) as progress:
        task = progress.add_task("grading", total=len(items))
        if workers == 1:
            _start_worker(set_id)
            results: Any = (_grade_chunk(chunk, output_format, keys, secret) for chunk in chunks)
            graded, unknown = _drain(results, writer, progress, task, file)
        else:
            with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(set_id,)) as pool:
                jobs = pool.map(_grade_chunk, chunks, repeat(output_format), repeat(keys), repeat(secret))
                graded, unknown = _drain(jobs, writer, progress, task, file)
    writer.close()
    if unknown:
        _say(f"answer keys {set_id} does not have, not graded: {_counted(unknown)}")
    _say(f"graded {graded} submissions of {set_id}")


def _items(file: Path) -> list[batch.Item]:
    """JSON lines as text (the workers parse them), CSV rows parsed here (a quoted cell may span lines)."""
    with file.open(encoding="utf-8-sig", newline="", errors="replace") as handle:
        first = handle.read(1)
        handle.seek(0)
        if first == "{":
            return [(number, line) for number, line in enumerate(handle, start=1) if line.strip()]
        items: list[batch.Item] = []
        for parsed in batch.parse_csv(handle):
            if isinstance(parsed, batch.BadLine):
                _skipped(file, parsed)
            else:
                items.append(parsed)
        return items


def _skipped(file: Path, bad: batch.BadLine) -> None:
    _say(f"{file}:{bad.line}: skipped: {bad.reason}")


def _say(text: str) -> None:
    console.print(text, highlight=False, markup=False, soft_wrap=True)


def _counted(unknown: Counter[str], shown: int = 10) -> str:
    """``x.y (12 submissions), z (1 submission)``, the commonest first."""
    listed = [f"{key} ({n} submission{'s' if n > 1 else ''})" for key, n in unknown.most_common(shown)]
    rest = len(unknown) - shown
    return ", ".join(listed) + (f" and {rest} more" if rest > 0 else "")


def _drain(results: Any, writer: _Writer, progress: Progress, task: Any, file: Path) -> tuple[int, Counter[str]]:
    """Write outputs in input order, refusing a student's later lines; returns how many
    submissions were graded and how many of them sent each unknown answer key."""
    graded, unknown, first = 0, Counter[str](), batch.FirstLines()
    for outputs in results:
        for output in outputs:
            refused = output if isinstance(output, batch.BadLine) else first.refuse(output)
            if refused is not None:
                _skipped(file, refused)
                continue
            writer.write(output)
            unknown.update(output.unknown_keys)
            graded += 1
        progress.advance(task, len(outputs))
    return graded, unknown


def _progress(total: int) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )


class _Writer:
    """Writes records in the chosen format as they arrive, so memory stays flat."""

    def __init__(self, output_format: str, out: Path | None, keys: list[str]):
        self.format, self.out, self.keys = output_format, out, keys
        self.folders: set[str] = set()
        if output_format == "gradescope":
            assert out is not None
            out.mkdir(parents=True, exist_ok=True)
            self.stream: TextIO | None = None
        else:
            self.stream = out.open("w", encoding="utf-8", newline="") if out else sys.stdout
            if output_format == "csv":
                self.stream.write(batch.to_csv_line(batch.csv_header(keys)))

    def write(self, graded: batch.Graded) -> None:
        if isinstance(graded.output, str):
            assert self.stream is not None  # every format but gradescope has a stream
            self.stream.write(graded.output)
            return
        assert self.out is not None  # gradescope writes a folder per student
        folder = self.out / _folder_name(graded.student, self.folders)
        folder.mkdir(exist_ok=True)
        (folder / "results.json").write_text(json.dumps(batch.gradescope_result(graded.output), indent=1))

    def close(self) -> None:
        if self.stream is not None and self.stream is not sys.stdout:
            self.stream.close()
        elif self.stream is sys.stdout:
            self.stream.flush()


def _folder_name(student: str, taken: set[str]) -> str:
    """A folder name from a student id: no path separators, no dot-only names, and no two
    students in one folder (an id changed to fit, or equal to another but for case, gets a hash)."""
    cleaned = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in student)[:100]
    name = cleaned if cleaned.strip(".") else "_"
    if name != student or name.casefold() in taken:
        name = f"{name}-{hashlib.sha256(student.encode()).hexdigest()[:10]}"
    taken.add(name.casefold())
    return name
