"""The embedded feature store: in-process state, made durable in a SQLite file.

Every ``append`` batch is one SQLite transaction (``executemany``) committed
before the in-memory state changes, so memory never holds an event the file
does not. Reads (:meth:`SQLiteFeatureStore.user_events`, counters, item
stats) never touch SQLite. On open, the log is replayed into memory.

Start-up: the log is replayed in bulk (:mod:`recloop.features.sqlite_replay`,
about a second per million events). A zero-byte, truncated or otherwise
unreadable file raises :class:`~recloop.errors.DataError` naming the file and
the recovery (``recloop state backup`` / ``recloop state rebuild``); the store
never starts silently empty over a damaged file. Readers that only need the log
(``recloop retrain`` while ``recloop serve`` runs) use
:class:`~recloop.features.sqlite_log.SQLiteEventLog`, which takes no lock.

Durability (docs/durability.md): ``journal_mode=WAL`` with ``synchronous=NORMAL``. A WAL commit has
written the transaction to the WAL file (the OS page cache) before COMMIT
returns, so a committed batch survives a crash or SIGKILL of the process.
What NORMAL gives up compared to FULL is the fsync per commit: after a power
loss or kernel crash the last transactions may roll back (the file stays
consistent). FULL measured ~700 commits/s on the reference machine, below the
3,000 single-event appends/s target; NORMAL gives ~20,000. This matches the
Redis backend, whose durability is the server's persistence setting.

One process owns the file (an exclusive ``flock`` on ``<path>.lock``): the
in-memory state of a second process would silently diverge, so a second
open fails loudly instead.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import structlog

from recloop.errors import ConfigError
from recloop.events.schema import NEGATIVE_TYPES, Event
from recloop.features.history import pack_record, user_live
from recloop.features.sqlite_log import INSERT as _INSERT
from recloop.features.sqlite_log import SCHEMA as _SCHEMA
from recloop.features.sqlite_log import SELECT as _SELECT
from recloop.features.sqlite_log import check_state_file, damaged_state_error
from recloop.features.sqlite_log import event_from_row as _event
from recloop.features.sqlite_log import row_of as _row
from recloop.features.sqlite_replay import replay_log
from recloop.features.store import UserLive, check_events, check_factor, zero_item_stats
from recloop.retrieval.trending import ItemStats

__all__ = ["SQLiteFeatureStore"]

log = structlog.get_logger(__name__)

def _take_file_lock(path: Path) -> int:
    """An exclusive lock on ``<path>.lock`` (one writer per state file); ConfigError naming the fix."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ConfigError(
            f"{path} is already open by another process or store instance. The "
            "memory state backend has one writer: stop the other `recloop serve` (or "
            "store), run a single API worker, or set RECLOOP_STATE__TYPE=redis to share "
            "state. `recloop retrain` reads the log without this lock while a server runs; "
            "RECLOOP_RETRAIN_IN_SERVER=true retrains inside the server instead."
        ) from None
    return fd


