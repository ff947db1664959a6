"""LiveState reads histories through the feedback table, and puts a far-off live clock on the data's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recloop.config import MemoryStateConfig
from recloop.data import Dataset
from recloop.events.feedback import Semantics
from recloop.events.schema import Event
from recloop.features import open_store
from recloop.ranking.inputs import item_stats, replay_histories
from recloop.serving.catalog import Catalog
from recloop.serving.coldstart import starter_list
from recloop.serving.live import LiveState

YEAR = 365 * 86400.0


def _live(ds: Dataset, tmp: Path, semantics: Semantics) -> LiveState:
    store = open_store(MemoryStateConfig(path=tmp / f"{semantics}.db"), ds.n_items, tmp)
    stats = item_stats(ds, ds.interactions, 7.0)
    return LiveState(Catalog(ds), replay_histories(ds, ds.interactions), stats, store, semantics)


def _ev(n: int, user: str, item: int, kind: str, t: float, value: float | None = None) -> Event:
    return Event(f"e{n}", user, item, (item + 1) * 10, kind, t, value)  # type: ignore[arg-type]


def test_explicit_semantics_splits_low_ratings_into_negatives(tiny_dataset: Dataset, tmp_path: Path) -> None:
    live = _live(tiny_dataset, tmp_path, "explicit")
    h = live.history("3")  # base: 10 (1 star), 20 (2), 40 (3), 50 (4) -> indices 0, 1, 3, 4
    assert h.items.tolist() == [3, 4] and h.weights.tolist() == pytest.approx([0.3, 0.8])
    assert h.negatives.tolist() == [0, 1] and h.negative_weights.tolist() == pytest.approx([1.0, 0.5])
    assert sorted(h.seen.tolist()) == [0, 1, 3, 4]
    live.apply([_ev(1, "3", 2, "rate", 109, 5.0), _ev(2, "3", 3, "dislike", 110)])
    h = live.history("3")
    assert h.items.tolist() == [3, 4, 2] and h.negatives.tolist() == [0, 1, 3]
    assert h.liked(0.5).tolist() == [4, 2]  # the 3-star item is in the history, never "liked"
    live.store.close()


def test_implicit_semantics_keeps_every_rating_positive(tiny_dataset: Dataset, tmp_path: Path) -> None:
    live = _live(tiny_dataset, tmp_path, "implicit")
    h = live.history("3")
    assert h.items.tolist() == [0, 1, 3, 4] and len(h.negatives) == 0
    assert h.item_weights.tolist() == [1.0, 1.0, 1.0, 1.0]
    live.store.close()


def test_a_live_clock_decades_past_the_data_is_put_on_the_data_clock(
    tiny_dataset: Dataset, tmp_path: Path
) -> None:
    live = _live(tiny_dataset, tmp_path, "explicit")
    base_trend = live.stats.trending(live.stats.now).copy()
    far = 108 + 28 * YEAR
    live.apply([_ev(1, "new", 4, "like", far), _ev(2, "new", 2, "like", far + 3600)])
    stats, h = live.stats, live.history("new")
    assert stats.now == 108 + 3600 and h.timestamps.tolist() == [108, 108 + 3600]
    trend = stats.trending(stats.now)
    assert trend[0] > 0.99 * base_trend[0]  # base items keep (almost all) their trending value
    live.store.close()


def test_starter_list_is_popular_without_ties_and_skips_rare_items() -> None:
    from recloop.retrieval.trending import ItemStats

    stats = ItemStats(6)
    for item, n in enumerate([50, 40, 40, 30, 3, 25]):
        for k in range(n):
            stats.add(item, float(k), 4.0)
    genres = [frozenset({"Drama"}), frozenset({"Drama"}), frozenset({"Comedy"}), frozenset({"Drama"}),
              frozenset({"Horror"}), frozenset({"Action"})]  # fmt: skip
    got = starter_list(stats, genres, np.ones(6, bool), 4, min_count=20)
    assert 4 not in got.items.tolist()  # 3 events: too few
    assert got.items[0] == 0 and len(set(got.scores.tolist())) == 4
    assert got.items.tolist().index(2) < got.items.tolist().index(1)  # comedy before a second drama
    assert all(r.startswith("popular to start with") for r in got.reasons)
