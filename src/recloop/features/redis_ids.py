"""The Redis store's idempotency memory: time-bucketed hashes of event id -> fingerprint and seq.

``P:ids:<k>`` is a HASH ``event id -> "<payload fingerprint>:<seq>"`` of the events stored
during time bucket ``k`` (bucket width = window / :data:`ID_BUCKETS`, at least 1 s). Each
bucket expires ``window + 2 widths`` after it was opened, so an id, its payload fingerprint
(recloop.events.idempotency) and where the stored event is in the log are remembered for at
least the idempotency window, and memory stays bounded by the event rate, not by the users.
The append script (recloop.features.redis_store) writes them; this module reads them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from recloop.features.redis_keys import glob_escape

__all__ = ["ID_BUCKETS", "IdBuckets", "bucket_keys", "id_marks", "ids_held", "stored_ids"]

ID_BUCKETS = 24  # the idempotency window is cut into this many buckets (one more is kept)


class IdBuckets:
    """The bucket keys and TTL of ``prefix`` for an idempotency window of ``window_s``."""

    def __init__(self, prefix: str, window_s: float) -> None:
        self.prefix = prefix
        self.width = max(1.0, window_s / ID_BUCKETS)
        self.ttl = math.ceil(window_s + 2 * self.width)

    def keys(self, now: float | None = None) -> list[str]:
        """The buckets to check at ``now`` (default: the clock), the current (written) one first."""
        k = int((time.time() if now is None else now) // self.width)
        return [f"{self.prefix}:ids:{k - b}" for b in range(ID_BUCKETS + 1)]


def id_marks(client: Any, keys: Sequence[str | bytes], event_ids: Sequence[str]) -> list[bytes | None]:
    """Per id, its ``<fingerprint>:<seq>`` in the first of ``keys`` that holds it, else None."""
    ids = list(event_ids)
    if not ids:
        return []
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hmget(key, ids)
    rows = pipe.execute()
    return [next((row[n] for row in rows if row[n] is not None), None) for n in range(len(ids))]


def bucket_keys(client: Any, prefix: str) -> list[bytes]:
    """Every id bucket of ``prefix`` that exists now (SCAN), whatever the window."""
    return list(client.scan_iter(match=glob_escape(prefix) + ":ids:*", count=1000))


def stored_ids(client: Any, prefix: str, event_ids: Sequence[str]) -> list[bool]:
    """Whether each id is held by any existing bucket of ``prefix`` (benchmarks' loss checks)."""
    ids = list(event_ids)
    found: set[str] = set()
    keys = bucket_keys(client, prefix)
    for start in range(0, len(ids), 5000):
        part = ids[start : start + 5000]
        found.update(i for i, m in zip(part, id_marks(client, keys, part), strict=True) if m is not None)
    return [i in found for i in ids]


def ids_held(client: Any, prefix: str) -> int:
    """How many ids the existing buckets of ``prefix`` hold (HLEN summed)."""
    return sum(int(client.hlen(k)) for k in bucket_keys(client, prefix))
