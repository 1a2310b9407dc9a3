"""``grader check`` (one answer, or a set's code parts) and ``grader grade`` (a file of submissions).

Code answers run offline in the same sandbox the service uses (``sandbox.Sandbox``, one per runtime
per process); where it cannot start, code parts are not graded, the command says why and exits 1."""

from __future__ import annotations

import difflib
import hashlib
import json
import multiprocessing
import sys
from collections import Counter
from collections.abc import Collection, Iterable
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from api.kit.collector import freeze_long_lived
from cli import batch
from cli.gradescope_runner import Sandboxes
from cli.problems import find_set, set_source
from cli.variants import SecretOption, SeedOption, StudentOption, chosen_variant
from grader.code import checked_code, mutant_issues, with_code
from grader.engine import grade_submission
from problems.issues import Issue
from problems.sets import ProblemSet
from sandbox import SandboxUnavailable

console = Console(stderr=True)


def check(
    set_id: Annotated[str, typer.Argument(metavar="SET")],
    key: Annotated[str | None, typer.Argument(metavar="[KEY]")] = None,
    answer: Annotated[
        str | None,
        typer.Argument(
            metavar="[ANSWER]", help="The answer; for a code part, a .py or .ipynb file, or the module's text."
        ),
    ] = None,
    seed: SeedOption = None,
    secret: SecretOption = None,
    student: StudentOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the graded part as JSON.")] = False,
    steps: Annotated[bool, typer.Option("--steps", help="With the worked solution (its `solution`).")] = False,
) -> None:
    """Grade one answer and print the graded part (a randomized set: --seed N, or --secret S --student ID).
    With the set alone, check its code parts: each solution runs in the sandbox and must pass every
    test, and the tests must catch every built-in mistake (exit 1 on an issue)."""
    problem_set = find_set(set_id)
    if key is None:
        _check_code(problem_set, set_id)
        return
    if answer is None:
        _say("Give the answer after the key (or the set alone, to check its code parts).")
        raise typer.Exit(code=2)
    variant = chosen_variant(seed=seed, secret=secret, student=student)
    key = _set_key(problem_set, set_id, key)
    sent: Any = _code_answer(answer) if key in problem_set.code() else _choice_answer(problem_set, key, answer)
    graded = grade_submission(problem_set, {key: sent}, student=variant, solutions=steps)
    with Sandboxes() as sandboxes:
        graded = with_code(graded, problem_set, {key: sent}, student=variant, run=sandboxes.run)
    part = graded.parts[key]
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
    for test in part.tests or ():
        mistake = f" [{test.misconception}]" if test.misconception else ""
        print(f"  {test.status.value:9} {test.score:g}/{test.max_score:g}  {test.name} ({test.visibility}){mistake}")
        print(f"            {test.feedback}")
    if sandboxes.unavailable:
        _say(f"The sandbox could not start, so the code was not run: {sandboxes.unavailable}")
        raise typer.Exit(code=1)


def _choice_answer(problem_set: ProblemSet, key: str, answer: str) -> Any:
    """The answer as sent: a part of several picks takes a JSON list of letters (``'["a", "c"]'``),
    as the service does; any other text is sent as it is (and refused with the form expected)."""
    part = problem_set.choice().get(key)
    if part is None or not part.multiple or not answer.lstrip().startswith("["):
        return answer
    try:
        return json.loads(answer)
    except json.JSONDecodeError:
        return answer


def _code_answer(answer: str) -> str:
    """A code answer given on the command line: a file's text when it names a .py or .ipynb file."""
    path = Path(answer)
    if path.suffix.lower() in (".py", ".ipynb") and path.is_file():
        return path.read_text(encoding="utf-8-sig", errors="replace")
    return answer


def _check_code(problem_set: ProblemSet, set_id: str) -> None:
    """The set's code parts checked: solutions run in the sandbox, and the tests catch every built-in mistake."""
    if not problem_set.code():
        _say(f"{set_id} has no code parts: `grader sets validate` checks the rest of a set.")
        raise typer.Exit(code=2)
    issues: list[Issue] = mutant_issues(problem_set)
    with Sandboxes() as sandboxes:
        try:
            checked = checked_code(problem_set, sandboxes.run)
        except SandboxUnavailable as error:
            _say(f"The sandbox could not start, so the solutions were not run: {error}")
            raise typer.Exit(code=1) from None
    issues += checked.issues
    source = set_source(set_id)
    for issue in issues:
        print(issue.located(str(source)))
    for note in checked.notes:  # refuse nothing: said, so the author may name the mistake otherwise
        print(f"note: {note.located(str(source))}")
    if issues:
        raise typer.Exit(code=1)
    tests = sum(len(part.tests) for part in problem_set.code().values())
    print(f"{set_id}: OK ({len(problem_set.code())} code parts, {tests} tests: the solutions pass every one)")


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
#: The worker's sandboxes (a set with code parts): they stop with the worker's process.
_worker_sandboxes: Sandboxes | None = None
#: Every line of the file: a worker is given them once, as it starts (a forked worker inherits
#: them, nothing is sent), and then which of them to grade.
_worker_items: list[batch.Item] = []


