"""Finding and fixing non-finite item statistics in an existing store (``recloop state repair``).

An item statistic (count, trending value and time, rating sum and count) that is NaN or
infinite poisons every ranking that reads it, and the update rule keeps it so for good. Since
validation and the stores' write checks refuse non-finite input, such values can only come from
data written before those checks. The repair:

* ``memory``: the stats are rebuilt from the SQLite log at every start, so what is repaired is
  the log: events whose timestamp or rating is not finite (SQLite keeps ``inf``; NaN cannot be
  stored in the NOT NULL column) move to a ``quarantined_events`` table beside ``events``;
* ``redis``: each damaged ``<prefix>:items`` entry is recomputed from the log stream, over that
  item's positive events with a finite time and rating (the others are counted as skipped).
"""

from __future__ import annotations

import math
import sqlite3
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from recloop.events.schema import NEGATIVE_TYPES
from recloop.features.sqlite_log import COLUMNS, check_state_file
from recloop.features.sqlite_recovery import writer_lock
from recloop.retrieval.trending import ItemStats

__all__ = ["RepairReport", "repair_redis", "repair_sqlite"]

_PACK = struct.Struct("<ddddd")
_BAD_ROW = ("NOT (timestamp BETWEEN -1.7e308 AND 1.7e308) "
            "OR (value IS NOT NULL AND NOT (value BETWEEN -1.7e308 AND 1.7e308))")


@dataclass(frozen=True)
class RepairReport:
    """``items``: the repaired item indices; ``events``: the log events with non-finite fields
    (quarantined on ``memory``, skipped in the recomputation on ``redis``); ``where``: the store."""

    where: str
    items: list[int] = field(default_factory=list)
    events: int = 0


def _finite(*xs: Any) -> bool:
    return all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in xs)


def repair_sqlite(path: Path) -> RepairReport:
    """Move the events with a non-finite timestamp or rating out of the log (server stopped)."""
    if not path.exists():
        return RepairReport(str(path))
    check_state_file(path)
    with writer_lock(path, "repair"):
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            rows = conn.execute(f"SELECT DISTINCT item FROM events WHERE {_BAD_ROW}").fetchall()
            conn.execute(f"CREATE TABLE IF NOT EXISTS quarantined_events AS SELECT seq, {COLUMNS} "
                         "FROM events WHERE 0")  # fmt: skip
            conn.execute(f"INSERT INTO quarantined_events SELECT seq, {COLUMNS} FROM events WHERE {_BAD_ROW}")
            n = conn.execute(f"DELETE FROM events WHERE {_BAD_ROW}").rowcount
            conn.execute("COMMIT")
        finally:
            conn.close()
    return RepairReport(str(path), sorted(int(r[0]) for r in rows), int(n))


def _damaged(raw: dict[bytes, bytes]) -> list[int]:
    return sorted(int(k) for k, v in raw.items() if len(v) != _PACK.size or not _finite(*_PACK.unpack(v)))


def repair_redis(client: Any, prefix: str, half_life_days: float = 7.0) -> RepairReport:
    """Recompute every damaged ``<prefix>:items`` entry from the ``<prefix>:log`` stream."""
    items_key, log_key = f"{prefix}:items", f"{prefix}:log"
    bad = _damaged(client.hgetall(items_key))
    if not bad:
        return RepairReport(f"redis prefix {prefix!r}")
    wanted = set(bad)
    stats = ItemStats(max(bad) + 1, half_life_days)
    skipped, after = 0, "-"
    while page := client.xrange(log_key, after, "+", count=10_000):
        for _entry, fields in page:
            _, _, item, _, etype, ts, value, *_ = orjson.loads(fields[b"e"])
            rating = float(value) if etype == "rate" and value is not None else 0.0
            if int(item) not in wanted or etype in NEGATIVE_TYPES:
                continue
            if not _finite(ts, rating):
                skipped += 1
                continue
            stats.add(int(item), float(ts), rating)
        after = "(" + page[-1][0].decode()
    pipe = client.pipeline(transaction=True)
    for i in bad:
        if stats.counts[i] == 0:
            pipe.hdel(items_key, str(i))
        else:
            packed = _PACK.pack(stats.counts[i], stats.trend_value[i], stats.trend_time[i],
                                stats.rating_sum[i], stats.rating_n[i])  # fmt: skip
            pipe.hset(items_key, str(i), packed)
    pipe.execute()
    return RepairReport(f"redis prefix {prefix!r}", bad, skipped)
