"""A user's current history as the models see it, and recency weights over it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["History", "recency_weights"]

_NO_WEIGHTS = np.zeros(0, dtype=np.float32)
_NO_ITEMS = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class History:
    """One user's positive interactions, oldest first, and what to exclude.

    ``items``/``timestamps``/``ratings``: shape (n,), int64/int64/float32
    (rating 0 where the event carried none). ``seen``: every item the user
    touched (including negatives), never recommended again.

    Feedback (recloop.events.feedback, docs/FEEDBACK.md): ``weights`` float32 (n,)
    the weight of each history item (empty: all 1, the implicit semantics);
    ``negatives`` int64 (m,) the items of negative events (dislikes, low ratings
    under the explicit semantics), not in ``items``; ``negative_weights``
    float32 (m,) their magnitudes (empty: all 1).
    """

    items: np.ndarray
    timestamps: np.ndarray
    ratings: np.ndarray
    seen: np.ndarray
    user_id: str = ""
    type_counts: dict[str, int] = field(default_factory=dict)
    weights: np.ndarray = field(default_factory=lambda: _NO_WEIGHTS)
    negatives: np.ndarray = field(default_factory=lambda: _NO_ITEMS)
    negative_weights: np.ndarray = field(default_factory=lambda: _NO_WEIGHTS)

    @classmethod
    def from_items(
        cls,
        items: np.ndarray | list[int],
        timestamps: np.ndarray | list[int] | None = None,
        ratings: np.ndarray | list[float] | None = None,
        user_id: str = "",
    ) -> History:
        """Build from positive items only (seen = items)."""
        it = np.asarray(items, dtype=np.int64)
        ts = np.zeros(len(it), np.int64) if timestamps is None else np.asarray(timestamps)
        rt = np.zeros(len(it), np.float32) if ratings is None else np.asarray(ratings)
        return cls(it, ts.astype(np.int64), rt.astype(np.float32), it, user_id)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def item_weights(self) -> np.ndarray:
        """float32 (n,): the feedback weight of each history item (1 where none was given)."""
        if len(self.weights) == len(self.items):
            return self.weights
        return np.ones(len(self.items), dtype=np.float32)

    @property
    def negative_item_weights(self) -> np.ndarray:
        """float32 (m,): the magnitude of each negative (1 where none was given)."""
        if len(self.negative_weights) == len(self.negatives):
            return self.negative_weights
        return np.ones(len(self.negatives), dtype=np.float32)

    def liked(self, min_weight: float) -> np.ndarray:
        """The history items of weight >= ``min_weight`` (the ones a reason may cite), oldest first."""
        return self.items[self.item_weights >= min_weight]

    @property
    def last_timestamp(self) -> int:
        """Time of the latest event (0 if none)."""
        return int(self.timestamps[-1]) if len(self.timestamps) else 0


def recency_weights(n: int, decay: float) -> np.ndarray:
    """Weights decay**(n-1-j) for positions j = 0..n-1 (latest gets 1), float32."""
    return (decay ** np.arange(n - 1, -1, -1, dtype=np.float64)).astype(np.float32)
