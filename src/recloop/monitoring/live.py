"""Live serving statistics for the dashboard: 5-second buckets over 10 minutes.

The service reports every applied event, fold-in and recommendation here;
Prometheus counters are updated at the same time. Nothing here grows with the
number of distinct users: distinct users are counted by HyperLogLog (4 KiB for the
total, 1 KiB per 5-second bucket), and the lists shown are remembered for the
``recommended_users`` most recent users only, twice: the top 20 ranked for the online
positive rate (:data:`RECOMMENDED_BYTES` each) and the exposure attribution looks at
(monitoring/online.py, ``EXPOSURE_BYTES`` each); both are :class:`ByteLRU` s.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recloop.events.schema import EVENT_TYPES, Event
from recloop.monitoring.bounded import ByteLRU, array_bytes
from recloop.monitoring.distinct import HyperLogLog
from recloop.monitoring.drift import SlidingRate
from recloop.monitoring.metrics import Instruments
from recloop.monitoring.online import OnlineQuality, is_positive

__all__ = ["LiveStats"]

BUCKET_S = 5
WINDOW_S = 600
RECOMMENDED_BYTES = 600  # nominal: one user's top 20 (int32) with a 64-char id and its slot


@dataclass
class _Bucket:
    t: int
    events: dict[str, int] = field(default_factory=dict)
    foldins: int = 0
    latencies: list[float] = field(default_factory=list)
    users: HyperLogLog = field(default_factory=lambda: HyperLogLog(10))


class LiveStats:
    """Thread-safe counters + ring buffer; the service's observer.

    ``clock`` (Unix s) stamps buckets and the drift window's events and lists; tests pass a
    fake one to move time without sleeping. ``recent_events`` holds ``(item, type, rating, t)``,
    ``recent_recs`` ``(scores, cold, items, t)``. ``recommended_users`` bounds the users whose
    last shown list is kept (LRU).
    """

    POSITIVE_WINDOW = 1000
    LATENCY_WINDOW = 5000

    def __init__(self, instruments: Instruments, clock: Callable[[], float] = time.time,
                 recommended_users: int = 50_000) -> None:  # fmt: skip
        self.m = instruments
        self.clock = clock
        self.online = OnlineQuality(lambda: self.clock(), max_users=recommended_users)
        self._lock = threading.Lock()
        self._buckets: deque[_Bucket] = deque()
        self.events_total = 0
        self.events_by_type: dict[str, int] = {}
        self.foldins_total = 0
        self.requests_total = 0
        self.latencies: deque[float] = deque(maxlen=self.LATENCY_WINDOW)
        self.users = HyperLogLog(12)  # approximate distinct users (1.6 % standard error)
        self.recommended: ByteLRU[str, np.ndarray] = ByteLRU(  # top 20 ranked, int32
            "recommended", recommended_users * RECOMMENDED_BYTES, recommended_users)
        self.positive_rate = SlidingRate(self.POSITIVE_WINDOW)
        self.recommended_events = 0
        self._candidate_children: dict[str, Any] = {}  # per source name, made on first use
        self._appends = instruments.store_ops.labels("append")
        self._scores_hit = instruments.user_scores.labels("hit")
        self._scores_miss = instruments.user_scores.labels("miss")
        self._event_children = {t: instruments.events.labels(t) for t in EVENT_TYPES}
        self.recent_events: deque[tuple[int, str, float, float]] = deque(maxlen=5000)
        self.recent_recs: deque[tuple[np.ndarray, bool, np.ndarray, float]] = deque(maxlen=2000)

    def _bucket(self) -> _Bucket:
        t = int(self.clock()) // BUCKET_S * BUCKET_S
        if not self._buckets or self._buckets[-1].t != t:
            self._buckets.append(_Bucket(t))
            while self._buckets and self._buckets[0].t < t - WINDOW_S:
                self._buckets.popleft()
        return self._buckets[-1]

    def events(self, applied: list[Event]) -> None:
        """Count applied events; an event on a recommended item feeds the online rate."""
        now = self.clock()
        with self._lock:
            b = self._bucket()
            for ev in applied:
                self.events_total += 1
                self.events_by_type[ev.type] = self.events_by_type.get(ev.type, 0) + 1
                b.events[ev.type] = b.events.get(ev.type, 0) + 1
                b.users.add(ev.user_id)
                self.users.add(ev.user_id)
                self._event_children[ev.type].inc()
                self.recent_events.append((ev.item, ev.type, ev.rating, now))
                shown = self.recommended.get(ev.user_id)
                if shown is not None and bool((shown == ev.item).any()):
                    self.recommended_events += 1
                    self.positive_rate.update(is_positive(ev.type, ev.rating))
        for ev in applied:
            self.online.event(ev.user_id, ev.item, ev.type, ev.rating)
        self._appends.inc(len(applied))

    def foldin(self) -> None:
        """Count one fold-in."""
        with self._lock:
            self.foldins_total += 1
            self._bucket().foldins += 1
        self.m.foldins.inc()

    def user_scores(self, hit: bool) -> None:
        """Count one reuse (``hit``) or computation of a user's history-dependent scores."""
        (self._scores_hit if hit else self._scores_miss).inc()

    def recommendation(self, latency_ms: float, user_id: str, ranked: Any, cold: bool = False,
                       version: str | None = None, shown: Any = None) -> None:  # fmt: skip
        """Record one served list (latency, shown items, candidates per source, cold or not).

        ``version``: the model version that ranked it; ``shown``: the item indices returned
        (default: the ranking's top 10), the exposure its clicks and likes are attributed to.
        """
        now = self.clock()
        items = ranked.items[:10] if shown is None else np.asarray(shown)
        self.online.exposure(user_id, version or "?", items.tolist())
        with self._lock:
            self.requests_total += 1
            self.latencies.append(latency_ms)
            b = self._bucket()
            b.latencies.append(latency_ms)
            b.users.add(user_id)
            top = np.asarray(ranked.items[:20], dtype=np.int32)
            self.recommended.put(user_id, top, array_bytes(top))
            self.recent_recs.append((np.asarray(ranked.scores[:10]), cold, ranked.items[:10].copy(), now))
        names = ranked.source_names
        per_source = np.bincount(ranked.candidates.origin, minlength=len(names))
        for name, n in zip(names, per_source.tolist(), strict=True):
            child = self._candidate_children.get(name)
            if child is None:
                child = self._candidate_children[name] = self.m.candidates.labels(name)
            child.observe(float(n))

    def caches(self) -> list[ByteLRU[Any, Any]]:
        """The per-user structures held here (for the memory gauges)."""
        return [self.recommended, self.online.latest]

    def snapshot(self, model_version: str) -> dict[str, Any]:
        """The ``GET /v1/stats`` payload."""
        with self._lock:
            lat = np.asarray(self.latencies) if self.latencies else np.zeros(1)
            series = [{
                "t": b.t, "events": dict(b.events), "foldins": b.foldins,
                "p50_ms": float(np.percentile(b.latencies, 50)) if b.latencies else None,
                "p99_ms": float(np.percentile(b.latencies, 99)) if b.latencies else None,
                "active_users": len(b.users),
            } for b in self._buckets]  # fmt: skip
            return {
                "events_total": self.events_total, "events_by_type": dict(self.events_by_type),
                "active_users": len(self.users), "foldins_total": self.foldins_total,
                "requests_total": self.requests_total,
                "latency_ms": {"p50": float(np.percentile(lat, 50)),
                               "p99": float(np.percentile(lat, 99))},
                "model_version": model_version,
                "online": {"positive_rate": self.positive_rate.rate,
                           "recommended_events": self.recommended_events},
                "series": series,
            }  # fmt: skip
