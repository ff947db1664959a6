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
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from recloop.errors import DependencyUnavailableError, StorageUnavailableError
from recloop.events.feedback import Semantics, weigh
from recloop.events.schema import Event
from recloop.features.store import FeatureStore
from recloop.ranking.inputs import BaseHistories
from recloop.retrieval.columnar import ColumnarHistories
from recloop.retrieval.history import History
from recloop.retrieval.trending import ItemStats
from recloop.serving.catalog import Catalog

__all__ = ["BaseArrays", "LiveState"]


BaseArrays = ColumnarHistories  # the training-base histories, columnar (recloop.retrieval.columnar)


_EMPTY = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32))


class LiveState:
    """Catalog + base histories + the store + item statistics (base merged with the store's).

    ``semantics``: how events become history (recloop.events.feedback): ``explicit``
    when serving, ``implicit`` for the offline protocols (every rating a positive).
    """

    def __init__(self, catalog: Catalog, base: BaseHistories | ColumnarHistories, base_stats: ItemStats,
                 store: FeatureStore, semantics: Semantics = "explicit") -> None:  # fmt: skip
        self.catalog, self.store, self.semantics = catalog, store, semantics
        self.base = base if isinstance(base, ColumnarHistories) else ColumnarHistories.from_lists(base)
        self._base_stats = base_stats
        self._parts: dict[str, _Part] = {}  # base users' histories split by the feedback table, made once
        self._lock = threading.Lock()  # one writer of the store at a time, in this process
        self.write_wait_s: float | None = None  # bound on waiting for it (the Redis timeout)
        self._failed_at = -1.0  # monotonic time of the store's last failed write or sync
        self._offset: float | None = None  # live clock - data clock, once known (see _clock_offset)
        self._stats = self._merged()
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
                    self._stats = self._merged()
                    self._stale = False
        return self._stats

    def _clock_offset(self) -> float:
        """Seconds to take off live timestamps to put them on the training data's clock.

        MovieLens ends in 1998 and live events carry today's time: read as they are, the
        first live event would age every item by 28 years (``item_age_years``), zero every
        base item's trending value and make every base user "inactive for 28 years". So when
        the first live event is a year or more past the base's last one, the live clock is
        taken to start right after the data ends: offset = first live time - last base time.
        Offline replays continue the data's own clock (gaps of days): offset 0.
        """
        if self._offset is None:
            first = self.store.events(0, 1)
            if not first:
                return 0.0
            gap = float(first[0][1].timestamp) - self._base_stats.now
            self._offset = gap if gap >= CLOCK_GAP_S else 0.0
        return self._offset

    def _merged(self) -> ItemStats:
        """The base statistics merged with the store's, the store's on the data clock."""
        live = self.store.item_stats()
        if live.now == 0.0:
            self._offset = None  # no live event (yet, or after a clear)
            return self._base_stats.merged(live)
        offset = self._clock_offset()
        return self._base_stats.merged(live.shifted(-offset) if offset else live)

    def sync(self) -> None:
        """Bring in the events other processes stored (a shared store); no-op for the embedded one."""
        with self._lock:
            try:
                self.store.refresh()
            except DependencyUnavailableError:
                self._failed_at = time.monotonic()
                raise
            self._stale = True

    def apply(self, events: Sequence[Event]) -> list[Event]:
        """Durably store validated events (idempotent by ``event_id``); the ones that were new.

        Waits at most ``write_wait_s`` (None: no bound) for an earlier write or sync of this
        process (a hung Redis holds it up to its timeout), then answers 503.
        """
        asked = time.monotonic()
        if not self._lock.acquire(timeout=-1 if self.write_wait_s is None else self.write_wait_s):
            raise StorageUnavailableError(
                f"the state store did not take an earlier write within {self.write_wait_s} s; nothing of "
                "this batch was stored: send it again (event ids make the retry safe)"
            )
        try:
            if self._failed_at > asked:  # the store failed the call this one queued behind: fail fast
                raise StorageUnavailableError(
                    "the state store failed the previous write while this one waited (a server that does "
                    "not answer); nothing of this batch was stored: send it again"
                )
            try:
                new = self.store.append(events)
            except DependencyUnavailableError:
                self._failed_at = time.monotonic()
                raise
            except sqlite3.OperationalError as exc:  # disk full, read-only file, I/O error
                raise StorageUnavailableError(
                    f"the embedded state store could not write ({exc}); nothing of this batch was stored. "
                    "Free disk space or make RECLOOP_HOME writable, then send the batch again "
                    "(event ids make the retry safe)"
                ) from exc
            self._stale = True
        finally:
            self._lock.release()
        return [ev for ev, fresh in zip(events, new, strict=True) if fresh]

    def _base(self, user_id: str) -> _Part:
        """The user's training-base events split by the feedback table (kept per user)."""
        part = self._parts.get(user_id)
        if part is not None:
            return part
        got = self.base.user(user_id)
        if got is None:
            return _EMPTY_PART
        part = _split(got[0], got[1], got[2], weigh(None, got[2], self.semantics))
        if len(self._parts) < _MAX_PARTS:
            self._parts[user_id] = part
        return part

    def _live(self, user_id: str) -> tuple[_Part, dict[str, int]]:
        live = self.store.user_events(user_id)
        if len(live.items) == 0 and len(live.disliked) == 0:
            return _EMPTY_PART, dict(live.counts_by_type)
        types = live.types if len(live.types) == len(live.items) else None
        offset = self._clock_offset()
        stamps = (live.timestamps - offset if offset else live.timestamps).astype(np.int64)
        part = _split(live.items, stamps, live.ratings, weigh(types, live.ratings, self.semantics))
        neg_w = np.ones(len(live.disliked), np.float32)
        part = _Part(part.items, part.timestamps, part.ratings, part.weights,
                     np.concatenate([part.negatives, live.disliked]),
                     np.concatenate([part.negative_weights, neg_w]))  # fmt: skip
        return part, dict(live.counts_by_type)

    def history(self, user_id: str) -> History:
        """The user's history: training base followed by live events, split by the feedback table.

        Positive and neutral events are the history (with their weights); negative ones
        (dislikes; ratings <= 2 under the explicit semantics) are ``negatives``. Every
        item touched is in ``seen``.
        """
        b = self._base(user_id)
        live, counts = self._live(user_id)
        if live is _EMPTY_PART:
            return History(b.items, b.timestamps, b.ratings, b.seen, user_id, counts, b.weights,
                           b.negatives, b.negative_weights)  # fmt: skip
        items = np.concatenate([b.items, live.items])
        negatives = np.concatenate([b.negatives, live.negatives])
        return History(
            items, np.concatenate([b.timestamps, live.timestamps]), np.concatenate([b.ratings, live.ratings]),
            np.unique(np.concatenate([b.seen, live.seen, live.negatives])), user_id, counts,
            np.concatenate([b.weights, live.weights]), negatives,
            np.concatenate([b.negative_weights, live.negative_weights]),
        )  # fmt: skip


CLOCK_GAP_S = 365 * 86400.0  # a first live event this far past the data runs on another clock


@dataclass(frozen=True)
class _Part:
    """Events split by the feedback table: the history part, and the negatives with their magnitudes."""

    items: np.ndarray
    timestamps: np.ndarray
    ratings: np.ndarray
    weights: np.ndarray
    negatives: np.ndarray
    negative_weights: np.ndarray

    @cached_property
    def seen(self) -> np.ndarray:
        """Every item of the part, sorted, unique (made once: base parts are kept per user)."""
        return np.unique(np.concatenate([self.items, self.negatives]))


def _split(items: np.ndarray, stamps: np.ndarray, ratings: np.ndarray, weights: np.ndarray) -> _Part:
    keep = weights > 0
    if keep.all():
        return _Part(items, stamps, ratings, weights, _EMPTY[0], _EMPTY[2])
    return _Part(items[keep], stamps[keep], ratings[keep], weights[keep], items[~keep], -weights[~keep])


_EMPTY_PART = _Part(_EMPTY[0], _EMPTY[1], _EMPTY[2], _EMPTY[2], _EMPTY[0], _EMPTY[2])
_MAX_PARTS = 200_000  # base users whose split is kept (MovieLens-100K: 943)
