"""Response models of the HTTP API (docs/API.md)."""

from __future__ import annotations

from pydantic import BaseModel

from recloop.serving.catalog import ItemView
from recloop.serving.recommender import RecItem

__all__ = ["EventResult", "IngestResponse", "Item", "ItemList", "RecItemOut",
           "Recommendations", "Rejected", "item_out", "rec_out"]  # fmt: skip


class Item(BaseModel):
    """A catalog item."""

    item_id: int
    title: str
    year: int | None
    genres: list[str]


class RecItemOut(Item):
    """A recommended item."""

    score: float
    source: str
    reason: str


class Recommendations(BaseModel):
    """A user's recommendations."""

    user_id: str
    items: list[RecItemOut]
    model_version: str
    request_id: str
    variant: str | None = None
    latency_ms: float


class ItemList(BaseModel):
    """A list of items."""

    items: list[Item]


class Rejected(BaseModel):
    """One rejected event and why."""

    index: int
    event_id: str
    error: str


class EventResult(BaseModel):
    """The fate of one event."""

    event_id: str
    status: str


class IngestResponse(BaseModel):
    """Result of ``POST /v1/events``."""

    accepted: int
    duplicates: int
    rejected: list[Rejected]
    results: list[EventResult]


def item_out(v: ItemView) -> Item:
    """Catalog view -> response model."""
    return Item(item_id=v.item_id, title=v.title, year=v.year, genres=list(v.genres))


def rec_out(r: RecItem) -> RecItemOut:
    """Recommended item -> response model."""
    v = r.item
    return RecItemOut(item_id=v.item_id, title=v.title, year=v.year, genres=list(v.genres),
                      score=r.score, source=r.source, reason=r.reason)  # fmt: skip
