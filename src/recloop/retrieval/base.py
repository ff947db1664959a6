"""The small base every candidate generator shares, and the training data it sees.

A scorer is fitted once on :class:`TrainData`, then scores any user from the
user's *current* history (item indices, oldest first), so the same object
serves offline evaluation, the P2 replay and live requests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from recloop.retrieval.itemmatrix import ItemMatrix

__all__ = ["ORIGIN_ATTR", "BaseScorer", "ItemItemScorer", "TableOrigin", "TrainData", "history_matrix",
           "pair_cap", "top_k"]

# the key of a pandas frame's ``attrs`` that names the table its rows were read from
ORIGIN_ATTR = "recloop.origin"


@dataclass(frozen=True)
class TableOrigin:
    """Where training rows can be read again: a Delta event table at a version.

    ``files`` are the parquet files of that version; ``item_ids`` is the catalog (item id per
    item index); ``user_keys`` pairs each int user id that training uses with the table's
    text id where the two differ (ids that are not canonical decimals; see ``merge_live_events``).
    A :class:`TrainData` built from such rows is, per user, a prefix of that user's
    interactions in canonical event order (every split of the protocols is).
    """

    path: str
    version: int
    files: tuple[str, ...]
    item_ids: tuple[int, ...]
    user_keys: tuple[tuple[int, str], ...] = ()

    def __str__(self) -> str:
        return f"delta:{self.path}@v{self.version}"


@dataclass(frozen=True)
class TrainData:
    """Training interactions in event order, with dense indices.

    ``users``/``items``/``ratings``/``timestamps`` have shape (n_events,);
    ``user_ids`` maps a dense user index to the raw user id.
    """

    user_ids: np.ndarray
    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    timestamps: np.ndarray
    n_items: int
    origin: TableOrigin | None = None

    @property
    def n_users(self) -> int:
        """Number of distinct users."""
        return len(self.user_ids)

    @classmethod
    def from_arrays(
        cls,
        user_ids: np.ndarray,
        items: np.ndarray,
        ratings: np.ndarray,
        timestamps: np.ndarray,
        n_items: int,
        origin: TableOrigin | None = None,
    ) -> TrainData:
        """Build from raw user ids per event (in event order) and item indices."""
        uniq, dense = np.unique(np.asarray(user_ids, dtype=np.int64), return_inverse=True)
        return cls(
            user_ids=uniq,
            users=dense.astype(np.int64),
            items=np.asarray(items, dtype=np.int64),
            ratings=np.asarray(ratings, dtype=np.float32),
            timestamps=np.asarray(timestamps, dtype=np.int64),
            n_items=n_items,
            origin=origin,
        )

    def matrix(self) -> sp.csr_matrix:
        """Binary user x item matrix, float32 CSR shape (n_users, n_items)."""
        m = sp.csr_matrix(
            (np.ones(len(self.items), dtype=np.float32), (self.users, self.items)),
            shape=(self.n_users, self.n_items),
        )
        m.data[:] = 1.0
        m.sum_duplicates()
        m.data[:] = 1.0
        return m

    def recent_matrix(self, max_per_user: int, max_pairs: int | None = None) -> sp.csr_matrix:
        """:meth:`matrix` over each user's latest ``max_per_user`` events only (float32 CSR).

        Item-item statistics (co-occurrence, the EASE Gram) cost sum over users of n_u^2;
        the cap bounds a heavy user's share to ``max_per_user^2``, so the cost grows with the
        number of users, not with the tail of their activity. ``max_pairs`` lowers the cap
        further, to the largest that keeps sum min(n_u, cap)^2 within it. A user under the
        cap keeps every event (MovieLens-100K: heaviest user 737, 3e7 pairs: nothing changes).
        """
        counts = np.bincount(self.users, minlength=self.n_users)
        if max_pairs is not None and len(counts):
            max_per_user = pair_cap(counts, max_per_user, max_pairs)
        if len(counts) == 0 or counts.max() <= max_per_user:
            return self.matrix()
        order = np.argsort(self.users, kind="stable")  # each user's events, in event order
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        from_end = counts[self.users[order]] - (np.arange(len(order)) - starts[self.users[order]])
        keep = np.sort(order[from_end <= max_per_user])
        m = sp.csr_matrix(
            (np.ones(len(keep), dtype=np.float32), (self.users[keep], self.items[keep])),
            shape=(self.n_users, self.n_items),
        )
        m.sum_duplicates()
        m.data[:] = 1.0
        return m

    def histories(self) -> list[np.ndarray]:
        """Per dense user, item indices in event order (oldest first)."""
        order = np.argsort(self.users, kind="stable")
        bounds = np.searchsorted(self.users[order], np.arange(self.n_users + 1))
        items = self.items[order]
        return [items[bounds[u] : bounds[u + 1]] for u in range(self.n_users)]

    def item_counts(self) -> np.ndarray:
        """Interactions per item, float64 shape (n_items,)."""
        return np.bincount(self.items, minlength=self.n_items).astype(np.float64)


def pair_cap(counts: np.ndarray, cap: int, max_pairs: int) -> int:
    """The largest c <= ``cap`` (at least 1) with sum over users of min(n_u, c)^2 <= ``max_pairs``."""
    n = np.asarray(counts, dtype=np.float64)
    lo, hi = 1, int(cap)
    if float((np.minimum(n, hi) ** 2).sum()) <= max_pairs:
        return hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if float((np.minimum(n, mid) ** 2).sum()) <= max_pairs:
            lo = mid
        else:
            hi = mid - 1
    return lo


def top_k(scores: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first; ties go to the lower index.

    ``exclude`` (int array) is never returned. Returns int64 shape (<= k,).
    """
    s = np.asarray(scores, dtype=np.float64).copy()
    if exclude is not None and len(exclude):
        s[exclude] = -np.inf
    valid = int(np.isfinite(s).sum())
    k = min(k, valid)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    if k < len(s):
        # take every item tied with the k-th score so the tie-break is exact
        kth = np.partition(s, len(s) - k)[len(s) - k]
        cand = np.flatnonzero(s >= kth)
    else:
        cand = np.flatnonzero(np.isfinite(s))
    order = np.lexsort((cand, -s[cand]))
    return cand[order[:k]].astype(np.int64)


