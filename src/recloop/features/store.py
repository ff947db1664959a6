"""The online state store: its protocol, the values it returns, and the factory.

A :class:`FeatureStore` holds everything the live system learns from events:
a durable event log (for retraining and replay), each user's live history,
event counts by type, item popularity (:class:`ItemStats`) and a cache of
per-user ALS factors. Two backends implement it and pass one contract suite
(``tests/features/test_store_contract.py``):

* ``memory`` (:class:`~recloop.features.sqlite_store.SQLiteFeatureStore`):
  in-process structures, every batch committed to a SQLite file
  (``<home>/state.db``) first. One process owns the file. Pick it for a
  single-process deployment or a laptop.
* ``redis`` (:class:`~recloop.features.redis_store.RedisFeatureStore`): all
  state in a Redis server, shared by every process. If Redis is configured
  and unreachable, :func:`open_store` raises
  :class:`~recloop.errors.DependencyUnavailableError`; it never falls back to
  the embedded backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import structlog

from recloop.config import MemoryStateConfig, RedisStateConfig
from recloop.errors import ValidationError
from recloop.events.schema import EVENT_TYPES, Event
from recloop.retrieval.trending import ItemStats

__all__ = [
    "EventLog",
    "FeatureStore",
    "TrimmableLog",
    "UserLive",
    "check_events",
    "check_factor",
    "open_event_log",
    "open_serving_store",
    "open_store",
    "state_path",
    "zero_item_stats",
]

_log = structlog.get_logger(__name__)
_EMPTY_I64 = np.zeros(0, dtype=np.int64)
_EMPTY_F64 = np.zeros(0, dtype=np.float64)
_EMPTY_F32 = np.zeros(0, dtype=np.float32)
for _a in (_EMPTY_I64, _EMPTY_F64, _EMPTY_F32):
    _a.setflags(write=False)


@dataclass(frozen=True)
class UserLive:
    """One user's live events as stored, oldest first (log order).

    ``items``: int64 (n,) dense item indices of the positive events (every type
    but ``dislike``); ``timestamps``: float64 (n,) Unix seconds of those events;
    ``ratings``: float32 (n,) the rating of ``rate`` events, 0 otherwise.
    ``disliked``: int64 (m,) item indices of ``dislike`` events.
    ``counts_by_type``: number of the user's events of each type (all types).
    ``first_ts``/``last_ts``: earliest/latest timestamp over all the user's
    events, None for a user with no events. ``types``: the event type of each
    positive event (aligned with ``items``). ``disliked_timestamps``: float64 (m,)
    the times of the ``dislike`` events (aligned with ``disliked``). Arrays are
    read-only. Which of these events count as negatives is decided above the store
    (recloop.events.feedback): the store keeps every event as it came.
    """

    user_id: str
    items: np.ndarray
    timestamps: np.ndarray
    ratings: np.ndarray
    disliked: np.ndarray
    counts_by_type: dict[str, int]
    first_ts: float | None
    last_ts: float | None
    types: tuple[str, ...] = ()
    disliked_timestamps: np.ndarray = field(default_factory=lambda: _EMPTY_F64)

    @classmethod
    def empty(cls, user_id: str) -> UserLive:
        """The state of a user the store has never seen."""
        return cls(user_id, _EMPTY_I64, _EMPTY_F64, _EMPTY_F32, _EMPTY_I64, {}, None, None)

    def __len__(self) -> int:
        return len(self.items)


@runtime_checkable
class FeatureStore(Protocol):
    """Durable event log + live per-user and per-item state. Thread-safe.

    Every method may be called from many threads at once (the API calls them
    from its threadpool).
    """

    def append(self, events: Sequence[Event]) -> list[bool]:
        """Record and apply each event once; one bool per event, in order.

        ``True``: the event was new; when ``append`` returns it is durably in
        the log (it survives a SIGKILL of this process) and applied to the
        user history, the counters and the item stats. ``False``: an event
        with that ``event_id`` was stored before (earlier in the same batch, or
        before: ever for ``memory``; within ``idempotency_window_s``, default
        24 h, for ``redis``) and nothing changed. Raises :class:`ValidationError` (before
        writing anything) for an item index outside the catalog.
        """
        ...

    def user_events(self, user_id: str) -> UserLive:
        """The user's live history (empty arrays for an unknown user)."""
        ...

    def item_stats(self) -> ItemStats:
        """The live, in-process item stats over every applied positive event.

        The same object is returned each time and updated in place; ``rate``
        events add their rating.
        """
        ...

    def refresh(self) -> None:
        """Reload any local mirror from the shared backend (no-op if none)."""
        ...

    def event_count(self) -> int:
        """Number of events in the log."""
        ...

    def events(self, after: int = 0, limit: int | None = None) -> list[tuple[int, Event]]:
        """``(seq, event)`` in log order with ``seq > after``, at most ``limit``.

        ``seq`` starts at 1 and increases by one per stored event (it starts
        again at 1 after :meth:`clear`).
        """
        ...

    def users(self) -> int:
        """Number of distinct users with at least one event."""
        ...

    def counts_by_type(self) -> dict[str, int]:
        """Number of stored events of each type, over all users."""
        ...

    def user_factor(self, user_id: str) -> np.ndarray | None:
        """The cached fold-in factor of the user (float32 (k,)), or None.

        A cache only: the ``memory`` backend keeps it in process (empty after a
        restart; it is recomputable from the history), ``redis`` in a hash.
        """
        ...

    def set_user_factor(self, user_id: str, factor: np.ndarray) -> None:
        """Cache the user's fold-in factor (float32 (k,))."""
        ...

    def clear(self) -> None:
        """Delete this store's data (and only this store's). For tests and admins."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...


@runtime_checkable
class EventLog(Protocol):
    """The read side of the durable log (what retraining needs); every FeatureStore is one."""

    def event_count(self) -> int:
        """Number of events in the log."""
        ...

    def events(self, after: int = 0, limit: int | None = None) -> list[tuple[int, Event]]:
        """``(seq, event)`` in log order with ``seq > after``, at most ``limit``."""
        ...

    def refresh(self) -> None:
        """Reload any local mirror (no-op if none)."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...