def _start_worker(set_id: str, items: list[batch.Item]) -> None:
    global _worker_set, _worker_sandboxes, _worker_items
    _worker_set = find_set(set_id)
    _worker_sandboxes = Sandboxes() if _worker_set.code() else None
    _worker_items = items


def _grade_chunk(chunk: range, output_format: str, keys: list[str], secret: str | None) -> batch.Chunk:
    """Grade lines ``chunk`` (indices into :data:`_worker_items`)."""
    assert _worker_set is not None
    run = _worker_sandboxes.run if _worker_sandboxes is not None else None
    items = _worker_items[chunk.start : chunk.stop]
    return batch.packed(batch.grade_items(_worker_set, items, output_format, keys, secret, run))


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
    size = batch.chunk_size(len(items), workers)
    chunks = [range(i, min(i + size, len(items))) for i in range(0, len(items), size)]
    writer = _Writer(output_format, out, keys)
    with _progress(len(items)) as progress:
        task = progress.add_task("grading", total=len(items))
        if workers == 1:
            _start_worker(set_id, items)
            results: Any = (_grade_chunk(chunk, output_format, keys, secret) for chunk in chunks)
            graded, unknown, not_run = _drain(results, writer, progress, task, file)
        else:
            forked = multiprocessing.get_context("fork")  # the lines are inherited, not sent
            # what the workers inherit is kept out of their collectors' reach: a collection would
            # write to every object of it, and so copy every page that holds one. It stays frozen
            # (it lives as long as the command): thawed, it and the modules frozen as they were
            # imported would all be scanned by the collection at the process's exit, 0.2 s of a
            # class's 3 s batch.
            freeze_long_lived()
            with ProcessPoolExecutor(workers, forked, initializer=_start_worker, initargs=(set_id, items)) as pool:
                jobs = pool.map(_grade_chunk, chunks, repeat(output_format), repeat(keys), repeat(secret))
                graded, unknown, not_run = _drain(jobs, writer, progress, task, file)
    writer.close()
    if workers == 1 and _worker_sandboxes is not None:
        _worker_sandboxes.__exit__()
    if unknown:
        _say(f"answer keys {set_id} does not have, not graded: {_counted(unknown)}")
    _say(f"graded {graded} submissions of {set_id}")
    if not_run:
        _say(f"code parts were not graded: {not_run}")
        raise typer.Exit(code=1)


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


def _drain(
    results: Iterable[batch.Chunk], writer: _Writer, progress: Progress, task: Any, file: Path
) -> tuple[int, Counter[str], str | None]:
    """Write outputs in input order, refusing a student's later lines; returns how many
    submissions were graded, how many of them sent each unknown answer key, and why code parts
    were not run (the sandbox could not start), if so."""
    graded, unknown, first = 0, Counter[str](), batch.FirstLines()
    not_run: str | None = None
    for chunk in results:
        refused = first.refuse(chunk)
        for bad in sorted([*chunk.refused, *refused.values()]):
            _skipped(file, bad)
        writer.write(chunk, refused.keys())
        for index, keys in chunk.unknown_keys.items():
            if index not in refused:
                unknown.update(keys)
        not_run = not_run or chunk.not_run
        graded += len(chunk.lines) - len(refused)
        progress.advance(task, len(chunk.lines) + len(chunk.refused))
    return graded, unknown, not_run


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
            # a large buffer: a class's records are hundreds of megabytes, written a few kB at a time
            self.stream = out.open("w", encoding="utf-8", newline="", buffering=1 << 20) if out else sys.stdout
            if output_format == "csv":
                self.stream.write(batch.to_csv_line(batch.csv_header(keys)))

    def write(self, chunk: batch.Chunk, refused: Collection[int]) -> None:
        """The chunk's graded lines but those ``refused`` (by index)."""
        if self.stream is not None:
            self.stream.writelines(text for index, text in enumerate(chunk.texts) if index not in refused)
            return
        assert self.out is not None  # gradescope writes a folder per student
        for index, (student, record) in enumerate(zip(chunk.students, chunk.records, strict=True)):
            if index not in refused:
                folder = self.out / _folder_name(student, self.folders)
                folder.mkdir(exist_ok=True)
                (folder / "results.json").write_text(json.dumps(batch.gradescope_result(record), indent=1))

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
