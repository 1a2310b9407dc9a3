"""The inverted index (fingerprint → the submissions that hold it), each fingerprint's weight by its
rarity in the class, and pairs' scores read from the index: a pair that shares nothing costs
nothing, and no two texts are ever compared whole (copydetect compares every pair: 499,500 for a
class of 1,000, 3.2 GB; Dolos's index, which this follows, 0.74 GB).

Why weight by rarity: on a formulaic homework every student writes the same four loops from the
same lecture, so what two honest students share is what half the class shares, and a copy shows in
what is rare. A fingerprint held by ``df`` of the ``n`` submissions weighs ``ln(n / (2 df))``, and
nothing from ``df = n / 2`` up (inverse document frequency, cut at half the class): a fragment of a
pair alone weighs 5.5 in a class of 1,000, one of a tenth of the class 1.6. A class smaller than
:data:`MIN_CLASS` is weighted as if of that size, so that a pair in a small class still counts.
The instructor's starter and solution code weigh nothing (:meth:`Index.ignore`), as does any
fingerprint of theirs a student kept.

A pair's score is the weighted Dice coefficient of their fingerprints, ``2 S(a, b) / (S(a) + S(b))``
where ``S(a, b)`` adds the weights of the fingerprints both hold and ``S(a)`` those of ``a``'s own:
1 for two submissions alike in everything not common, near 0 for two that share only what many
share; a copy into which much of one's own was added scores lower, in proportion.

A late submission is added with :meth:`Index.add` and compared with :meth:`Index.against`, through
the postings of its own fingerprints only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from grader.code_similarity.winnow import Hashes

#: The smallest class size the weights assume (see the module).
MIN_CLASS = 10


def weight(df: int, n: int) -> float:
    """A fingerprint's weight when ``df`` of ``n`` submissions hold it (see the module).

    >>> weight(2, 1000) > weight(100, 1000) > weight(499, 1000) > 0 == weight(500, 1000)
    True
    """
    return max(0.0, math.log(max(n, MIN_CLASS) / (2 * df))) if df > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Pair:
    """Two submissions (by their number in the index, the lower first), their score and the weight
    of what they share."""

    first: int
    second: int
    score: float
    shared: float


@dataclass
class Index:
    """Fingerprints → submissions. A submission is a number (its order of addition) and a name;
    references (past terms) are held and compared against, never paired with each other."""

    names: list[str] = field(default_factory=list)
    references: set[int] = field(default_factory=set)
    postings: dict[int, list[int]] = field(default_factory=dict)
    held: list[Hashes] = field(default_factory=list)
    ignored: set[int] = field(default_factory=set)

    def ignore(self, hashes: Iterable[int]) -> None:
        """Fingerprints that weigh nothing: the starter's and the solution's."""
        self.ignored.update(int(h) for h in hashes)

    def add(self, name: str, hashes: Hashes, *, reference: bool = False) -> int:
        """Index a submission's fingerprints (each counted once); its number."""
        number = len(self.names)
        unique = np.unique(hashes)
        self.names.append(name)
        self.held.append(unique)
        if reference:
            self.references.add(number)
        for h in unique.tolist():
            self.postings.setdefault(h, []).append(number)
        return number

    @property
    def size(self) -> int:
        return len(self.names)

    def weight_of(self, h: int) -> float:
        """A fingerprint's weight now."""
        if h in self.ignored:
            return 0.0
        return weight(len(self.postings.get(h, ())), self.size)

    def own(self, number: int) -> float:
        """``S(a)``: the weight of a submission's own fingerprints."""
        return sum(self.weight_of(h) for h in self.held[number].tolist())

    def against(self, number: int) -> list[Pair]:
        """Submission ``number`` against every other that shares a weighed fingerprint with it,
        through the index (a late submission, say), best first."""
        shared: dict[int, float] = {}
        for h in self.held[number].tolist():
            w = self.weight_of(h)
            if w <= 0:
                continue
            for other in self.postings[h]:
                if other != number:
                    shared[other] = shared.get(other, 0.0) + w
        mine = self.own(number)
        pairs = [
            _pair(number, other, value, mine, self.own(other))
            for other, value in shared.items()
            if not (number in self.references and other in self.references)
        ]
        return sorted(pairs, key=_rank)

    def pairs(self, *, limit: int) -> list[Pair]:
        """The ``limit`` best pairs of the class, best first. The shared weights of all pairs come
        from one sparse product over the index's columns, ``X W Xᵀ`` (``X``: which submission
        holds which weighed fingerprint, ``W`` the weights), so its cost is that of the pairs that
        share something, not of the texts."""
        from scipy.sparse import csr_matrix  # (0.2-0.4 s: imported by a process's first report)

        n = self.size
        weight_of = self._weights()
        columns: list[int] = []
        rows: list[int] = []
        weights: list[float] = []
        for h, holders in self.postings.items():
            if len(holders) < 2:
                continue
            w = weight_of[h]
            if w <= 0:
                continue
            column = len(weights)
            weights.append(w)
            rows.extend(holders)
            columns.extend([column] * len(holders))
        own = np.array([sum(map(weight_of.__getitem__, held.tolist())) for held in self.held])
        if not weights or n < 2:
            return []
        held = csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(n, len(weights)))
        weighted = held.multiply(np.sqrt(np.array(weights))[None, :]).tocsr()
        product = (weighted @ weighted.T).tocoo()
        upper = product.row < product.col
        first, second, shared = product.row[upper], product.col[upper], product.data[upper]
        if self.references:
            refs = np.zeros(n, dtype=bool)
            refs[list(self.references)] = True
            keep = ~(refs[first] & refs[second])
            first, second, shared = first[keep], second[keep], shared[keep]
        scores = _dice(shared, own[first], own[second])
        best = np.lexsort((second, first, -scores))[:limit]
        return [Pair(int(first[i]), int(second[i]), float(scores[i]), float(shared[i])) for i in best]

    def _weights(self) -> dict[int, float]:
        """Every fingerprint's weight now (:meth:`weight_of`, each taken once per count of holders)."""
        by_count: dict[int, float] = {}
        weights: dict[int, float] = {}
        for h, holders in self.postings.items():
            count = len(holders)
            if count not in by_count:
                by_count[count] = weight(count, self.size)
            weights[h] = 0.0 if h in self.ignored else by_count[count]
        return weights

    def count_pairs(self) -> int:
        """How many pairs the class has (references not paired with each other)."""
        n, refs = self.size, len(self.references)
        return n * (n - 1) // 2 - refs * (refs - 1) // 2


def _dice(
    shared: npt.NDArray[np.float64], a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    total = a + b
    return np.divide(2 * shared, total, out=np.zeros_like(shared), where=total > 0)


def _pair(number: int, other: int, shared: float, mine: float, theirs: float) -> Pair:
    first, second = sorted((number, other))
    total = mine + theirs
    return Pair(first, second, 2 * shared / total if total > 0 else 0.0, shared)


def _rank(pair: Pair) -> tuple[float, int, int]:
    return (-pair.score, pair.first, pair.second)
