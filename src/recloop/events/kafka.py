"""Kafka as the event bus (``RECLOOP_EVENTS__BUS=kafka``), through confluent-kafka.

:class:`KafkaBus` (the API side) produces each validated event to the topic keyed by user id
(so one user's events stay in one partition, in order) with an idempotent producer and
``acks=all``, and :meth:`KafkaBus.publish` returns only when the broker acknowledged every
event of the call, or raises :class:`~recloop.errors.DependencyUnavailableError` naming the
broker. A background thread serves the producer's delivery callbacks, so concurrent requests
each wait for their own events only.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import structlog

from recloop.config import EventsConfig
from recloop.errors import ConfigError, DependencyUnavailableError
from recloop.events.schema import Event
from recloop.events.wire import encode

__all__ = ["KafkaBus", "ensure_topic", "kafka"]

log = structlog.get_logger("recloop.events")


def kafka() -> Any:
    """The confluent_kafka module, or a ConfigError saying how to install it."""
    try:
        import confluent_kafka
    except ImportError:  # pragma: no cover - in the stream extra
        raise ConfigError("RECLOOP_EVENTS__BUS=kafka needs confluent-kafka: "
                          "pip install 'recloop[stream]'") from None
    return confluent_kafka


def ensure_topic(cfg: EventsConfig, partitions: int = 6, timeout_s: float = 10.0) -> None:
    """Create ``cfg.topic`` if the broker lacks it (an existing topic is left alone)."""
    ck = kafka()
    import confluent_kafka.admin

    admin_mod: Any = confluent_kafka.admin
    admin = admin_mod.AdminClient({"bootstrap.servers": cfg.bootstrap})
    try:
        topics = admin.list_topics(timeout=timeout_s).topics
    except ck.KafkaException as exc:
        raise DependencyUnavailableError(_unreachable(cfg, exc)) from None
    if cfg.topic in topics:
        return
    for fut in admin.create_topics([admin_mod.NewTopic(cfg.topic, partitions, 1)]).values():
        try:
            fut.result(timeout_s)
        except ck.KafkaException as exc:
            if exc.args[0].code() != ck.KafkaError.TOPIC_ALREADY_EXISTS:
                raise DependencyUnavailableError(_unreachable(cfg, exc)) from None


def _unreachable(cfg: EventsConfig, exc: object) -> str:
    return (f"Kafka at {cfg.bootstrap} did not answer ({exc}); start the broker or set "
            "RECLOOP_EVENTS__BUS=direct")  # fmt: skip


class _Pending:
    """The delivery reports one publish call waits for."""

    def __init__(self, n: int) -> None:
        self.left, self.done = n, threading.Event()
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def report(self, err: Any, _msg: Any) -> None:
        with self._lock:
            if err is not None:
                self.errors.append(str(err))
            self.left -= 1
            if self.left <= 0:
                self.done.set()


class KafkaBus:
    """Produce events to Kafka; :meth:`publish` blocks until the broker acknowledged them."""

    def __init__(self, cfg: EventsConfig) -> None:
        ck = kafka()
        self.cfg = cfg
        self._producer = ck.Producer({
            "bootstrap.servers": cfg.bootstrap, "enable.idempotence": True, "acks": "all",
            "linger.ms": 2, "message.timeout.ms": int(cfg.produce_timeout_s * 1000),
        })  # fmt: skip
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-producer", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)

    def publish(self, events: Sequence[Event]) -> None:
        """Send ``events`` (keyed by user id); return once every one is acknowledged."""
        if not events:
            return
        pending = _Pending(len(events))
        ck = kafka()
        for e in events:
            while True:
                try:
                    self._producer.produce(self.cfg.topic, key=e.user_id.encode(), value=encode(e),
                                           on_delivery=pending.report)  # fmt: skip
                    break
                except BufferError:  # the local queue is full: let deliveries drain it
                    self._producer.poll(0.01)
                except ck.KafkaException as exc:
                    raise DependencyUnavailableError(_unreachable(self.cfg, exc)) from None
        if not pending.done.wait(self.cfg.produce_timeout_s + 1.0):
            raise DependencyUnavailableError(_unreachable(self.cfg, f"{pending.left} of {len(events)} events "
                                                                    "not acknowledged in time"))  # fmt: skip
        if pending.errors:
            raise DependencyUnavailableError(_unreachable(self.cfg, pending.errors[0]))

    def close(self) -> None:
        """Deliver what is queued (bounded), stop the poller."""
        self._producer.flush(self.cfg.produce_timeout_s)
        self._stop.set()
        self._poller.join(timeout=1.0)
