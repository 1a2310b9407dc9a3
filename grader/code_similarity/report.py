"""A class's code → the similarity report: pairs ranked by score with their evidence, and clusters
of three or more. Evidence for a person to judge, never a verdict.

A student's code parts are read as one document (their distinct texts joined in the parts' order,
a notebook by its code cells), fingerprinted once (:mod:`.winnow`) and put in the index
(:mod:`.index`); the starter's and the solutions' fingerprints weigh nothing; references (past
terms) are compared against and never paired with each other. Only the ranked pairs' evidence is
gathered (:mod:`.evidence`), and pairs that share a rare mistake are added to the ranking whatever
their code's score.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from grader.code_similarity.evidence import Block, rare, same_mistakes, shared, words
from grader.code_similarity.index import Index, Pair
from grader.code_similarity.tokens import code_of, lex
from grader.code_similarity.winnow import Located, fingerprint, joined, kgram_hashes

#: Pairs ranked, unless asked otherwise.
LIMIT = 100
#: Pairs scoring at least this link their students into a cluster (a copy of a copy, a group that
#: shared one text): on the synthetic class of 1,000 (``harness/cnn_class.py``) the planted copies
#: score 0.90 to 1, the best honest pairs 0.81.
CLUSTER_SCORE = 0.85


@dataclass(frozen=True)
class Submission:
    """A student's (or a past term's reference's) code: part key → the answer's text."""

    student: str
    parts: Mapping[str, str]
    reference: bool = False


@dataclass(frozen=True)
class Document:
    """A submission read: the joined text, the lines each part holds, its fingerprints, and its
    names and comments (:func:`.evidence.words`)."""

    text: str
    parts: tuple[tuple[str, int, int], ...]
    prints: Located
    words: frozenset[str]

    def parts_of(self, lines: Iterable[tuple[int, int]]) -> set[str]:
        spans = list(lines)
        return {key for key, first, last in self.parts if any(a <= last and b >= first for a, b in spans)}


@dataclass(frozen=True)
class RankedPair:
    """A pair of the report (students sorted), as the contract shows it, with its blocks."""

    students: tuple[str, str]
    score: float
    shared_tokens: int
    fragments: tuple[str, ...]
    names: tuple[str, ...]
    comments: tuple[str, ...]
    same_mistakes: tuple[str, ...]
    parts: tuple[str, ...]
    blocks: tuple[Block, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "students": list(self.students),
            "score": round(self.score, 4),
            "shared_tokens": self.shared_tokens,
            "same_mistakes": list(self.same_mistakes),
            "parts": list(self.parts),
            "fragments": list(self.fragments),
            "names": list(self.names),
            "comments": list(self.comments),
            "blocks": [{"number": b.number, "first": list(b.first), "second": list(b.second)} for b in self.blocks],
        }


@dataclass(frozen=True)
class Report:
    """The ranked pairs, the clusters (each sorted, largest first), and the class's size."""

    pairs: list[RankedPair]
    clusters: list[list[str]]
    students: int
    pairs_compared: int

    def to_json(self) -> dict[str, object]:
        return {
            "students": self.students,
            "pairs_compared": self.pairs_compared,
            "pairs": [pair.to_json() for pair in self.pairs],
            "clusters": self.clusters,
        }


def read(submission: Submission, parts: Collection[str] | None = None) -> Document:
    """A submission's code parts (those of ``parts``, or all) as one fingerprinted document."""
    text, spans, _ = _layout(submission, parts)
    printed = fingerprint(lex(text))
    return Document(text, spans, printed.located(), frozenset(words(printed)))


