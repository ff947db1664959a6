"""Turning raw event payloads into validated :class:`Event` objects: the one place events are checked.

Rules (each failure is a :class:`~recloop.errors.ValidationError` naming the field):
``timestamp`` is a JSON number of Unix seconds inside the configured window
(:class:`TimestampWindow`: ``RECLOOP_EVENTS__MIN_TIMESTAMP``, default 1980-01-01, to
``RECLOOP_EVENTS__MAX_FUTURE_S``, default one day, past now), not a string, a boolean, NaN or
infinity (default: now); ``value`` is a finite number from 1 to 5 on ``rate`` events and absent
otherwise; ``item_id`` is in the catalog; ``event_id``, ``user_id`` and ``request_id`` are text of
1-128 characters that is not only blanks and holds no control characters (C0/C1, DEL), no
surrogates and no Unicode format characters (zero-width, bidi overrides).
"""

from __future__ import annotations

import math
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticError

from recloop.errors import NotFoundError, ValidationError
from recloop.events.idempotency import fingerprint
from recloop.events.schema import EVENT_TYPES, Event, EventType

__all__ = ["DEFAULT_WINDOW", "EARLIEST_TIMESTAMP", "EventIn", "ItemIndex", "TimestampWindow",
           "check_id_text", "to_event"]  # fmt: skip

EARLIEST_TIMESTAMP = 315532800.0  # 1980-01-01T00:00:00Z
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


@dataclass(frozen=True)
class TimestampWindow:
    """The accepted event times: ``earliest`` (Unix s) to ``future_s`` seconds after now."""

    earliest: float = EARLIEST_TIMESTAMP
    future_s: float = 86400.0

    def check(self, ts: float, now: float) -> None:
        """ValidationError unless ``ts`` lies in the window at ``now``."""
        if not (math.isfinite(ts) and self.earliest <= ts <= now + self.future_s):
            raise ValidationError(
                f"timestamp: {ts} is not a plausible Unix time in seconds (from {self.earliest:.0f} "
                f"to {self.future_s:.0f} s after the server's clock); send seconds, not milliseconds",
                "timestamp",
            )


DEFAULT_WINDOW = TimestampWindow()


class ItemIndex(Protocol):
    """Maps a public item id to its dense index (the catalog); NotFoundError if unknown."""

    def index(self, item_id: int) -> int: ...


def check_id_text(v: str) -> str:
    """``v`` if it is printable text (see the module docstring), else ValueError saying why."""
    if not v.strip():
        raise ValueError("must not be empty or only blanks")
    for pos, ch in enumerate(v):
        if unicodedata.category(ch) in _BAD_CATEGORIES:
            raise ValueError(f"holds a control or invisible character U+{ord(ch):04X} at position {pos}; "
                             "send printable text")  # fmt: skip
    return v


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

    @field_validator("event_id", "user_id", "request_id")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        return None if v is None else check_id_text(v)


def _explain(err: PydanticError) -> tuple[str, str | None]:
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "event"
        msg = e["msg"]
        if loc == "type":
            msg = f"must be one of {', '.join(EVENT_TYPES)}"
        parts.append(f"{loc}: {msg}")
    first = err.errors()[0]["loc"] if err.errors() else ()
    return "; ".join(parts), ".".join(str(x) for x in first) or None


def to_event(raw: Any, catalog: ItemIndex, window: TimestampWindow = DEFAULT_WINDOW) -> Event:
    """Validate one raw payload; ValidationError says exactly what to fix.

    The event carries the fingerprint of the payload as sent (:mod:`recloop.events.idempotency`).
    """
    try:
        ev = raw if isinstance(raw, EventIn) else EventIn.model_validate(raw)
    except PydanticError as exc:
        raise ValidationError(*_explain(exc)) from None
    try:
        item = catalog.index(ev.item_id)
    except NotFoundError as exc:
        raise ValidationError(exc.message, "item_id") from None
    if ev.type == "rate":
        if ev.value is None or not 1 <= ev.value <= 5:
            raise ValidationError(f"value: a rate event needs a rating from 1 to 5, got {ev.value}", "value")
    elif ev.value is not None:
        raise ValidationError(f"value: only rate events carry a value; drop it for {ev.type}", "value")
    now = time.time()
    ts = now if ev.timestamp is None else float(ev.timestamp)
    window.check(ts, now)
    return Event(ev.event_id, ev.user_id, item, ev.item_id, ev.type, ts, ev.value, ev.request_id,
                 fingerprint(ev.user_id, ev.item_id, ev.type, ev.value, ev.timestamp, ev.request_id))
