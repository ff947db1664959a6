"""Sparse top-k item-item matrices: equal to the dense computation where nothing is pruned.

The dense references are the formulas the models used before the matrices became
sparse (a dense Gram/co-count matrix, an exact per-row top-k), written out here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from recloop.config import EASEParams, ItemKNNParams
from recloop.data import Dataset
from recloop.evaluation.baselines import train_data
from recloop.retrieval.base import TrainData, top_k
from recloop.retrieval.ease import EASEScorer, covered_items
from recloop.retrieval.itemknn import ItemKNNScorer
from recloop.retrieval.itemmatrix import ItemMatrix, cosine_top_k, dense_top_k, top_k_per_row
from recloop.retrieval.sequence import TransitionScorer


def _power_law(n_users: int, n_items: int, per_user: int, seed: int) -> TrainData:
    """Users with ``per_user`` distinct items drawn with Zipf-like popularity, in event order."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n_items + 1) ** 0.8
    p /= p.sum()
    users, items = [], []
    for u in range(n_users):
        its = rng.choice(n_items, size=per_user, replace=False, p=p)
        users.append(np.full(per_user, u))
        items.append(its)
    u, i = np.concatenate(users), np.concatenate(items)
    order = rng.permutation(len(u))  # interleave users in time
    return TrainData.from_arrays(u[order], i[order], np.full(len(u), 4.0), np.arange(len(u)), n_items)


def _dense_cosine(x: sp.csr_matrix, shrink: float) -> np.ndarray:
    co = (x.T @ x).toarray().astype(np.float64)
    norms = np.sqrt(np.diag(co))
    sim = co / (np.outer(norms, norms) + shrink + 1e-9)
    np.fill_diagonal(sim, 0.0)
    return sim


def _dense_top_k_rows(m: np.ndarray, k: int) -> np.ndarray:
    """Each row's k largest non-zero entries, ties to the lower column (exact reference)."""
    out = np.zeros_like(m)
    for r in range(len(m)):
        keep = top_k(np.where(m[r] != 0, m[r], -np.inf), k)
        out[r, keep] = m[r, keep]
    return out


@pytest.fixture(scope="module")
def data() -> TrainData:
    return _power_law(n_users=300, n_items=120, per_user=15, seed=3)


def test_top_k_per_row_matches_an_exact_row_by_row_top_k() -> None:
    rng = np.random.default_rng(0)
    dense = rng.random((40, 60)) * (rng.random((40, 60)) < 0.3)
    dense[3] = 0.0
    dense[3, 20:30] = 0.5  # a tie wider than k: the lower columns win
    got = top_k_per_row(sp.csr_matrix(dense), 5).toarray()
    np.testing.assert_allclose(got, _dense_top_k_rows(dense, 5), rtol=1e-6)
    assert np.diff(top_k_per_row(sp.csr_matrix(dense), 5).indptr).max() == 5
    assert np.flatnonzero(got[3]).tolist() == [20, 21, 22, 23, 24]


def test_dense_top_k_keeps_the_largest_positive_entries() -> None:
    rng = np.random.default_rng(1)
    block = rng.standard_normal((30, 50))
    got = dense_top_k(block, 7).toarray()
    ref = _dense_top_k_rows(np.where(block > 0, block, 0.0), 7)
    np.testing.assert_allclose(got, ref, rtol=1e-6)


@pytest.mark.parametrize("budget", [50, 10**9])  # many blocks of items, one block
def test_blocked_cosine_equals_the_dense_cosine_top_k(data: TrainData, budget: int) -> None:
    x = data.matrix()
    ref = _dense_top_k_rows(_dense_cosine(x, 2.0), 10)
    got = cosine_top_k(x, 10, 2.0, budget=budget)
    assert got.dtype == np.float32 and np.diff(got.indptr).max() <= 10
    np.testing.assert_allclose(got.toarray(), ref, rtol=1e-5, atol=1e-7)


def test_itemknn_keeps_every_neighbour_when_k_covers_the_catalog(data: TrainData) -> None:
    knn = ItemKNNScorer(ItemKNNParams(neighbors=500, shrink=0.0)).fit(data)
    np.testing.assert_allclose(knn.sim, _dense_cosine(data.matrix(), 0.0), rtol=1e-5, atol=1e-7)


