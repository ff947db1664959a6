"""A full disk answers 503 with what to do, and loses nothing that was acknowledged."""

from __future__ import annotations

from pathlib import Path

import pytest

from recloop.config import MemoryStateConfig
from recloop.data import Dataset
from recloop.errors import StorageUnavailableError
from recloop.events.schema import Event
from recloop.features import open_store
from recloop.retrieval.trending import ItemStats
from recloop.serving.catalog import Catalog
from recloop.serving.live import LiveState


def _events(start: int, n: int) -> list[Event]:
    return [Event(f"full-{k}", f"user-{k % 7}", k % 5, 10 * (k % 5 + 1), "click", 1_000_000.0 + k,
                  None, "x" * 400) for k in range(start, start + n)]  # fmt: skip


def test_a_full_sqlite_file_is_a_503_and_acknowledged_events_survive(
    tiny_dataset: Dataset, tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    store = open_store(MemoryStateConfig(path=path), tiny_dataset.n_items, tmp_path)
    live = LiveState(Catalog(tiny_dataset), {}, ItemStats(tiny_dataset.n_items), store)
    acked = live.apply(_events(0, 20))
    assert len(acked) == 20
    conn = store._conn  # type: ignore[attr-defined]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 1}")  # the real SQLITE_FULL from here on
    with pytest.raises(StorageUnavailableError) as info:
        for start in range(20, 2000, 100):
            live.apply(_events(start, 100))
    assert info.value.status_code == 503 and "Free disk space" in info.value.message
    assert "full" in info.value.message
    store.close()
    again = open_store(MemoryStateConfig(path=path), tiny_dataset.n_items, tmp_path)
    stored = {e.event_id for _, e in again.events()}
    assert {e.event_id for e in acked} <= stored  # every acknowledged event is there
    again.close()
