"""Item statistics never hold NaN or inf: refused at write on both backends, repaired in old stores."""

from __future__ import annotations

import dataclasses
import math
import sqlite3
import struct
import uuid
from pathlib import Path

import numpy as np
import pytest
import redis
from typer.testing import CliRunner

from features.conftest import N_ITEMS, REDIS_URL, StoreOpener, make_event
from recloop.cli import app
from recloop.config import get_settings
from recloop.errors import DataError, ValidationError
from recloop.features.redis_store import RedisFeatureStore
from recloop.features.repair import repair_redis, repair_sqlite
from recloop.features.sqlite_store import SQLiteFeatureStore
from recloop.features.store import FeatureStore


def _all_finite(store: FeatureStore) -> bool:
    s = store.item_stats()
    return all(bool(np.isfinite(a).all()) for a in (s.counts, s.trend_value, s.trend_time, s.rating_sum))


@pytest.mark.parametrize(("ts", "value"), [(math.nan, None), (math.inf, None), (1e9, math.nan),
                                           (1e9, math.inf)])  # fmt: skip
def test_a_non_finite_event_is_refused_before_anything_is_written(
    store: FeatureStore, open_test_store: StoreOpener, ts: float, value: float | None
) -> None:
    good = make_event(1, item=5)
    bad = dataclasses.replace(make_event(2, item=5, type="rate" if value is not None else "click",
                                         value=value), timestamp=ts)  # fmt: skip
    with pytest.raises(ValidationError, match="finite"):
        store.append([good, bad])
    assert store.event_count() == 0 and _all_finite(store)
    assert store.append([good]) == [True]
    store.close()
    again = open_test_store()  # a restart reads the same state
    assert again.event_count() == 1 and _all_finite(again) and again.item_stats().counts[5] == 1


@pytest.mark.redis
def test_redis_script_refuses_to_build_on_damaged_stats_and_repair_recomputes(redis_url: str) -> None:
    prefix = f"recloop-test-{uuid.uuid4().hex}"
    store = RedisFeatureStore(REDIS_URL, prefix, N_ITEMS)
    store.append([make_event(1, item=7, ts=1e9), make_event(2, item=7, ts=1e9 + 10), make_event(3, item=8)])
    client = redis.Redis.from_url(REDIS_URL)
    nan = float("nan")
    client.hset(f"{prefix}:items", "7", struct.pack("<ddddd", 2, nan, 1e9 + 10, 0, 0))  # an old poisoning
    with pytest.raises(DataError, match="recloop state repair"):
        store.append([make_event(4, item=7, ts=1e9 + 20)])
    assert store.event_count() == 3  # nothing of the refused event was written
    report = repair_redis(client, prefix)
    assert report.items == [7] and report.events == 0
    assert repair_redis(client, prefix).items == []  # idempotent
    store.refresh()
    s = store.item_stats()
    assert s.counts[7] == 2 and s.trend_time[7] == 1e9 + 10 and math.isfinite(s.trend_value[7])
    assert s.trend_value[7] == pytest.approx(1 + 2 ** (-10 / s.half_life_s))
    assert store.append([make_event(4, item=7, ts=1e9 + 20)]) == [True]
    store.clear()
    store.close()
    client.close()


def test_sqlite_store_refuses_a_log_with_non_finite_rows_until_repaired(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SQLiteFeatureStore(path, N_ITEMS)
    store.append([make_event(1, item=3), make_event(2, item=4)])
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE events SET timestamp = 9e999 WHERE event_id = 'e2'")  # inf, from an old writer
    conn.commit()
    conn.close()
    with pytest.raises(DataError, match="recloop state repair"):
        SQLiteFeatureStore(path, N_ITEMS)
    report = repair_sqlite(path)
    assert report.items == [4] and report.events == 1
    assert repair_sqlite(path).events == 0
    store = SQLiteFeatureStore(path, N_ITEMS)
    assert store.event_count() == 1 and _all_finite(store)
    store.close()
    (n,) = sqlite3.connect(path).execute("SELECT COUNT(*) FROM quarantined_events").fetchone()
    assert n == 1


@pytest.mark.parametrize("backend", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_state_repair_command_reports_what_it_fixed(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setenv("RECLOOP_HOME", str(tmp_path))
    monkeypatch.delenv("RECLOOP_STATE__PATH", raising=False)
    monkeypatch.setenv("RECLOOP_STATE__TYPE", backend)
    prefix = f"recloop-test-{uuid.uuid4().hex}"
    if backend == "memory":
        store: FeatureStore = SQLiteFeatureStore(tmp_path / "state.db", N_ITEMS)
    else:
        request.getfixturevalue("redis_url")
        monkeypatch.setenv("RECLOOP_STATE__URL", REDIS_URL)
        monkeypatch.setenv("RECLOOP_STATE__PREFIX", prefix)
        store = RedisFeatureStore(REDIS_URL, prefix, N_ITEMS)
    store.append([make_event(1, item=3), make_event(2, item=4)])
    if backend == "memory":
        store.close()
        with sqlite3.connect(tmp_path / "state.db") as conn:
            conn.execute("UPDATE events SET timestamp = -9e999 WHERE event_id = 'e1'")
    else:
        client = redis.Redis.from_url(REDIS_URL)
        client.hset(f"{prefix}:items", "3", struct.pack("<ddddd", 1, math.inf, 1e9, 0, 0))
        client.close()
    get_settings.cache_clear()
    try:
        first = CliRunner().invoke(app, ["state", "repair"])
        second = CliRunner().invoke(app, ["state", "repair"])
    finally:
        get_settings.cache_clear()
        if backend == "redis":
            store.clear()
            store.close()
    assert first.exit_code == 0, first.output
    assert "repaired the statistics of 1 items (3)" in first.stdout
    assert second.exit_code == 0 and "nothing to repair" in second.stdout
