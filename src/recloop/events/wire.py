"""An event on the wire (Kafka messages): compact JSON, every field as validated and stored."""

from __future__ import annotations

from typing import cast

import orjson

from recloop.errors import ValidationError
from recloop.events.schema import Event, EventType

__all__ = ["decode", "encode"]


def encode(e: Event) -> bytes:
    """``[event_id, user_id, item, item_id, type, timestamp, value, request_id, fingerprint]`` as JSON."""
    return orjson.dumps([e.event_id, e.user_id, e.item, e.item_id, e.type, e.timestamp, e.value,
                         e.request_id, e.fingerprint])


def decode(payload: bytes) -> Event:
    """The event :func:`encode` wrote; a malformed payload raises ValidationError."""
    try:
        eid, uid, item, item_id, etype, ts, value, rid, *fp = orjson.loads(payload)  # 8: before fingerprints
        return Event(str(eid), str(uid), int(item), int(item_id), cast(EventType, etype), float(ts),
                     None if value is None else float(value), rid, fp[0] if fp else None)  # fmt: skip
    except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
        raise ValidationError(f"malformed event message ({exc})") from None
