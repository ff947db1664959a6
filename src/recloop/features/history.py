"""A user's live history as packed fixed-width records, shared by both store backends.

One record per event, 17 bytes, little-endian ``<iBdf``: item index (int32), type code
(uint8, index into ``EVENT_TYPES``), timestamp (float64 Unix s), rating (float32, 0 when
none). Redis keeps a user's records as one string, the embedded store as one
``bytearray``; either is parsed by one ``np.frombuffer``. Per-event Python objects cost
~150 bytes an event; a record costs 17 (benchmarks/store_memory.py).
"""

from __future__ import annotations

import struct

import numpy as np

from recloop.events.schema import EVENT_TYPES, NEGATIVE_TYPES, Event
from recloop.features.store import UserLive

__all__ = ["IS_NEGATIVE", "RECORD", "RECORD_STRUCT", "TYPE_CODE", "pack_record", "user_live"]

RECORD_STRUCT = struct.Struct("<iBdf")
RECORD = np.dtype([("item", "<i4"), ("type", "u1"), ("ts", "<f8"), ("rating", "<f4")])
TYPE_CODE = {t: i for i, t in enumerate(EVENT_TYPES)}
IS_NEGATIVE = np.array(
    [t in NEGATIVE_TYPES for t in EVENT_TYPES] + [False] * (256 - len(EVENT_TYPES)), dtype=bool
)


def pack_record(e: Event) -> bytes:
    """The event's 17-byte record."""
    return RECORD_STRUCT.pack(e.item, TYPE_CODE[e.type], e.timestamp, e.rating)


def _frozen(arr: np.ndarray, dtype: type[np.generic]) -> np.ndarray:
    out = np.array(arr, dtype=dtype)  # a contiguous copy: never a view of the packed buffer
    out.setflags(write=False)
    return out


def user_live(user_id: str, raw: bytes | None) -> UserLive:
    """The :class:`UserLive` of a user whose packed records are ``raw`` (None/empty: unknown)."""
    if not raw:
        return UserLive.empty(user_id)
    rec = np.frombuffer(raw, dtype=RECORD)
    neg = IS_NEGATIVE[rec["type"]]
    pos = ~neg
    counts = np.bincount(rec["type"], minlength=len(EVENT_TYPES))
    return UserLive(
        user_id,
        _frozen(rec["item"][pos], np.int64),
        _frozen(rec["ts"][pos], np.float64),
        _frozen(rec["rating"][pos], np.float32),
        _frozen(rec["item"][neg], np.int64),
        {EVENT_TYPES[i]: int(c) for i, c in enumerate(counts.tolist()) if c},
        float(rec["ts"].min()),
        float(rec["ts"].max()),
        tuple(EVENT_TYPES[t] for t in rec["type"][pos].tolist()),
        _frozen(rec["ts"][neg], np.float64),
    )
