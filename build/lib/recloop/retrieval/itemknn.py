"""Item-kNN: cosine similarity with shrinkage, pruned to the top neighbours."""

from __future__ import annotations

from typing import Any

import numpy as np

from recloop.config import ItemKNNParams
from recloop.retrieval.base import ItemItemScorer, TrainData

__all__ = ["ItemKNNScorer"]


class ItemKNNScorer(ItemItemScorer):
    """score(u, j) = sum over i in history of sim(i, j); sim = cosine with shrink."""

    name = "itemknn"

    def __init__(self, params: ItemKNNParams | None = None) -> None:
        self.p = params or ItemKNNParams()
        self.matrix = np.zeros((0, 0), dtype=np.float32)

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
        self.matrix = sim.astype(np.float32)
        return self

    def params(self) -> dict[str, Any]:
        return self.p.model_dump()

    @property
    def sim(self) -> np.ndarray:
        """The fitted item-item matrix, float32 (n_items, n_items)."""
        return self.matrix
