"""Event validation: numbers that are numbers, times in the configured window, ids that are text."""

from __future__ import annotations

import time
from typing import Any

import pytest

from recloop.errors import NotFoundError, ValidationError
from recloop.events.validation import TimestampWindow, to_event
from recloop.serving.recommender import validate_raw


class Catalog:
    def index(self, item_id: int) -> int:
        if not 1 <= item_id <= 10:
            raise NotFoundError(f"item_id {item_id} is not in the catalog")
        return item_id - 1


def ev(**over: Any) -> dict[str, Any]:
    return {"event_id": "e1", "user_id": "u1", "item_id": 3, "type": "click", **over}


@pytest.mark.parametrize(("field", "value"), [
    ("timestamp", "NaN"), ("timestamp", float("nan")), ("timestamp", float("inf")), ("timestamp", True),
    ("timestamp", "1700000000"), ("timestamp", 1e-300), ("timestamp", -1.0), ("timestamp", 1.7e12),
    ("value", float("nan")), ("value", True), ("value", "4"), ("value", float("-inf")),
    ("item_id", True), ("item_id", "3"),
])  # fmt: skip
def test_non_numbers_and_non_finite_numbers_are_refused(field: str, value: Any) -> None:
    extra = {"type": "rate", "value": 4} if field != "value" else {"type": "rate"}
    with pytest.raises(ValidationError) as info:
        to_event(ev(**extra, **{field: value}), Catalog())
    assert info.value.message.startswith(field)


@pytest.mark.parametrize("text", ["", "   ", "a\x00b", "tab\there", "new\nline", "\x7f", "zw\u200bsp",
                                  "bidi\u202e", "x" * 129, "\x85"])  # fmt: skip
@pytest.mark.parametrize("field", ["event_id", "user_id", "request_id"])
def test_ids_must_be_printable_text(field: str, text: str) -> None:
    with pytest.raises(ValidationError) as info:
        to_event(ev(**{field: text}), Catalog())
    assert field in info.value.message


def test_unicode_text_ids_are_fine() -> None:
    e = to_event(ev(user_id="Zoë 李", event_id="ключ-1", request_id="r 1"), Catalog())
    assert (e.user_id, e.event_id, e.item) == ("Zoë 李", "ключ-1", 2)


def test_the_window_is_configurable() -> None:
    now = time.time()
    strict = TimestampWindow(earliest=now - 3600, future_s=60)
    assert to_event(ev(timestamp=now - 60), Catalog(), strict).timestamp == now - 60
    for ts in (now - 7200, now + 600):
        with pytest.raises(ValidationError, match="timestamp"):
            to_event(ev(timestamp=ts), Catalog(), strict)
    old = 400_000_000.0  # 1982: inside the default window, outside the strict one
    assert to_event(ev(timestamp=old), Catalog()).timestamp == old


def test_a_rejected_event_does_not_block_its_batch() -> None:
    raw = [ev(event_id="bad", timestamp=float("nan")), ev(event_id="ok"), ev(event_id="bad2", user_id="\x00"),
           "not an object", ev(event_id="ok2", item_id=4)]  # fmt: skip
    valid, slots = validate_raw(raw, Catalog())
    assert [e.event_id for e in valid] == ["ok", "ok2"]
    assert [s for _, s, _ in slots] == ["rejected", "applied", "rejected", "rejected", "applied"]
    assert "timestamp" in (slots[0][2] or "") and "user_id" in (slots[2][2] or "")
