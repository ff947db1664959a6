"""Response models of the HTTP API (they live in :mod:`recloop.client.models`, shared with the
client) and the conversions from domain objects."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

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

__all__ = ["Decisions", "DriftOut", "EventResult", "ExperimentList", "ExperimentOut", "Health",
           "HistoryEntry", "IngestResponse", "Item", "ItemList", "ModelList", "ModelVersionOut",
           "Offline", "OnlineQualityOut", "Promotion", "Ready", "RecItemOut", "Recommendations",
           "Rejected", "SimilarItems", "Stats", "UserDetail", "UserList", "UserSummary", "item_out",
           "rec_out"]  # fmt: skip


def item_out(v: ItemView) -> Item:
    """Catalog view -> response model."""
    return Item(item_id=v.item_id, title=v.title, year=v.year, genres=list(v.genres))


def rec_out(r: RecItem) -> RecItemOut:
    """Recommended item -> response model."""
    v = r.item
    return RecItemOut(item_id=v.item_id, title=v.title, year=v.year, genres=list(v.genres),
                      score=r.score, source=r.source, reason=r.reason)  # fmt: skip


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
