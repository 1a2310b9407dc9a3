"""Sparse TF-IDF vectors of texts, and the pairwise measures the grouping takes of them, in memory
that grows with the texts' n-grams and never with texts × vocabulary, nor with texts² past a block:

- n-grams are hashed, so no vocabulary is kept (one grows with every distinct n-gram sent), then
  the columns are renumbered to those in use, so that every array is as long as the non-zeros;
- each text keeps at most :data:`FEATURES_PER_TEXT` n-grams of a kind: those of the smallest
  hashes. The sample is the same in every text (an n-gram is kept by its hash, not by where it
  stands), so that two long texts are still compared on what both say, and a text costs at most
  that many entries whatever its length or alphabet;
- products of vectors are taken a tile at a time (:data:`BLOCK_CELLS` cells, the other side
  :data:`TILE_ENTRIES` entries at a time), and only what is asked for is kept: the components of
  the rows linked by a similarity, the distances of the texts clustered, the nearest cluster. The
  columns many texts share are multiplied as dense tables of at most :data:`DENSE_CELLS` cells (a
  sparse product spends its time on them), the others sparse.

Vectors are SciPy CSR matrices with unit rows (float32: a cosine is compared with thresholds two
decimals wide), so a cosine similarity is a dot product.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

#: n-grams kept per text and kind (characters, words): an answer of up to some 6,000 characters of
#: prose keeps them all (one of 3,000 has about 4,400 distinct character 3- to 5-grams), so its
#: groups are those of every n-gram, and one of :data:`grader.grouping.MAX_CHARS` random characters
#: (some 26,000) costs 64 kB, not 200.
FEATURES_PER_TEXT = 8_192
#: The hashed column space: 31 bits, so that two n-grams of a class's answers share a column
#: about never (a vocabulary of a million n-grams has a couple of hundred such pairs).
HASHES = 2**31 - 1
#: Texts hashed at once: the n-gram strings of one batch are all that is alive of them.
BATCH = 32
#: Cells of a tile of a product (rows × other rows) computed at once: 4 MB.
BLOCK_CELLS = 1_000_000
#: Entries of the other rows of a product taken at once (copied by columns): 8 MB.
TILE_ENTRIES = 1_000_000
#: A column that at least this share of the texts use is multiplied dense (a sparse product spends
#: its time on each pair of texts that share a column, a dense one on each pair of texts).
SHARED = 0.2
#: Cells of a dense table of shared columns (texts × columns) made at once: 8 MB.
DENSE_CELLS = 2_000_000

#: A SciPy sparse matrix (SciPy has no type stubs).
Sparse = Any
Rows = npt.NDArray[np.int64]


def counts(
    texts: Sequence[str],
    *,
    analyzer: Literal["char_wb", "word"],
    ngram_range: tuple[int, int],
    stop_words: Literal["english"] | None = None,
) -> Sparse:
    """The texts' n-gram counts, a row each (see the module: hashed, sampled, columns renumbered)."""
    from scipy.sparse import csr_matrix, vstack
    from sklearn.feature_extraction.text import HashingVectorizer

    hashing = HashingVectorizer(
        analyzer=analyzer,
        ngram_range=ngram_range,
        stop_words=stop_words,
        n_features=HASHES,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )
    batches = [_smallest(hashing.transform(texts[at : at + BATCH])) for at in range(0, len(texts), BATCH)]
    hashed = vstack(batches, format="csr") if batches else csr_matrix((0, HASHES), dtype=np.float32)
    del batches
    used = np.sort(hashed.indices)  # (np.unique hashes integers first: many times slower)
    first = np.ones(len(used), dtype=bool)
    first[1:] = used[1:] != used[:-1]
    used = used[first]
    columns = np.empty(hashed.nnz, dtype=np.int32)
    for at in range(0, hashed.nnz, BLOCK_CELLS):  # searchsorted answers int64: a block at a time
        columns[at : at + BLOCK_CELLS] = np.searchsorted(used, hashed.indices[at : at + BLOCK_CELLS])
    return csr_matrix((hashed.data, columns, hashed.indptr), shape=(len(texts), len(used)))


def tfidf(counted: Sparse, *, sublinear: bool, copy: bool = True) -> Sparse:
    """Unit TF-IDF rows of ``counted`` (of a copy unless ``copy`` is false), weighed as
    scikit-learn's ``TfidfVectorizer`` weighs them: a count (or 1 + its log when ``sublinear``)
    times ln((1 + texts)/(1 + texts with the n-gram)) + 1. In place, a block at a time."""
    from sklearn.preprocessing import normalize

    weighed = counted.copy() if copy else counted
    idf = (np.log((1.0 + weighed.shape[0]) / (1.0 + _rows_using(weighed))) + 1.0).astype(weighed.dtype)
    if sublinear:
        np.log(weighed.data, out=weighed.data)
        weighed.data += 1.0
    for at in range(0, weighed.nnz, BLOCK_CELLS):
        weighed.data[at : at + BLOCK_CELLS] *= idf[weighed.indices[at : at + BLOCK_CELLS]]
    return normalize(weighed, copy=False) if weighed.shape[1] else weighed  # (no n-gram at all: nothing to scale)


