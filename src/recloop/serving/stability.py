"""List stability: a new event adapts the list without throwing away what still fits.

Each serving process remembers, per user, the first ``SHOWN_KEEP`` items of the last
list it showed (a ByteLRU of ``shown_lists`` users, ~0.3 KB each, at most
``shown_lists`` x :data:`SHOWN_LIST_BYTES`). On the user's
next request, every item of that list still ranked within the top ``depth`` gets a
head start of ``strength`` x the score spread of the top ``depth`` (scores[0] -
scores[depth-1]), scaled down by the item's similarity to the negatives the user gave
since that list (an item close to a new dislike or 1-star rating keeps no head start:
the negative should move it; a refresh without news keeps the list's order). Items
that fell below ``depth`` are gone: they no longer fit. Then the top ``depth`` is
re-sorted (stable).

The strength was chosen on a validation replay inside the P2 bootstrap
(``benchmarks/stability_validation.py``, docs/FEEDBACK.md): it cuts the items one
event replaces while NDCG@10 stays level. ``strength = 0`` (or ``shown_lists = 0``)
turns it off.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from recloop.monitoring.bounded import ByteLRU, array_bytes
from recloop.retrieval.candidates import CandidateSources
from recloop.retrieval.history import History
from recloop.serving.demotion import negative_similarity

__all__ = ["SHOWN_KEEP", "SHOWN_LIST_BYTES", "STABILITY_DEPTH", "STABILITY_STRENGTH", "Stability"]

STABILITY_STRENGTH = 0.1
STABILITY_DEPTH = 50
SHOWN_KEEP = 10  # the items a person sees first: a client asking for 100 saw the first 10
SHOWN_LIST_BYTES = 500  # nominal: one remembered list of 10 items, a 64-char id, tuple and slot


class Stability:
    """The last list shown to each recent user, and the head start it gives on the next list."""

    def __init__(self, max_users: int = 100_000, strength: float = STABILITY_STRENGTH,
                 depth: int = STABILITY_DEPTH) -> None:  # fmt: skip
        self.max_users, self.strength, self.depth = max_users, strength, depth
        self.shown: ByteLRU[str, tuple[np.ndarray, int]] = ByteLRU(  # items, negatives then
            "shown_lists", max_users * SHOWN_LIST_BYTES, max_users)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """False when switched off by settings (no memory is kept)."""
        return self.max_users > 0 and self.strength > 0

    def __len__(self) -> int:
        return len(self.shown)

    def remember(self, user_id: str, items: np.ndarray, history: History | None = None) -> None:
        """Keep the first :data:`SHOWN_KEEP` of ``items`` (item indices, shown order) as the last list.

        ``history``: the one the list was ranked from; its negatives count, so that only
        negatives that arrive later take the head start away (a refresh keeps its order).
        """
        if not self.enabled:
            return
        shown = np.asarray(items[:SHOWN_KEEP], dtype=np.int32).copy()
        n_neg = 0 if history is None else len(history.negatives)
        with self._lock:
            self.shown.put(user_id, (shown, n_neg), array_bytes(shown) + 56)

    def last(self, user_id: str) -> np.ndarray | None:
        """The last list shown to the user by this process, or None."""
        with self._lock:
            got = self.shown.get(user_id)
        return None if got is None else got[0]

    def adjust(
        self, user_id: str, items: np.ndarray, scores: np.ndarray, history: History,
        sources: CandidateSources,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """(items, scores, order) with the head start applied; ``order`` indexes the inputs.

        ``items`` int64 (n,) ranked, ``scores`` float64 (n,) descending. Only the top
        ``depth`` positions move; the rest keep their order.
        """
        with self._lock:
            got = self.shown.get(user_id) if self.enabled else None
        if got is None or len(items) < 2:
            return items, scores, np.arange(len(items))
        shown, n_neg = got
        d = min(self.depth, len(items))
        top_items, top_scores = items[:d], scores[:d].astype(np.float64)
        kept = np.isin(top_items, shown)
        if not kept.any():
            return items, scores, np.arange(len(items))
        spread = float(top_scores[0] - top_scores[-1]) or 1.0
        bonus = self.strength * spread * kept
        if len(history.negatives) > n_neg:  # negatives since the list was shown take it away
            later = replace(history, negatives=history.negatives[n_neg:],
                            negative_weights=history.negative_item_weights[n_neg:])  # fmt: skip
            bonus[kept] *= 1.0 - negative_similarity(top_items[kept], later, sources)
        head = np.argsort(-(top_scores + bonus), kind="stable")
        order = np.concatenate([head, np.arange(d, len(items))])
        new = scores.astype(np.float64).copy()
        new[:d] = top_scores + bonus
        return items[order], new[order], order
