"""The Redis store's bounded parts: id buckets that expire, and a log trimmed after archiving."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from features.conftest import N_ITEMS, make_event
from recloop.features.redis_store import ID_BUCKETS, RedisFeatureStore

pytestmark = pytest.mark.redis


@pytest.fixture()
def open_redis(redis_url: str) -> Iterator[tuple[redis.Redis, list[RedisFeatureStore], str]]:
    prefix = f"recloop-test-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(redis_url)
    opened: list[RedisFeatureStore] = []
    yield client, opened, prefix
    for store in opened:
        store.clear()
        store.close()
    client.close()


def test_id_buckets_expire_and_duplicates_inside_the_window_are_refused(
    open_redis: tuple[redis.Redis, list[RedisFeatureStore], str], redis_url: str
) -> None:
    client, opened, prefix = open_redis
    store = RedisFeatureStore(redis_url, prefix, N_ITEMS, idempotency_window_s=2.0)
    opened.append(store)
    assert store.append([make_event(1), make_event(2)]) == [True, True]
    buckets = [k for k in client.scan_iter(match=f"{prefix}:ids:*")]
    assert len(buckets) == 1
    ttl = client.ttl(buckets[0])
    assert 0 < ttl <= 2 + 2 * 1  # window + two bucket widths (width >= 1 s)
    time.sleep(1.1)  # the next bucket: the id is found in the older one
    assert store.append([make_event(1), make_event(3)]) == [False, True]
    assert store.applied(["e1", "e3", "e9"]) == [True, True, False]
    time.sleep(ttl + 1.5)  # both buckets gone: the window is over
    assert not list(client.scan_iter(match=f"{prefix}:ids:*"))
    assert store.applied(["e1"]) == [False]
    assert store.append([make_event(1)]) == [True]  # remembered for at least the window only
    assert len(store.user_events("u1")) == 4


def test_a_long_window_keeps_a_bounded_number_of_buckets(redis_url: str) -> None:
    store = RedisFeatureStore(redis_url, f"recloop-test-{uuid.uuid4().hex}", N_ITEMS)
    try:
        assert store._id_ttl == 86_400 + 2 * 3600 and len(store._id_keys()) == ID_BUCKETS + 1
    finally:
        store.close()


def test_trim_log_keeps_state_and_the_rest_of_the_log(
    open_redis: tuple[redis.Redis, list[RedisFeatureStore], str], redis_url: str
) -> None:
    client, opened, prefix = open_redis
    store = RedisFeatureStore(redis_url, prefix, N_ITEMS)
    opened.append(store)
    store.append([make_event(n) for n in range(1, 11)])
    before = client.memory_usage(f"{prefix}:log")
    assert store.trim_log(6) == 6
    assert [seq for seq, _ in store.events()] == [7, 8, 9, 10]
    assert store.event_count() == 10 and len(store.user_events("u1")) == 10
    assert store.append([make_event(3)]) == [False]  # the id check does not need the log
    assert store.append([make_event(11)]) == [True]
    assert [seq for seq, _ in store.events(after=9)] == [10, 11]
    assert client.memory_usage(f"{prefix}:log") <= before