def side_by_side(*blocks: Sparse) -> Sparse:
    """Unit rows of the blocks' columns side by side (each block's rows unit already: equal weight),
    written row by row into the one matrix (SciPy's ``hstack`` copies the blocks whole first)."""
    from scipy.sparse import csr_matrix
    from sklearn.preprocessing import normalize

    count = blocks[0].shape[0]
    indptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(sum(np.diff(block.indptr) for block in blocks), out=indptr[1:])
    data = np.empty(indptr[-1], dtype=np.float32)
    indices = np.empty(indptr[-1], dtype=np.int32)
    filled = indptr[:-1].copy()
    offset = 0
    for block in blocks:
        for row in range(count):
            first, last = block.indptr[row], block.indptr[row + 1]
            at = filled[row]
            data[at : at + last - first] = block.data[first:last]
            indices[at : at + last - first] = block.indices[first:last] + offset
            filled[row] += last - first
        offset += block.shape[1]
    return normalize(csr_matrix((data, indices, indptr), shape=(count, offset)), copy=False)


def components(vectors: Sparse, at_least: float) -> npt.NDArray[np.int32]:
    """Each row's connected component (a label) in the graph that links two rows of a cosine
    similarity of at least ``at_least``. The links are folded into the components found so far
    whenever they pass :data:`BLOCK_CELLS`, so that a class of answers all alike, whose links are
    quadratic in number, holds no more of them than that."""
    count = vectors.shape[0]
    rows = np.arange(count, dtype=np.int64)
    firsts: list[Rows] = [rows]
    seconds: list[Rows] = [rows]
    held = 0
    for left, right, tile in _tiles(vectors, vectors, upper=True):
        found, other = np.nonzero(tile >= at_least)
        later = found + left < other + right
        firsts.append(found[later].astype(np.int64) + left)
        seconds.append(other[later].astype(np.int64) + right)
        held += int(later.sum())
        if held > BLOCK_CELLS:  # each row linked to the first of its component stands for them all
            labels = _components(count, firsts, seconds)
            firsts, seconds, held = [rows], [np.unique(labels, return_index=True)[1][labels]], 0
    return _components(count, firsts, seconds)


def _components(count: int, firsts: list[Rows], seconds: list[Rows]) -> npt.NDArray[np.int32]:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    first, second = np.concatenate(firsts), np.concatenate(seconds)
    graph = coo_matrix((np.ones(len(first), dtype=np.int8), (first, second)), shape=(count, count))
    labels: npt.NDArray[np.int32] = connected_components(graph, directed=False)[1]
    return labels


