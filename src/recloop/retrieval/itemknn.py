"""Item-kNN: cosine similarity with shrinkage, pruned to the top neighbours."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from recloop.config import ItemKNNParams
from recloop.retrieval.base import BaseScorer, TrainData

__all__ = ["ItemKNNScorer", "history_matrix"]


def history_matrix(histories: Sequence[np.ndarray], n_items: int) -> sp.csr_matrix:
    """Binary CSR (n_users, n_items) from item-index histories."""
    rows = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    cols = np.concatenate(histories) if histories else np.empty(0, dtype=np.int64)
    m = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(histories), n_items))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


class ItemKNNScorer(BaseScorer):
    """score(u, j) = sum over i in history of sim(i, j); sim = cosine with shrink."""

    name = "itemknn"

    def __init__(self, params: ItemKNNParams | None = None) -> None:
        self.p = params or ItemKNNParams()
        self.sim = np.zeros((0, 0), dtype=np.float32)

    def fit(self, data: TrainData) -> ItemKNNScorer:
        x = data.matrix()
        co = (x.T @ x).toarray().astype(np.float32)
        norms = np.sqrt(np.diag(co))
        sim = co / (np.outer(norms, norms) + self.p.shrink + 1e-9)
        np.fill_diagonal(sim, 0.0)
        k = min(self.p.neighbors, sim.shape[0] - 1)
        if k < sim.shape[0] - 1:
            # keep each row's k strongest neighbours
            cut = np.partition(sim, -k, axis=1)[:, -k][:, None]
            sim[sim < cut] = 0.0
        self.sim = sim.astype(np.float32)
        return self

    def score(self, history: np.ndarray) -> np.ndarray:
        if len(history) == 0:
            return np.zeros(self.sim.shape[0], dtype=np.float32)
        return np.asarray(self.sim[np.unique(history)].sum(axis=0), dtype=np.float32)

    def score_many(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        x = history_matrix(histories, self.sim.shape[0])
        return np.asarray(x @ self.sim, dtype=np.float32)

    def params(self) -> dict[str, Any]:
        return self.p.model_dump()
