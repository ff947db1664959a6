"""The global sources' shared rows give exactly the per-request candidates, ties and ranks included."""

from __future__ import annotations

import numpy as np

from recloop.retrieval.candidates import CandidateSources
from recloop.retrieval.history import History
from recloop.retrieval.sources import SourceSpec
from recloop.retrieval.sources.popularity import PopularSource, TrendingSource
from recloop.retrieval.trending import ItemStats

N = 300


def _stats(seed: int) -> ItemStats:
    rng = np.random.default_rng(seed)
    stats = ItemStats(N, half_life_days=2.0)
    items = rng.zipf(1.3, 4000) % N  # heavy ties among the small counts
    for t, i in enumerate(items.tolist()):
        stats.add(int(i), 1_000_000.0 + 600.0 * t, float(rng.integers(0, 6)))
    return stats


def _sources() -> CandidateSources:
    return CandidateSources([PopularSource(SourceSpec(kind="popular", quota=25)),
                             TrendingSource(SourceSpec(kind="trending", quota=25))], N)  # fmt: skip


def test_shared_rows_equal_the_per_request_path_for_many_users() -> None:
    shared, plain = _sources(), _sources()
    plain._global = None  # the per-request path: every row scored, masked and sorted per call
    rng = np.random.default_rng(7)
    for seed in range(3):
        stats = _stats(seed)
        for n_seen in (0, 1, 5, 40, 290, 300):
            seen = rng.choice(N, n_seen, replace=False)
            h = History.from_items(rng.permutation(seen))  # unsorted, as training frames build it
            at = stats.now + float(rng.integers(0, 3)) * 3600.0
            a, b = shared.generate(h, stats, at), plain.generate(h, stats, at)
            assert np.array_equal(a.items, b.items)
            assert np.array_equal(a.origin, b.origin)
            assert np.array_equal(a.scores, b.scores)
            assert np.array_equal(a.ranks, b.ranks)
            assert np.array_equal(a.source_max, b.source_max)
            assert not np.isin(a.items, seen).any()


def test_rows_are_recomputed_when_the_statistics_or_the_time_move() -> None:
    src, h = _sources(), History.from_items([1, 2, 3])
    stats = _stats(0)
    first = src.generate(h, stats, stats.now)
    stats2 = _stats(1)
    moved = src.generate(h, stats2, stats2.now)
    plain = _sources()
    plain._global = None
    assert np.array_equal(moved.scores, plain.generate(h, stats2, stats2.now).scores)
    assert not np.array_equal(first.scores, moved.scores)
    later = src.generate(h, stats2, stats2.now + 86400.0 * 5)
    assert np.array_equal(later.scores, plain.generate(h, stats2, stats2.now + 86400.0 * 5).scores)


def test_rows_follow_events_added_in_place_at_the_same_time() -> None:
    """Training replays add events to one ItemStats between queries, often within one second."""
    src, plain, h = _sources(), _sources(), History.from_items([1])
    plain._global = None
    stats = _stats(0)
    at = stats.now
    src.generate(h, stats, at)
    for _ in range(30):
        stats.add(299, at)  # the same second: only the statistics moved
    got, want = src.generate(h, stats, at), plain.generate(h, stats, at)
    assert np.array_equal(got.scores, want.scores) and 299 in got.items.tolist()
