"""Written (free-text) answers compared between students: pairs ranked by the rare passages they
share, with those passages as evidence. Evidence for a person to judge, never a verdict.

Why not the grading queue's TF-IDF (:mod:`grader.grouping`): its character n-grams and word
vectors find answers that *mean* the same, which is what honest answers to one question do; a copy
shows in the same *run of words*. So an answer is read as its words (Unicode compatibility forms,
case folded, punctuation and spacing aside) and fingerprinted by every run of :data:`SHINGLE`
words (word shingles, as text-reuse detectors do: five words in a row rarely coincide by chance),
each hashed to 64 bits.

The shingles go in the code report's index (:class:`grader.code_similarity.index.Index`), for the
same reason as code: rarity. What half the class writes (the question's own words, the textbook's
sentence, the lecture's phrasing) weighs nothing, a run two students alone share weighs the most,
and the question's text weighs nothing whoever copies it. A pair's score is the same weighted
Dice coefficient (1 for two answers alike in everything not common). References (past terms'
answers) are compared against, never paired with each other.

A pair's evidence: the passages both hold (maximal runs of words covered by shared, weighed
shingles), numbered in the first student's order, each with its span in both texts (character
offsets), so that a page can highlight them side by side.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from grader.code_similarity.index import Index

#: Words in a row a fingerprint covers.
SHINGLE = 5
#: The longest answer compared (characters); the rest of a longer one does not count (as in the
#: grading queue's groups, :data:`grader.grouping.MAX_CHARS`).
MAX_CHARS = 10_000
#: Pairs ranked per part, unless asked otherwise.
LIMIT = 100
#: Passages kept as a pair's evidence, and the characters each is cut to.
MAX_PASSAGES = 10
MAX_PASSAGE_CHARS = 300

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Answer:
    """An answer read: its text (as compared), each word's span in it, and each shingle's hash (the
    shingle starting at word ``i`` is ``hashes[i]``)."""

    text: str
    spans: tuple[tuple[int, int], ...]
    hashes: tuple[int, ...]


@dataclass(frozen=True)
class Passage:
    """A passage both answers hold: its number (in the first's order), its span in each text
    (character offsets, end excluded) and the first's words."""

    number: int
    first: tuple[int, int]
    second: tuple[int, int]
    text: str


@dataclass(frozen=True)
class WrittenPair:
    """Two students' answers to one written part (students sorted), their score, the words of the
    first's answer in shared passages, and the passages."""

    students: tuple[str, str]
    part: str
    score: float
    shared_words: int
    passages: tuple[Passage, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "students": list(self.students),
            "part": self.part,
            "score": round(self.score, 4),
            "shared_words": self.shared_words,
            "passages": [
                {"number": p.number, "first": list(p.first), "second": list(p.second), "text": p.text}
                for p in self.passages
            ],
        }


def read_answer(text: str) -> Answer:
    """An answer's words and shingles (see the module).

    >>> a, b = read_answer("The  kernel is FLIPPED, then slid."), read_answer("the kernel is flipped then slid")
    >>> a.hashes == b.hashes and len(a.hashes) == 2
    True
    """
    text = text[:MAX_CHARS]
    matches = list(_WORD.finditer(text))
    words = [unicodedata.normalize("NFKC", m.group()).casefold() for m in matches]
    hashes = tuple(_hash(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))
    return Answer(text, tuple(m.span() for m in matches), hashes)


def _hash(words: list[str]) -> int:
    digest = hashlib.blake2b(" ".join(words).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def compare_written(
    part: str,
    answers: Mapping[str, str],
    *,
    ignore: Iterable[str] = (),
    references: Collection[str] = (),
    limit: int = LIMIT,
) -> list[WrittenPair]:
    """The ``limit`` best pairs of one written part's answers (student → text), best first, with
    their passages. ``ignore``: texts whose shingles weigh nothing (the question's); ``references``:
    the students of ``answers`` that are past terms' (never paired with each other)."""
    index = Index()
    for text in ignore:
        index.ignore(read_answer(text).hashes)
    read = {student: read_answer(text) for student, text in sorted(answers.items())}
    for student, answer in read.items():
        index.add(student, np.array(answer.hashes, dtype=np.int64), reference=student in references)
    found = []
    for pair in index.pairs(limit=limit):
        names = sorted((index.names[pair.first], index.names[pair.second]))
        a, b = read[names[0]], read[names[1]]
        weighed = {h for h in set(a.hashes) & set(b.hashes) if index.weight_of(h) > 0}
        passages = _passages(a, b, weighed)
        if passages:
            words = sum(_covered(a, weighed))
            found.append(WrittenPair((names[0], names[1]), part, pair.score, words, passages))
    return found


def _covered(answer: Answer, weighed: set[int]) -> list[bool]:
    """Which of the answer's words some weighed shingle covers."""
    covered = [False] * len(answer.spans)
    for start, h in enumerate(answer.hashes):
        if h in weighed:
            covered[start : start + SHINGLE] = [True] * SHINGLE
    return covered


def _runs(covered: list[bool]) -> list[tuple[int, int]]:
    """Maximal runs of covered words, as (first word, last word)."""
    runs: list[tuple[int, int]] = []
    for at, inside in enumerate(covered):
        if inside and (not runs or runs[-1][1] != at - 1):
            runs.append((at, at))
        elif inside:
            runs[-1] = (runs[-1][0], at)
    return runs


def _passages(a: Answer, b: Answer, weighed: set[int]) -> tuple[Passage, ...]:
    """The passages both hold, in ``a``'s order: each of ``a``'s runs with the run of ``b`` that
    holds its first shared shingle."""
    where_b: dict[int, int] = {}
    for start, h in enumerate(b.hashes):
        where_b.setdefault(h, start)
    runs_b = _runs(_covered(b, weighed))
    runs_a = _runs(_covered(a, weighed))
    kept = sorted(sorted(runs_a, key=lambda run: run[0] - run[1])[:MAX_PASSAGES])  # (the longest, in order)
    found: list[Passage] = []
    for number, (first, last) in enumerate(kept, 1):
        at = where_b[a.hashes[first]]  # (a run starts with a weighed shingle)
        run_b = next(run for run in runs_b if run[0] <= at <= run[1])
        span_a = (a.spans[first][0], a.spans[last][1])
        span_b = (b.spans[run_b[0]][0], b.spans[run_b[1]][1])
        text = a.text[span_a[0] : span_a[1]]
        text = text if len(text) <= MAX_PASSAGE_CHARS else text[: MAX_PASSAGE_CHARS - 1] + "…"
        found.append(Passage(number, span_a, span_b, text))
    return tuple(found)
