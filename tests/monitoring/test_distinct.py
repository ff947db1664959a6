"""HyperLogLog and the LRU map behind the live statistics' bounded per-user memory."""

from __future__ import annotations

from recloop.monitoring.distinct import HyperLogLog, LRUMap


def test_hyperloglog_counts_within_its_error_in_fixed_memory() -> None:
    hll = HyperLogLog(12)
    for i in range(100_000):
        hll.add(f"user-{i}")
    for i in range(50_000):  # repeats count once
        hll.add(f"user-{i}")
    assert abs(len(hll) - 100_000) / 100_000 < 0.05
    assert len(hll.registers) == 4096


def test_hyperloglog_is_exact_enough_for_small_sets() -> None:
    hll = HyperLogLog(10)
    assert len(hll) == 0
    for i in range(30):
        hll.add(str(i))
    assert 28 <= len(hll) <= 32


def test_lru_map_keeps_the_most_recent_keys() -> None:
    m: LRUMap[str, int] = LRUMap(2)
    m.put("a", 1)
    m.put("b", 2)
    m.put("a", 3)
    m.put("c", 4)
    assert (m.get("a"), m.get("b"), m.get("c"), len(m)) == (3, None, 4, 2)
