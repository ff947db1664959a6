"""Item statistics across workers: merging, and a service picking up another worker's events.

Several workers on one Redis each keep item popularity and trending in memory;
``LiveState.sync`` rebuilds them from the training base plus
Redis's live-event stats, so every worker ranks with everyone's events.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from recloop.config import RedisStateConfig
from recloop.data import Dataset
from recloop.events.schema import Event
from recloop.features import open_store
from recloop.retrieval.trending import ItemStats
from recloop.serving.catalog import Catalog
from recloop.serving.live import LiveState


def _fed(events: list[tuple[int, float, float]], n_items: int = 4) -> ItemStats:
    s = ItemStats(n_items, half_life_days=1.0)
    for item, t, r in sorted(events, key=lambda e: e[1]):
        s.add(item, t, r)
    return s


def test_merged_stats_equal_one_stats_fed_both_streams() -> None:
    rng = np.random.default_rng(0)
    a = [(int(rng.integers(4)), float(rng.uniform(0, 5e5)), float(rng.integers(0, 6))) for _ in range(40)]
    b = [(int(rng.integers(4)), float(rng.uniform(0, 5e5)), float(rng.integers(0, 6))) for _ in range(30)]
    merged, both = _fed(a).merged(_fed(b)), _fed(a + b)
    for name in ("counts", "rating_sum", "rating_n", "trend_time"):
        np.testing.assert_array_equal(getattr(merged, name), getattr(both, name))
    np.testing.assert_allclose(merged.trend_value, both.trend_value, rtol=1e-12)
    np.testing.assert_allclose(merged.trending(6e5), both.trending(6e5), rtol=1e-12)
    assert merged.now == both.now


def test_merging_stats_of_another_half_life_is_refused() -> None:
    with pytest.raises(ValueError, match="half-life"):
        ItemStats(4, 1.0).merged(ItemStats(4, 7.0))


def _like(n: int, user: str, item: int, item_id: int) -> Event:
    return Event(f"sync-{n}", user, item, item_id, "like", 1_000_000.0 + n)


def test_a_worker_sees_another_workers_events_after_sync(redis_url: str, tiny_dataset: Dataset) -> None:
    config = RedisStateConfig(url=redis_url, prefix=f"recloop-test-{uuid.uuid4().hex}")
    n = tiny_dataset.n_items
    worker_a = open_store(config, n, Path("."))
    try:
        catalog = Catalog(tiny_dataset)
        base = ItemStats(n, 7.0)
        base.add(0, 500_000.0, 4.0)  # the training base: one rating of item 0
        assert worker_a.append([_like(1, "u1", 1, int(catalog.ids[1]))]) == [True]
        worker_b = open_store(config, n, Path("."))
        svc_b = LiveState(catalog, {}, base.copy(), worker_b)
        assert svc_b.stats.counts.tolist()[:3] == [1.0, 1.0, 0.0]  # base + the event at start-up

        assert worker_a.append([_like(2, "u2", 2, int(catalog.ids[2])),
                                _like(3, "u3", 1, int(catalog.ids[1]))]) == [True, True]  # fmt: skip
        assert svc_b.stats.counts.tolist()[:3] == [1.0, 1.0, 0.0]  # not yet
        svc_b.sync()
        assert svc_b.stats.counts.tolist()[:3] == [1.0, 2.0, 1.0]  # everyone's, each counted once
        assert svc_b.stats.now == 1_000_003.0
        assert svc_b.stats.trending(1_000_003.0)[1] > svc_b.stats.trending(1_000_003.0)[2] > 0
        svc_b.sync()  # idempotent
        assert svc_b.stats.counts.tolist()[:3] == [1.0, 2.0, 1.0]
        worker_b.close()
    finally:
        worker_a.clear()
        worker_a.close()
