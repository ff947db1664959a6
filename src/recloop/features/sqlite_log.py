"""The embedded store's durable log: its SQLite schema, file checks and a read-only reader.

``<home>/state.db`` is the embedded backend's only durable record: every
in-memory structure of :class:`~recloop.features.sqlite_store.SQLiteFeatureStore`
is rebuilt from its ``events`` table on open. :class:`SQLiteEventLog` reads
that table without taking the writer's lock (SQLite's WAL mode lets readers
run beside the one writer), which is how ``recloop retrain`` and
``recloop worker`` read the events of a running ``recloop serve``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from recloop.errors import DataError, StorageUnavailableError
from recloop.events.schema import Event, EventType
from recloop.retrieval.trending import ItemStats

__all__ = [
    "COLUMNS",
    "INSERT",
    "SCHEMA",
    "SELECT",
    "STORED",
    "SQLiteEventLog",
    "add_fingerprint_column",
    "check_finite_stats",
    "check_state_file",
    "check_writable",
    "damaged_state_error",
    "event_from_row",
    "marker_path",
    "read_marker",
    "row_of",
    "stored_by_id",
    "stored_ids",
    "write_marker",
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    item INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    type TEXT NOT NULL,
    timestamp REAL NOT NULL,
    value REAL,
    request_id TEXT,
    fingerprint TEXT
)
"""
COLUMNS = "event_id, user_id, item, item_id, type, timestamp, value, request_id"
INSERT = f"INSERT INTO events ({COLUMNS}, fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
STORED = f"SELECT {COLUMNS}, fingerprint FROM events WHERE event_id IN "
SELECT = f"SELECT seq, {COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
_HEADER = b"SQLite format 3\x00"


def row_of(e: Event) -> tuple[Any, ...]:
    """The ``events`` row of ``e`` for :data:`INSERT` (without ``seq``, with the fingerprint)."""
    return (e.event_id, e.user_id, e.item, e.item_id, e.type, e.timestamp, e.value, e.request_id,
            e.fingerprint)


def event_from_row(row: tuple[Any, ...]) -> Event:
    """The event of an ``events`` row (the :data:`COLUMNS`, optionally then the fingerprint)."""
    eid, uid, item, item_id, etype, ts, value, rid, *fp = row
    return Event(eid, uid, int(item), int(item_id), cast(EventType, etype), float(ts), value, rid,
                 fp[0] if fp else None)


def add_fingerprint_column(conn: sqlite3.Connection) -> None:
    """Give a state file written before payload fingerprints existed their column (NULL: unknown)."""
    names = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    if "fingerprint" not in names:
        conn.execute("ALTER TABLE events ADD COLUMN fingerprint TEXT")


