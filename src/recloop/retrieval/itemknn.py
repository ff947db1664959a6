"""Item-kNN: cosine similarity with shrinkage, the top neighbours per item, sparse."""

from __future__ import annotations

from typing import Any

import numpy as np

from recloop.config import ItemKNNParams
from recloop.retrieval.base import ItemItemScorer, TrainData
from recloop.retrieval.itemmatrix import ItemMatrix, cosine_top_k

__all__ = ["ItemKNNScorer"]


class ItemKNNScorer(ItemItemScorer):
    """score(u, j) = sum over i in history of sim(i, j); sim = cosine with shrink.

    Memory: ``neighbors`` entries per item (:class:`ItemMatrix`, 8 bytes each).
    """

    name = "itemknn"

    def __init__(self, params: ItemKNNParams | None = None) -> None:
        self.p = params or ItemKNNParams()
        self.matrix = ItemMatrix.empty(0)

    def fit(self, data: TrainData) -> ItemKNNScorer:
        k = max(1, min(self.p.neighbors, data.n_items - 1))
        x = data.recent_matrix(self.p.max_user_items, self.p.max_pairs)
        self.matrix = ItemMatrix(cosine_top_k(x, k, self.p.shrink))
        return self

    def params(self) -> dict[str, Any]:
        return self.p.model_dump()

    @property
    def sim(self) -> np.ndarray:
        """The fitted item-item matrix as a dense float32 (n_items, n_items) array (small catalogs)."""
        return self.matrix.toarray()
