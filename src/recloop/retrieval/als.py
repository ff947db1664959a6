"""Implicit ALS (the ``implicit`` library) with fold-in of a user's current history.

Training uses implicit's solver. Scoring folds the user in from scratch:
x_u = (Y^T Y + reg I + sum_i (c_i - 1) y_i y_i^T)^-1 sum_i c_i y_i with
c_i = alpha, i.e. the exact least-squares step implicit takes for a user, so
a user never seen at training time gets a proper factor from one event on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from recloop.config import ALSParams
from recloop.retrieval.base import BaseScorer, TrainData
from recloop.runtime import cpu_count

__all__ = ["ALSScorer"]


class ALSScorer(BaseScorer):
    """Matrix factorisation for implicit feedback; score = item_factors @ x_u."""

    name = "als"

    def __init__(self, params: ALSParams | None = None) -> None:
        self.p = params or ALSParams()
        self.item_factors = np.zeros((0, 0), dtype=np.float32)
        self.user_factors = np.zeros((0, 0), dtype=np.float32)
        self._yty = np.zeros((0, 0), dtype=np.float64)

    def fit(self, data: TrainData) -> ALSScorer:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        # implicit parallelises itself; a BLAS thread pool underneath only contends
        with threadpool_limits(limits=1, user_api="blas"):
            n = cpu_count()
            model = AlternatingLeastSquares(
                factors=self.p.factors,
                regularization=self.p.regularization,
                alpha=self.p.alpha,
                iterations=self.p.iterations,
                random_state=self.p.seed,
                num_threads=n,
            )
            model.fit(data.matrix(), show_progress=False)
        self.user_factors = np.asarray(model.user_factors, dtype=np.float32)
        self.set_item_factors(np.asarray(model.item_factors, dtype=np.float32))
        return self

    def set_item_factors(self, item_factors: np.ndarray) -> None:
        """Install item factors (n_items, factors) and precompute Y^T Y."""
        self.item_factors = item_factors.astype(np.float32)
        y = self.item_factors.astype(np.float64)
        self._yty = y.T @ y

    def fold_in(self, history: np.ndarray) -> np.ndarray:
        """The user's factor from item indices, float32 (factors,); zeros if empty."""
        f = self.item_factors.shape[1]
        if len(history) == 0:
            return np.zeros(f, dtype=np.float32)
        items = np.unique(history)
        yu = self.item_factors[items].astype(np.float64)
        c = self.p.alpha
        a = self._yty + self.p.regularization * np.eye(f) + (c - 1.0) * (yu.T @ yu)
        b = c * yu.sum(axis=0)
        return np.linalg.solve(a, b).astype(np.float32)

    def score(self, history: np.ndarray) -> np.ndarray:
        return np.asarray(self.item_factors @ self.fold_in(history), dtype=np.float32)

    def score_many(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        factors = np.stack([self.fold_in(h) for h in histories])
        return np.asarray(factors @ self.item_factors.T, dtype=np.float32)

    def params(self) -> dict[str, Any]:
        return self.p.model_dump()
