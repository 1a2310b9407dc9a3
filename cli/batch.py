"""Batch grading: submission lines in (JSON Lines or CSV), graded records out (JSON Lines,
CSV or Gradescope results), in input order, across worker processes.

Reading files and drawing progress bars are the command's business; this module turns
lines into records and records into output rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cli.gradescope_runner import results_json
from grader.engine import grade_submission
from problems.sets import ProblemSet

#: Lines sent to a worker at a time: large enough to amortise the hand-over.
CHUNK = 256
#: A line longer than this is refused rather than parsed.
MAX_LINE = 1_000_000


@dataclass(frozen=True, slots=True)
class Submission:
    line: int
    student: str
    answers: dict[str, Any]


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    reason: str


Parsed = Submission | BadLine
#: What a worker gets: a submission parsed already (CSV), or a JSON line and its number, parsed
#: in the worker so that parsing runs in parallel too.
Item = Submission | tuple[int, str]
#: What a worker gives back: the output text of a record (JSON Lines, CSV), the record itself
#: (Gradescope writes files), or the reason a line was skipped.
Output = str | dict[str, Any] | BadLine


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


def grade_items(problem_set: ProblemSet, items: list[Item], output_format: str, keys: list[str]) -> list[Output]:
    """Parse (JSON lines), grade and format a chunk: the work a worker process does."""
    outputs: list[Output] = []
    for item in items:
        parsed = item if isinstance(item, Submission) else parse_jsonl_line(*item)
        if isinstance(parsed, BadLine):
            outputs.append(parsed)
            continue
        record = grade_record(problem_set, parsed)
        if output_format == "jsonl":
            outputs.append(json.dumps(record, separators=(",", ":")) + "\n")
        elif output_format == "csv":
            outputs.append(to_csv_line(csv_row(record, keys)))
        else:
            outputs.append(record)
    return outputs


def _submission(number: int, record: Any) -> Parsed:
    if not isinstance(record, dict):
        return BadLine(number, "expected an object with 'student' and 'answers'")
    student, answers = record.get("student"), record.get("answers")
    if not isinstance(student, str | int) or isinstance(student, bool) or str(student).strip() == "":
        return BadLine(number, "'student' must be a non-empty string")
    if not isinstance(answers, dict):
        return BadLine(number, "'answers' must be an object mapping answer keys to answers")
    return Submission(number, str(student), answers)


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
    if "student" not in header:
        yield BadLine(1, "the header has no 'student' column")
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


def grade_record(problem_set: ProblemSet, submission: Submission) -> dict[str, Any]:
    """One JSON Lines output record, as the contract fixes it."""
    graded = grade_submission(problem_set, submission.answers, student=submission.student)
    record: dict[str, Any] = {
        "student": submission.student,
        "set": problem_set.id,
        "score": graded.score,
        "max_score": graded.max_score,
        "parts": graded.parts_json(),
    }
    if graded.unknown_keys:
        record["unknown_keys"] = list(graded.unknown_keys)
    return record


def csv_header(keys: list[str]) -> list[str]:
    return ["student", "score", "max_score", *keys]


def csv_row(record: dict[str, Any], keys: list[str]) -> list[Any]:
    return [record["student"], record["score"], record["max_score"], *(record["parts"][k]["score"] for k in keys)]


def to_csv_line(cells: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def gradescope_result(record: dict[str, Any]) -> dict[str, Any]:
    """A Gradescope ``results.json``: one test per answer key, unknown keys named on top."""
    return results_json(record["score"], record["parts"], record.get("unknown_keys", ()))
