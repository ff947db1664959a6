"""Serving under an experiment: route the user to a variant's model, serve it, log the exposure.

:func:`recommend_with_experiment` is what ``GET /v1/users/{id}/recommendations``
calls; :func:`attribute_events` is what ``POST /v1/events`` calls with the
events the recommender applied (validated once, with their stored timestamps).

:class:`ExperimentRouter` maps a user to ``(variant, model)``: ``champion``
is the recommender's own model (it follows hot swaps); a version number or
``challenger`` is loaded once through
:func:`recloop.serving.runtime.load_champion` and kept in a small LRU
(:class:`VariantModels`); ``popular`` ranks unseen items by all-time count.
Every model is served by the one recommender over the one live state, with
per-user caches keyed by the model's version, so every variant sees the same
live events. If a variant's model cannot be loaded the user gets the
champion's list, no exposure is logged, and the error is logged: the request
does not fail, and the SRM check of the results shows the lost traffic.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import structlog

from recloop.config import Settings
from recloop.data.movielens import Dataset
from recloop.errors import RecloopError
from recloop.experiments.engine import AttributableEvent, ExperimentEngine, assignment_probability
from recloop.experiments.models import INTERLEAVED, Experiment, Outcome, Variant
from recloop.serving.recommender import Filters, RecItem, RecommendationList, Recommender, ServedModel

__all__ = [
    "ExperimentRouter",
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
    def service(self) -> Recommender: ...


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
    service: Recommender, user_id: str, k: int = 10, filters: Filters | None = None
) -> RecommendationList:
    """The ``k`` most popular items (all-time count, live events included) passing the filters.

    Seen items are skipped unless ``filters.exclude_seen`` is False;
    ``model_version`` is ``"popular"``.
    """
    t0 = time.perf_counter()
    f = filters or Filters()
    live = service.live
    allowed = live.catalog.allowed(f.include_genres, f.exclude_genres, f.year_min, f.year_max)
    if f.exclude_seen:
        allowed[live.history(user_id).seen] = False
    counts = live.stats.counts
    order = np.argsort(-counts, kind="stable")
    top = order[allowed[order]][:k]
    items = [RecItem(live.catalog.view(int(i)), float(counts[i]), "popular", "popular with everyone")
             for i in top.tolist()]  # fmt: skip
    return RecommendationList(user_id, items, "popular", str(uuid.uuid4()),
                              (time.perf_counter() - t0) * 1000)  # fmt: skip


def serve_variant(
    runtime: ServingRuntime, variant: Variant, user_id: str, k: int = 10, filters: Filters | None = None,
    models: VariantModels | None = None,
) -> RecommendationList:  # fmt: skip
    """The list ``variant``'s model serves to the user (no experiment bookkeeping)."""
    if variant.model == "popular":
        return popular_list(runtime.service, user_id, k, filters)
    if variant.model == "champion":
        return runtime.service.recommend(user_id, k, filters)
    served = (models or _DEFAULT_MODELS).get(runtime, variant.model)
    return runtime.service.recommend(user_id, k, filters, served=served)


class ExposureSink(Protocol):
    """Where exposures go (the experiment engine, in production)."""

    def record_exposure(self, experiment: Experiment, variant: str, user_id: str, request_id: str,
                        items: Sequence[int], ts: float | None = None, *, teams: Sequence[str] = (),
                        propensities: Sequence[float] = (), pre_activity: float | None = None,
                        ) -> object: ...  # fmt: skip


_RNG = np.random.default_rng()
_RNG_LOCK = threading.Lock()


def _child_rng() -> np.random.Generator:
    with _RNG_LOCK:
        return np.random.default_rng(_RNG.integers(2**63))


@dataclass
class ExperimentRouter:
    """``route(user) -> (variant, list)`` under the running experiment, exposures to ``sink``.

    In ``interleaving`` mode every user gets one team-draft merge of both
    variants (variant name ``"interleaved"``); otherwise the routed variant's
    list, through the spec's exploration policy. Every exposure logs each
    slot's team and propensity and the user's activity count.
    """

    runtime: ServingRuntime
    engine: ExperimentEngine
    models: VariantModels | None = None

    def route(self, user_id: str) -> tuple[Experiment, Variant] | None:
        """The running experiment and the user's variant (None: no experiment runs)."""
        exp = self.engine.running()
        return None if exp is None else (exp, self.engine.assign(exp, user_id))

    def recommend(self, user_id: str, k: int = 10, filters: Filters | None = None,
                  sink: ExposureSink | None = None) -> tuple[RecommendationList, str | None]:  # fmt: skip
        """The user's list and variant name (None when no experiment runs or the variant failed)."""
        routed = self.route(user_id)
        if routed is None:
            return self.runtime.service.recommend(user_id, k, filters), None
        exp, variant = routed
        from recloop.experiments.served_lists import serve_explored, serve_interleaved

        interleaved = exp.spec.mode == "interleaving"
        try:
            if interleaved:
                served = serve_interleaved(self, exp, user_id, k, filters, _child_rng())
            else:
                bandit = exp.spec.mode == "bandit"
                p = assignment_probability(exp, variant, self.engine.store.counters(exp.id) if bandit else {})
                served = serve_explored(self, exp, variant, user_id, k, filters, _child_rng(), p)
        except RecloopError as exc:
            log.error("variant_unavailable", experiment=exp.id, variant=variant.name, model=variant.model,
                      error=exc.message)  # fmt: skip
            return self.runtime.service.recommend(user_id, k, filters), None
        name, recs = INTERLEAVED if interleaved else variant.name, served.recs
        pre = float(len(self.runtime.service.history(user_id).seen))
        (sink or self.engine).record_exposure(exp, name, user_id, recs.request_id,
                                              [r.item.item_id for r in recs.items], teams=served.teams,
                                              propensities=served.propensities, pre_activity=pre)  # fmt: skip
        return recs, name


def recommend_with_experiment(
    runtime: ServingRuntime, engine: ExperimentEngine, user_id: str, k: int = 10,
    filters: Filters | None = None, *, models: VariantModels | None = None,
) -> tuple[RecommendationList, str | None]:  # fmt: skip
    """The user's list and variant name through an :class:`ExperimentRouter`."""
    return ExperimentRouter(runtime, engine, models).recommend(user_id, k, filters)


def attribute_events(engine: ExperimentEngine, applied: Iterable[AttributableEvent]) -> list[Outcome]:
    """Attribute the events the recommender applied to the running experiment.

    Pass :attr:`~recloop.serving.recommender.IngestOutcome.applied`: validated once,
    duplicates and rejected events already left out, timestamps as stored
    (attribution is idempotent by ``event_id`` anyway).
    """
    if engine.running() is None:
        return []
    recorded: list[Outcome] = []
    for ev in applied:
        out = engine.attribute(ev)
        if out is not None:
            recorded.append(out)
    return recorded
