"""Kafka through a real broker: the API-side bus acknowledges after the broker, the consumer
applies each event exactly once (redelivery included), keeps one user's order, and the
read-your-writes wait sees what it applied."""

from __future__ import annotations

import threading
import time

from features.conftest import make_event
from recloop.config import EventsConfig
from recloop.events.consumer import EventConsumer
from recloop.events.kafka import KafkaBus
from recloop.events.wire import decode, encode
from recloop.features import FeatureStore
from recloop.serving.bus import wait_applied


def _drain(consumer: EventConsumer, store: FeatureStore, expected: int, timeout_s: float = 30.0) -> None:
    end = time.monotonic() + timeout_s
    while store.event_count() < expected and time.monotonic() < end:
        consumer.step(timeout_s=0.5)
    assert store.event_count() == expected, f"{store.event_count()} of {expected} applied"


def test_the_wire_format_round_trips() -> None:
    e = make_event(3, user="ü-1", type="rate", value=4.5, request_id="r1")
    assert decode(encode(e)) == e


def test_published_events_are_applied_once_in_user_order(events_config: EventsConfig,
                                                         redis_store: FeatureStore) -> None:  # fmt: skip
    bus = KafkaBus(events_config)
    events = [make_event(n, user=f"u{n % 7}") for n in range(700)]
    try:
        for start in range(0, 700, 100):
            bus.publish(events[start : start + 100])  # returns only after the broker's acks
        bus.publish(events[:50])  # a client retry: the same ids again
    finally:
        bus.close()
    consumer = EventConsumer(events_config, redis_store, batch=200)
    try:
        _drain(consumer, redis_store, 700)
        for _ in range(3):
            consumer.step(timeout_s=0.5)
    finally:
        consumer.close()
    assert redis_store.event_count() == 700
    applied = consumer.metrics.applied.labels("applied")._value.get()
    duplicate = consumer.metrics.applied.labels("duplicate")._value.get()
    assert (applied, duplicate) == (700, 50)
    for u in range(7):  # per-user order is the publish order
        ts = redis_store.user_events(f"u{u}").timestamps
        assert list(ts) == sorted(ts) and len(ts) == 100


def test_a_consumer_that_dies_before_committing_is_redelivered_and_applied_once(
    events_config: EventsConfig, redis_store: FeatureStore
) -> None:
    bus = KafkaBus(events_config)
    bus.publish([make_event(n, user=f"u{n % 5}") for n in range(300)])
    bus.close()

    class DiesAfterApplying:
        """Applies a batch, then the process 'dies' before the offset commit."""

        def append(self, events):  # type: ignore[no-untyped-def]
            redis_store.append(events)
            raise SystemExit("killed")

    first = EventConsumer(events_config, DiesAfterApplying(), batch=100)
    try:
        while True:
            try:
                if first.step(timeout_s=0.5):
                    break
            except SystemExit:
                break
    finally:
        first.close()
    assert 0 < redis_store.event_count() <= 100
    second = EventConsumer(events_config, redis_store, batch=100)
    try:
        _drain(second, redis_store, 300)
    finally:
        second.close()
    assert second.metrics.applied.labels("duplicate")._value.get() >= 1  # the redelivered batch
    assert redis_store.event_count() == 300


def test_read_your_writes_waits_for_the_consumer(
    events_config: EventsConfig, redis_store: FeatureStore
) -> None:
    consumer = EventConsumer(events_config, redis_store, batch=100)
    stop = threading.Event()
    worker = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    worker.start()
    bus = KafkaBus(events_config)
    try:
        e = make_event(1, user="ryw")
        assert not wait_applied(redis_store, [e.event_id], 0.0)
        t0 = time.perf_counter()
        bus.publish([e])
        assert wait_applied(redis_store, [e.event_id], 10.0)
        assert time.perf_counter() - t0 < 10.0
        assert len(redis_store.user_events("ryw").items) == 1
    finally:
        stop.set()
        worker.join(timeout=10)
        consumer.close()
        bus.close()