def read_stored(
    submission: Submission,
    parts: Collection[str] | None,
    stored: Callable[[str], tuple[Located, int]],
    held: Collection[str],
) -> Document:
    """A submission's code parts as :func:`read` joins them, from each distinct text's
    fingerprints as a service stored them (``stored``: by the first part that sent the text, its
    fingerprints and its stream's length in tokens; ``held``: the names and comments) rather than
    lexed again. Each text was fingerprinted alone, so the fingerprints near a text's end are its
    own, not those of k-grams reaching into the next text."""
    text, spans, firsts = _layout(submission, parts)
    pieces: list[Located] = []
    tokens, line = 0, 1
    for key, code in firsts:
        located, length = stored(key)
        pieces.append(located.moved(tokens, line - 1))
        tokens += length
        line += code.count("\n") + 2
    return Document(text, spans, joined(pieces), frozenset(held))


def _layout(
    submission: Submission, parts: Collection[str] | None
) -> tuple[str, tuple[tuple[str, int, int], ...], list[tuple[str, str]]]:
    """The joined text of a submission's distinct code texts (of ``parts``, or all), the lines each
    part holds, and each distinct text with the first part that sent it."""
    texts: list[tuple[list[str], str]] = []  # the distinct texts, each with the parts that sent it
    for key, raw in submission.parts.items():
        if parts is not None and key not in parts:
            continue
        code = code_of(raw)
        same = next((keys for keys, seen in texts if seen == code), None)
        if same is None:
            texts.append(([key], code))
        else:
            same.append(key)
    written: list[str] = []
    spans: list[tuple[str, int, int]] = []
    line = 1
    for keys, code in texts:
        count = code.count("\n") + 1
        spans.extend((key, line, line + count - 1) for key in keys)
        written.append(code)
        line += count + 1
    return "\n\n".join(written), tuple(spans), [(keys[0], code) for keys, code in texts]


@dataclass
class Similarity:
    """A class's index and documents: built once, added to one late submission at a time."""

    parts: Collection[str] | None = None
    index: Index = field(default_factory=Index)
    documents: list[Document] = field(default_factory=list)

    def ignore(self, texts: Iterable[str]) -> None:
        """The starter's or the solutions' code: its fingerprints weigh nothing. Every k-gram of it is
        set aside, not only those Winnowing keeps of it alone: a window that reaches past its end in
        a student's text may keep another of its k-grams."""
        for text in texts:
            self.index.ignore(_kgrams(text))

    def add(self, submission: Submission) -> int:
        document = read(submission, self.parts)
        self.documents.append(document)
        return self.index.add(submission.student, document.prints.hashes, reference=submission.reference)

    def report(self, *, limit: int = LIMIT, mistakes: Mapping[str, Collection[str]] | None = None) -> Report:
        """The ``limit`` best pairs, those sharing a rare mistake, and the clusters."""
        ranked, by_mistake = rank(self.index, limit=limit, mistakes=mistakes)
        held = [set(document.words) for document in self.documents]
        return describe(self.index, ranked, by_mistake, dict(enumerate(self.documents)), held)

    def late(self, submission: Submission) -> list[Pair]:
        """A late submission added and compared with the class through the index, best first."""
        return self.index.against(self.add(submission))


@lru_cache(maxsize=64)
def _kgrams(text: str) -> tuple[int, ...]:
    """Every k-gram hash of a starter's or solution's code (the same set's solutions are set
    aside by every report of a process: lexed once)."""
    return tuple(kgram_hashes(fingerprint(lex(code_of(text))).stream).tolist())


def rank(
    index: Index, *, limit: int = LIMIT, mistakes: Mapping[str, Collection[str]] | None = None
) -> tuple[list[Pair], dict[tuple[str, str], list[str]]]:
    """The ``limit`` best pairs of the index, then those sharing a rare mistake (whatever their
    code's score), with the pairs of students who share a rare mistake and which. Only these
    pairs' documents are needed to describe them (:func:`describe`): a service reads no more."""
    students = index.size - len(index.references)
    ranked = index.pairs(limit=limit)
    by_mistake = same_mistakes(mistakes or {}, students)
    numbers = {name: number for number, name in enumerate(index.names)}
    seen = {(index.names[p.first], index.names[p.second]) for p in ranked}
    seen |= {(second, first) for first, second in seen}
    for first, second in by_mistake:
        if (first, second) not in seen and first in numbers and second in numbers:
            ranked.append(_pair(index, numbers[first], numbers[second]))
    return ranked, by_mistake