def condensed_distances(vectors: Sparse) -> npt.NDArray[np.float64]:
    """The cosine distance (1 − similarity) of every pair of rows, in SciPy's condensed order
    (``scipy.spatial.distance.squareform``): n(n − 1)/2 numbers, never the square."""
    count = vectors.shape[0]
    distances = np.empty(count * (count - 1) // 2, dtype=np.float64)
    for left, right, tile in _tiles(vectors, vectors, upper=True):
        for offset in range(tile.shape[0]):
            row = left + offset
            first = max(right, row + 1)  # the pairs (row, j) for j > row in this tile
            if first < right + tile.shape[1]:
                at = row * count - row * (row + 1) // 2 + first - row - 1
                distances[at : at + right + tile.shape[1] - first] = tile[offset, first - right :]
    np.subtract(1.0, distances, out=distances)
    return np.clip(distances, 0.0, 2.0, out=distances)


def nearest_cluster(
    vectors: Sparse, clusters: Sequence[Sequence[int]], rows: Sequence[int]
) -> tuple[Rows, npt.NDArray[np.float64]]:
    """For each of ``rows``: the cluster (index in ``clusters``, lists of rows) of the highest mean
    cosine similarity to its members, the first on a tie, and that mean."""
    from scipy.sparse import csr_matrix

    sizes = np.array([len(cluster) for cluster in clusters], dtype=np.float64)
    labels = np.repeat(np.arange(len(clusters)), sizes.astype(np.int64))
    members = np.array([row for cluster in clusters for row in cluster], dtype=np.int64)
    means = csr_matrix((1.0 / sizes[labels], (labels, members)), shape=(len(clusters), vectors.shape[0]))
    centroids = csr_matrix(means @ vectors, dtype=np.float32)
    best = np.zeros(len(rows), dtype=np.int64)
    similarity = np.full(len(rows), -np.inf, dtype=np.float64)
    for left, right, tile in _tiles(vectors[np.asarray(rows, dtype=np.int64)], centroids):
        stop = left + tile.shape[0]
        found = tile.argmax(axis=1)
        value = tile[np.arange(tile.shape[0]), found]
        better = value > similarity[left:stop]  # strictly: the first cluster keeps a tie
        best[left:stop][better] = found[better] + right
        similarity[left:stop][better] = value[better]
    return best, similarity


def _tiles(left: Sparse, right: Sparse, *, upper: bool = False) -> Iterator[tuple[int, int, npt.NDArray[np.float32]]]:
    """``(i, j, left[i:i + a] @ right[j:j + b].T)``: dense tiles covering the product (with
    ``upper``, only those holding some pair i < j). The columns :data:`SHARED` by many rows of
    ``right`` are multiplied as dense tables, the others sparse; a tile's tables and copies stay
    within :data:`DENSE_CELLS`, :data:`TILE_ENTRIES` and :data:`BLOCK_CELLS`."""
    using = _rows_using(right)
    shared = np.argsort(-using, kind="stable")[: min(right.shape[1], DENSE_CELLS // 64)]
    shared = np.sort(shared[using[shared] >= max(2.0, SHARED * right.shape[0])])
    del using
    place = np.full(right.shape[1], -1, dtype=np.int32)  # a shared column's place in the tables
    place[shared] = np.arange(len(shared), dtype=np.int32)
    rows_at_once = max(1, min(BLOCK_CELLS, DENSE_CELLS // max(1, len(shared))))
    for first, last in _spans(right.indptr, TILE_ENTRIES, rows_at_once):
        block_dense, block_rare = _split(right[first:last], place, len(shared))
        block_rare = block_rare.T.tocsr()
        step = max(1, min(rows_at_once, BLOCK_CELLS // (last - first)))
        for start, stop in _spans(left.indptr, TILE_ENTRIES, step):
            if upper and start >= last - 1:
                break
            piece_dense, piece_rare = _split(left[start:stop], place, len(shared))
            product = (piece_rare @ block_rare).toarray()
            product += piece_dense @ block_dense.T
            yield start, first, product


def _split(rows: Sparse, place: npt.NDArray[np.int32], width: int) -> tuple[npt.NDArray[np.float32], Sparse]:
    """``rows`` (a CSR matrix) as a dense table of its entries in the columns that have a
    ``place`` (≥ 0), of ``width`` columns, and a CSR matrix of its other entries."""
    from scipy.sparse import csr_matrix

    columns = place[rows.indices]
    dense = columns >= 0
    row_of = np.repeat(np.arange(rows.shape[0], dtype=np.int32), np.diff(rows.indptr))
    table = np.zeros((rows.shape[0], width), dtype=np.float32)
    table[row_of[dense], columns[dense]] = rows.data[dense]
    del row_of, columns
    kept = ~dense
    before = np.zeros(len(kept) + 1, dtype=np.int32)  # entries kept before each
    np.cumsum(kept, out=before[1:])
    return table, csr_matrix((rows.data[kept], rows.indices[kept], before[rows.indptr]), shape=rows.shape)


def _spans(indptr: npt.NDArray[np.integer[Any]], entries: int, rows: int) -> Iterator[tuple[int, int]]:
    """Consecutive rows ``[first, last)`` of a CSR matrix: at most ``rows`` of them, of at most
    ``entries`` entries together (or one row)."""
    count = len(indptr) - 1
    first = 0
    while first < count:
        last = int(np.searchsorted(indptr, indptr[first] + entries, side="right")) - 1
        last = min(count, first + rows, max(first + 1, last))
        yield first, last
        first = last


def _rows_using(matrix: Sparse) -> npt.NDArray[np.int64]:
    """How many rows use each column (a CSR matrix's entries are distinct), a block at a time
    (``np.bincount`` copies what it counts to 64 bits)."""
    used = np.zeros(matrix.shape[1], dtype=np.int64)
    for at in range(0, matrix.nnz, BLOCK_CELLS):
        used += np.bincount(matrix.indices[at : at + BLOCK_CELLS], minlength=matrix.shape[1])
    return used


def _smallest(hashed: Sparse) -> Sparse:
    """``hashed`` with each row's :data:`FEATURES_PER_TEXT` smallest columns (hashes) kept."""
    from scipy.sparse import csr_matrix

    hashed.sort_indices()
    lengths = np.diff(hashed.indptr)
    if lengths.max(initial=0) <= FEATURES_PER_TEXT:
        return hashed
    kept = np.minimum(lengths, FEATURES_PER_TEXT)
    place = np.arange(hashed.nnz) - np.repeat(hashed.indptr[:-1], lengths)
    keep = place < np.repeat(kept, lengths)
    indptr = np.concatenate([[0], np.cumsum(kept)])
    return csr_matrix((hashed.data[keep], hashed.indices[keep], indptr), shape=hashed.shape)
