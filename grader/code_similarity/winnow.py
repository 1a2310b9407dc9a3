"""Tokens → winnowed k-gram fingerprints (Schleimer, Wilkerson and Aiken's Winnowing, as MOSS,
Dolos and copydetect use it), each with the tokens it covers.

A k-gram is :data:`K` consecutive tokens of the code stream (comments left out); its hash is taken
of the tokens' matching forms, a chosen name standing for *where it was last used inside the
k-gram* (0 if not: Baker's parameterised encoding), so that a consistent renaming leaves every hash
as it was while the pattern of uses (which loop variable indexes which axis) still counts.
Winnowing keeps, of every :data:`WINDOW` consecutive k-gram hashes, the smallest (the rightmost of
equal ones), each position once: two texts sharing a run of at least ``K + WINDOW - 1`` tokens
share at least one fingerprint, whatever surrounds the run, and a text keeps about
``2 / (WINDOW + 1)`` of its k-grams.

Parameters, for this subject: :data:`K` = 12 tokens is about one statement of the homework
(``h_out = (h + 2 * pad - kh) // stride + 1`` is 14), so a fingerprint is a statement-sized
fragment, not a ``for i in range(n):`` every student writes (the rarity weighting of :mod:`.index`
makes those weigh nothing anyway); :data:`WINDOW` = 8 guarantees a shared run of 19 tokens (about a
line and a half) is seen, which a reordered function or a changed line cannot hide, and keeps a
fifth of the k-grams (some 100 fingerprints for a 70-line homework). Dolos's defaults (k = 23,
w = 17) are made for longer programs: a 39-token guarantee is three lines of a 10-line function.

Hashes are 64-bit, stable across processes and Python versions (BLAKE2 for each token's text, then a
polynomial over the k-gram mixed by SplitMix64), so the index can be kept in a database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from grader.code_similarity.tokens import Kind, Token

K = 12
WINDOW = 8
#: The polynomial's base (odd, so that multiplication modulo 2⁶⁴ loses nothing).
_BASE = np.uint64(0x9E3779B97F4A7C15)
#: A name's code is this plus the distance back to its last use within the k-gram (0: none).
_NAME_CODE = 0x5BD1E995

Hashes = npt.NDArray[np.int64]
Positions = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class Fingerprinted:
    """A text's code stream (comments left out), its comments, and its fingerprints: each one's hash
    and the stream position of the k-gram it was taken of (it covers ``K`` tokens from there)."""

    stream: tuple[Token, ...]
    comments: tuple[Token, ...]
    hashes: Hashes
    starts: Positions

    def lines(self, start: int, stop: int) -> tuple[int, int]:
        """The first and last line of the stream's tokens ``start`` to ``stop`` (exclusive)."""
        return self.stream[start].line, self.stream[stop - 1].line

    def located(self, k: int = K) -> Located:
        """The fingerprints with the lines of their k-grams, without the tokens."""
        lines = np.fromiter((token.line for token in self.stream), dtype=np.int64, count=len(self.stream))
        starts = self.starts.astype(np.int64)
        return Located(self.hashes, starts, lines[starts], lines[starts + k - 1], k)


@dataclass(frozen=True, slots=True)
class Located:
    """A text's fingerprints without its tokens: each one's hash, the stream position of its k-gram
    (increasing), and the lines of the k-gram's first and last tokens. What describing a pair reads
    (:mod:`.evidence`: its runs are of whole k-grams), and small enough to be stored, so that a
    pair is described again without lexing its texts again."""

    hashes: Hashes
    starts: npt.NDArray[np.int64]
    first: npt.NDArray[np.int64]
    last: npt.NDArray[np.int64]
    k: int = K

    def lines(self, start: int, stop: int) -> tuple[int, int]:
        """The first line of the k-gram at ``start`` and the last of the k-gram ending at ``stop``
        (exclusive): the lines of the stream's tokens ``start`` to ``stop``."""
        at = int(np.searchsorted(self.starts, start))
        to = int(np.searchsorted(self.starts, stop - self.k))
        return int(self.first[at]), int(self.last[to])

    def moved(self, tokens: int, lines: int) -> Located:
        """The same fingerprints ``tokens`` tokens and ``lines`` lines further on (a text after
        others in a joined document)."""
        return Located(self.hashes, self.starts + tokens, self.first + lines, self.last + lines, self.k)


