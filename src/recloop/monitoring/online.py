"""Online quality per model version: lists served, and the clicks/likes attributed to them.

Every served list is an exposure of the model version that ranked it. An event of the same user
on an item of their latest list (within ``attribution_s``) is attributed to that exposure, in the
one-minute bucket the list was served in. Per bucket and version:

- ``ctr``: the share of lists that got at least one click or like (``clicked / lists``);
- ``positive_rate``: the positive share of attributed events (like, click, purchase, rating >= 4).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from recloop.monitoring.bounded import ByteLRU, array_bytes

__all__ = ["EXPOSURE_BYTES", "OnlineBucket", "OnlineQuality", "is_positive"]

CLICK_TYPES = frozenset({"click", "like"})


def is_positive(event_type: str, rating: float | None) -> bool:
    """Like, click, purchase, or a rating of 4 or more."""
    return event_type in ("like", "purchase", "click") or (event_type == "rate" and (rating or 0) >= 4)


@dataclass
class OnlineBucket:
    """Counts of one version in one bucket (``t``: bucket start, Unix s)."""

    t: int
    version: str
    lists: int = 0
    clicked: int = 0
    attributed: int = 0
    positives: int = 0

    @property
    def ctr(self) -> float | None:
        """Share of this bucket's lists with a click or like (None without lists)."""
        return self.clicked / self.lists if self.lists else None

    @property
    def positive_rate(self) -> float | None:
        """Positive share of the events attributed to this bucket's lists (None without any)."""
        return self.positives / self.attributed if self.attributed else None


@dataclass(slots=True)
class _Exposure:
    bucket: tuple[int, str]
    items: np.ndarray  # int32, the list's item indices
    t: float
    clicked: bool = False


EXPOSURE_BYTES = 600  # nominal cost of one user's latest exposure (10 items, a 64-char id, slot)


class OnlineQuality:
    """Thread-safe per-version buckets over the last ``window_s`` seconds.

    The latest list of the ``max_users`` most recently served users is kept for attribution
    (LRU, at most ``max_users`` x :data:`EXPOSURE_BYTES`); an older user's event is not attributed.
    """

    def __init__(self, clock: Callable[[], float] = time.time, bucket_s: int = 60,
                 window_s: int = 3600, attribution_s: float = 1800.0,
                 max_users: int = 50_000) -> None:  # fmt: skip
        self.clock, self.bucket_s, self.window_s = clock, bucket_s, window_s
        self.attribution_s = attribution_s
        self._buckets: dict[tuple[int, str], OnlineBucket] = {}
        self.latest: ByteLRU[str, _Exposure] = ByteLRU(
            "online_exposures", max_users * EXPOSURE_BYTES, max_users)
        self._lock = threading.Lock()

    def _start(self, now: float) -> int:
        return int(now) // self.bucket_s * self.bucket_s

    def exposure(self, user_id: str, version: str, items: Collection[int]) -> None:
        """One list of ``items`` served to ``user_id`` by model ``version``."""
        now = self.clock()
        key = (self._start(now), version)
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = OnlineBucket(*key)
                self._evict(now)
            b.lists += 1
            shown = np.fromiter(items, dtype=np.int32, count=len(items))
            self.latest.put(user_id, _Exposure(key, shown, now), array_bytes(shown) + 64)

    def event(self, user_id: str, item: int, event_type: str, rating: float | None) -> None:
        """Attribute one applied event to the user's latest list if it shows ``item``."""
        with self._lock:
            exp = self.latest.get(user_id)
            if exp is None or self.clock() - exp.t > self.attribution_s:
                return
            if not bool((exp.items == item).any()):
                return
            b = self._buckets.get(exp.bucket)
            if b is None:  # the list's bucket left the window
                return
            b.attributed += 1
            b.positives += is_positive(event_type, rating)
            if event_type in CLICK_TYPES and not exp.clicked:
                exp.clicked = True
                b.clicked += 1

    def _evict(self, now: float) -> None:
        oldest = self._start(now) - self.window_s
        for key in [k for k in self._buckets if k[0] < oldest]:
            del self._buckets[key]

    def buckets(self) -> list[OnlineBucket]:
        """Buckets inside the window, by time then version."""
        now = self.clock()
        with self._lock:
            self._evict(now)
            return sorted(self._buckets.values(), key=lambda b: (b.t, b.version))

    def snapshot(self, serving_version: str) -> dict[str, Any]:
        """The ``GET /v1/monitoring/online`` payload: per-bucket points and per-version totals."""
        buckets = self.buckets()
        totals: dict[str, OnlineBucket] = {}
        for b in buckets:
            t = totals.setdefault(b.version, OnlineBucket(0, b.version))
            t.lists, t.clicked = t.lists + b.lists, t.clicked + b.clicked
            t.attributed, t.positives = t.attributed + b.attributed, t.positives + b.positives

        def out(b: OnlineBucket) -> dict[str, Any]:
            return {"version": b.version, "lists": b.lists, "clicked": b.clicked, "attributed": b.attributed,
                    "positives": b.positives, "ctr": b.ctr, "positive_rate": b.positive_rate}  # fmt: skip

        return {"bucket_s": self.bucket_s, "window_s": self.window_s, "now": self.clock(),
                "serving_version": serving_version,
                "versions": [out(t) for _, t in sorted(totals.items())],
                "series": [{"t": b.t, **out(b)} for b in buckets]}  # fmt: skip
