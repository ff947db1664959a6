"""Turning raw event payloads into validated :class:`Event` objects."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from recloop.errors import NotFoundError, ValidationError
from recloop.events.schema import EVENT_TYPES, Event, EventType
from recloop.serving.catalog import Catalog

__all__ = ["EventIn", "to_event"]

_FUTURE_SLACK_S = 86400.0


class EventIn(BaseModel):
    """One event as sent to ``POST /v1/events``."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=128, description="idempotency key")
    user_id: str = Field(min_length=1, max_length=128)
    item_id: int
    type: EventType
    value: float | None = Field(default=None, description="rating 1-5, required for rate")
    timestamp: float | None = Field(default=None, description="Unix seconds; default: now")
    request_id: str | None = Field(default=None, max_length=128)


def _explain(err: PydanticError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "event"
        msg = e["msg"]
        if loc == "type":
            msg = f"must be one of {', '.join(EVENT_TYPES)}"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def to_event(raw: Any, catalog: Catalog) -> Event:
    """Validate one raw payload; ValidationError says exactly what to fix."""
    try:
        ev = raw if isinstance(raw, EventIn) else EventIn.model_validate(raw)
    except PydanticError as exc:
        raise ValidationError(_explain(exc)) from None
    try:
        item = catalog.index(ev.item_id)
    except NotFoundError as exc:
        raise ValidationError(exc.message) from None
    if ev.type == "rate":
        if ev.value is None or not 1 <= ev.value <= 5:
            raise ValidationError(f"value: a rate event needs a rating from 1 to 5, got {ev.value}")
    elif ev.value is not None:
        raise ValidationError(f"value: only rate events carry a value; drop it for {ev.type}")
    now = time.time()
    ts = now if ev.timestamp is None else float(ev.timestamp)
    if ts <= 0 or ts > now + _FUTURE_SLACK_S:
        raise ValidationError(f"timestamp: {ts} is not a plausible Unix time in seconds")
    return Event(ev.event_id, ev.user_id, item, ev.item_id, ev.type, ts, ev.value, ev.request_id)
