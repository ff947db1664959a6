"""Response models of the HTTP API (docs/API.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from recloop.serving.catalog import ItemView
from recloop.serving.recommender import RecItem

__all__ = ["Decisions", "DriftOut", "EventResult", "ExperimentList", "ExperimentOut", "Health",
           "HistoryEntry", "IngestResponse", "Item", "ItemList", "ModelList", "ModelVersionOut",
           "Offline", "OnlineQualityOut", "Promotion", "Ready", "RecItemOut", "Recommendations",
           "Rejected", "SimilarItems", "Stats", "UserDetail", "UserList", "UserSummary", "item_out",
           "rec_out"]  # fmt: skip


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
    queued: bool = Field(default=False, description="through the event bus: acknowledged by the broker, "
                         "applied by `recloop consume` (results say `queued`)")  # fmt: skip
    wait_token: str | None = Field(default=None, description="with queued: pass as `wait_for` to a "
                                   "recommendation request to see these events in it")  # fmt: skip
    applied: bool | None = Field(default=None, description="with RECLOOP_EVENTS__WAIT_APPLIED_MS: whether "
                                 "the consumer applied them before the answer")  # fmt: skip


def item_out(v: ItemView) -> Item:
    """Catalog view -> response model."""
    return Item(item_id=v.item_id, title=v.title, year=v.year, genres=list(v.genres))


def rec_out(r: RecItem) -> RecItemOut:
    """Recommended item -> response model."""
    v = r.item
    return RecItemOut(item_id=v.item_id, title=v.title, year=v.year, genres=list(v.genres),
                      score=r.score, source=r.source, reason=r.reason)  # fmt: skip


class Health(BaseModel):
    """GET /health."""

    status: str


class Ready(BaseModel):
    """GET /ready (503 with ``ready: false`` until a model is loaded)."""

    ready: bool
    model_version: str | None


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


class ExperimentList(BaseModel):
    """GET /v1/experiments."""

    experiments: list[ExperimentOut]


class SimilarItems(BaseModel):
    """GET /v1/items/{id}/similar: the item id and its most similar items."""

    item_id: int
    items: list[RecItemOut]


class DriftScoreOut(BaseModel):
    """One check of a drift report: what it measured and what its rule compares.

    ``value`` is what the rule compares with ``threshold`` (the p-value of a KS or chi-squared
    test, the statistic otherwise: ``plotted``); ``direction`` says which side alerts.
    """

    name: str
    kind: str
    key: str = Field(description="history key: name, or name:kind for a test")
    label: str = Field(description='human label, e.g. "Genre mix (chi-squared)"')
    statistic: float
    p_value: float | None
    threshold: float
    alert: bool
    warn: bool
    plotted: Literal["p_value", "statistic"]
    value: float
    direction: Literal["below", "above", "abs_above"]


class DriftReportOut(BaseModel):
    """One drift comparison; ``alert`` if any check alerts."""

    alert: bool
    created_at: str
    scores: list[DriftScoreOut]


class DriftPoint(BaseModel):
    """One past check: statistic and rule value (p-value for tests) per check key."""

    t: float = Field(description="Unix seconds")
    alert: bool
    scores: dict[str, float]
    values: dict[str, float]


class DisabledCheckOut(BaseModel):
    """A check not run for this data, and why."""

    name: str
    label: str
    reason: str


class DriftAlertOut(BaseModel):
    """One alert per check: failing since ``since``, ``count`` checks in a row, last at ``last_seen``."""

    key: str
    label: str
    since: float
    last_seen: float
    count: int
    value: float
    closed_at: float | None


class DriftTrigger(BaseModel):
    """A retrain request: made once, when an alert opens; ``outcome`` says who (if anyone) acts."""

    t: float
    reason: str
    outcome: str
    checks: list[str]


class DriftWindow(BaseModel):
    """The live window of the latest check: span, contents, and whether it was enough to run."""

    seconds: float
    events: int
    lists: int
    min_events: int
    min_lists: int
    enough: bool
    message: str


class RetrainWorkerOut(BaseModel):
    """Whether a retrain worker acts on drift triggers in this deployment."""

    in_server: bool
    acts_on_drift: bool
    message: str
    outcome: str


class DriftOut(BaseModel):
    """GET /v1/monitoring/drift and POST /v1/monitoring/drift/check."""

    latest: DriftReportOut | None
    history: list[DriftPoint]
    thresholds: dict[str, float]
    triggers: list[DriftTrigger]
    reference_model_version: str
    disabled_checks: list[DisabledCheckOut]
    open_alerts: list[DriftAlertOut]
    closed_alerts: list[DriftAlertOut]
    window: DriftWindow
    last_check_at: float | None
    retrain_worker: RetrainWorkerOut


class OnlinePoint(BaseModel):
    """One model version in one bucket: lists served and what was attributed to them."""

    t: int = Field(description="bucket start, Unix seconds")
    version: str
    lists: int
    clicked: int = Field(description="lists with at least one click or like")
    attributed: int = Field(description="events on an item of the user's latest list")
    positives: int
    ctr: float | None = Field(description="clicked / lists")
    positive_rate: float | None = Field(description="positives / attributed")


class OnlineVersion(BaseModel):
    """One model version over the whole window."""

    version: str
    lists: int
    clicked: int
    attributed: int
    positives: int
    ctr: float | None
    positive_rate: float | None


class OnlineQualityOut(BaseModel):
    """GET /v1/monitoring/online: online CTR and positive rate per model version over time."""

    bucket_s: int
    window_s: int
    now: float
    serving_version: str
    versions: list[OnlineVersion]
    series: list[OnlinePoint]
