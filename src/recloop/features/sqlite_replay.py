"""Loading the embedded store's in-memory state from its SQLite log in bulk.

The log is read column-wise in chunks and every derived structure is built
with array operations: per-user histories by one stable sort on the user,
item stats by ``bincount`` and a per-item running maximum of the time. The
result equals applying the events one by one in log order (what
:meth:`SQLiteFeatureStore.append` does), but costs about a microsecond per
event instead of twenty, so a restart over a million live events takes
seconds. ``benchmarks/startup.py`` measures it.
"""

from __future__ import annotations

import gc
import sqlite3
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recloop.events.schema import EVENT_TYPES, NEGATIVE_TYPES
from recloop.features.history import RECORD
from recloop.retrieval.trending import ItemStats

__all__ = ["ReplayedState", "replay_log"]

_TYPE_CODE = {t: i for i, t in enumerate(EVENT_TYPES)}
_IS_NEGATIVE = np.array([t in NEGATIVE_TYPES for t in EVENT_TYPES], dtype=bool)
_RATE = _TYPE_CODE["rate"]
_CHUNK = 200_000


@dataclass
class ReplayedState:
    """What a replay of the whole log yields (item stats are written in place).

    ``users``: user id -> the user's packed history records (recloop.features.history).
    """

    users: dict[str, bytearray]
    counts: dict[str, int]
    n_events: int


def _columns(conn: sqlite3.Connection) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """user ids, item int64, type code uint8, time float64, value float64 (NaN: none).

    Event ids are not read: duplicates are found by the table's UNIQUE index.
    """
    users: list[str] = []
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    cur = conn.execute("SELECT user_id, item, type, timestamp, value FROM events ORDER BY seq")
    while rows := cur.fetchmany(_CHUNK):
        uid, item, etype, ts, value = zip(*rows, strict=True)
        users.extend(uid)
        parts.append((
            np.fromiter(item, np.int64, len(rows)),
            np.fromiter((_TYPE_CODE[t] for t in etype), np.uint8, len(rows)),
            np.fromiter(ts, np.float64, len(rows)),
            np.array(value, dtype=np.float64),  # None -> NaN
        ))  # fmt: skip
    if not parts:
        empty = np.zeros(0)
        return users, empty.astype(np.int64), empty.astype(np.uint8), empty, empty
    cols = [np.concatenate([p[k] for p in parts]) for k in range(4)]
    return users, cols[0], cols[1], cols[2], cols[3]


def _item_stats(stats: ItemStats, items: np.ndarray, ts: np.ndarray, ratings: np.ndarray) -> None:
    """Set ``stats`` to what ``ItemStats.add`` over the positive events in log order gives.

    ``add`` decays the trend value to ``max(t, latest time so far)``: the k-th event
    contributes 1 at its item's running maximum time ``m_k``, so the final value is
    ``sum_k 2^(-(m_last - m_k) / half_life)``.
    """
    n = stats.n_items
    stats.counts[:] = np.bincount(items, minlength=n)
    stats.rating_sum[:] = np.bincount(items, weights=ratings, minlength=n)
    stats.rating_n[:] = np.bincount(items[ratings > 0], minlength=n)
    if len(items) == 0:
        return
    running = np.maximum(pd.Series(ts).groupby(items).cummax().to_numpy(), 0.0)
    latest = np.zeros(n)
    np.maximum.at(latest, items, running)
    stats.trend_time[:] = latest
    stats.trend_value[:] = np.bincount(items, weights=np.exp2(-(latest[items] - running) / stats.half_life_s),
                                       minlength=n)  # fmt: skip
    stats.now = max(stats.now, float(ts.max()))


def replay_log(conn: sqlite3.Connection, stats: ItemStats) -> ReplayedState:
    """The in-memory state of the log behind ``conn``; ``stats`` (zeroed) is filled in place.

    The cyclic garbage collector is paused meanwhile: the millions of row tuples (and
    per-user buffers) made here would trigger a full collection again and again, each one
    walking the whole heap (that doubled the replay time), and none of them form cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _replay(conn, stats)
    finally:
        if was_enabled:
            gc.enable()


def _replay(conn: sqlite3.Connection, stats: ItemStats) -> ReplayedState:
    users, items, codes, ts, values = _columns(conn)
    ratings = np.where((codes == _RATE) & ~np.isnan(values), values, 0.0)
    negative = _IS_NEGATIVE[codes]
    positive = ~negative
    _item_stats(stats, items[positive], ts[positive], ratings[positive])
    ucode, names = pd.factorize(pd.Series(users, dtype=object), sort=False)
    order = np.argsort(ucode, kind="stable")  # per user, log order kept
    bounds = np.concatenate([[0], np.cumsum(np.bincount(ucode, minlength=len(names)))]) * RECORD.itemsize
    rec = np.empty(len(order), dtype=RECORD)
    rec["item"], rec["type"], rec["ts"], rec["rating"] = items[order], codes[order], ts[order], ratings[order]
    buf = memoryview(rec.tobytes())
    edges = bounds.tolist()
    out = {name: bytearray(buf[edges[u] : edges[u + 1]]) for u, name in enumerate(names.tolist())}
    counts = {EVENT_TYPES[k]: int(c) for k, c in enumerate(np.bincount(codes, minlength=len(EVENT_TYPES)))
              if c}  # fmt: skip
    return ReplayedState(out, counts, len(users))
