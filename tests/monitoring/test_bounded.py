"""Per-user memory is bounded by bytes: ByteLRU, its Prometheus gauges, and the live stats' maps."""

from __future__ import annotations

import numpy as np
from prometheus_client import CollectorRegistry, generate_latest

from recloop.monitoring.bounded import ENTRY_OVERHEAD, ByteLRU, CacheCollector, array_bytes
from recloop.monitoring.live import RECOMMENDED_BYTES, LiveStats
from recloop.monitoring.metrics import Instruments
from recloop.monitoring.online import EXPOSURE_BYTES, OnlineQuality


def test_byte_lru_evicts_the_least_recent_to_stay_within_its_bytes() -> None:
    c: ByteLRU[str, int] = ByteLRU("t", limit_bytes=3 * (1000 + ENTRY_OVERHEAD + 60))
    for key in "abcd":
        c.put(key, ord(key), 1000)
    assert len(c) == 3 and c.get("a") is None and c.nbytes <= c.limit_bytes
    c.move_to_end("b")  # b is now the most recent: c goes next
    c.put("e", 0, 1000)
    assert c.get("b") == ord("b") and c.get("c") is None and c.evictions == 2


def test_byte_lru_charges_a_replaced_entry_once_and_refuses_an_entry_over_the_bound() -> None:
    c: ByteLRU[str, int] = ByteLRU("t", limit_bytes=10_000)
    c.put("a", 1, 500)
    c.put("a", 2, 800)
    assert len(c) == 1 and c.get("a") == 2 and c.nbytes < 800 + ENTRY_OVERHEAD + 100
    c.put("big", 3, 20_000)
    assert "big" not in c and c.get("a") == 2
    assert c.pop("a") == 2 and c.nbytes == 0


def test_byte_lru_count_bound_and_long_keys_cost_their_bytes() -> None:
    c: ByteLRU[str, int] = ByteLRU("t", limit_bytes=10**9, max_entries=2)
    for key in "abc":
        c.put(key, 0, 10)
    assert len(c) == 2
    long_keys: ByteLRU[str, int] = ByteLRU("t", limit_bytes=50_000)
    for i in range(1000):  # 10 KB ids: the bytes bound, not a count, holds them back
        long_keys.put(f"{i}-" + "x" * 10_000, i, 10)
    assert len(long_keys) <= 4 and long_keys.nbytes <= 50_000


def test_cache_collector_exports_bytes_bound_and_entries() -> None:
    c: ByteLRU[str, np.ndarray] = ByteLRU("shown", limit_bytes=1 << 20)
    c.put("u", np.zeros(10, np.int32), array_bytes(np.zeros(10, np.int32)))
    registry = CollectorRegistry()
    registry.register(CacheCollector(lambda: [c]))
    text = generate_latest(registry).decode()
    assert f'recloop_user_cache_bytes{{cache="shown"}} {float(c.nbytes)}' in text
    assert 'recloop_user_cache_limit_bytes{cache="shown"} 1.048576e+06' in text
    assert 'recloop_user_cache_entries{cache="shown"} 1.0' in text


class _Ranked:
    """The few fields LiveStats.recommendation reads."""

    def __init__(self) -> None:
        self.items = np.arange(20)
        self.scores = np.linspace(1, 0, 20)
        self.source_names = ["popular"]
        self.candidates = type("C", (), {"origin": np.zeros(20, np.int64)})()


def test_live_stats_keep_at_most_recommended_users_lists_however_many_users_come() -> None:
    live = LiveStats(Instruments(), recommended_users=100)
    ranked = _Ranked()
    for i in range(5000):
        live.recommendation(1.0, f"new-{i:032d}", ranked, cold=True, version="1")
    for cache, nominal in zip(live.caches(), (RECOMMENDED_BYTES, EXPOSURE_BYTES), strict=True):
        assert len(cache) == 100, cache.name
        assert cache.nbytes <= cache.limit_bytes == 100 * nominal
    assert live.online.latest.get("new-00000000000000000000000000004999") is not None


def test_online_quality_attributes_only_users_still_in_its_bound() -> None:
    q = OnlineQuality(lambda: 1000.0, max_users=2)
    for user in ("a", "b", "c"):
        q.exposure(user, "1", [7])
    q.event("a", 7, "click", None)  # evicted: not attributed
    q.event("c", 7, "click", None)
    (b,) = q.buckets()
    assert (b.lists, b.clicked, b.attributed) == (3, 1, 1)