def _dense_transitions(data: TrainData, window: int) -> np.ndarray:
    """The dense per-user loop of the transition source before it became sparse."""
    n = data.n_items
    m = np.zeros((n, n))
    for hist in data.histories():
        for gap in range(1, window + 1):
            for a, b in zip(hist[:-gap], hist[gap:], strict=True):
                m[a, b] += 1.0 / gap
    np.fill_diagonal(m, 0.0)
    return m / (np.sqrt(m.sum(axis=1, keepdims=True)) + 1.0) / (np.sqrt(m.sum(axis=0, keepdims=True)) + 1.0)


def test_transitions_equal_the_dense_loop_and_prune_to_k(data: TrainData) -> None:
    ref = _dense_transitions(data, 3)
    full = TransitionScorer(window=3, neighbors=10_000).fit(data).trans
    np.testing.assert_allclose(full.toarray(), ref, rtol=1e-5, atol=1e-8)
    pruned = TransitionScorer(window=3, neighbors=8).fit(data).trans
    np.testing.assert_allclose(pruned.toarray(), _dense_top_k_rows(ref, 8), rtol=1e-5, atol=1e-8)


def _dense_ease(x: np.ndarray, l2: float) -> np.ndarray:
    g = x.T @ x + l2 * np.eye(x.shape[1])
    p = np.linalg.inv(g)
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


def test_ease_over_the_whole_catalog_is_the_closed_form(data: TrainData) -> None:
    ease = EASEScorer(EASEParams(l2=50.0)).fit(data)
    assert ease.matrix.dense is not None  # small catalog: kept dense, as before
    np.testing.assert_allclose(ease.weights, _dense_ease(data.matrix().toarray(), 50.0), rtol=1e-4, atol=1e-6)


def test_ease_cap_covers_only_the_most_active_items(data: TrainData) -> None:
    cap = 40
    ease = EASEScorer(EASEParams(l2=50.0, max_items=cap)).fit(data)
    sel = covered_items(data.item_counts(), cap)
    counts = data.item_counts()
    assert len(sel) == cap and counts[sel].min() >= np.delete(counts, sel).max()
    w = ease.weights
    outside = np.setdiff1d(np.arange(data.n_items), sel)
    assert not w[outside].any() and not w[:, outside].any()  # the other sources score those
    ref = _dense_ease(data.matrix()[:, sel].toarray(), 50.0)
    np.testing.assert_allclose(w[np.ix_(sel, sel)], ref, rtol=1e-4, atol=1e-6)


def test_ease_above_sparse_above_keeps_the_top_neighbours(data: TrainData) -> None:
    ease = EASEScorer(EASEParams(l2=50.0, sparse_above=10, neighbors=6)).fit(data)
    full = _dense_ease(data.matrix().toarray(), 50.0)
    assert np.diff(ease.matrix.csr.indptr).max() <= 6
    ref = _dense_top_k_rows(np.where(full > 0, full, 0.0), 6)
    np.testing.assert_allclose(ease.weights, ref, rtol=1e-3, atol=1e-6)


def _histories(n_items: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.choice(n_items, size=int(rng.integers(1, 40)), replace=False) for _ in range(50)]


def test_sparse_and_dense_scoring_give_the_same_lists(data: TrainData) -> None:
    dense = ItemKNNScorer(ItemKNNParams(neighbors=20)).fit(data).matrix
    sparse = ItemMatrix(dense.csr, dense_max=0)
    assert sparse.dense is None and dense.dense is not None
    for h in _histories(data.n_items, 5):
        w = np.linspace(0.2, 1.0, len(h)).astype(np.float32)
        a, b = dense.weighted_rows(h, w), sparse.weighted_rows(h, w)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
        assert top_k(a, 20, exclude=h).tolist() == top_k(b, 20, exclude=h).tolist()
    rows, cols = np.array([3, 1, 3]), np.array([0, 5, 9, 2])
    np.testing.assert_array_equal(dense.rows(rows), sparse.rows(rows))
    np.testing.assert_array_equal(dense.block(rows, cols), sparse.block(rows, cols))


