"""The bulk replay of the embedded store equals applying the events one by one."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from recloop.events.schema import EVENT_TYPES, Event
from recloop.features.sqlite_store import SQLiteFeatureStore

N_ITEMS = 40


def _events(n: int, seed: int = 3) -> list[Event]:
    rng = random.Random(seed)
    out = []
    for k in range(n):
        etype = rng.choice(EVENT_TYPES)
        item = rng.randrange(N_ITEMS)
        value = float(rng.randint(1, 5)) if etype == "rate" and rng.random() < 0.9 else None
        ts = 1e9 + k * 60.0 + rng.uniform(-3 * 86400, 0)  # out of order, like client clocks
        out.append(Event(f"e{k}", f"u{rng.randrange(30)}", item, item + 1, etype, ts, value))  # type: ignore[arg-type]
    return out


def test_reopen_rebuilds_exactly_what_appends_built(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    live = SQLiteFeatureStore(path, N_ITEMS, half_life_days=0.5)
    events = _events(3000)
    for start in range(0, len(events), 7):  # many small batches, like a server
        live.append(events[start : start + 7])
    users = sorted({e.user_id for e in events})
    before = {u: live.user_events(u) for u in users}
    stats = live.item_stats().copy()
    counts, n = live.counts_by_type(), live.event_count()
    live.close()

    again = SQLiteFeatureStore(path, N_ITEMS, half_life_days=0.5)
    assert again.event_count() == n == 3000
    assert again.counts_by_type() == counts
    assert again.users() == len(users)
    for u in users:
        a, b = before[u], again.user_events(u)
        for field in ("items", "timestamps", "ratings", "disliked"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert (a.counts_by_type, a.first_ts, a.last_ts, a.types) == (
            b.counts_by_type, b.first_ts, b.last_ts, b.types)  # fmt: skip
    s = again.item_stats()
    np.testing.assert_array_equal(s.counts, stats.counts)
    np.testing.assert_array_equal(s.rating_sum, stats.rating_sum)
    np.testing.assert_array_equal(s.rating_n, stats.rating_n)
    np.testing.assert_array_equal(s.trend_time, stats.trend_time)
    np.testing.assert_allclose(s.trend_value, stats.trend_value, rtol=1e-12)
    assert s.now == stats.now
    assert again.append(events[:5]) == [False] * 5  # ids are still known
    again.close()
