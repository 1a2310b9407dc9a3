"""Groups of similar free-response answers, suggested so that a grader can grade a group at once
(issue: rubric grading). Three passes, each over what the previous left alone:

1. **the same answer**: equal once normalised (Unicode compatibility forms, case, spacing,
   punctuation at the ends);
2. **near-duplicates**: a character-n-gram TF-IDF cosine similarity of at least
   :data:`NEAR_DUPLICATE` (a typo, a word added or dropped), over every distinct answer, so a
   typo of a common answer joins its group;
3. **similar answers**, among those no one else gave: agglomerative clustering (average linkage,
   cosine distance) of TF-IDF vectors over words and character n-grams together, cut at
   :data:`SIMILAR` (paraphrases that share their key terms).

Deterministic (the same answers give the same groups, whatever their order) and offline: no
model is downloaded, scikit-learn only counts and measures. A suggestion, not a grade: staff
confirm, split or move answers between groups.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

#: Cosine similarity of character n-grams at or above which two answers are near-duplicates.
NEAR_DUPLICATE = 0.75
#: Cosine distance (1 − similarity) of the combined vectors below which clusters merge.
SIMILAR = 0.82
#: The longest answer text compared (characters); the rest of a longer one does not count.
MAX_CHARS = 10_000

How = Literal["same", "near", "similar", "alone"]


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
    second): a service calls it as it starts, so the first queue a grader opens does not wait for
    them; the command line, which rarely groups, imports them when it does."""
    import scipy.sparse.csgraph  # noqa: F401
    import sklearn.cluster
    import sklearn.feature_extraction.text
    import sklearn.metrics.pairwise  # noqa: F401


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
    texts = {key: normalised(text) for key, text in sorted(answers.items()) if normalised(text)}
    members: dict[str, list[str]] = {}
    for key, text in texts.items():
        members.setdefault(text, []).append(key)
    distinct = sorted(members)
    # near-duplicates join over every distinct text (a typo of a common answer joins its group)
    near = [cluster for cluster in (_near_duplicates(distinct) if len(distinct) > 1 else []) if len(cluster) > 1]
    taken = {text for cluster in near for text in cluster}
    groups = [Group(_keys(cluster, members), "near", _example(cluster, members)) for cluster in near]
    groups += [
        Group(tuple(keys), "same", text) for text, keys in members.items() if len(keys) > 1 and text not in taken
    ]
    # the answers no one else gave are clustered by what they say
    alone = [text for text in distinct if len(members[text]) == 1 and text not in taken]
    similar = [cluster for cluster in (_similar(alone) if len(alone) > 1 else []) if len(cluster) > 1]
    groups += [Group(_keys(cluster, members), "similar", _example(cluster, members)) for cluster in similar]
    grouped = {key for group in groups for key in group.members}
    groups += [Group((key,), "alone", text) for key, text in texts.items() if key not in grouped]
    return sorted(groups, key=lambda g: (-len(g.members), g.members[0]))


def _keys(cluster: list[str], members: Mapping[str, list[str]]) -> tuple[str, ...]:
    return tuple(sorted(key for text in cluster for key in members[text]))


def _example(cluster: list[str], members: Mapping[str, list[str]]) -> str:
    """The text most keys gave, the shortest on a tie (then the first in order)."""
    return min(cluster, key=lambda text: (-len(members[text]), len(text), text))


def _near_duplicates(texts: list[str]) -> list[list[str]]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform(texts)
    similarity = cosine_similarity(vectors, dense_output=True)
    return _components(len(texts), similarity >= NEAR_DUPLICATE, texts)


def _similar(texts: list[str]) -> list[list[str]]:
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
    grams = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    try:
        vectors = hstack([words.fit_transform(texts), grams.fit_transform(texts)]).toarray()
    except ValueError:  # nothing but stop words: no word features at all
        vectors = grams.fit_transform(texts).toarray()
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    labels = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=SIMILAR
    ).fit_predict(vectors)
    clusters: dict[int, list[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        clusters.setdefault(int(label), []).append(text)
    return sorted(clusters.values())


def _components(count: int, linked: object, texts: list[str]) -> list[list[str]]:
    """The connected components of the ``linked`` (a square boolean matrix) graph, as texts."""
    import numpy as np
    from scipy.sparse.csgraph import connected_components

    _, labels = connected_components(np.asarray(linked, dtype=bool), directed=False)
    clusters: dict[int, list[str]] = {}
    for index in range(count):
        clusters.setdefault(int(labels[index]), []).append(texts[index])
    return sorted(clusters.values())
