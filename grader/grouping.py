"""Groups of similar free-response answers, suggested so that a grader can grade a group at once
(issue: rubric grading). Three passes, each over what the previous left alone:

1. **the same answer**: equal once normalised (Unicode compatibility forms, case, spacing,
   punctuation at the ends);
2. **near-duplicates**: a character-n-gram TF-IDF cosine similarity of at least
   :data:`NEAR_DUPLICATE` (a typo, a word added or dropped), over every distinct answer, so a
   typo of a common answer joins its group;
3. **similar answers**, among those no one else gave: agglomerative clustering (average linkage,
   cosine distance) of TF-IDF vectors over words and character n-grams together, cut at
   :data:`SIMILAR` (paraphrases that share their key terms). At most :data:`MAX_CLUSTERED` answers
   are clustered at once (their distances are the one quadratic table); past that, in an order
   set by a hash of their text, the others each join the cluster they are closest to on average
   when it is within :data:`SIMILAR` (average linkage's own rule), and those left are clustered
   in turn.

Vectors stay sparse, an answer keeps at most :data:`grader.similarity.FEATURES_PER_TEXT` n-grams
of a kind and pairwise work goes by tiles (:mod:`grader.similarity`): the memory grows with the
answers' text, never with answers × vocabulary nor, past the clustering's table, with answers².
1,000 distinct answers of 3,000 characters add about 130 MiB at the peak, 1,000 of 10,000 random
characters (the most an answer can cost) about 250 MiB (``bench/grouping.py``).

Deterministic (the same answers give the same groups, whatever their order) and offline: no
model is downloaded, scikit-learn only counts and measures. A suggestion, not a grade: staff
confirm, split or move answers between groups.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from grader import similarity
from grader.similarity import Sparse

#: Cosine similarity of character n-grams at or above which two answers are near-duplicates.
NEAR_DUPLICATE = 0.75
#: Cosine distance (1 − similarity) of the combined vectors below which clusters merge.
SIMILAR = 0.82
#: The longest answer text compared (characters); the rest of a longer one does not count.
MAX_CHARS = 10_000
#: Answers clustered at once: their condensed distances take 8 bytes a pair (2,000: 16 MB).
MAX_CLUSTERED = 2_000

How = Literal["same", "near", "similar", "alone"]
#: Texts in groups, each a list.
Clusters = list[list[str]]


@dataclass(frozen=True, slots=True)
class Group:
    """Answers suggested to be graded together: their keys (submission ids, say), sorted; how the
    group was found; and the answer that stands for it (the most common normalised text, else the
    member closest to the others)."""

    members: tuple[str, ...]
    how: How
    example: str


def prepare() -> None:
    """Import the numerical libraries the grouping uses (scikit-learn and SciPy take most of a
    second): the service calls it before its first grouping, to freeze what they make
    (:func:`api.kit.collector.prepared_once`); the command line imports them when it groups."""
    import scipy.cluster.hierarchy
    import scipy.sparse.csgraph  # noqa: F401
    import sklearn.feature_extraction.text
    import sklearn.preprocessing  # noqa: F401


def normalised(text: str) -> str:
    """The answer as compared for sameness.

    >>> normalised("  Fewer  MULTIPLICATIONS. ")
    'fewer multiplications'
    """
    folded = unicodedata.normalize("NFKC", text[:MAX_CHARS]).casefold()
    return re.sub(r"\s+", " ", folded).strip(" .,;:!?'\"")


def group_answers(answers: Mapping[str, str]) -> list[Group]:
    """The answers (by key) in groups, largest first (then by their first key); an answer like no
    other is a group of its own (``alone``). Blank answers are left out."""
    texts = {key: folded for key, text in sorted(answers.items()) if (folded := normalised(text))}
    members: dict[str, list[str]] = {}
    for key, text in texts.items():
        members.setdefault(text, []).append(key)
    distinct = sorted(members)
    near, similar = _near_and_similar(distinct, members) if len(distinct) > 1 else ([], [])
    taken = {text for cluster in near for text in cluster}
    groups = [Group(_keys(cluster, members), "near", _example(cluster, members)) for cluster in near]
    groups += [
        Group(tuple(keys), "same", text) for text, keys in members.items() if len(keys) > 1 and text not in taken
    ]
    groups += [Group(_keys(cluster, members), "similar", _example(cluster, members)) for cluster in similar]
    grouped = {key for group in groups for key in group.members}
    groups += [Group((key,), "alone", text) for key, text in texts.items() if key not in grouped]
    return sorted(groups, key=lambda g: (-len(g.members), g.members[0]))


def _keys(cluster: list[str], members: Mapping[str, list[str]]) -> tuple[str, ...]:
    return tuple(sorted(key for text in cluster for key in members[text]))


def _example(cluster: list[str], members: Mapping[str, list[str]]) -> str:
    """The text most keys gave, the shortest on a tie (then the first in order)."""
    return min(cluster, key=lambda text: (-len(members[text]), len(text), text))


def _near_and_similar(distinct: list[str], members: Mapping[str, list[str]]) -> tuple[Clusters, Clusters]:
    """The groups of passes 2 and 3 (of more than one text each), the texts' character n-grams
    counted once for both."""
    chars = similarity.counts(distinct, analyzer="char_wb", ngram_range=(3, 5))
    # near-duplicates join over every distinct text (a typo of a common answer joins its group)
    near = [cluster for cluster in _near_duplicates(distinct, chars) if len(cluster) > 1]
    taken = {text for cluster in near for text in cluster}
    # the answers no one else gave are clustered by what they say
    alone = [row for row, text in enumerate(distinct) if len(members[text]) == 1 and text not in taken]
    if len(alone) < 2:
        return near, []
    alone_texts = [distinct[row] for row in alone]
    alone_chars = chars[alone]
    del chars
    words = similarity.counts(alone_texts, analyzer="word", ngram_range=(1, 2), stop_words="english")
    vectors = similarity.side_by_side(
        similarity.tfidf(words, sublinear=True, copy=False), similarity.tfidf(alone_chars, sublinear=True, copy=False)
    )
    del words, alone_chars
    return near, [cluster for cluster in _similar(alone_texts, vectors) if len(cluster) > 1]


def _near_duplicates(texts: list[str], chars: Sparse) -> Clusters:
    """The texts linked by near-duplicate pairs, directly or through others."""
    labels = similarity.components(similarity.tfidf(chars, sublinear=False), NEAR_DUPLICATE)
    found: dict[int, list[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        found.setdefault(int(label), []).append(text)
    return sorted(found.values())


def _similar(texts: list[str], vectors: Sparse) -> Clusters:
    """Average-linkage clusters of the texts by their vectors (see the module): at most
    :data:`MAX_CLUSTERED` at once, the others then joining a cluster or clustered among themselves."""
    waiting = sorted(range(len(texts)), key=lambda row: hashlib.sha256(texts[row].encode()).digest())
    clusters: list[list[int]] = []
    while waiting:
        batch, waiting = sorted(waiting[:MAX_CLUSTERED]), waiting[MAX_CLUSTERED:]
        clusters += _average_linkage(vectors if len(batch) == len(texts) else vectors[batch], batch)
        if waiting:
            best, mean = similarity.nearest_cluster(vectors, clusters, waiting)
            joining = 1.0 - mean < SIMILAR
            for row, cluster in zip(np.asarray(waiting)[joining], best[joining], strict=True):
                clusters[int(cluster)].append(int(row))
            waiting = [row for row, joined in zip(waiting, joining, strict=True) if not joined]
    return sorted(sorted(texts[row] for row in cluster) for cluster in clusters)


def _average_linkage(vectors: Sparse, rows: list[int]) -> list[list[int]]:
    """The rows in clusters: average linkage of cosine distances, merged while below :data:`SIMILAR`."""
    if len(rows) == 1:
        return [rows]
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(similarity.condensed_distances(vectors), method="average")
    labels = fcluster(tree, t=np.nextafter(SIMILAR, 0.0), criterion="distance")
    clusters: dict[int, list[int]] = {}
    for row, label in zip(rows, labels, strict=True):
        clusters.setdefault(int(label), []).append(row)
    return list(clusters.values())
