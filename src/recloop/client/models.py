"""The HTTP API's response models (docs/API.md): the server's ``response_model`` and the client's results.

Plain pydantic, no server code, so :mod:`recloop.client` validates answers with the very
models the OpenAPI schema (and from it the dashboard's TypeScript types) is generated from.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["Decisions", "EventResult", "ExperimentList", "ExperimentOut", "Health", "HistoryEntry",
           "IngestResponse", "Item", "ItemList", "LatencySummary", "ModelList", "ModelVersionOut", "Offline",
           "OnlineRate", "Promotion", "Ready", "ReadyCheck", "RecItemOut", "Recommendations", "Rejected",
           "SimilarItems", "Stats", "UserDetail", "UserList", "UserSummary"]  # fmt: skip


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
    predicted_rating: float | None = Field(
        default=None, description="the rating (1-5) the user would give, if the model has a rating model"
    )


class Recommendations(BaseModel):
    """A user's recommendations."""

    user_id: str
    items: list[RecItemOut]
    model_version: str
    request_id: str
    variant: str | None = Field(description="the experiment variant that served the list, or null")
    latency_ms: float


class ItemList(BaseModel):
    """A list of items."""

    items: list[Item]


class Rejected(BaseModel):
    """One event that was not applied (rejected, or a conflicting id) and why."""

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
    conflicts: list[Rejected] = Field(default_factory=list, description="events whose id was stored "
                                      "with another payload; error names the differing fields")  # fmt: skip
    results: list[EventResult]
    queued: bool = Field(default=False, description="through the event bus: acknowledged by the broker, "
                         "applied by `recloop consume` (results say `queued`)")  # fmt: skip
    wait_token: str | None = Field(default=None, description="with queued: pass as `wait_for` to a "
                                   "recommendation request to see these events in it")  # fmt: skip
    applied: bool | None = Field(default=None, description="with RECLOOP_EVENTS__WAIT_APPLIED_MS: whether "
                                 "the consumer applied them before the answer")  # fmt: skip


class Health(BaseModel):
    """GET /health."""

    status: str


class ReadyCheck(BaseModel):
    """One readiness condition: whether it holds and what was seen."""

    ok: bool
    detail: str


class Ready(BaseModel):
    """GET /ready: 503 with ``ready: false`` until a model is loaded, or while the state store
    cannot take writes (``store``) or the disk under RECLOOP_HOME is nearly full (``disk``)."""

    ready: bool
    model_version: str | None
    store: ReadyCheck | None = None
    disk: ReadyCheck | None = None


class Promotion(BaseModel):
    """The champion after a promote or rollback, and the one before."""

    champion: str
    previous: str | None


class ModelVersionOut(BaseModel):
    """One registry version as the Models page shows it."""

    version: str
    aliases: list[str]
    created_at: str
    metrics: dict[str, float]
    tags: dict[str, str]


class ModelList(BaseModel):
    """GET /v1/models: every version, newest first, and which one is champion."""

    champion: str | None
    versions: list[ModelVersionOut]


class Decisions(BaseModel):
    """GET /v1/models/decisions: retraining decisions, newest first (each a retrain report)."""

    decisions: list[dict[str, Any]]


class Offline(BaseModel):
    """GET /v1/offline: the serving version's P1 and P2 reports (null where none was written)."""

    model_version: str
    p1: dict[str, Any] | None
    p2: dict[str, Any] | None


class LatencySummary(BaseModel):
    """Latency percentiles (ms) over the recent requests."""

    p50: float
    p99: float


class OnlineRate(BaseModel):
    """The positive share of events on recommended items, and how many there were."""

    positive_rate: float | None
    recommended_events: int


class Stats(BaseModel):
    """GET /v1/stats: live counters and a 10-minute series (one point per 5 s bucket)."""

    events_total: int
    events_by_type: dict[str, int]
    active_users: int
    foldins_total: int
    requests_total: int
    latency_ms: LatencySummary
    model_version: str
    online: OnlineRate
    series: list[dict[str, Any]]


class UserSummary(BaseModel):
    """A user and their number of training-base events."""

    user_id: str
    events: int


class UserList(BaseModel):
    """GET /v1/users: the most active users."""

    users: list[UserSummary]


class HistoryEntry(BaseModel):
    """One event of a user's history."""

    item_id: int
    title: str
    type: str
    value: float | None
    timestamp: float
    polarity: str = "positive"  # positive | neutral | negative (docs/FEEDBACK.md)
    weight: float = 1.0  # the signed feedback weight the recommender uses


class UserDetail(BaseModel):
    """GET /v1/users/{id}: history (latest first, at most 200), counts by type, demographics."""

    user_id: str
    known: bool
    demographics: dict[str, Any] | None
    counts_by_type: dict[str, int]
    history: list[HistoryEntry]


class ExperimentOut(BaseModel):
    """An experiment as listed (docs/API.md ``Experiment``)."""

    id: str
    name: str
    status: str
    created_at: str
    primary_metric: str
    variants: list[dict[str, Any]]
    mode: str = "ab"


class ExperimentList(BaseModel):
    """GET /v1/experiments."""

    experiments: list[ExperimentOut]


class SimilarItems(BaseModel):
    """GET /v1/items/{id}/similar: the item id and its most similar items."""

    item_id: int
    items: list[RecItemOut]
