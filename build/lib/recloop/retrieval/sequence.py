"""A sequence-aware source: what users interact with next after given items.

T[i, j] counts how often j followed i within ``window`` steps of the same
user's sequence (weighted 1/gap), normalised per row by sqrt of the row
total times sqrt of j's total so that blockbusters do not dominate.
A user's scores are the recency-weighted sum of T over their last items.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from recloop.retrieval.base import BaseScorer, TrainData
from recloop.retrieval.history import recency_weights

__all__ = ["TransitionScorer"]


class TransitionScorer(BaseScorer):
    """Next-item transitions from users' sequences."""

    name = "sequence"

    def __init__(self, window: int = 5, last_n: int = 10, decay: float = 0.7) -> None:
        self.window, self.last_n, self.decay = window, last_n, decay
        self.trans = np.zeros((0, 0), dtype=np.float32)

    def fit(self, data: TrainData) -> TransitionScorer:
        n = data.n_items
        rows, cols, vals = [], [], []
        for hist in data.histories():
            for gap in range(1, self.window + 1):
                if len(hist) <= gap:
                    break
                rows.append(hist[:-gap])
                cols.append(hist[gap:])
                vals.append(np.full(len(hist) - gap, 1.0 / gap, dtype=np.float32))
        if rows:
            m = sp.csr_matrix(
                (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
            ).toarray()
        else:
            m = np.zeros((n, n), dtype=np.float32)
        np.fill_diagonal(m, 0.0)
        out_tot = np.sqrt(m.sum(axis=1, keepdims=True)) + 1.0
        in_tot = np.sqrt(m.sum(axis=0, keepdims=True)) + 1.0
        self.trans = (m / out_tot / in_tot).astype(np.float32)
        return self

    def score(self, history: np.ndarray) -> np.ndarray:
        if len(history) == 0:
            return np.zeros(self.trans.shape[0], dtype=np.float32)
        last = history[-self.last_n :]
        w = recency_weights(len(last), self.decay)
        return np.asarray(w @ self.trans[last], dtype=np.float32)

    def params(self) -> dict[str, Any]:
        return {"window": self.window, "last_n": self.last_n, "decay": self.decay}
