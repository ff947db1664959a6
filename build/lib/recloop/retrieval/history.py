"""A user's current history as the models see it, and recency weights over it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["History", "recency_weights"]


@dataclass(frozen=True)
class History:
    """One user's positive interactions, oldest first, and what to exclude.

    ``items``/``timestamps``/``ratings``: shape (n,), int64/int64/float32
    (rating 0 where the event carried none). ``seen``: every item the user
    touched (including dislikes), never recommended again. ``known_user``:
    whether the user existed in the training data (demographics available).
    """

    items: np.ndarray
    timestamps: np.ndarray
    ratings: np.ndarray
    seen: np.ndarray
    user_id: str = ""
    type_counts: dict[str, int] = field(default_factory=dict)

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
    def last_timestamp(self) -> int:
        """Time of the latest event (0 if none)."""
        return int(self.timestamps[-1]) if len(self.timestamps) else 0


def recency_weights(n: int, decay: float) -> np.ndarray:
    """Weights decay**(n-1-j) for positions j = 0..n-1 (latest gets 1), float32."""
    return (decay ** np.arange(n - 1, -1, -1, dtype=np.float64)).astype(np.float32)
