"""Payload fingerprints: a retry is the same payload, another payload under the same id is named."""

from __future__ import annotations

from typing import Any

from recloop.events.idempotency import conflict_message, differing_fields, fingerprint
from recloop.events.validation import to_event


class Catalog:
    def index(self, item_id: int) -> int:
        return item_id - 1


def ev(**over: Any) -> dict[str, Any]:
    return {"event_id": "e1", "user_id": "u1", "item_id": 3, "type": "rate", "value": 4,
            "timestamp": 1.7e9, **over}  # fmt: skip


def test_a_retry_has_the_same_fingerprint_even_with_the_timestamp_left_out() -> None:
    a, b = to_event(ev(), Catalog()), to_event(ev(value=4.0), Catalog())
    assert a.fingerprint == b.fingerprint and a.fingerprint is not None and len(a.fingerprint) == 32
    no_ts = {k: v for k, v in ev().items() if k != "timestamp"}
    c, d = to_event(no_ts, Catalog()), to_event(no_ts, Catalog())
    assert c.fingerprint == d.fingerprint  # the server's clock stamped them differently
    assert c.fingerprint != a.fingerprint


def test_every_field_is_in_the_fingerprint() -> None:
    base = to_event(ev(), Catalog()).fingerprint
    for change in ({"user_id": "u2"}, {"item_id": 4}, {"value": 5}, {"timestamp": 1.7e9 + 1},
                   {"request_id": "r"}, {"type": "click", "value": None}):  # fmt: skip
        assert to_event(ev(**change), Catalog()).fingerprint != base, change
    assert fingerprint("u", 1, "click", None, None, None) == fingerprint("u", 1, "click", None, None, None)


def test_the_differing_fields_are_named_with_both_values() -> None:
    stored = to_event(ev(), Catalog())
    new = to_event(ev(item_id=9, value=2), Catalog())
    assert differing_fields(stored, new) == ["item_id", "value"]
    msg = conflict_message(stored, new)
    assert "'e1'" in msg and "item_id: stored 3, sent 9" in msg and "value: stored 4.0, sent 2.0" in msg
    assert "new event_id" in msg
    stamped = to_event({k: v for k, v in ev().items() if k != "timestamp"}, Catalog())
    assert differing_fields(stored, stamped) == ["timestamp"]  # one sent a time, the other did not
    assert differing_fields(stored, to_event(ev(timestamp=1.6e9), Catalog())) == ["timestamp"]
