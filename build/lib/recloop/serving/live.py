"""The live state every served model reads: catalog, base histories, the store, item statistics.

One object per process, shared by every model it serves (the champion and
experiment variants alike), so every variant sees the same live events.
The feature store is the only writer of live item statistics: this object
never adds an event to them, it reads the store's live stats merged with
the training base's (once per change). The trending half-life is the served
bundle's.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recloop.errors import StorageUnavailableError
from recloop.events.schema import Event
from recloop.features.store import FeatureStore
from recloop.ranking.inputs import BaseHistories
from recloop.retrieval.history import History
from recloop.retrieval.trending import ItemStats
from recloop.serving.catalog import Catalog

__all__ = ["BaseArrays", "LiveState"]


@dataclass(frozen=True)
class BaseArrays:
    """Every training-base history in three flat arrays, user ``u``'s at ``offsets[u]:offsets[u+1]``.

    ``items`` int64, ``timestamps`` int64, ``ratings`` float32, each (n_events,);
    ``rows``: user id -> row. About 20 bytes per event plus one dict entry per user,
    against ~100 bytes per event for Python lists.
    """

    rows: dict[str, int]
    offsets: np.ndarray
    items: np.ndarray
    timestamps: np.ndarray
    ratings: np.ndarray

    @classmethod
    def build(cls, base: BaseHistories) -> BaseArrays:
        """From per-user lists (in time order)."""
        users = list(base)
        lengths = np.asarray([len(base[u][0]) for u in users], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)

        def flat(k: int, dtype: type[np.generic]) -> np.ndarray:
            parts = [np.asarray(base[u][k], dtype=dtype) for u in users]
            return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

        return cls({u: r for r, u in enumerate(users)}, offsets, flat(0, np.int64), flat(1, np.int64),
                   flat(2, np.float32))  # fmt: skip

    def user(self, user_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The user's (items, timestamps, ratings) views, or None for a user not in the base."""
        row = self.rows.get(user_id)
        if row is None:
            return None
        lo, hi = int(self.offsets[row]), int(self.offsets[row + 1])
        return self.items[lo:hi], self.timestamps[lo:hi], self.ratings[lo:hi]

    def lists(self, user_id: str) -> tuple[list[int], list[int], list[float]]:
        """The user's (items, timestamps, ratings) as lists (empty for a user not in the base)."""
        got = self.user(user_id)
        return ([], [], []) if got is None else (got[0].tolist(), got[1].tolist(), got[2].tolist())

    def sizes(self) -> dict[str, int]:
        """Events per base user."""
        lengths = np.diff(self.offsets).tolist()
        return {u: lengths[r] for u, r in self.rows.items()}

    def __contains__(self, user_id: str) -> bool:
        return user_id in self.rows


_EMPTY = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))


class LiveState:
    """Catalog + base histories + the store + item statistics (base merged with the store's)."""

    def __init__(self, catalog: Catalog, base: BaseHistories, base_stats: ItemStats, store: FeatureStore):
        self.catalog, self.store = catalog, store
        self.base = BaseArrays.build(base)
        self._base_stats = base_stats
        self._seen: dict[str, np.ndarray] = {}  # base users' seen sets, made once
        self._lock = threading.Lock()  # one writer of the store at a time, in this process
        self._stats = base_stats.merged(store.item_stats())
        self._stale = False

    @property
    def half_life_days(self) -> float:
        """The trending half-life of the item statistics (the served bundle's)."""
        return self._base_stats.half_life_s / 86400.0

    @property
    def stats(self) -> ItemStats:
        """Item statistics over the base and every live event (a snapshot; never mutated)."""
        if self._stale:
            with self._lock:
                if self._stale:
                    self._stats = self._base_stats.merged(self.store.item_stats())
                    self._stale = False
        return self._stats

    def sync(self) -> None:
        """Bring in the events other processes stored (a shared store); no-op for the embedded one."""
        with self._lock:
            self.store.refresh()
            self._stale = True

    def apply(self, events: Sequence[Event]) -> list[Event]:
        """Durably store validated events (idempotent by ``event_id``); the ones that were new."""
        with self._lock:
            try:
                new = self.store.append(events)
            except sqlite3.OperationalError as exc:  # disk full, read-only file, I/O error
                raise StorageUnavailableError(
                    f"the embedded state store could not write ({exc}); nothing of this batch was stored. "
                    "Free disk space or make RECLOOP_HOME writable, then send the batch again "
                    "(event ids make the retry safe)"
                ) from exc
            self._stale = True
        return [ev for ev, fresh in zip(events, new, strict=True) if fresh]

    def _base(self, user_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        got = self.base.user(user_id)
        if got is None:
            return (*_EMPTY, _EMPTY[0])
        seen = self._seen.get(user_id)
        if seen is None:
            seen = self._seen[user_id] = np.unique(got[0])
        return (*got, seen)

    def history(self, user_id: str) -> History:
        """The user's history: training base followed by live events."""
        items, stamps, ratings, seen = self._base(user_id)
        live = self.store.user_events(user_id)
        if len(live.items) == 0 and len(live.disliked) == 0:  # nothing live: the base as is
            return History(items, stamps, ratings, seen, user_id, dict(live.counts_by_type))
        all_items = np.concatenate([items, live.items])
        return History(
            all_items, np.concatenate([stamps, live.timestamps.astype(np.int64)]),
            np.concatenate([ratings, live.ratings]), np.unique(np.concatenate([all_items, live.disliked])),
            user_id, dict(live.counts_by_type),
        )  # fmt: skip

    def positives(self, user_id: str) -> History:
        """The user's positive items and times only (what a fold-in needs; no seen set)."""
        items, stamps, _, _ = self._base(user_id)
        live = self.store.user_events(user_id)
        all_items = np.concatenate([items, live.items])
        stamps = np.concatenate([stamps, live.timestamps.astype(np.int64)])
        return History(all_items, stamps, np.empty(0, np.float32), all_items, user_id)
