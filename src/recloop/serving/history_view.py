"""A user's history as ``GET /v1/users/{id}`` shows it: every event, each marked with its feedback."""

from __future__ import annotations

from typing import Any

from recloop.events.feedback import Semantics, feedback
from recloop.features.store import UserLive
from recloop.serving.catalog import Catalog

__all__ = ["user_history"]


def user_history(
    catalog: Catalog, base: tuple[list[int], list[int], list[float]], live: UserLive, semantics: Semantics
) -> list[dict[str, Any]]:
    """Rows ``{item_id, title, type, value, timestamp, polarity, weight}``, latest first.

    ``base``: the training-base (items, timestamps, ratings); ``live``: the store's events,
    dislikes included. ``polarity``/``weight`` come from the feedback table the recommender
    applies (recloop.events.feedback), so a 1-star rating reads ``negative``.
    """
    events: list[tuple[int, float, float, str]] = [
        (i, float(t), r, "rate") for i, t, r in zip(*base, strict=True)
    ]
    cols = (live.items.tolist(), live.timestamps.tolist(), live.ratings.tolist(), live.types)
    events += [(i, t, r, kind) for i, t, r, kind in zip(*cols, strict=True)]
    stamps = live.disliked_timestamps.tolist()
    if len(stamps) != len(live.disliked):  # a store without dislike times: the user's latest event time
        stamps = [live.last_ts or 0.0] * len(live.disliked)
    events += [(i, t, 0.0, "dislike") for i, t in zip(live.disliked.tolist(), stamps, strict=True)]
    rows: list[dict[str, Any]] = []
    for i, t, r, kind in events:
        fb = feedback(kind, r or None, semantics)
        view = catalog.view(i)
        rows.append({"item_id": view.item_id, "title": view.display, "type": kind, "value": r or None,
                     "timestamp": t, "polarity": fb.polarity, "weight": fb.weight})  # fmt: skip
    rows.sort(key=lambda h: -float(h["timestamp"]))
    return rows
