"""Response models of the HTTP API (they live in :mod:`recloop.client.models`, shared with the
client) and the conversions from domain objects."""

from __future__ import annotations

from recloop.client.models import (
    Decisions,
    EventResult,
    ExperimentList,
    ExperimentOut,
    Health,
    HistoryEntry,
    IngestResponse,
    Item,
    ItemList,
    ModelList,
    ModelVersionOut,
    Offline,
    Promotion,
    Ready,
    RecItemOut,
    Recommendations,
    Rejected,
    SimilarItems,
    Stats,
    UserDetail,
    UserList,
    UserSummary,
)
from recloop.serving.catalog import ItemView
from recloop.serving.recommender import RecItem

__all__ = ["Decisions", "EventResult", "ExperimentList", "ExperimentOut", "Health", "HistoryEntry",
           "IngestResponse", "Item", "ItemList", "ModelList", "ModelVersionOut", "Offline", "Promotion",
           "Ready", "RecItemOut", "Recommendations", "Rejected", "SimilarItems", "Stats", "UserDetail",
           "UserList", "UserSummary", "item_out", "rec_out"]  # fmt: skip


def item_out(v: ItemView) -> Item:
    """Catalog view -> response model."""
    return Item(item_id=v.item_id, title=v.title, year=v.year, genres=list(v.genres))


def rec_out(r: RecItem) -> RecItemOut:
    """Recommended item -> response model."""
    v = r.item
    return RecItemOut(item_id=v.item_id, title=v.title, year=v.year, genres=list(v.genres),
                      score=r.score, source=r.source, reason=r.reason)  # fmt: skip
