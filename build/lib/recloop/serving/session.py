"""An in-process session over a two-stage model: histories + item stats.

Implements the protocol interface (recommend, recommend_many, ingest) so the
evaluation protocols can score the two-stage model offline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recloop.ranking.model import TwoStageModel
from recloop.retrieval.history import History
from recloop.retrieval.trending import ItemStats

__all__ = ["ModelSession"]


class ModelSession:
    """Keeps per-user histories (str user ids) and live item stats for one model."""

    def __init__(
        self,
        model: TwoStageModel,
        stats: ItemStats,
        histories: dict[str, tuple[list[int], list[int], list[float]]],
    ) -> None:
        self.model, self.stats, self.histories = model, stats, histories

    def history(self, user_id: str) -> History:
        """The user's current history."""
        h = self.histories.get(user_id)
        if h is None:
            return History.from_items([], user_id=user_id)
        return History.from_items(h[0], h[1], h[2], user_id=user_id)

    def recommend(self, user_id: int | str, k: int) -> np.ndarray:
        """Top-k item indices at the time of the user's latest event (or now)."""
        h = self.history(str(user_id))
        at = self._now
        return self.model.rank(h, self.stats, at, k).items

    @property
    def _now(self) -> float:
        return self.stats.now

    def recommend_many(self, user_ids: Sequence[int | str], k: int) -> list[np.ndarray]:
        """Top-k for each user, each at the time of that user's latest event."""
        out = []
        for u in user_ids:
            h = self.history(str(u))
            at = float(h.last_timestamp) or self.stats.now
            out.append(self.model.rank(h, self.stats, at, k).items)
        return out

    def ingest(self, user_id: int | str, item: int, rating: float, timestamp: int) -> None:
        """Apply one event to the history and item stats."""
        rec = self.histories.setdefault(str(user_id), ([], [], []))
        rec[0].append(int(item))
        rec[1].append(int(timestamp))
        rec[2].append(float(rating))
        self.stats.add(int(item), float(timestamp), float(rating))
        self.stats.now = max(self.stats.now, float(timestamp))
