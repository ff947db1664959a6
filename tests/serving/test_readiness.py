"""/ready's disk check against its threshold (the store check: tests/features/test_redis_hang.py)."""

from __future__ import annotations

from pathlib import Path

from recloop.serving.readiness import check_disk


def test_disk_check_against_the_threshold(tmp_path: Path) -> None:
    assert check_disk(tmp_path, 0.0).ok
    low = check_disk(tmp_path, 1e12)
    assert not low.ok and "RECLOOP_READY_MIN_FREE_MB" in low.detail
    assert not check_disk(tmp_path / "missing", 0.0).ok