@pytest.mark.parametrize("dense_max", [0, 4096])
def test_item_matrix_round_trips_through_a_bundle_directory(tmp_path: Path, dense_max: int) -> None:
    rng = np.random.default_rng(2)
    m = ItemMatrix(sp.random(50, 50, density=0.1, format="csr", dtype=np.float32, random_state=rng),
                   dense_max=dense_max)  # fmt: skip
    m.save(tmp_path, "itemknn")
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == (["itemknn.npy"] if dense_max else
                     ["itemknn.data.npy", "itemknn.indices.npy", "itemknn.indptr.npy"])  # fmt: skip
    back = ItemMatrix.load(tmp_path, "itemknn")
    np.testing.assert_array_equal(back.toarray(), m.toarray())
    if not dense_max:  # memory-mapped: read-only views of the files, not copies
        assert not back.csr.data.flags.writeable and not back.csr.indices.flags.writeable


def test_movielens_lists_are_the_dense_lists(movielens: Dataset) -> None:
    """On MovieLens (1,682 items, under every cap) the sparse path ranks exactly as the dense one."""
    data = train_data(movielens, movielens.interactions)
    knn = ItemKNNScorer(ItemKNNParams(neighbors=200)).fit(data)
    ref = _dense_top_k_rows(_dense_cosine(data.matrix(), 0.0), 200)
    # the same 200 neighbour values per item; which of several tied items at the cut is kept may
    # differ (float32 here, float64 there: 0.02% of entries, all at a tie)
    np.testing.assert_allclose(np.sort(knn.sim, axis=1), np.sort(ref, axis=1), rtol=1e-5, atol=1e-6)
    both = (knn.sim > 0) & (ref > 0)
    np.testing.assert_allclose(knn.sim[both], ref[both], rtol=1e-5)
    assert both.sum() >= 0.999 * (ref > 0).sum()
    ease = EASEScorer(EASEParams()).fit(data)
    assert ease.matrix.dense is not None and len(ease.covered) == data.n_items
    sparse = ItemMatrix(ease.matrix.csr, dense_max=0)
    for h in data.histories()[:100]:
        w = np.ones(len(h), dtype=np.float32)
        a, b = ease.matrix.weighted_rows(h, w), sparse.weighted_rows(h, w)
        assert top_k(a, 10, exclude=h).tolist() == top_k(b, 10, exclude=h).tolist()


def test_row_max_is_the_largest_off_diagonal_entry_on_both_paths() -> None:
    rng = np.random.default_rng(8)
    dense = (rng.standard_normal((30, 30)) * (rng.random((30, 30)) < 0.2)).astype(np.float32)
    dense[4, 4] = 9.0  # the diagonal never counts
    dense[5] = 0.0  # an empty row: 0
    rows = np.array([4, 5, 0, 4, 29])
    ref = np.array([max(0.0, float(np.delete(dense[r], r).max())) for r in rows], dtype=np.float32)
    for dense_max in (0, 4096):
        got = ItemMatrix(sp.csr_matrix(dense), dense_max=dense_max).row_max(rows)
        np.testing.assert_allclose(got, ref, rtol=1e-6)


def test_normalized_rows_are_each_rows_share_of_its_largest_entry_on_both_paths() -> None:
    rng = np.random.default_rng(8)
    dense = (rng.standard_normal((30, 30)) * (rng.random((30, 30)) < 0.3)).astype(np.float32)
    dense[4, 4] = 9.0  # the diagonal never counts
    dense[5] = 0.0  # an empty row stays 0
    dense[6] = -np.abs(dense[6])  # only negatives: 0
    top = np.array([max(0.0, float(np.delete(dense[r], r).max())) for r in range(30)])
    ref = np.maximum(dense, 0.0) / np.where(top > 0, top, 1.0)[:, None]
    np.fill_diagonal(ref, 0.0)
    for dense_max in (0, 4096):
        got = ItemMatrix(sp.csr_matrix(dense), dense_max=dense_max).normalized()
        assert (got.dense is not None) == (dense_max > 0)
        np.testing.assert_allclose(got.toarray(), ref, rtol=1e-6)
        assert got.toarray().max() == np.float32(1.0)


def test_top_k_per_row_in_blocks_equals_one_sort() -> None:
    rng = np.random.default_rng(9)
    m = sp.random(200, 300, density=0.2, format="csr", dtype=np.float32, random_state=rng)
    whole = top_k_per_row(m, 7)
    blocked = top_k_per_row(m, 7, budget=500)  # ~24 blocks of rows
    assert (whole != blocked).nnz == 0 and whole.nnz == 200 * 7
