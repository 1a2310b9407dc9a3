"""Batch grading: submission lines in (JSON Lines or CSV), graded records out (JSON Lines,
CSV or Gradescope results), in input order, across worker processes.

Reading files and drawing progress bars are the command's business; this module turns
lines into records and records into output rows, and decides which line counts for a student
seen twice (the first: a later line is refused, never merged).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from cli.gradescope_runner import results_json
from grader.code import NOT_GRADED_HERE, SANDBOX_FAILED, Run, with_code
from grader.engine import grade_submission
from grader.results import GradedPart, GradedSubmission
from problems.sets import ProblemSet, TwoModules
from problems.variants import variant_key

#: Lines sent to a worker at a time, at most: large enough to amortise the hand-over.
CHUNK = 256
#: Chunks per worker, at least, when the lines are few: so that every worker has work from two
#: submissions up, and one slow chunk (code that times out) does not leave the others idle.
CHUNKS_PER_WORKER = 4
#: A line longer than this is refused rather than parsed.
MAX_LINE = 1_000_000


def chunk_size(lines: int, workers: int) -> int:
    """Lines per chunk for ``workers`` processes: :data:`CHUNK`, or fewer so that each worker gets
    :data:`CHUNKS_PER_WORKER` chunks (a class of 300 on 2 workers: chunks of 38, not 256 and 44)."""
    if workers <= 1:
        return CHUNK
    return max(1, min(CHUNK, -(-lines // (workers * CHUNKS_PER_WORKER))))


class Submission(NamedTuple):
    """A line's student and answers (a tuple, like what workers send back: made at C speed)."""

    line: int
    student: str
    answers: dict[str, Any]


class BadLine(NamedTuple):
    """A line refused, and why. A tuple, like :class:`Graded`: what workers send back is pickled
    and unpickled at C speed, a frozen dataclass field by field."""

    line: int
    reason: str


class Graded(NamedTuple):
    """A graded line: its number and student (the parent process checks for a student seen
    before, in input order), its output (the text of a JSON Lines or CSV record, or the record
    itself: Gradescope writes files) and the answer keys the set does not have."""

    line: int
    student: str
    output: str | dict[str, Any]
    unknown_keys: tuple[str, ...] = ()
    #: Why code parts were not run (the sandbox could not start, or failed), if so.
    not_run: str | None = None


Parsed = Submission | BadLine
#: What a worker gets: a submission parsed already (CSV), or a JSON line and its number, parsed
#: in the worker so that parsing runs in parallel too.
Item = Submission | tuple[int, str]
#: What a worker gives back per line.
Output = Graded | BadLine


class Chunk(NamedTuple):
    """A chunk's outputs as a worker sends them back, in a few objects. Pickled record by record
    (in the worker), unpickled and written one by one (in the parent), 100,000 cifar-convnet
    records cost 0.65 s of CPU, a fifth of the 3.4 s spent grading them.

    Its graded lines' numbers, students and texts (or, for Gradescope, records), in input order,
    each in a list; the unknown answer keys by graded line's index; the lines refused; why code
    parts were not run, if so. (The texts are not joined here: a joined chunk, with its pickle,
    outgrew what the allocator keeps, and each chunk's pages were given back and faulted in
    again: 170,000 page faults in a class's batch instead of 30,000.)"""

    lines: list[int]
    students: list[str]
    texts: list[str]
    records: list[dict[str, Any]]
    unknown_keys: dict[int, tuple[str, ...]]
    refused: list[BadLine]
    not_run: str | None


def packed(outputs: list[Output]) -> Chunk:
    """``outputs`` (in input order) as one :class:`Chunk`."""
    graded = [output for output in outputs if isinstance(output, Graded)]
    return Chunk(
        lines=[output.line for output in graded],
        students=[output.student for output in graded],
        texts=[output.output for output in graded if isinstance(output.output, str)],
        records=[output.output for output in graded if not isinstance(output.output, str)],
        unknown_keys={index: output.unknown_keys for index, output in enumerate(graded) if output.unknown_keys},
        refused=[output for output in outputs if isinstance(output, BadLine)],
        not_run=next((output.not_run for output in graded if output.not_run), None),
    )


