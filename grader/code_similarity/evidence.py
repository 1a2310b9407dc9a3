"""What two submissions share, shown beside their score so that a person can judge it: the matching
blocks (numbered, with their lines on each side), the tokens they cover, the rarest fragments, and
the rare names and comments both wrote (masked for matching, kept here: a copier who renamed nothing
shows it at once).

Also the second signal, apart from the code: the same *mistake* (a named misconception, or the same
wrong values on a test), counted only when few make it (:data:`MISTAKE_SHARE`): a misconception
half the class holds is the lecture's fault, not evidence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from grader.code_similarity.tokens import Kind
from grader.code_similarity.winnow import Fingerprinted, K, Located

#: A mistake, name or comment counts as evidence when at most this share of the class has it (and
#: at least two do).
MISTAKE_SHARE = 0.05
RARE_SHARE = 0.02
#: Fragments, names and comments listed per pair, at most.
LISTED = 5
#: A name shorter than this (``i``, ``dx``) is everyone's.
MIN_NAME = 3
#: A comment shorter than this (``# loop``) says nothing of who wrote it.
MIN_COMMENT = 12


@dataclass(frozen=True, slots=True)
class Block:
    """A run of shared code: its number (in the first's order) and its lines on each side."""

    number: int
    first: tuple[int, int]
    second: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Shared:
    """What a pair shares: blocks, the tokens covered (the smaller side's), the rarest fragments
    (the first's lines), and the rare names and comments both have."""

    blocks: tuple[Block, ...]
    tokens: int
    fragments: tuple[str, ...]
    names: tuple[str, ...]
    comments: tuple[str, ...]


def shared(
    a: Located,
    b: Located,
    weights: Mapping[int, float],
    source_a: str,
    rare_words: Mapping[str, int],
    held: tuple[Collection[str], Collection[str]],
) -> Shared:
    """The evidence of a pair: ``weights`` holds the weight of every fingerprint both hold (those
    weighing nothing are left out), ``rare_words`` the class's rare names and comments with how many hold each (the
    rarest are listed first, then the longest), ``held`` the names and comments of each (:func:`words`)."""
    counted = {h for h, w in weights.items() if w > 0}
    at_a = _runs(a, counted)
    at_b = _runs(b, counted)
    blocks = []
    for number, (start, stop, hashes) in enumerate(at_a, 1):
        other = [(s, e) for s, e, hs in at_b if hs & hashes]
        if other:
            blocks.append(
                Block(number, a.lines(start, stop), b.lines(min(s for s, _ in other), max(e for _, e in other)))
            )
    tokens = min(sum(stop - start for start, stop, _ in at_a), sum(stop - start for start, stop, _ in at_b))
    lines = source_a.split("\n")
    fragments: list[str] = []
    for h in sorted(counted, key=lambda h: (-weights[h], h)):
        start = int(a.starts[np.flatnonzero(a.hashes == h)[0]])
        first, last = a.lines(start, start + K)
        text = " / ".join(line.strip() for line in lines[first - 1 : last] if line.strip())
        if text not in fragments:
            fragments.append(text)
        if len(fragments) == LISTED:
            break
    both = sorted(
        set(held[0]) & set(held[1]) & rare_words.keys(), key=lambda word: (rare_words[word], -len(word), word)
    )
    names = tuple(word for word in both if not word.startswith("#") and len(word) >= MIN_NAME)[:LISTED]
    comments = tuple(word[1:] for word in both if word.startswith("#"))[:LISTED]
    return Shared(tuple(blocks), tokens, tuple(fragments), names, comments)


def words(document: Fingerprinted) -> set[str]:
    """A document's names (as written) and comments (``#`` then their words)."""
    found = {token.text for token in document.stream if token.kind is Kind.NAME}
    found.update("#" + token.match for token in document.comments if len(token.match) >= MIN_COMMENT)
    return found


def rare(holdings: Iterable[set[str]], students: int) -> dict[str, int]:
    """What at least two and at most :data:`RARE_SHARE` of the class hold, with how many do."""
    counts = Counter(word for held in holdings for word in held)
    most = max(2, int(RARE_SHARE * students))
    return {word: count for word, count in counts.items() if 2 <= count <= most}


def same_mistakes(mistakes: Mapping[str, Collection[str]], students: int) -> dict[tuple[str, str], list[str]]:
    """Pairs of students (sorted) who made the same rare mistake, and which: a mistake counts when
    at least two and at most :data:`MISTAKE_SHARE` of the class made it."""
    holders: dict[str, list[str]] = {}
    for student, made in mistakes.items():
        for mistake in set(made):
            holders.setdefault(mistake, []).append(student)
    most = max(2, int(MISTAKE_SHARE * students))
    pairs: dict[tuple[str, str], list[str]] = {}
    for mistake, who in sorted(holders.items()):
        if 2 <= len(who) <= most:
            for first, second in combinations(sorted(who), 2):
                pairs.setdefault((first, second), []).append(mistake)
    return pairs


def _runs(document: Located, counted: set[int]) -> list[tuple[int, int, set[int]]]:
    """The stream's runs covered by counted fingerprints: (start, stop, their hashes), in order."""
    spans = sorted(
        (int(start), int(start) + K, int(h))
        for h, start in zip(document.hashes, document.starts, strict=True)
        if int(h) in counted
    )
    runs: list[tuple[int, int, set[int]]] = []
    for start, stop, h in spans:
        if runs and start <= runs[-1][1]:
            runs[-1] = (runs[-1][0], max(runs[-1][1], stop), runs[-1][2] | {h})
        else:
            runs.append((start, stop, {h}))
    return runs