class BaseScorer(ABC):
    """A candidate generator: fit once, then score users from their current history."""

    name: str = "base"

    @abstractmethod
    def fit(self, data: TrainData) -> BaseScorer:
        """Learn from training interactions; returns self."""

    @abstractmethod
    def score(self, history: np.ndarray) -> np.ndarray:
        """Scores for every item, float32 (n_items,), from item indices oldest first."""

    def score_many(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Scores for many users, float32 (n_users, n_items)."""
        return np.stack([self.score(h) for h in histories]).astype(np.float32)

    def observe(self, item: int, timestamp: int) -> None:  # noqa: B027 - optional hook
        """Hook for global signals updated by every live event (popularity)."""

    def params(self) -> dict[str, Any]:
        """Hyperparameters, for reports and the registry."""
        return {}


def history_matrix(histories: Sequence[np.ndarray], n_items: int) -> sp.csr_matrix:
    """Binary CSR (n_users, n_items) from item-index histories."""
    rows = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    cols = np.concatenate(histories) if histories else np.empty(0, dtype=np.int64)
    m = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(histories), n_items))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


class ItemItemScorer(BaseScorer):
    """A scorer whose user scores are the sum of item-item rows over the history.

    Subclasses fit ``matrix`` (:class:`~recloop.retrieval.itemmatrix.ItemMatrix`, float32
    n_items x n_items, sparse top-k); score(u) = sum of ``matrix[i]`` over the distinct
    items i in u's history.
    """

    matrix: ItemMatrix

    def score(self, history: np.ndarray) -> np.ndarray:
        if len(history) == 0:
            return np.zeros(self.matrix.n, dtype=np.float32)
        items = np.unique(history)
        return self.matrix.weighted_rows(items, np.ones(len(items), dtype=np.float32))

    def score_many(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        x = history_matrix(histories, self.matrix.n)
        if self.matrix.dense is not None:
            return np.asarray(x @ self.matrix.dense, dtype=np.float32)
        return np.asarray((x @ self.matrix.csr).toarray(), dtype=np.float32)
