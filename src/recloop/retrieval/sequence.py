"""A sequence-aware source: what users interact with next after given items.

T[i, j] counts how often j followed i within ``window`` steps of the same
user's sequence (weighted 1/gap), normalised per row by sqrt of the row
total times sqrt of j's total so that blockbusters do not dominate, then
pruned to the ``neighbors`` largest per row (sparse, O(n_items x neighbors)).
A user's scores are the recency-weighted sum of T over their last items.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from recloop.retrieval.base import BaseScorer, TrainData
from recloop.retrieval.history import recency_weights
from recloop.retrieval.itemmatrix import ItemMatrix, top_k_per_row

__all__ = ["TransitionScorer", "transition_counts"]


def transition_counts(data: TrainData, window: int) -> sp.csr_matrix:
    """Sparse float32 (n_items, n_items): sum of 1/gap over pairs (i then j) within ``window`` steps."""
    n = data.n_items
    order = np.argsort(data.users, kind="stable")  # per user, event order kept
    users, items = data.users[order], data.items[order].astype(np.int32)
    if n > _ONE_PASS_FROM:
        return _counts_one_pass(users, items, n, window)
    m = sp.csr_matrix((n, n), dtype=np.float32)
    for gap in range(1, window + 1):
        same = users[:-gap] == users[gap:] if len(users) > gap else np.zeros(0, dtype=bool)
        if not same.any():
            break
        vals = np.full(int(same.sum()), 1.0 / gap, dtype=np.float32)
        m = m + sp.csr_matrix((vals, (items[:-gap][same], items[gap:][same])), shape=(n, n))
    m = sp.csr_matrix(m, dtype=np.float32)
    m.setdiag(0.0)
    m.eliminate_zeros()
    return m


_ONE_PASS_FROM = 4096  # smaller catalogs keep the gap-by-gap float32 sums (the MovieLens figures)


def _counts_one_pass(users: np.ndarray, items: np.ndarray, n: int, window: int) -> sp.csr_matrix:
    """:func:`transition_counts` from one COO of every gap (summed in float64 once, no diagonal)."""
    rows, cols, vals = [], [], []
    for gap in range(1, window + 1):
        if len(users) <= gap:
            break
        keep = (users[:-gap] == users[gap:]) & (items[:-gap] != items[gap:])
        rows.append(items[:-gap][keep])
        cols.append(items[gap:][keep])
        vals.append(np.full(int(keep.sum()), 1.0 / gap))
    if not rows:
        return sp.csr_matrix((n, n), dtype=np.float32)
    m = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    m.sum_duplicates()
    return sp.csr_matrix(m, dtype=np.float32)


class TransitionScorer(BaseScorer):
    """Next-item transitions from users' sequences."""

    name = "sequence"

    def __init__(self, window: int = 5, last_n: int = 10, decay: float = 0.7, neighbors: int = 200) -> None:
        self.window, self.last_n, self.decay, self.neighbors = window, last_n, decay, neighbors
        self.trans = ItemMatrix.empty(0)

    def fit(self, data: TrainData) -> TransitionScorer:
        m = transition_counts(data, self.window)
        out_tot = np.sqrt(np.asarray(m.sum(axis=1)).ravel()) + 1.0
        in_tot = np.sqrt(np.asarray(m.sum(axis=0)).ravel()) + 1.0
        rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        m.data /= (out_tot[rows] * in_tot[m.indices]).astype(np.float32)
        self.trans = ItemMatrix(top_k_per_row(m, self.neighbors))
        return self

    def score(self, history: np.ndarray) -> np.ndarray:
        if len(history) == 0:
            return np.zeros(self.trans.n, dtype=np.float32)
        last = history[-self.last_n :]
        return self.trans.weighted_rows(last, recency_weights(len(last), self.decay))

    def params(self) -> dict[str, Any]:
        return {"window": self.window, "last_n": self.last_n, "decay": self.decay,
                "neighbors": self.neighbors}  # fmt: skip
