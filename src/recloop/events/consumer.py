"""``recloop consume``: apply the events on the Kafka topic to the shared feature store.

A consumer group (run several processes; partitions are spread over them) polls batches,
appends each batch to the store (idempotent by event id), and commits the offsets only after
the store took the batch. Delivery is at least once; application is exactly once, because a
redelivered event's id is already in the store. One user's events share a partition, so they
are applied in the order the API acknowledged them.

Lag: ``recloop_consumer_lag_seconds`` (now minus the broker timestamp of the newest applied
message, 0 when a poll finds nothing) and ``recloop_consumer_lag_messages`` (high watermark
minus committed offset per partition; brokers that do not report watermarks make it
meaningless, see docs/STREAMING.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from recloop.config import EventsConfig
from recloop.errors import RecloopError
from recloop.events.kafka import ensure_topic, kafka
from recloop.events.schema import Event
from recloop.events.wire import decode

__all__ = ["ConsumerMetrics", "EventConsumer", "EventSink"]

log = structlog.get_logger("recloop.consume")


class EventSink(Protocol):
    """Where consumed events go (the feature store)."""

    def append(self, events: Sequence[Event]) -> list[bool]: ...


@dataclass
class ConsumerMetrics:
    """The consumer's Prometheus instruments (served by ``recloop consume --metrics-port``)."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.applied = Counter("recloop_consumer_events_total", "Consumed events by result", ["result"],
                               registry=r)  # fmt: skip
        self.batches = Counter("recloop_consumer_batches_total", "Batches applied and committed", registry=r)
        self.lag_s = Gauge("recloop_consumer_lag_seconds", "Now minus the newest applied message's time",
                           registry=r)  # fmt: skip
        self.lag_messages = Gauge("recloop_consumer_lag_messages", "High watermark minus committed offset",
                                  ["partition"], registry=r)  # fmt: skip


class EventConsumer:
    """Poll, apply, commit; :meth:`run` until ``stop`` is set."""

    def __init__(self, cfg: EventsConfig, sink: EventSink, metrics: ConsumerMetrics | None = None,
                 batch: int = 1000, session_timeout_ms: int = 6000) -> None:  # fmt: skip
        self.cfg, self.sink, self.batch = cfg, sink, batch
        self.metrics = metrics or ConsumerMetrics()
        ensure_topic(cfg)
        self._consumer = kafka().Consumer({
            "bootstrap.servers": cfg.bootstrap, "group.id": cfg.group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "session.timeout.ms": session_timeout_ms,
            "enable.partition.eof": False, "fetch.wait.max.ms": 20,
        })  # fmt: skip
        self._consumer.subscribe([cfg.topic])

    def step(self, timeout_s: float = 0.5) -> int:
        """One poll: apply and commit what it returned; the number of events applied or seen."""
        first = self._consumer.poll(timeout_s)  # returns as soon as one message is there
        got = [] if first is None else [first]
        if got and self.batch > 1:  # then whatever is fetched already, without waiting
            got += self._consumer.consume(num_messages=self.batch - 1, timeout=0)
        messages = [m for m in got if m.error() is None]
        if not messages:
            self.metrics.lag_s.set(0.0)
            return 0
        events, bad = [], 0
        for m in messages:
            try:
                events.append(decode(m.value()))
            except RecloopError as exc:  # a poison message is logged and skipped, never retried forever
                bad += 1
                log.error("skipping a malformed message", partition=m.partition(), offset=m.offset(),
                          error=exc.message)  # fmt: skip
        applied = self.sink.append(events) if events else []
        self._consumer.commit(asynchronous=False)
        m = self.metrics
        m.applied.labels("applied").inc(sum(applied))
        m.applied.labels("duplicate").inc(len(applied) - sum(applied))
        if bad:
            m.applied.labels("malformed").inc(bad)
        m.batches.inc()
        newest = max(msg.timestamp()[1] for msg in messages) / 1000.0
        m.lag_s.set(max(0.0, time.time() - newest))
        return len(messages)

    def observe_lag(self) -> None:
        """Set the per-partition message lag from watermarks and committed offsets."""
        assigned = self._consumer.assignment()
        if not assigned:
            return
        for tp in self._consumer.committed(assigned, timeout=5.0):
            _, high = self._consumer.get_watermark_offsets(tp, timeout=5.0, cached=False)
            done = tp.offset if tp.offset >= 0 else 0
            self.metrics.lag_messages.labels(str(tp.partition)).set(max(0, high - done))

    def run(self, stop: threading.Event, on_step: Callable[[int], Any] | None = None) -> None:
        """Consume until ``stop``; lag is refreshed every few seconds."""
        last_lag = 0.0
        while not stop.is_set():
            n = self.step()
            if on_step:
                on_step(n)
            if time.monotonic() - last_lag > 5.0:
                self.observe_lag()
                last_lag = time.monotonic()

    def close(self) -> None:
        """Leave the group (its partitions go to the other consumers at once)."""
        self._consumer.close()
