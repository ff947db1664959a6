"""EASE (Steck 2019): a closed-form item-item linear autoencoder."""

from __future__ import annotations

from typing import Any

import numpy as np

from recloop.config import EASEParams
from recloop.retrieval.base import ItemItemScorer, TrainData
from recloop.runtime import training_threads

__all__ = ["EASEScorer"]


class EASEScorer(ItemItemScorer):
    """B = I - P / diag(P) with P = (X^T X + l2 I)^-1; score = history @ B."""

    name = "ease"

    def __init__(self, params: EASEParams | None = None) -> None:
        self.p = params or EASEParams()
        self.matrix = np.zeros((0, 0), dtype=np.float32)

    def fit(self, data: TrainData) -> EASEScorer:
        x = data.matrix()
        gram = (x.T @ x).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.p.l2
        with training_threads():
            inv = np.linalg.inv(gram)
        b = -inv / np.diag(inv)[None, :]
        np.fill_diagonal(b, 0.0)
        self.matrix = b.astype(np.float32)
        return self

    def params(self) -> dict[str, Any]:
        return self.p.model_dump()

    @property
    def weights(self) -> np.ndarray:
        """The fitted item-item matrix, float32 (n_items, n_items)."""
        return self.matrix
