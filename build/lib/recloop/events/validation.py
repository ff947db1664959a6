"""Turning raw event payloads into validated :class:`Event` objects: the one place events are checked.

Rules (each failure is a :class:`~recloop.errors.ValidationError` naming the field):
``timestamp`` is a JSON number of Unix seconds between 1980-01-01 and one day from now (not a
string, a boolean, NaN or infinity; default: now); ``value`` is a finite number from 1 to 5 on
``rate`` events and absent otherwise; ``item_id`` is in the catalog; ids are 1-128 characters.
""" 

from __future__ import annotations

import time
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticError

from recloop.errors import NotFoundError, ValidationError
from recloop.events.schema import EVENT_TYPES, Event, EventType

__all__ = ["EARLIEST_TIMESTAMP", "EventIn", "ItemIndex", "to_event"]

_FUTURE_SLACK_S = 86400.0
EARLIEST_TIMESTAMP = 315532800.0  # 1980-01-01T00:00:00Z


class ItemIndex(Protocol):
    """Maps a public item id to its dense index (the catalog); NotFoundError if unknown."""

    def index(self, item_id: int) -> int: ...


class EventIn(BaseModel):
    """One event as sent to ``POST /v1/events``."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=128, description="idempotency key")
    user_id: str = Field(min_length=1, max_length=128)
    item_id: int
    type: EventType
    value: float | None = Field(default=None, allow_inf_nan=False,
                                description="rating 1-5, required for rate")  # fmt: skip
    timestamp: float | None = Field(default=None, allow_inf_nan=False,
                                    description="Unix seconds (a number, 1980 to now + 1 day); default: now")
    request_id: str | None = Field(default=None, max_length=128)

    @field_validator("timestamp", "value", "item_id", mode="before")
    @classmethod
    def _a_number(cls, v: object) -> object:
        """Numbers only: a string or boolean is a client bug, not a value to coerce."""
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise ValueError("must be a JSON number")
        return v


def _explain(err: PydanticError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "event"
        msg = e["msg"]
        if loc == "type":
            msg = f"must be one of {', '.join(EVENT_TYPES)}"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def to_event(raw: Any, catalog: ItemIndex) -> Event:
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
    if not EARLIEST_TIMESTAMP <= ts <= now + _FUTURE_SLACK_S:
        raise ValidationError(
            f"timestamp: {ts} is not a plausible Unix time in seconds (1980-01-01 to one day from now)"
        )
    return Event(ev.event_id, ev.user_id, item, ev.item_id, ev.type, ts, ev.value, ev.request_id)
