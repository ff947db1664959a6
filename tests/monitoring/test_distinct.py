"""HyperLogLog: the live statistics' distinct users in fixed memory."""

from __future__ import annotations

from recloop.monitoring.distinct import HyperLogLog


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
