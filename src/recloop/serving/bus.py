"""Ingestion through an event bus (``RECLOOP_EVENTS__BUS=kafka``) and read-your-writes.

:func:`publish` validates once (the recommender's rules), hands the valid events to the bus
and reports them ``queued`` once the broker acknowledged them; ``recloop consume`` applies
them. Read-your-writes: :func:`wait_applied` polls the store until the events' ids are in it
(bounded); POST /v1/events does so when ``RECLOOP_EVENTS__WAIT_APPLIED_MS`` > 0, and a
recommendation request does so for its ``wait_for`` token (the last event id of a POST).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

from recloop.errors import ConfigError
from recloop.events.schema import Event
from recloop.serving.recommender import IngestOutcome, Recommender, Status, conflicts, merge_fates

__all__ = ["AppliedCheck", "EventBus", "open_bus", "publish", "wait_applied"]


class EventBus(Protocol):
    """Where the API sends validated events when it does not apply them itself."""

    def publish(self, events: Sequence[Event]) -> None: ...
    def close(self) -> None: ...


class AppliedCheck(Protocol):
    """A store that can say whether events are applied (the Redis store)."""

    def applied(self, event_ids: Sequence[str]) -> list[bool]: ...


def open_bus(settings: Any) -> EventBus | None:
    """The configured bus (None for ``direct``); Kafka needs the shared Redis state."""
    cfg = settings.events
    if cfg.bus == "direct":
        return None
    if settings.state.type != "redis":
        raise ConfigError("RECLOOP_EVENTS__BUS=kafka needs the shared state: set RECLOOP_STATE__TYPE=redis "
                          "(the consumers apply events to it)")  # fmt: skip
    from recloop.events.kafka import KafkaBus, ensure_topic

    ensure_topic(cfg)
    return KafkaBus(cfg)


def publish(service: Recommender, bus: EventBus, raw_events: Sequence[Any]) -> IngestOutcome:
    """Validate, publish the valid events (acknowledged by the broker), mark them ``queued``.

    An id already stored with another payload is a ``conflict`` and is not published (a
    conflict between two copies both still in the bus is settled by the consumer: the first
    one applied wins). ``applied`` of the outcome holds the published events (attribution is
    idempotent by id).
    """
    valid, slots = service.validate(raw_events)
    clash = conflicts(service.live.store, valid)
    sent = [ev for ev in valid if id(ev) not in clash]
    bus.publish(sent)
    fates: list[tuple[Status, str | None]] = [("conflict", clash[id(ev)]) if id(ev) in clash
                                              else ("queued", None) for ev in valid]  # fmt: skip
    return IngestOutcome(merge_fates(slots, fates), sent)


def wait_applied(store: object, event_ids: Sequence[str], timeout_s: float) -> bool:
    """Poll until every id is in the store (True) or ``timeout_s`` passes (False)."""
    check = getattr(store, "applied", None)
    if check is None:
        raise ConfigError("this state store cannot report applied events; use RECLOOP_STATE__TYPE=redis")
    ids, end, pause = list(event_ids), time.monotonic() + timeout_s, 0.001
    while True:
        flags = check(ids)
        ids = [i for i, ok in zip(ids, flags, strict=True) if not ok]
        if not ids:
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.02)