class FirstLines:
    """The line each student was first graded from; a later line for the same student is
    refused, so that no one's answers are merged or overwritten by accident."""

    def __init__(self) -> None:
        self.first: dict[str, int] = {}

    def refuse(self, chunk: Chunk) -> dict[int, BadLine]:
        """The chunk's graded lines refused (by index): those of students graded before."""
        first = self.first
        return {
            index: BadLine(line, f"student {student!r} already graded from line {first[student]}")
            for index, (line, student) in enumerate(zip(chunk.lines, chunk.students, strict=True))
            if first.setdefault(student, line) != line
        }


def parse_jsonl_line(number: int, line: str) -> Parsed:
    """``{"student": "...", "answers": {...}}`` on one line."""
    if len(line) > MAX_LINE:
        return BadLine(number, f"line is longer than {MAX_LINE} characters")
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, RecursionError, ValueError) as error:
        detail = f"{error.msg} at column {error.colno}" if isinstance(error, json.JSONDecodeError) else "too deep"
        return BadLine(number, f"not valid JSON ({detail})")
    return _submission(number, record)


def grade_items(
    problem_set: ProblemSet,
    items: list[Item],
    output_format: str,
    keys: list[str],
    secret: str | None = None,
    run: Run | None = None,
) -> list[Output]:
    """Parse (JSON lines), grade and format a chunk: the work a worker process does. Code parts
    run through ``run`` (the worker's sandboxes); without it they stay ``queued``."""
    outputs: list[Output] = []
    for item in items:
        parsed = item if isinstance(item, Submission) else parse_jsonl_line(*item)
        if isinstance(parsed, BadLine):
            outputs.append(parsed)
            continue
        try:
            graded = grade_parsed(problem_set, parsed, secret, run)
        except TwoModules as error:
            outputs.append(BadLine(parsed.line, str(error)))
            continue
        not_run = None if run is None else _not_run(graded)
        output: str | dict[str, Any]
        if output_format == "jsonl":
            output = jsonl_line(parsed.student, graded)
        else:
            record = graded_record(parsed.student, graded)
            output = to_csv_line(csv_row(record, keys)) if output_format == "csv" else record
        outputs.append(Graded(parsed.line, parsed.student, output, graded.unknown_keys, not_run))
    return outputs


def _not_run(graded: GradedSubmission) -> str | None:
    """Why code parts were not run (the sandbox could not start, or failed before the module
    loaded), if they were not."""
    not_run = (NOT_GRADED_HERE, SANDBOX_FAILED)
    return next((part.feedback for part in graded.parts.values() if part.feedback.startswith(not_run)), None)


def _submission(number: int, record: Any) -> Parsed:
    if not isinstance(record, dict):
        return BadLine(number, "expected an object with 'student' and 'answers'")
    student, answers = record.get("student"), record.get("answers")
    if not isinstance(student, str | int) or isinstance(student, bool) or str(student).strip() == "":
        return BadLine(number, "'student' must be a non-empty string")
    if not isinstance(answers, dict):
        return BadLine(number, "'answers' must be an object mapping answer keys to answers")
    return Submission(number, str(student).strip(), answers)


def parse_csv(text: Iterable[str]) -> Iterator[Parsed]:
    """A ``student`` column and one column per answer key; empty cells are unanswered."""
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        yield BadLine(1, f"unreadable CSV header ({error})")
        return
    header = [name.strip() for name in header]
    if "student" not in header:
        yield BadLine(1, "the header has no 'student' column")
        return
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        yield BadLine(1, f"the header repeats {', '.join(map(repr, repeated))}: which column counts?")
        return
    column = header.index("student")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield BadLine(reader.line_num, f"unreadable CSV row ({error})")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield BadLine(reader.line_num, f"{len(row)} cells for {len(header)} columns")
            continue
        answers = {key: cell for i, (key, cell) in enumerate(zip(header, row, strict=True)) if i != column and cell}
        yield _submission(reader.line_num, {"student": row[column], "answers": answers})


