"""The event: what a user did to an item, as stored and applied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["EVENT_TYPES", "NEGATIVE_TYPES", "Event", "EventType"]

EventType = Literal["view", "click", "like", "dislike", "rate", "purchase"]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
NEGATIVE_TYPES: frozenset[str] = frozenset({"dislike"})


@dataclass(frozen=True, slots=True)
class Event:
    """One validated event.

    ``item`` is the dense catalog index, ``item_id`` the public id.
    ``value`` is the rating (1-5) for ``rate`` events, else None.
    ``timestamp`` is Unix seconds (float). ``event_id`` is the idempotency key;
    ``fingerprint`` the canonical hash of the payload as sent (recloop.events.idempotency),
    None for an event made without a payload (replays, tests) or stored before it existed.
    """

    event_id: str
    user_id: str
    item: int
    item_id: int
    type: EventType
    timestamp: float
    value: float | None = None
    request_id: str | None = None
    fingerprint: str | None = None

    @property
    def positive(self) -> bool:
        """Whether the event counts as interest (everything but a dislike)."""
        return self.type not in NEGATIVE_TYPES

    @property
    def rating(self) -> float:
        """The rating carried, or 0 when there is none."""
        return float(self.value) if self.type == "rate" and self.value is not None else 0.0
