"""The FeatureStore contract, run against every backend (``memory`` and ``redis``)."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from features.conftest import N_ITEMS, ConfigMaker, StoreOpener, make_event
from recloop.config import MemoryStateConfig
from recloop.errors import ConfigError, ValidationError
from recloop.features import FeatureStore, UserLive, open_store
from recloop.retrieval.trending import ItemStats


def assert_same_user(a: UserLive, b: UserLive) -> None:
    for name in ("items", "timestamps", "ratings", "disliked"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert (a.counts_by_type, a.first_ts, a.last_ts) == (b.counts_by_type, b.first_ts, b.last_ts)


def test_append_then_read_your_writes(store: FeatureStore) -> None:
    assert isinstance(store, FeatureStore)
    events = [
        make_event(1, item=3, type="view", ts=100.0),
        make_event(2, item=7, type="rate", ts=101.5, value=4.0),
        make_event(3, item=3, type="purchase", ts=99.0),
    ]
    assert store.append(events) == [True, True, True]

    live = store.user_events("u1")
    assert live.items.dtype == np.int64 and live.items.tolist() == [3, 7, 3]
    assert live.timestamps.dtype == np.float64 and live.timestamps.tolist() == [100.0, 101.5, 99.0]
    assert live.ratings.dtype == np.float32 and live.ratings.tolist() == [0.0, 4.0, 0.0]
    assert live.disliked.dtype == np.int64 and live.disliked.tolist() == []
    assert live.counts_by_type == {"view": 1, "rate": 1, "purchase": 1}
    assert (live.first_ts, live.last_ts) == (99.0, 101.5)
    assert not live.items.flags.writeable


def test_unknown_user_is_empty(store: FeatureStore) -> None:
    store.append([make_event(1, user="someone")])
    live = store.user_events("nobody")
    assert len(live) == 0 and live.items.dtype == np.int64 and live.ratings.dtype == np.float32
    assert live.disliked.size == 0 and live.counts_by_type == {}
    assert live.first_ts is None and live.last_ts is None


def test_same_event_id_across_batches_is_applied_once(store: FeatureStore) -> None:
    event = make_event(1, item=4, type="rate", value=5.0)
    assert store.append([event]) == [True]
    assert store.append([event]) == [False]
    # Same id, different content: still a duplicate, the first version stays.
    assert store.append([make_event(1, item=9, type="dislike")]) == [False]

    assert store.event_count() == 1
    assert store.user_events("u1").items.tolist() == [4]
    assert store.counts_by_type() == {"rate": 1}
    stats = store.item_stats()
    assert stats.counts[4] == 1.0 and stats.rating_sum[4] == 5.0 and stats.counts.sum() == 1.0


def test_duplicate_inside_one_batch_is_applied_once(store: FeatureStore) -> None:
    a, b = make_event(1, item=1), make_event(2, item=2)
    assert store.append([a, b, a, make_event(1, item=5), b]) == [True, True, False, False, False]
    assert store.event_count() == 2
    assert store.user_events("u1").items.tolist() == [1, 2]
    assert [e.event_id for _, e in store.events()] == ["e1", "e2"]


def test_dislike_goes_to_disliked_not_items_or_popularity(store: FeatureStore) -> None:
    store.append([make_event(1, item=5, type="like"), make_event(2, item=6, type="dislike", ts=5e9)])
    live = store.user_events("u1")
    assert live.items.tolist() == [5] and live.disliked.tolist() == [6]
    assert live.counts_by_type == {"like": 1, "dislike": 1}
    assert live.last_ts == 5e9  # a dislike is still activity
    assert store.item_stats().counts[6] == 0.0 and store.item_stats().counts[5] == 1.0


def test_types_align_with_positive_items(store: FeatureStore) -> None:
    store.append([
        make_event(1, item=5, type="like"), make_event(2, item=6, type="dislike"),
        make_event(3, item=7, type="rate", value=4.0), make_event(4, item=8, type="view"),
    ])  # fmt: skip
    live = store.user_events("u1")
    assert live.items.tolist() == [5, 7, 8]
    assert live.types == ("like", "rate", "view")
    assert store.user_events("nobody").types == ()


def test_counts_by_type_per_user_and_global(store: FeatureStore) -> None:
    types = ["view", "view", "click", "dislike", "rate", "purchase", "view"]
    users = ["a", "b", "a", "c", "a", "b", "a"]
    store.append(
        [
            make_event(i, user=u, type=t, value=3.0 if t == "rate" else None)  # type: ignore[arg-type]
            for i, (u, t) in enumerate(zip(users, types, strict=True))
        ]
    )
    assert store.counts_by_type() == {"view": 3, "click": 1, "dislike": 1, "rate": 1, "purchase": 1}
    assert store.user_events("a").counts_by_type == {"view": 2, "click": 1, "rate": 1}
    assert store.user_events("c").counts_by_type == {"dislike": 1}
    assert store.users() == 3
    assert store.event_count() == 7


def test_item_stats_match_a_reference_itemstats(store: FeatureStore) -> None:
    rng = np.random.default_rng(0)
    events, reference = [], ItemStats(N_ITEMS)
    for n in range(300):
        item, ts = int(rng.integers(0, 10)), 1e9 + float(rng.integers(0, 30 * 86400))
        kind = ["view", "rate", "dislike", "click"][n % 4]
        value = float(rng.integers(1, 6)) if kind == "rate" else None
        events.append(make_event(n, user=f"u{n % 7}", item=item, type=kind, ts=ts, value=value))  # type: ignore[arg-type]
        if kind != "dislike":
            reference.add(item, ts, value or 0.0)
    before = store.item_stats()
    for start in range(0, 300, 37):
        store.append(events[start : start + 37])

    stats = store.item_stats()
    assert stats is before  # live object, updated in place
    np.testing.assert_array_equal(stats.counts, reference.counts)
    np.testing.assert_array_equal(stats.rating_sum, reference.rating_sum)
    np.testing.assert_array_equal(stats.rating_n, reference.rating_n)
    np.testing.assert_allclose(stats.trending(), reference.trending(), rtol=1e-12)
    assert stats.counts.sum() == 225 and stats.rating_n.sum() == 75
    store.refresh()  # reloading from the backend gives the same numbers
    np.testing.assert_array_equal(stats.counts, reference.counts)
    np.testing.assert_allclose(stats.trending(), reference.trending(), rtol=1e-12)


def test_events_in_log_order_with_sequence_numbers(store: FeatureStore) -> None:
    events = [
        make_event(i, user=f"u{i % 3}", type="rate" if i % 2 else "view", ts=1e9 + i / 3) for i in range(25)
    ]
    events[4] = make_event(4, type="rate", value=2.5, request_id="req-9", ts=1.25e9 + 0.125)
    store.append(events[:10])
    store.append(events[5:25])

    log = store.events()
    assert [seq for seq, _ in log] == list(range(1, 26))
    assert [e for _, e in log] == events  # exact round trip of every field
    assert store.events(after=20) == log[20:]
    assert store.events(after=3, limit=4) == log[3:7]
    assert store.events(after=25) == [] and store.events(limit=0) == []


def test_invalid_item_rejects_the_whole_batch(store: FeatureStore) -> None:
    with pytest.raises(ValidationError, match="outside the catalog"):
        store.append([make_event(1), make_event(2, item=N_ITEMS)])
    assert store.event_count() == 0 and store.user_events("u1").items.size == 0
    assert store.append([make_event(1)]) == [True]


def test_reopen_restores_identical_state(open_test_store: StoreOpener) -> None:
    first = open_test_store()
    events = [
        make_event(i, user=f"u{i % 4}", type=["view", "rate", "dislike"][i % 3], value=4.0)  # type: ignore[arg-type]
        for i in range(60)
    ]
    first.append(events[:30])
    first.append(events[30:])
    snapshot = {u: first.user_events(u) for u in ("u0", "u1", "u2", "u3")}
    stats = first.item_stats().copy()
    log, counts, n_users = first.events(), first.counts_by_type(), first.users()
    first.close()

    second = open_test_store()
    for user, live in snapshot.items():
        assert_same_user(second.user_events(user), live)
    assert second.events() == log and second.counts_by_type() == counts
    assert second.users() == n_users == 4 and second.event_count() == 60
    np.testing.assert_array_equal(second.item_stats().counts, stats.counts)
    np.testing.assert_array_equal(second.item_stats().rating_sum, stats.rating_sum)
    np.testing.assert_allclose(second.item_stats().trending(), stats.trending(), rtol=1e-12)
    assert second.append([events[7]]) == [False]  # dedup survives the restart
    assert second.append([make_event(60)]) == [True] and second.events(after=60)[0][0] == 61


_WRITER = """
import json, sys
from recloop.config import MemoryStateConfig, RedisStateConfig
from recloop.events import Event
from recloop.features import open_store