def joined(pieces: Sequence[Located], k: int = K) -> Located:
    """Texts' fingerprints, each already moved to where it is, as one document's."""
    if not pieces:
        empty = np.zeros(0, dtype=np.int64)
        return Located(empty, empty, empty, empty, k)
    return Located(
        np.concatenate([piece.hashes for piece in pieces]),
        np.concatenate([piece.starts for piece in pieces]),
        np.concatenate([piece.first for piece in pieces]),
        np.concatenate([piece.last for piece in pieces]),
        k,
    )


def fingerprint(tokens: Sequence[Token], *, k: int = K, window: int = WINDOW) -> Fingerprinted:
    """``tokens`` (from :func:`.tokens.lex`) winnowed into fingerprints."""
    stream = tuple(token for token in tokens if token.kind is not Kind.COMMENT)
    comments = tuple(token for token in tokens if token.kind is Kind.COMMENT)
    hashes = kgram_hashes(stream, k)
    starts = winnow(hashes, window)
    return Fingerprinted(stream, comments, hashes[starts], starts)


def kgram_hashes(stream: Sequence[Token], k: int = K) -> Hashes:
    """The hash of every k-gram of ``stream``, in order (none when it is shorter than ``k``)."""
    count = len(stream) - k + 1
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    codes = np.fromiter((_code(token.match) for token in stream), dtype=np.uint64, count=len(stream))
    back = np.zeros(len(stream), dtype=np.int64)  # how far back the same name was last used
    named = np.zeros(len(stream), dtype=bool)
    last: dict[str, int] = {}
    for at, token in enumerate(stream):
        if token.kind is Kind.NAME:
            named[at] = True
            before = last.get(token.text)
            back[at] = 0 if before is None else at - before
            last[token.text] = at
    windows = np.lib.stride_tricks.sliding_window_view(codes, k)
    backs = np.lib.stride_tricks.sliding_window_view(back, k)
    names = np.lib.stride_tricks.sliding_window_view(named, k)
    offsets = np.arange(k, dtype=np.int64)
    inside = np.where(backs <= offsets, backs, 0)  # a use before the k-gram began counts as none
    values = np.where(names, (inside + _NAME_CODE).astype(np.uint64), windows)
    powers = _BASE ** np.arange(k - 1, -1, -1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        mixed = _splitmix((values * powers).sum(axis=1, dtype=np.uint64))
    return mixed.view(np.int64)


def winnow(hashes: Hashes, window: int = WINDOW) -> Positions:
    """The positions Winnowing keeps: of each ``window`` consecutive hashes the smallest, the
    rightmost of equal ones, each position once (a text with fewer hashes is one window)."""
    if len(hashes) == 0:
        return np.zeros(0, dtype=np.int32)
    width = min(window, len(hashes))
    rows = np.lib.stride_tricks.sliding_window_view(hashes, width)
    rightmost = width - 1 - np.argmin(rows[:, ::-1], axis=1)
    chosen = np.arange(len(rows)) + rightmost
    return np.unique(chosen).astype(np.int32)


@lru_cache(maxsize=1 << 16)
def _code(match: str) -> int:
    """A token's matching form as a stable 64-bit number."""
    return int.from_bytes(hashlib.blake2b(match.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def _splitmix(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """SplitMix64's finaliser: every bit of the polynomial spread over the hash."""
    with np.errstate(over="ignore"):
        values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))