def grade_parsed(
    problem_set: ProblemSet, submission: Submission, secret: str | None = None, run: Run | None = None
) -> GradedSubmission:
    """A line's submission graded: a randomized set against each student's variant under the
    assignment's ``secret``, or its declared numbers without one. A code answer is the module's
    text (one under a problem's id answers each of its code parts); it runs through ``run`` (a sandbox
    per runtime). A :class:`TwoModules` where a part is answered both ways."""
    variant = None if secret is None else variant_key(student=submission.student, secret=secret)
    answers = problem_set.per_part(submission.answers)
    graded = grade_submission(problem_set, answers, student=variant)
    if run is not None:
        graded = with_code(graded, problem_set, answers, student=variant, run=run)
    return graded


def graded_record(student: str, graded: GradedSubmission) -> dict[str, Any]:
    """One JSON Lines output record, as the contract fixes it."""
    record: dict[str, Any] = {
        "student": student,
        "set": graded.set_id,
        "score": graded.score,
        "max_score": graded.max_score,
        "parts": graded.parts_json(),
    }
    if graded.unknown_keys:
        record["unknown_keys"] = list(graded.unknown_keys)
    return record


def jsonl_line(student: str, graded: GradedSubmission) -> str:
    """:func:`graded_record` as a line of compact JSON, the same text ``json.dumps`` writes, put
    together from each part's text: a class's parts are the engine's remembered ones, the same
    objects again and again, so each is written once (:func:`_part_text`)."""
    head = f'"student":{_compact(student)},"set":{_compact(graded.set_id)}'
    scores = f'"score":{_number(graded.score)},"max_score":{_number(graded.max_score)}'
    parts = ",".join([_part_text(key, part) for key, part in graded.parts.items()])
    tail = f',"unknown_keys":{_compact(list(graded.unknown_keys))}' if graded.unknown_keys else ""
    return f'{{{head},{scores},"parts":{{{parts}}}{tail}}}\n'


def _number(value: float) -> str:
    """A number as ``json.dumps`` writes it (its ``repr`` where finite), without an encoder's call."""
    return repr(value) if math.isfinite(value) else _compact(value)


#: Parts' JSON texts (``"key":{...}``) by the part's identity, each kept with its part (so that no
#: identity is reused while its entry lives) and key; emptied when full, as the engine's cache is.
_part_texts: dict[int, tuple[GradedPart, str, str]] = {}
PART_TEXTS_KEPT = 10_000


def _part_text(key: str, part: GradedPart) -> str:
    """A part's text, written once and remembered."""
    found = _part_texts.get(id(part))
    if found is not None and found[1] == key:
        return found[2]
    text = f"{_compact(key)}:{_compact(part.to_json())}"
    if len(_part_texts) >= PART_TEXTS_KEPT:
        _part_texts.clear()
    _part_texts[id(part)] = (part, key, text)
    return text


#: ``json.dumps(value, separators=(",", ":"))`` without making an encoder per call.
_compact = json.JSONEncoder(separators=(",", ":")).encode


def csv_header(keys: list[str]) -> list[str]:
    """One column per answer key, then the keys the student sent that the set does not have."""
    return ["student", "score", "max_score", *keys, "unknown_keys"]


def csv_row(record: dict[str, Any], keys: list[str]) -> list[Any]:
    scores = (record["parts"][k]["score"] for k in keys)
    unknown = ";".join(record.get("unknown_keys", ()))
    return [record["student"], record["score"], record["max_score"], *scores, unknown]


def to_csv_line(cells: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def gradescope_result(record: dict[str, Any]) -> dict[str, Any]:
    """A Gradescope ``results.json``: one test per answer key, unknown keys named on top."""
    return results_json(record["score"], record["parts"], record.get("unknown_keys", ()))
