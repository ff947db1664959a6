"""EASE (Steck 2019): a closed-form item-item linear autoencoder, over the most active items.

The Gram matrix of the ``max_items`` most active items is inverted dense: up to
``sparse_above`` items in float64 with ``numpy.linalg.inv`` (exactly as before, the
weights kept whole); above, in float32 and in place by Cholesky (LAPACK ``spotrf`` +
``spotri``: half the flops of an LU inverse, one m x m array, 4 m^2 bytes: 400 MB at
10,000 items), the weights then pruned to the top ``neighbors`` per row. Items
outside the cap have no EASE row or column (score 0; the other sources score them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from recloop.config import EASEParams
from recloop.retrieval.base import ItemItemScorer, TrainData
from recloop.retrieval.itemmatrix import ItemMatrix, dense_top_k
from recloop.runtime import training_threads

__all__ = ["EASEScorer", "covered_items"]

_ROW_BLOCK = 1024


def covered_items(counts: np.ndarray, cap: int) -> np.ndarray:
    """The ``cap`` items with the most interactions (ties to the lower index), sorted, int64."""
    if cap >= len(counts):
        return np.arange(len(counts), dtype=np.int64)
    return np.sort(np.argsort(-counts, kind="stable")[:cap]).astype(np.int64)


def _weights(x: sp.csr_matrix, l2: float, dtype: type[np.floating[Any]]) -> np.ndarray:
    """B = I - P / diag(P) with P = (X^T X + l2 I)^-1 (diagonal 0), dense (m, m) of ``dtype``."""
    gram = (x.T @ x).toarray().astype(dtype)
    gram[np.diag_indices_from(gram)] += l2
    with training_threads():
        inv = np.linalg.inv(gram)
    del gram
    inv /= -np.diag(inv)[None, :]
    np.fill_diagonal(inv, 0.0)
    return inv


def _weights_inplace(x: sp.csr_matrix, l2: float) -> np.ndarray:
    """:func:`_weights` in float32 with one (m, m) array: Cholesky inverse in place, then B in place."""
    gram = sp.csr_matrix(x.T @ x, dtype=np.float32).toarray(order="F")  # symmetric: F order is free
    gram[np.diag_indices_from(gram)] += l2
    with training_threads():
        chol, info = lapack.spotrf(gram, lower=0, overwrite_a=1, clean=0)
        if info != 0:
            raise ValueError(f"EASE Gram matrix is not positive definite (spotrf info {info}); raise l2")
        inv, info = lapack.spotri(chol, lower=0, overwrite_c=1)
    m = len(inv)
    for a in range(0, m, _ROW_BLOCK):  # spotri fills the upper triangle: mirror it
        b = min(a + _ROW_BLOCK, m)
        inv[a:b, :a] = inv[:a, a:b].T
        blk = inv[a:b, a:b]
        inv[a:b, a:b] = np.triu(blk) + np.triu(blk, 1).T
    inv /= -np.diag(inv)[None, :]
    np.fill_diagonal(inv, 0.0)
    return np.asarray(inv)


def _embed(b: sp.csr_matrix, sel: np.ndarray, n: int) -> sp.csr_matrix:
    """The (m, m) matrix over items ``sel`` as an (n, n) one over the whole catalog."""
    coo = b.tocoo()
    return sp.csr_matrix((coo.data, (sel[coo.row], sel[coo.col])), shape=(n, n), dtype=np.float32)


class EASEScorer(ItemItemScorer):
    """score = history @ B over the covered items."""

    name = "ease"

    def __init__(self, params: EASEParams | None = None) -> None:
        self.p = params or EASEParams()
        self.matrix = ItemMatrix.empty(0)
        self.covered = np.zeros(0, dtype=np.int64)

    def fit(self, data: TrainData) -> EASEScorer:
        n = data.n_items
        sel = covered_items(data.item_counts(), self.p.max_items)
        x = data.recent_matrix(self.p.max_user_items, self.p.max_pairs)[:, sel]
        self.covered = sel
        if len(sel) <= self.p.sparse_above:
            b = _weights(x, self.p.l2, np.float64).astype(np.float32)
            if len(sel) == n:
                self.matrix = ItemMatrix.from_dense(b)
            else:
                self.matrix = ItemMatrix(_embed(sp.csr_matrix(b), sel, n))
            return self
        b = _weights_inplace(x, self.p.l2)
        parts = [dense_top_k(b[a : a + _ROW_BLOCK], self.p.neighbors) for a in range(0, len(sel), _ROW_BLOCK)]
        del b
        self.matrix = ItemMatrix(_embed(sp.vstack(parts, format="csr"), sel, n))
        return self

    def params(self) -> dict[str, Any]:
        return self.p.model_dump()

    @property
    def weights(self) -> np.ndarray:
        """The fitted item-item matrix as a dense float32 (n_items, n_items) array (small catalogs)."""
        return self.matrix.toarray()
