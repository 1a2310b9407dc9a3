"""The similarity report's written answers: each written (free-text) part compared between the
students (:mod:`grader.written_similarity`: rare runs of words, the question's own words weighing
nothing), kept in the report beside the code's pairs, and the two merged as the contract shows a
pair: a written part is one of its ``parts``, its passages under ``written``, and its score the
higher of the code's and the written parts'.

Kept apart in the stored report (``written``), so that a pair's code evidence, which the next
report reuses when neither submission changed (:func:`api.similarity.run._described`), is only
ever the code's; they are merged when read (:func:`merged`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from api.similarity.stored import read_answers
from grader.written_similarity import MAX_CHARS, compare_written
from problems.sets import ProblemSet


def written_parts(problem_set: ProblemSet, asked: Sequence[str] | None) -> list[str]:
    """The written parts a report compares: those asked for, or all when none were named."""
    return [key for key in problem_set.written() if asked is None or key in asked]


def question_of(problem_set: ProblemSet, key: str) -> str:
    """What every student reads of a written part: its problem's statement and the part's prompt
    (its words weigh nothing, whoever repeats them)."""
    problem_id, _, part_key = key.partition(".")
    problem = next(p for p in problem_set.problems if p.id == problem_id)
    prompt = next((part.prompt for part in problem.written if part.key == part_key), "")
    return f"{problem.text}\n{prompt}"


def answer_texts(answers: Mapping[str, Any], keys: Sequence[str]) -> dict[str, str]:
    """A submission's written answers that are text, by part key (a blank one is no answer)."""
    return {key: value for key in keys if isinstance(value := answers.get(key), str) and value.strip()}


def written_report(
    sessions: sessionmaker[Session],
    problem_set: ProblemSet,
    keys: Sequence[str],
    latest: Mapping[int, str],
    references: Mapping[int, str] | None = None,
) -> list[dict[str, Any]]:
    """Each written part's ranked pairs (see the module) among the ``latest`` submissions (id →
    student) and against the ``references`` (id → name; never paired with each other): the
    answers read in short sessions, compared with no session open."""
    if not keys:
        return []
    texts: dict[str, dict[str, str]] = {key: {} for key in keys}
    named = {**latest, **(references or {})}
    for submission_id, answers in read_answers(sessions, named).items():
        for key, text in answer_texts(answers, keys).items():
            texts[key][named[submission_id]] = text
    found: list[dict[str, Any]] = []
    for key in keys:
        pairs = compare_written(
            key, texts[key], ignore=[question_of(problem_set, key)], references=set((references or {}).values())
        )
        found += [pair.to_json() for pair in pairs]
    return found


def merged(pairs: Sequence[Mapping[str, Any]], written: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The code's pairs and the written parts' as one ranking (see the module), best first."""
    by_students: dict[tuple[str, ...], dict[str, Any]] = {
        tuple(pair["students"]): {**pair, "written": []} for pair in pairs
    }
    for entry in written:
        students = tuple(entry["students"])
        pair = by_students.setdefault(
            students,
            {
                "students": list(students),
                "score": 0.0,
                "shared_tokens": 0,
                "same_mistakes": [],
                "parts": [],
                "fragments": [],
                "names": [],
                "comments": [],
                "blocks": [],
                "written": [],
                "reference": entry.get("reference"),
            },
        )
        pair["written"].append(dict(entry))
        pair["parts"] = [*pair["parts"], entry["part"]]
        pair["score"] = max(pair["score"], entry["score"])
    return sorted(by_students.values(), key=lambda pair: (-pair["score"], pair["students"]))


@dataclass(frozen=True)
class Segment:
    """A piece of an answer as a page shows it: its text, and the shared passage it is (if any)."""

    text: str
    passage: int | None


@dataclass(frozen=True)
class WrittenSides:
    """Two students' answers to a written part side by side, cut in segments at the passages."""

    part: str
    score: float
    sides: tuple[list[Segment], list[Segment]]


def segments(text: str, spans: Sequence[tuple[int, Sequence[int]]]) -> list[Segment]:
    """``text`` cut at the passages' spans (number, [start, end]); where two passages of the other
    answer fall in one run of this one, the run is shown once, under the first number."""
    found: list[Segment] = []
    at = 0
    for number, (start, end) in sorted(spans, key=lambda span: (span[1][0], span[0])):
        if start < at:
            continue
        if start > at:
            found.append(Segment(text[at:start], None))
        found.append(Segment(text[start:end], number))
        at = end
    if at < len(text):
        found.append(Segment(text[at:], None))
    return found


def sides_of(pair: Mapping[str, Any], answers: Sequence[Mapping[str, Any]]) -> list[WrittenSides]:
    """The pair's written parts side by side, from the two students' answers (first, second)."""
    found = []
    for entry in pair.get("written", []):
        key = entry["part"]
        texts = [answer_texts(answer, [key]).get(key, "")[:MAX_CHARS] for answer in answers]
        first = segments(texts[0], [(p["number"], p["first"]) for p in entry["passages"]])
        second = segments(texts[1], [(p["number"], p["second"]) for p in entry["passages"]])
        found.append(WrittenSides(key, entry["score"], (first, second)))
    return found