raw, n_items = json.loads(sys.argv[1]), int(sys.argv[3])
config = (MemoryStateConfig if raw["type"] == "memory" else RedisStateConfig)(**raw)
store = open_store(config, n_items, sys.argv[2])
n = 0
while True:
    size = 1 + n % 3
    batch = [
        Event(f"e{i}", f"u{i % 5}", i % n_items, i % n_items + 1, "click", 1e9 + i)
        for i in range(n, n + size)
    ]
    store.append(batch)
    print("acked", *[e.event_id for e in batch], flush=True)
    n += size
"""


def test_acknowledged_events_survive_sigkill(
    store_config: ConfigMaker, open_test_store: StoreOpener, tmp_path: Path
) -> None:
    config = store_config()
    raw = json.dumps(config.model_dump(mode="json"))
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, raw, str(tmp_path), str(N_ITEMS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    acked: list[str] = []
    try:
        while len(acked) < 200:  # other lines are the store's own log output
            line = proc.stdout.readline()
            assert line, "the writer died before it was killed"
            acked += line.split()[1:] if line.startswith("acked") else []
        proc.send_signal(signal.SIGKILL)
        for line in proc.stdout:  # acks already in the pipe when the kill landed
            acked += line.split()[1:] if line.startswith("acked") else []
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    store = open_test_store()
    stored = {e.event_id for _, e in store.events()}
    assert set(acked) <= stored
    assert store.event_count() == len(stored) >= len(acked)
    assert store.events()[-1][0] == len(stored)


def test_concurrent_appends_store_everything_once(store: FeatureStore) -> None:
    contended = [make_event(100_000 + k, user="shared", item=k % N_ITEMS) for k in range(100)]
    results: dict[int, list[bool]] = {}

    def writer(t: int) -> None:
        mine = [make_event(t * 1000 + k, user=f"w{t}") for k in range(500)]
        flags: list[bool] = []
        k = 0
        while k < 500:
            size = 1 if k % 3 else 20
            store.append(mine[k : k + size])
            flags += store.append(contended[(k // 5) % 100 : (k // 5) % 100 + 1])
            k += size
        flags += store.append(contended)
        results[t] = flags

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()

    log = store.events()
    ids = [e.event_id for _, e in log]
    assert len(ids) == len(set(ids)) == 2100 == store.event_count()
    assert [seq for seq, _ in log] == list(range(1, 2101))
    assert sum(sum(flags) for flags in results.values()) == 100  # each contended id won once
    for t in range(4):
        assert store.user_events(f"w{t}").items.size == 500
    assert store.user_events("shared").items.size == 100
    assert store.item_stats().counts.sum() == 2100
    assert store.users() == 5


def test_user_factor_round_trip(store: FeatureStore) -> None:
    assert store.user_factor("u1") is None
    factor = np.linspace(-1, 1, 32, dtype=np.float32)
    store.set_user_factor("u1", factor)
    got = store.user_factor("u1")
    assert got is not None and got.dtype == np.float32
    np.testing.assert_array_equal(got, factor)
    factor[0] = 99.0  # the store kept its own copy
    assert got[0] == -1.0
    store.set_user_factor("u1", np.ones(8, dtype=np.float32))
    np.testing.assert_array_equal(store.user_factor("u1"), np.ones(8, np.float32))
    with pytest.raises(ValidationError):
        store.set_user_factor("u1", np.ones((2, 2), dtype=np.float32))


def test_clear_wipes_only_this_store(open_test_store: StoreOpener) -> None:
    store, other = open_test_store(), open_test_store("other")
    store.append([make_event(i) for i in range(10)])
    other.append([make_event(i) for i in range(3)])
    store.set_user_factor("u1", np.ones(4, np.float32))
    stats = store.item_stats()

    store.clear()
    assert store.event_count() == 0 and store.events() == [] and store.users() == 0
    assert store.counts_by_type() == {} and store.user_events("u1").items.size == 0
    assert store.user_factor("u1") is None
    assert store.item_stats() is stats and stats.counts.sum() == 0.0
    assert store.append([make_event(0)]) == [True]  # ids are forgotten, seq restarts
    assert store.events()[0][0] == 1
    assert other.event_count() == 3 and other.user_events("u1").items.size == 3


def test_memory_backend_refuses_a_second_open(tmp_path: Path) -> None:
    config = MemoryStateConfig()
    first = open_store(config, N_ITEMS, tmp_path)
    try:
        assert Path(first.path) == tmp_path / "state.db"  # type: ignore[attr-defined]
        with pytest.raises(ConfigError, match="RECLOOP_STATE__TYPE=redis"):
            open_store(config, N_ITEMS, tmp_path)
    finally:
        first.close()
    open_store(config, N_ITEMS, tmp_path).close()  # released on close


def test_stored_events_carry_the_payload_fingerprint(
    store: FeatureStore, open_test_store: StoreOpener
) -> None:
    a = dataclasses.replace(make_event(1, item=3), fingerprint="f" * 32)
    b = make_event(2, item=4)  # no payload: no fingerprint
    assert store.append([a, b]) == [True, True]
    assert store.append([dataclasses.replace(a, item=5, fingerprint="0" * 32)]) == [False]
    found = store.stored_events(["e1", "e2", "e9", "e1"])
    assert set(found) == {"e1", "e2"}
    assert found["e1"] == a and found["e1"].fingerprint == "f" * 32  # the first payload stays
    assert found["e2"].fingerprint is None and found["e2"].item == 4
    assert store.stored_events([]) == {}
    store.close()
    assert open_test_store().stored_events(["e1"])["e1"].fingerprint == "f" * 32  # after a restart
