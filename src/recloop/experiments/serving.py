"""Serving under an experiment: pick the user's variant, serve its model, log the exposure.

:func:`recommend_with_experiment` is what ``GET /v1/users/{id}/recommendations``
calls; :func:`attribute_events` is what ``POST /v1/events`` calls after the
service ingested a batch.

Variant models: ``champion`` is the runtime's own service (it follows hot
swaps); a version number or ``challenger`` is loaded once through
:func:`recloop.serving.runtime.load_champion` and kept in a small LRU
(:class:`VariantModels`; ``challenger`` is resolved on first use in the
process); ``popular`` ranks unseen items by all-time count. A variant's
model runs on a shallow copy of the runtime's service (same catalog, base
history, live store and item stats), so every variant sees the same live
events. If a variant's model cannot be loaded the user gets the champion's
list, no exposure is logged, and the error is logged: the request does not
fail, and the SRM check of the results shows the lost traffic.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import structlog
from pydantic import ValidationError as PydanticError

from recloop.config import Settings
from recloop.data.movielens import Dataset
from recloop.errors import RecloopError
from recloop.experiments.engine import AttributableEvent, ExperimentEngine
from recloop.experiments.models import Outcome, Variant
from recloop.serving.service import (
    Filters,
    IngestOutcome,
    RecItem,
    RecommendationList,
    RecommenderService,
    ServedModel,
)
from recloop.serving.validation import EventIn

__all__ = [
    "ServingRuntime",
    "VariantModels",
    "attribute_events",
    "popular_list",
    "recommend_with_experiment",
    "serve_variant",
]

log = structlog.get_logger(__name__)


class ServingRuntime(Protocol):
    """What serving a variant needs from :class:`~recloop.serving.runtime.Runtime`."""

    @property
    def settings(self) -> Settings: ...
    @property
    def dataset(self) -> Dataset: ...
    @property
    def service(self) -> RecommenderService: ...


class VariantModels:
    """Loaded models per (registry, reference), least recently used evicted past ``max_models``.

    A loaded two-stage model holds a few dense item x item matrices (~50 MB
    on MovieLens-100K), hence the small default.
    """

    def __init__(self, max_models: int = 3) -> None:
        """An empty cache holding at most ``max_models`` models."""
        self.max_models = max_models
        self._models: OrderedDict[tuple[str, str, str], ServedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()

    def get(self, runtime: ServingRuntime, ref: str) -> ServedModel:
        """The model behind ``ref`` (a version number or alias), loaded on first use."""
        key = (runtime.settings.mlflow_uri, runtime.settings.registered_model, ref)
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        with self._load_lock:
            with self._lock:
                if key in self._models:
                    return self._models[key]
            from recloop.serving.runtime import load_champion

            t0 = time.perf_counter()
            bundle, version, _ = load_champion(runtime.settings, runtime.dataset, alias=ref)
            served = ServedModel(bundle.model, version)
            log.info("variant_model_loaded", ref=ref, version=version, load_s=time.perf_counter() - t0)
            with self._lock:
                self._models[key] = served
                while len(self._models) > self.max_models:
                    self._models.popitem(last=False)
        return served

    def clear(self) -> None:
        """Forget every loaded model (e.g. after the ``challenger`` alias moved)."""
        with self._lock:
            self._models.clear()


_DEFAULT_MODELS = VariantModels()


def popular_list(
    service: RecommenderService, user_id: str, k: int = 10, filters: Filters | None = None
) -> RecommendationList:
    """The ``k`` most popular items (all-time count, live events included) passing the filters.

    Seen items are skipped unless ``filters.exclude_seen`` is False;
    ``model_version`` is ``"popular"``.
    """
    t0 = time.perf_counter()
    f = filters or Filters()
    allowed = service.catalog.allowed(f.include_genres, f.exclude_genres, f.year_min, f.year_max)
    if f.exclude_seen:
        allowed[service.history(user_id).seen] = False
    counts = service.stats.counts
    order = np.argsort(-counts, kind="stable")
    top = order[allowed[order]][:k]
    items = [RecItem(service.catalog.view(int(i)), float(counts[i]), "popular", "popular with everyone")
             for i in top.tolist()]  # fmt: skip
    return RecommendationList(user_id, items, "popular", str(uuid.uuid4()),
                              (time.perf_counter() - t0) * 1000)  # fmt: skip


def serve_variant(
    runtime: ServingRuntime, variant: Variant, user_id: str, k: int = 10, filters: Filters | None = None,
    models: VariantModels | None = None,
) -> RecommendationList:  # fmt: skip
    """The list ``variant``'s model serves to the user (no experiment bookkeeping)."""
    models = models or _DEFAULT_MODELS
    if variant.model == "popular":
        return popular_list(runtime.service, user_id, k, filters)
    if variant.model == "champion":
        return runtime.service.recommend(user_id, k, filters)
    served = models.get(runtime, variant.model)
    service = runtime.service
    if served.version != service.model.version:
        service = copy.copy(service)  # shares catalog, histories, store and stats
        service.swap(served)
    return service.recommend(user_id, k, filters)


