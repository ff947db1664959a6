"""Idempotency keys bound to the payload: the canonical fingerprint of an event as sent.

``event_id`` is the idempotency key. A retry of the same event (same id, same payload) is a
duplicate; the same id with another payload is a conflict (HTTP 409) whose message names the
fields that differ. The fingerprint is the SHA-256 (first 32 hex digits) of the payload's fields
other than the id, in a canonical form: keys sorted, numbers as floats (``3`` and ``3.0`` are the
same rating), a timestamp the client left out as ``null`` (the server's clock stamps each copy
differently, so a retry without a timestamp is still the same payload). The stores keep the
fingerprint beside the id.
"""

from __future__ import annotations

import hashlib

import orjson

from recloop.events.schema import Event

__all__ = ["conflict_message", "differing_fields", "fingerprint"]

_FIELDS = ("user_id", "item_id", "type", "value", "timestamp", "request_id")


def fingerprint(user_id: str, item_id: int, type: str, value: float | None, timestamp: float | None,
                request_id: str | None) -> str:  # fmt: skip
    """The canonical fingerprint of one payload (see the module docstring); 32 hex digits."""
    canon = {"item_id": int(item_id), "request_id": request_id, "timestamp": None if timestamp is None
             else float(timestamp), "type": type, "user_id": user_id,
             "value": None if value is None else float(value)}  # fmt: skip
    return hashlib.sha256(orjson.dumps(canon, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def _sent_timestamp(e: Event) -> bool:
    """Whether ``e``'s payload carried its timestamp (else the server stamped it)."""
    return e.fingerprint != fingerprint(e.user_id, e.item_id, e.type, e.value, None, e.request_id)


def differing_fields(stored: Event, new: Event) -> list[str]:
    """The payload fields whose values differ between the stored event and a new one.

    ``timestamp`` counts when both payloads carried one and they differ, or when only one
    of them carried one (the other was stamped by the server's clock).
    """
    out = [f for f in _FIELDS if f != "timestamp" and getattr(stored, f) != getattr(new, f)]
    sent_old, sent_new = _sent_timestamp(stored), _sent_timestamp(new)
    if sent_old != sent_new or (sent_old and stored.timestamp != new.timestamp):
        out.append("timestamp")
    return [f for f in _FIELDS if f in out]


def conflict_message(stored: Event, new: Event) -> str:
    """What to tell a client that reused an event id for another payload."""
    fields = differing_fields(stored, new) or ["timestamp"]
    shown = "; ".join(f"{f}: stored {getattr(stored, f)!r}, sent {getattr(new, f)!r}" for f in fields)
    return (f"event_id {new.event_id!r} was stored with another payload ({shown}); an event id names "
            "one event: send a new event_id for a new event, or resend the stored payload unchanged")