def describe(
    index: Index,
    ranked: Iterable[Pair],
    by_mistake: Mapping[tuple[str, str], Sequence[str]],
    documents: Mapping[int, Document],
    held_words: Iterable[set[str]],
) -> Report:
    """The report of the ranked pairs: each one's evidence from its two ``documents`` (by number in
    the index), the rare names and comments counted over ``held_words`` (every submission's)."""
    rare_words = rare(held_words, index.size)
    pairs = [_ranked(index, pair, by_mistake, rare_words, documents) for pair in ranked]
    pairs.sort(key=lambda p: (-p.score, p.students))
    return Report(pairs, clusters(pairs), index.size - len(index.references), index.count_pairs())


def _pair(index: Index, first: int, second: int) -> Pair:
    both = set(index.held[first].tolist()) & set(index.held[second].tolist())
    value = sum(index.weight_of(h) for h in both)
    total = index.own(first) + index.own(second)
    first, second = sorted((first, second))
    return Pair(first, second, 2 * value / total if total > 0 else 0.0, value)


def _ranked(
    index: Index,
    pair: Pair,
    by_mistake: Mapping[tuple[str, str], Sequence[str]],
    rare_words: Mapping[str, int],
    documents: Mapping[int, Document],
) -> RankedPair:
    a, b = documents[pair.first], documents[pair.second]
    names = (index.names[pair.first], index.names[pair.second])
    if names[0] > names[1]:
        a, b, names = b, a, (names[1], names[0])
    both = set(a.prints.hashes.tolist()) & set(b.prints.hashes.tolist())
    weights = {h: index.weight_of(h) for h in both}
    evidence = shared(a.prints, b.prints, weights, a.text, rare_words, (a.words, b.words))
    parts = a.parts_of(block.first for block in evidence.blocks)
    return RankedPair(
        students=names,
        score=pair.score,
        shared_tokens=evidence.tokens,
        fragments=evidence.fragments,
        names=evidence.names,
        comments=evidence.comments,
        same_mistakes=tuple(by_mistake.get(names, ())),
        parts=tuple(sorted(parts)),
        blocks=evidence.blocks,
    )


class Linked(Protocol):
    """What a cluster is made of: two students and their pair's score."""

    @property
    def students(self) -> tuple[str, str]: ...
    @property
    def score(self) -> float: ...


def clusters(pairs: Iterable[Linked], *, score: float = CLUSTER_SCORE) -> list[list[str]]:
    """Groups of three or more students linked by pairs scoring at least ``score``."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for pair in pairs:
        if pair.score >= score:
            parent[root(pair.students[0])] = root(pair.students[1])
    groups: dict[str, list[str]] = {}
    for name in parent:
        groups.setdefault(root(name), []).append(name)
    found = [sorted(group) for group in groups.values() if len(group) >= 3]
    return sorted(found, key=lambda group: (-len(group), group))


def similarity_report(
    submissions: Iterable[Submission],
    *,
    starter: Iterable[str] = (),
    parts: Collection[str] | None = None,
    limit: int = LIMIT,
    mistakes: Mapping[str, Collection[str]] | None = None,
) -> Report:
    """The report of a class (see the module): ``starter`` holds the starter's and the solutions'
    texts, ``parts`` the part keys compared (all by default), ``mistakes`` each student's mistakes
    (named misconceptions, or a test's wrong values as a key)."""
    similarity = Similarity(parts)
    similarity.ignore(starter)
    for submission in submissions:
        similarity.add(submission)
    return similarity.report(limit=limit, mistakes=mistakes)