class SQLiteFeatureStore:
    """The ``memory`` backend of :class:`~recloop.features.store.FeatureStore`.

    ``path``: the SQLite file (created with its directory if missing).
    ``n_items``: catalog size; events must have ``0 <= item < n_items``.
    The fold-in factor cache lives in memory only (it is recomputable from
    the history) and is empty after a restart.
    """

    def __init__(self, path: Path, n_items: int, half_life_days: float = 7.0) -> None:
        self.path = Path(path)
        self.n_items = n_items
        self._write_lock = threading.Lock()  # serialises appends and SQLite access
        self._state_lock = threading.Lock()  # guards the in-memory structures, held briefly
        self._stats = ItemStats(n_items, half_life_days)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _take_file_lock(self.path)
        try:
            check_state_file(self.path)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.execute(_SCHEMA)
                self._reset_memory()
                self._replay()
            except sqlite3.DatabaseError as exc:
                self._conn.close()
                raise damaged_state_error(self.path, str(exc)) from None
        except BaseException:
            os.close(self._lock_fd)
            raise
        log.info(
            "feature_store_opened",
            backend="memory",
            path=str(self.path),
            events=self._n_events,
            users=len(self._users),
        )

    def _reset_memory(self) -> None:
        self._users: dict[str, bytearray] = {}  # packed records (recloop.features.history)
        self._counts: dict[str, int] = {}
        self._n_events = 0
        self._factors: dict[str, np.ndarray] = {}
        zero_item_stats(self._stats)  # in place: callers keep the live object

    def _replay(self) -> None:
        (max_item,) = self._conn.execute("SELECT MAX(item) FROM events").fetchone()
        if max_item is not None and max_item >= self.n_items:
            raise ConfigError(
                f"{self.path} holds events for item index {max_item} but the catalog has "
                f"{self.n_items} items; it belongs to another catalog: move it away or clear it."
            )
        state = replay_log(self._conn, self._stats)
        self._users, self._counts, self._n_events = state.users, state.counts, state.n_events

    def _apply(self, e: Event) -> None:
        history = self._users.get(e.user_id)
        if history is None:
            history = self._users[e.user_id] = bytearray()
        history += pack_record(e)
        if e.type not in NEGATIVE_TYPES:
            self._stats.add(e.item, e.timestamp, e.rating)
        self._counts[e.type] = self._counts.get(e.type, 0) + 1
        self._n_events += 1

    def append(self, events: Sequence[Event]) -> list[bool]:
        """See :meth:`FeatureStore.append`; one SQLite transaction per call."""
        batch = list(events)
        check_events(batch, self.n_items)
        with self._write_lock:
            fresh: list[Event] = []
            fresh_ids: set[str] = set()
            result: list[bool] = []
            stored = self._stored_ids([e.event_id for e in batch])
            for e in batch:
                new = e.event_id not in stored and e.event_id not in fresh_ids
                result.append(new)
                if new:
                    fresh_ids.add(e.event_id)
                    fresh.append(e)
            if not fresh:
                return result
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(_INSERT, [_row(e) for e in fresh])
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # SQLite may have rolled back itself (SQLITE_FULL)
                    self._conn.execute("ROLLBACK")
                raise
            with self._state_lock:
                for e in fresh:
                    self._apply(e)
        return result

    def _stored_ids(self, ids: list[str]) -> set[str]:
        """The ids among ``ids`` already in the log (the UNIQUE index; no id set in memory)."""
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self._conn.execute(
                f"SELECT event_id FROM events WHERE event_id IN ({marks})", chunk))  # fmt: skip
        return found

    def user_events(self, user_id: str) -> UserLive:
        """See :meth:`FeatureStore.user_events`; built from memory only."""
        with self._state_lock:
            history = self._users.get(user_id)
            raw = None if history is None else bytes(history)
        return user_live(user_id, raw)

    def item_stats(self) -> ItemStats:
        """See :meth:`FeatureStore.item_stats`."""
        return self._stats

    def refresh(self) -> None:
        """Nothing to reload: this process is the only writer."""

    def event_count(self) -> int:
        """See :meth:`FeatureStore.event_count`."""
        with self._state_lock:
            return self._n_events

    def events(self, after: int = 0, limit: int | None = None) -> list[tuple[int, Event]]:
        """See :meth:`FeatureStore.events`; read from the SQLite log."""
        with self._write_lock:
            rows = self._conn.execute(_SELECT, (after, -1 if limit is None else limit)).fetchall()
        return [(int(r[0]), _event(r[1:])) for r in rows]

    def users(self) -> int:
        """See :meth:`FeatureStore.users`."""
        with self._state_lock:
            return len(self._users)

    def counts_by_type(self) -> dict[str, int]:
        """See :meth:`FeatureStore.counts_by_type`."""
        with self._state_lock:
            return dict(self._counts)

    def user_factor(self, user_id: str) -> np.ndarray | None:
        """See :meth:`FeatureStore.user_factor` (memory only, lost on restart)."""
        with self._state_lock:
            return self._factors.get(user_id)

    def set_user_factor(self, user_id: str, factor: np.ndarray) -> None:
        """See :meth:`FeatureStore.set_user_factor`."""
        arr = check_factor(factor)
        with self._state_lock:
            self._factors[user_id] = arr

    def clear(self) -> None:
        """Delete every event from the file and memory (sequence numbers restart at 1)."""
        with self._write_lock:
            self._conn.execute("DELETE FROM events")
            with self._state_lock:
                self._reset_memory()

    def close(self) -> None:
        """Close the SQLite connection and release the file lock (idempotent)."""
        with self._write_lock:
            if self._lock_fd < 0:
                return
            self._conn.close()
            os.close(self._lock_fd)
            self._lock_fd = -1
