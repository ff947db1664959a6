"""Most-popular: items ranked by how many interactions they have had so far."""

from __future__ import annotations

from typing import Any

import numpy as np

from recloop.retrieval.base import BaseScorer, TrainData

__all__ = ["PopularScorer"]


class PopularScorer(BaseScorer):
    """Interaction counts; live events add to them (the same for every user)."""

    name = "popular"

    def __init__(self) -> None:
        self.counts = np.zeros(0, dtype=np.float64)

    def fit(self, data: TrainData) -> PopularScorer:
        self.counts = data.item_counts()
        return self

    def score(self, history: np.ndarray) -> np.ndarray:
        return self.counts.astype(np.float32)

    def score_many(self, histories: Any) -> np.ndarray:
        return np.tile(self.counts.astype(np.float32), (len(histories), 1))

    def observe(self, item: int, timestamp: int) -> None:
        self.counts[item] += 1.0