def stored_ids(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
    """The ids among ``ids`` already in the log (the UNIQUE index; no id set in memory)."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(r[0] for r in conn.execute(
            f"SELECT event_id FROM events WHERE event_id IN ({marks})", chunk))  # fmt: skip
    return found


def stored_by_id(conn: sqlite3.Connection, event_ids: Sequence[str]) -> dict[str, Event]:
    """The stored event (with its fingerprint) of each id in the log; 500 ids per query."""
    ids = list(dict.fromkeys(event_ids))
    out: dict[str, Event] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(STORED + f"({','.join('?' * len(chunk))})", chunk).fetchall()
        out.update((r[0], event_from_row(r)) for r in rows)
    return out


def check_writable(path: Path) -> None:
    """StorageUnavailableError unless the state file and its directory (the WAL) are writable."""
    for where in (path, path.parent):
        if where.exists() and not os.access(where, os.W_OK):
            raise StorageUnavailableError(f"{where} is not writable: the embedded store cannot take "
                                          "events; make RECLOOP_HOME writable")  # fmt: skip


def check_finite_stats(path: Path, s: ItemStats) -> None:
    """DataError naming the repair when the replayed item stats hold NaN or inf."""
    if not all(np.isfinite(a).all() for a in (s.counts, s.trend_value, s.trend_time, s.rating_sum)):
        raise DataError(
            f"{path} holds events with a non-finite timestamp or rating (written before they "
            "were refused), which make item statistics NaN: run `recloop state repair`"
        )


def damaged_state_error(path: Path, why: str) -> DataError:
    """The start-up error for an unreadable state file: what is wrong and how to recover."""
    return DataError(
        f"{path} is damaged ({why}); it is the embedded store's only copy of the live events, "
        f"so recloop will not start over it with 0 events. Recover: stop every recloop process "
        f"on it, then restore a backup (`cp BACKUP {path}`; `recloop state backup` makes one "
        f"from a healthy file) or run `recloop state rebuild`, which copies every readable "
        f"event into a new {path.name} and keeps the damaged file beside it."
    )


def marker_path(path: Path) -> Path:
    """The marker beside the state file: how many events the store held when last written."""
    return path.with_name(path.name + ".stored")


def read_marker(path: Path) -> int:
    """The event count the marker of ``path`` records (0 without one or when unreadable)."""
    try:
        return int(json.loads(marker_path(path).read_text())["events"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def write_marker(path: Path, events: int) -> None:
    """Record that ``path`` holds ``events`` events (atomically; 0 removes the marker)."""
    m = marker_path(path)
    if events <= 0:
        m.unlink(missing_ok=True)
        return
    tmp = m.with_name(m.name + ".tmp")
    tmp.write_text(json.dumps({"events": int(events), "file": str(path)}))
    os.replace(tmp, m)


def check_state_file(path: Path) -> None:
    """Raise :func:`damaged_state_error` for a file that exists but is no SQLite database,
    or that is missing, empty or shorter than its header while its marker says events were stored.

    A missing file without a marker is fine (a new store). SQLite would treat a zero-byte file
    as an empty database, and some garbage only surfaces at the first read of a page.
    """
    stored = read_marker(path)
    if not path.exists():
        if stored:
            raise DataError(
                f"{path} is missing but {marker_path(path)} records {stored:,} stored events: recloop "
                f"will not start over them with 0 events. Restore the file from a backup (`cp BACKUP "
                f"{path}`; `recloop state backup` makes one), or, to start empty on purpose, delete "
                f"{marker_path(path).name}"
            )
        return
    size = path.stat().st_size
    was = f" ({marker_path(path).name} records {stored:,} stored events)" if stored else ""
    if size == 0:
        raise damaged_state_error(path, f"0 bytes: the file was truncated or never written{was}")
    with path.open("rb") as f:
        header = f.read(len(_HEADER))
    if size < 100 and stored:  # shorter than SQLite's 100-byte database header
        raise damaged_state_error(path, f"{size} bytes, shorter than the SQLite header{was}")
    if header != _HEADER:
        raise damaged_state_error(path, f"not a SQLite database: {size} bytes without the SQLite header{was}")


class SQLiteEventLog:
    """Read-only view of a state file's log: ``event_count``, ``events``, ``refresh``, ``close``.

    Takes no lock and never writes, so it works while a server owns the store. A
    missing file is an empty log. Each call sees every event committed before it.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        if not self.path.exists():
            return
        check_state_file(self.path)
        try:
            self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise damaged_state_error(self.path, str(exc)) from None

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        if self._conn is None:
            return []
        try:
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # created but never written
                return []
            raise damaged_state_error(self.path, str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise damaged_state_error(self.path, str(exc)) from None

    def event_count(self) -> int:
        """Number of events in the log."""
        rows = self._query("SELECT COUNT(*) FROM events")
        return int(rows[0][0]) if rows else 0

    def events(self, after: int = 0, limit: int | None = None) -> list[tuple[int, Event]]:
        """``(seq, event)`` in log order with ``seq > after``, at most ``limit``."""
        rows = self._query(SELECT, (after, -1 if limit is None else limit))
        return [(int(r[0]), event_from_row(r[1:])) for r in rows]

    def refresh(self) -> None:
        """Nothing to reload: every query reads the file."""

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
