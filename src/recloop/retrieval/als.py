"""Implicit ALS (the ``implicit`` library) with fold-in of a user's current history.

Training uses implicit's solver. Scoring folds the user in from scratch:
x_u = (Y^T Y + reg I + sum_i (c_i - 1) y_i y_i^T)^-1 sum_i c_i y_i with
c_i = alpha, i.e. the exact least-squares step implicit takes for a user, so
a user never seen at training time gets a proper factor from one event on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recloop.config import ALSParams
from recloop.retrieval.base import BaseScorer, TrainData
from recloop.runtime import training_thread_count

__all__ = ["ALSScorer", "FoldIn"]


@dataclass
class FoldIn:
    """One user's ALS normal equations A x = b: A^-1 and b (float64), items folded in, x (float32)."""

    a_inv: np.ndarray
    b: np.ndarray
    seen: set[int]
    factor: np.ndarray


class ALSScorer(BaseScorer):
    """Matrix factorisation for implicit feedback; score = item_factors @ x_u."""

    name = "als"

    def __init__(self, params: ALSParams | None = None) -> None:
        self.p = params or ALSParams()
        self.input = "in-memory training matrix"  # what the fit read (the spark engine may read a table)
        self.item_factors = np.zeros((0, 0), dtype=np.float32)
        self.user_factors = np.zeros((0, 0), dtype=np.float32)
        self._yty = np.zeros((0, 0), dtype=np.float64)
        self._a0_inv: np.ndarray = np.zeros((0, 0), dtype=np.float64)

    def fit(self, data: TrainData) -> ALSScorer:
        if self.p.engine == "spark":
            return self._fit_spark(data)
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        # implicit parallelises itself; a BLAS thread pool underneath only contends
        with threadpool_limits(limits=1, user_api="blas"):
            n = training_thread_count()
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

    def _fit_spark(self, data: TrainData) -> ALSScorer:
        """The item factors from Spark ML's implicit ALS (users are folded in at serving time)."""
        from recloop.retrieval.als_spark import spark_item_factors, spark_item_factors_from_table

        p = self.p
        if data.origin is not None:  # rows of a Delta table: Spark reads its parquet files itself
            self.input = f"{data.origin} (parquet, read by Spark)"
            self.set_item_factors(spark_item_factors_from_table(
                data, factors=p.factors, reg_param=p.spark_reg_param, alpha=p.alpha,
                iterations=p.iterations, seed=p.seed, master=p.spark_master))  # fmt: skip
            return self
        self.input = "in-memory training matrix"
        coo = data.matrix().tocoo()
        self.set_item_factors(spark_item_factors(
            coo.row, coo.col, coo.data, data.n_items, factors=p.factors, reg_param=p.spark_reg_param,
            alpha=p.alpha, iterations=p.iterations, seed=p.seed, master=p.spark_master))  # fmt: skip
        return self

    def set_item_factors(self, item_factors: np.ndarray) -> None:
        """Install item factors (n_items, factors) and precompute Y^T Y."""
        self.item_factors = item_factors.astype(np.float32)
        y = self.item_factors.astype(np.float64)
        self._yty = y.T @ y
        self._a0_inv = np.linalg.inv(self._yty + self.p.regularization * np.eye(y.shape[1]))

    def fold_in_start(self) -> FoldIn:
        """The normal equations of a user with no history yet (A^-1 kept, b = 0)."""
        f = self.item_factors.shape[1]
        return FoldIn(self._a0_inv.copy(), np.zeros(f), set(), np.zeros(f, dtype=np.float32))

    def fold_in_add(self, state: FoldIn, items: np.ndarray, weights: np.ndarray | None = None) -> FoldIn:
        """Add items the user interacted with; mutates and returns ``state``.

        Each distinct item adds (c - 1) w y y^T to A and c w y to b, ``w`` its feedback
        weight float (n,) aligned with ``items`` (None: 1 each). A^-1 is kept and
        updated by Sherman-Morrison, O(f^2) per item with no solve, so a user's
        factor x = A^-1 b is re-solved on every event without touching the rest
        of the history. Many new items at once (a history) use one solve instead.
        """
        new = [i for i in dict.fromkeys(np.asarray(items).tolist()) if i not in state.seen]
        if not new:
            return state
        c = self.p.alpha
        y = self.item_factors[new].astype(np.float64)
        w = None
        if weights is not None and np.any(np.asarray(weights) != 1.0):  # feedback confidence per item
            given = np.asarray(weights, np.float64).tolist()
            w_of = dict(zip(np.asarray(items).tolist(), given, strict=True))
            w = np.asarray([w_of[i] for i in new], dtype=np.float64)
        state.b += c * (y.sum(axis=0) if w is None else w @ y)
        state.seen.update(new)
        if len(new) > 8:
            gram = y.T @ y if w is None else (y * w[:, None]).T @ y
            state.a_inv = np.linalg.inv(np.linalg.inv(state.a_inv) + (c - 1.0) * gram)
        else:
            for row, wr in zip(y, [1.0] * len(new) if w is None else w.tolist(), strict=True):
                u = state.a_inv @ row
                cw = (c - 1.0) * wr
                state.a_inv -= (cw / (1.0 + cw * float(row @ u))) * np.outer(u, u)
        state.factor = (state.a_inv @ state.b).astype(np.float32)
        return state

    def fold_in(self, history: np.ndarray) -> np.ndarray:
        """The user's factor from item indices, float32 (factors,); zeros if empty."""
        return self.fold_in_add(self.fold_in_start(), history).factor

    def score(self, history: np.ndarray) -> np.ndarray:
        return np.asarray(self.item_factors @ self.fold_in(history), dtype=np.float32)

    def score_many(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        factors = np.stack([self.fold_in(h) for h in histories])
        return np.asarray(factors @ self.item_factors.T, dtype=np.float32)

    def params(self) -> dict[str, Any]:
        return self.p.model_dump()
