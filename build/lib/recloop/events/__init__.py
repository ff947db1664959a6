"""Events: schema, validation and the durable event log."""

from recloop.events.schema import EVENT_TYPES, NEGATIVE_TYPES, Event, EventType

__all__ = ["EVENT_TYPES", "NEGATIVE_TYPES", "Event", "EventType"]
