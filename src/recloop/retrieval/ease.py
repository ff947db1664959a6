"""EASE (Steck 2019): a closed-form item-item linear autoencoder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from recloop.config import EASEParams
from recloop.retrieval.base import BaseScorer, TrainData
from recloop.retrieval.itemknn import history_matrix
from recloop.runtime import training_threads

__all__ = ["EASEScorer"]


class EASEScorer(BaseScorer):
    """B = I - P / diag(P) with P = (X^T X + l2 I)^-1; score = history @ B."""

    name = "ease"

    def __init__(self, params: EASEParams | None = None) -> None:
        self.p = params or EASEParams()
        self.weights = np.zeros((0, 0), dtype=np.float32)

    def fit(self, data: TrainData) -> EASEScorer:
        x = data.matrix()
        gram = (x.T @ x).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.p.l2
        with training_threads():
            inv = np.linalg.inv(gram)
        b = -inv / np.diag(inv)[None, :]
        np.fill_diagonal(b, 0.0)
        self.weights = b.astype(np.float32)
        return self

    def score(self, history: np.ndarray) -> np.ndarray:
        if len(history) == 0:
            return np.zeros(self.weights.shape[0], dtype=np.float32)
        return np.asarray(self.weights[np.unique(history)].sum(axis=0), dtype=np.float32)

    def score_many(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        x = history_matrix(histories, self.weights.shape[0])
        return np.asarray(x @ self.weights, dtype=np.float32)

    def params(self) -> dict[str, Any]:
        return self.p.model_dump()