def recommend_with_experiment(
    runtime: ServingRuntime, engine: ExperimentEngine, user_id: str, k: int = 10,
    filters: Filters | None = None, *, models: VariantModels | None = None,
) -> tuple[RecommendationList, str | None]:  # fmt: skip
    """The user's list and variant name (None when no experiment runs).

    With a running experiment: assign the user, serve the variant's model
    and log the exposure under the list's ``request_id``.
    """
    exp = engine.running()
    if exp is None:
        return runtime.service.recommend(user_id, k, filters), None
    variant = engine.assign(exp, user_id)
    try:
        recs = serve_variant(runtime, variant, user_id, k, filters, models)
    except RecloopError as exc:
        log.error("variant_unavailable", experiment=exp.id, variant=variant.name, model=variant.model,
                  error=exc.message)  # fmt: skip
        return runtime.service.recommend(user_id, k, filters), None
    engine.record_exposure(exp, variant.name, user_id, recs.request_id, [r.item.item_id for r in recs.items])
    return recs, variant.name


@dataclass(frozen=True, slots=True)
class _Posted:
    """An event as posted (fields of :class:`AttributableEvent`)."""

    event_id: str
    user_id: str
    item_id: int
    type: str
    value: float | None
    timestamp: float
    request_id: str | None


def _from_payload(raw: Mapping[str, Any]) -> _Posted | None:
    try:
        ev = EventIn.model_validate(raw)
    except PydanticError:
        return None
    ts = time.time() if ev.timestamp is None else float(ev.timestamp)
    return _Posted(ev.event_id, ev.user_id, ev.item_id, ev.type, ev.value, ts, ev.request_id)


def attribute_events(
    engine: ExperimentEngine, events: Iterable[AttributableEvent | Mapping[str, Any]],
    outcome: IngestOutcome | None = None,
) -> list[Outcome]:  # fmt: skip
    """Attribute events to the running experiment; returns the outcomes recorded.

    ``events`` are validated events or the raw payloads as posted; with the
    service's ``outcome`` of the same batch, only events it ``applied`` count
    (duplicates and rejected events are skipped; attribution is idempotent
    by ``event_id`` anyway).
    """
    if engine.running() is None:
        return []
    statuses = [s for _, s, _ in outcome.results] if outcome is not None else None
    recorded: list[Outcome] = []
    for n, raw in enumerate(events):
        if statuses is not None and (n >= len(statuses) or statuses[n] != "applied"):
            continue
        ev = _from_payload(raw) if isinstance(raw, Mapping) else raw
        if ev is None:
            continue
        out = engine.attribute(ev)
        if out is not None:
            recorded.append(out)
    return recorded