@runtime_checkable
class TrimmableLog(Protocol):
    """A log whose committed-elsewhere prefix can be dropped (Redis); the archiver calls it."""

    def trim_log(self, through_seq: int) -> int:
        """Drop the entries with ``seq <= through_seq``; returns how many were dropped."""
        ...


def check_events(events: Sequence[Event], n_items: int) -> None:
    """Raise :class:`ValidationError` if any event cannot be applied to this catalog."""
    for e in events:
        if not 0 <= e.item < n_items:
            raise ValidationError(
                f"event {e.event_id!r}: item index {e.item} is outside the catalog "
                f"(0..{n_items - 1}); map item_id {e.item_id} through the catalog first."
            )
        if e.type not in EVENT_TYPES:
            raise ValidationError(f"event {e.event_id!r}: unknown type {e.type!r}; use one of {EVENT_TYPES}.")


def check_factor(factor: np.ndarray) -> np.ndarray:
    """A read-only float32 1-D copy of ``factor``; ValidationError if not 1-D."""
    arr = np.array(factor, dtype=np.float32)
    if arr.ndim != 1:
        raise ValidationError(f"a user factor must be 1-D, got shape {arr.shape}.")
    arr.setflags(write=False)
    return arr


def zero_item_stats(stats: ItemStats) -> None:
    """Reset ``stats`` to no events, in place (callers keep the live object)."""
    for arr in (stats.counts, stats.trend_value, stats.trend_time):
        arr[:] = 0.0
    stats.rating_sum[:] = 0.0
    stats.rating_n[:] = 0.0
    stats.now = 0.0


def open_store(
    config: MemoryStateConfig | RedisStateConfig, n_items: int, home: Path, half_life_days: float = 7.0
) -> FeatureStore:
    """Build the store the config names, with its state loaded.

    ``memory``: SQLite at ``config.path`` or ``<home>/state.db``, replayed into
    memory. ``redis``: pings ``config.url`` (2 s connect timeout) and raises
    :class:`~recloop.errors.DependencyUnavailableError` saying what to do if it
    does not answer; then loads the item stats mirror. ``half_life_days``: the
    trending half-life of the store's item stats (the serving model's).
    """
    if config.type == "memory":
        from recloop.features.sqlite_store import SQLiteFeatureStore

        return SQLiteFeatureStore(state_path(config, home), n_items, half_life_days)
    from recloop.features.redis_store import RedisFeatureStore

    return RedisFeatureStore(config.url, config.prefix, n_items, half_life_days,
                             idempotency_window_s=config.idempotency_window_s)  # fmt: skip


def state_path(config: MemoryStateConfig, home: Path) -> Path:
    """The embedded store's SQLite file: ``config.path`` or ``<home>/state.db``."""
    return config.path or home / "state.db"


def open_event_log(config: MemoryStateConfig | RedisStateConfig, n_items: int, home: Path) -> EventLog:
    """The durable log for reading, beside a server that may own the store.

    ``memory``: a read-only SQLite connection that takes no lock (WAL lets it read
    while ``recloop serve`` writes). ``redis``: the store itself (shared by design).
    """
    if config.type == "memory":
        from recloop.features.sqlite_log import SQLiteEventLog

        return SQLiteEventLog(state_path(config, home))
    return open_store(config, n_items, home)


def open_serving_store(
    config: MemoryStateConfig | RedisStateConfig, n_items: int, home: Path, half_life_days: float = 7.0
) -> FeatureStore:
    """:func:`open_store` for a process that acknowledges events (``recloop serve``).

    With Redis, also checks the server's persistence and raises ConfigError when
    acknowledged events would not survive a Redis restart, unless
    ``config.allow_volatile`` (docs/durability.md).
    """
    store = open_store(config, n_items, home, half_life_days)
    if config.type == "redis":
        from recloop.features.redis_store import RedisFeatureStore

        assert isinstance(store, RedisFeatureStore)
        try:
            found = store.durability(config.allow_volatile)
        except BaseException:
            store.close()
            raise
        _log.info("state_durability", backend="redis", mode=found.mode, detail=found.detail,
                  allowed_volatile=not found.survives_restart)  # fmt: skip
    else:
        _log.info("state_durability", backend="memory", mode="sqlite-wal-synchronous-normal")
    return store
