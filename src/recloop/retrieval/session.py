"""A scorer wrapped with per-user histories: the online/offline model interface.

``ScorerSession`` answers "top-k for this user, excluding what they have seen"
from their current history and ingests new events, so one object serves the
P1 batch evaluation, the P2 replay and live requests for a single scorer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recloop.retrieval.base import BaseScorer, TrainData, top_k

__all__ = ["ScorerSession"]


class ScorerSession:
    """Keeps each user's history (oldest first) next to one fitted scorer."""

    def __init__(self, scorer: BaseScorer, train: TrainData) -> None:
        self.scorer = scorer
        self.histories: dict[int, list[int]] = {
            int(uid): h.tolist() for uid, h in zip(train.user_ids, train.histories(), strict=True)
        }
        self._seen: dict[int, set[int]] = {u: set(h) for u, h in self.histories.items()}

    def history(self, user_id: int) -> np.ndarray:
        """The user's item indices, oldest first, int64."""
        return np.asarray(self.histories.get(user_id, []), dtype=np.int64)

    def recommend(self, user_id: int, k: int) -> np.ndarray:
        """Top-k item indices for the user, excluding every item already seen."""
        hist = self.history(user_id)
        return top_k(self.scorer.score(hist), k, exclude=hist)

    def recommend_many(self, user_ids: Sequence[int], k: int, chunk: int = 512) -> list[np.ndarray]:
        """Top-k for many users (offline evaluation), scored ``chunk`` users at a time.

        The chunks bound the score matrix at ``chunk`` x n_items floats (200k items: 400 MB).
        """
        out: list[np.ndarray] = []
        for a in range(0, len(user_ids), chunk):
            hists = [self.history(u) for u in user_ids[a : a + chunk]]
            scores = self.scorer.score_many(hists)
            out.extend(top_k(s, k, exclude=h) for s, h in zip(scores, hists, strict=True))
        return out

    def ingest(self, user_id: int, item: int, rating: float, timestamp: int) -> None:
        """Apply one event: append to the history and update global signals."""
        self.histories.setdefault(user_id, []).append(item)
        self._seen.setdefault(user_id, set()).add(item)
        self.scorer.observe(item, timestamp)
