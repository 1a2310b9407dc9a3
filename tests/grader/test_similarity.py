"""The sparse vectors and bounded products of :mod:`grader.similarity`, held to what scikit-learn
and dense NumPy compute: the same weights, the same similarities whatever the budgets cut them
into, and a cap on what one text costs."""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import pytest
from scipy.sparse import csr_matrix, hstack
from scipy.sparse import random as sparse_random
from scipy.sparse.csgraph import connected_components
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from grader import similarity
from harness.free_response import IDEAS, SAME, long_answers, random_answers

TEXTS = [text.casefold() for texts in IDEAS.values() for text in texts] + [text.casefold() for text in SAME]


@pytest.fixture(params=["as shipped", "tiny budgets"])
def budgets(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The budgets as shipped, and so small that every product is cut into many tiles, with
    shared columns taken dense a few at a time and links folded often."""
    if request.param == "tiny budgets":
        for name, value in {"BLOCK_CELLS": 60, "TILE_ENTRIES": 150, "DENSE_CELLS": 640, "SHARED": 0.3}.items():
            monkeypatch.setattr(similarity, name, value)
    yield request.param


def unit_rows(rows: int, columns: int, seed: int) -> csr_matrix:
    """Random non-negative unit rows, a few columns shared by most of them (as common n-grams are)."""
    rng = np.random.default_rng(seed)
    rare = sparse_random(rows, columns - 4, density=0.08, format="csr", dtype=np.float32, random_state=rng)
    common = csr_matrix(rng.random((rows, 4), dtype=np.float32) * (rng.random((rows, 4)) < 0.8))
    return normalize(hstack([common, rare], format="csr", dtype=np.float32))


def test_weights_are_scikit_learns() -> None:
    chars = similarity.tfidf(similarity.counts(TEXTS, analyzer="char_wb", ngram_range=(3, 5)), sublinear=False)
    words = similarity.tfidf(
        similarity.counts(TEXTS, analyzer="word", ngram_range=(1, 2), stop_words="english"), sublinear=True
    )
    for ours, theirs in (
        (chars, TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform(TEXTS)),
        (words, TfidfVectorizer(ngram_range=(1, 2), stop_words="english", sublinear_tf=True).fit_transform(TEXTS)),
    ):
        assert ours.shape[1] == theirs.shape[1]  # one column per n-gram: no two hashed together
        np.testing.assert_allclose((ours @ ours.T).toarray(), (theirs @ theirs.T).toarray(), atol=1e-5)


def test_a_text_keeps_at_most_its_cap_of_n_grams_the_same_in_every_text() -> None:
    (long,) = random_answers(1).values()
    counted = similarity.counts([long, long + " and more", "short"], analyzer="char_wb", ngram_range=(3, 5))
    rows = np.diff(counted.indptr)
    assert len({long[i : i + 5] for i in range(len(long) - 4)}) > similarity.FEATURES_PER_TEXT  # its 5-grams alone
    assert rows[0] == rows[1] == similarity.FEATURES_PER_TEXT
    assert rows[2] == 5 + 4 + 3  # the 3-, 4- and 5-grams of " short ": nothing to cut
    # the same n-grams are kept where both texts have them: the two long rows share nearly all
    shared = np.intersect1d(counted[0].indices, counted[1].indices)
    assert len(shared) > 0.99 * similarity.FEATURES_PER_TEXT


def test_the_links_fold_into_the_components_of_the_dense_graph(budgets: str) -> None:
    for seed in range(4):
        vectors = unit_rows(37, 50, seed)
        dense = (vectors @ vectors.T).toarray()
        for at_least in (0.2, 0.5, 0.9):
            expected = connected_components(csr_matrix(dense >= at_least), directed=False)[1]
            found = similarity.components(vectors, at_least)
            assert same_partition(found, expected), (budgets, seed, at_least)


def test_condensed_distances_are_the_dense_ones_in_scipys_order(budgets: str) -> None:
    from scipy.spatial.distance import squareform

    for seed in range(4):
        vectors = unit_rows(29, 40, seed)
        dense = np.clip(1.0 - (vectors @ vectors.T).toarray(), 0.0, 2.0)
        np.fill_diagonal(dense, 0.0)
        np.testing.assert_allclose(similarity.condensed_distances(vectors), squareform(dense), atol=1e-6)


def test_the_nearest_cluster_is_the_one_of_the_highest_mean_similarity(budgets: str) -> None:
    rng = random.Random(3)
    for seed in range(4):
        vectors = unit_rows(40, 30, seed)
        rows = list(range(40))
        rng.shuffle(rows)
        clusters = [rows[0:1], rows[1:6], rows[6:14], rows[14:15], rows[15:25]]
        waiting = rows[25:]
        dense = (vectors @ vectors.T).toarray()
        means = np.array([[dense[row, cluster].mean() for cluster in clusters] for row in waiting])
        best, mean = similarity.nearest_cluster(vectors, clusters, waiting)
        np.testing.assert_allclose(mean, means.max(axis=1), atol=1e-6)
        assert list(best) == [int(np.flatnonzero(np.isclose(row, row.max(), atol=1e-6))[0]) for row in means]


def test_long_texts_side_by_side_are_the_stacked_unit_rows() -> None:
    texts = list(long_answers(12, 600).values())
    words = similarity.tfidf(similarity.counts(texts, analyzer="word", ngram_range=(1, 2)), sublinear=True)
    chars = similarity.tfidf(similarity.counts(texts, analyzer="char_wb", ngram_range=(3, 5)), sublinear=True)
    expected = normalize(hstack([words, chars], format="csr"))
    assert (abs(similarity.side_by_side(words, chars) - expected) > 1e-6).nnz == 0


def same_partition(found: np.ndarray, expected: np.ndarray) -> bool:
    return (
        len(set(zip(found.tolist(), expected.tolist(), strict=True)))
        == len(set(found.tolist()))
        == len(set(expected.tolist()))
    )
