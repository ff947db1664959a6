"""The experiment engine: lifecycle, assignment, exposure and outcome logging, results.

At most one experiment runs at a time (experiments on the same surface would
fight over the same lists); :meth:`ExperimentEngine.running` is cached for
``cache_s`` seconds because it is read on every recommendation request.

* Assignment: A/B uses the salted hash of
  :func:`recloop.experiments.assignment.assign` (same variant in every
  process, no state); bandit mode draws once per user from Beta posteriors
  on the primary metric built from the stored counters (Thompson sampling)
  and makes the draw sticky in the store.
* Attribution (:meth:`ExperimentEngine.attribute`): an event carrying a
  ``request_id`` belongs to that exposure (same user, item in the list, no
  time limit); an event without one belongs to the user's latest exposure
  if the item was in it and the event came at most ``attribution_window_s``
  after it. click -> ``ctr``; like -> ``like_rate``; click, like, purchase
  and rate >= 4 -> ``positive_rate``; a rating -> ``mean_rating``.
* Results (:meth:`ExperimentEngine.results`): see
  :mod:`recloop.experiments.analysis`. ``winner:<name>`` needs the
  sequential test to reject in that variant's favour, no guardrail breach
  and no sample-ratio mismatch; otherwise ``running`` (or ``no difference``
  once stopped). With ``auto_promote``, a winner whose model is a registry
  version is promoted to champion (the serving process's model watcher
  picks it up) and the experiment stops, recording the version.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
import structlog

from recloop.errors import ConflictError, RecloopError, ValidationError
from recloop.experiments.assignment import assign
from recloop.experiments.decision import judge, render
from recloop.experiments.log_results import cuped_results, interleaving_results
from recloop.experiments.models import (
    Experiment,
    ExperimentSpec,
    Exposure,
    Outcome,
    Variant,
    VariantCounters,
)
from recloop.experiments.store import ExperimentStore
from recloop.registry.models import ModelVersionInfo, PromotionResult

__all__ = [
    "AttributableEvent",
    "ExperimentEngine",
    "RegistryLike",
    "RegistryLoader",
    "assignment_probability",
    "outcome_metrics",
    "posteriors",
]

log = structlog.get_logger(__name__)


class RegistryLike(Protocol):
    """The part of :class:`~recloop.registry.ModelRegistry` the engine uses."""

    def get(self, version_or_alias: int | str) -> ModelVersionInfo:
        """Resolve a version or alias (raises NotFoundError/ModelNotFoundError)."""
        ...

    def promote(self, version: int) -> PromotionResult:
        """Make ``version`` the champion."""
        ...


RegistryLoader = Callable[[], RegistryLike]


class AttributableEvent(Protocol):
    """What attribution reads from an event (:class:`~recloop.events.schema.Event` fits)."""

    @property
    def event_id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def item_id(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def value(self) -> float | None: ...
    @property
    def timestamp(self) -> float: ...
    @property
    def request_id(self) -> str | None: ...


def outcome_metrics(event_type: str, value: float | None) -> dict[str, float]:
    """Metric values an event contributes (empty: the event is not an outcome)."""
    if event_type == "click":
        return {"ctr": 1.0, "positive_rate": 1.0}
    if event_type == "like":
        return {"like_rate": 1.0, "positive_rate": 1.0}
    if event_type == "purchase":
        return {"positive_rate": 1.0}
    if event_type == "rate" and value is not None:
        return {"mean_rating": float(value), "positive_rate": 1.0 if value >= 4 else 0.0}
    return {}


class ExperimentEngine:
    """Runs experiments over an :class:`ExperimentStore`; thread-safe.

    ``registry_loader`` builds the model registry on demand (validating
    variant models at creation, auto-promotion); None disables both (only
    ``champion``/``popular`` variants are then accepted). ``seed`` seeds the
    bandit draws; ``clock`` returns Unix seconds.
    """

    def __init__(
        self, store: ExperimentStore, registry_loader: RegistryLoader | None = None, *,
        seed: int | None = None, cache_s: float = 1.0, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.store = store
        self._registry_loader = registry_loader
        self._rng = np.random.default_rng(seed)
        self._cache_s, self._clock = cache_s, clock
        self._lock = threading.Lock()
        self._running: tuple[float, Experiment | None] | None = None

    # -- lifecycle -------------------------------------------------------------------

    def _registry(self) -> RegistryLike:
        if self._registry_loader is None:
            raise ValidationError("no model registry configured: use only champion/popular variants")
        return self._registry_loader()

    def _check_models(self, spec: ExperimentSpec) -> None:
        refs = [v for v in spec.variants if v.model == "challenger" or v.registry_version is not None]
        if spec.auto_promote and not any(v.registry_version is not None for v in spec.variants):
            raise ValidationError("auto_promote needs a variant whose model is a registry version, e.g. '4'")
        if not refs:
            return
        registry = self._registry()
        for v in refs:
            try:
                registry.get(v.model)
            except RecloopError as exc:
                raise ValidationError(f"variant {v.name!r}: model {v.model!r}: {exc.message}") from None

    def create(self, spec: ExperimentSpec) -> Experiment:
        """Validate the variants' models and start an experiment (ConflictError if one runs)."""
        self._check_models(spec)
        with self._lock:
            current = self._load_running()
            if current is not None:
                raise ConflictError(f"experiment {current.id} ({current.name!r}) is running; stop it "
                                    f"first with POST /v1/experiments/{current.id}/stop")  # fmt: skip
            exp = Experiment(id=uuid.uuid4().hex[:12], spec=spec, created_at=self._now())
            self.store.add_experiment(exp)
            self._running = None
        log.info("experiment_created", id=exp.id, name=spec.name, mode=spec.mode,
                 variants=[v.name for v in spec.variants])  # fmt: skip
        return exp

    def stop(self, experiment_id: str) -> Experiment:
        """Stop an experiment (idempotent); its results stay readable."""
        with self._lock:
            exp = self.store.get_experiment(experiment_id)
            if exp.status == "stopped":
                return exp
            exp = exp.model_copy(update={"status": "stopped", "stopped_at": self._now()})
            self.store.save_experiment(exp)
            self._running = None
        log.info("experiment_stopped", id=exp.id)
        return exp

    def list(self) -> list[Experiment]:
        """Every experiment, newest first."""
        return self.store.list_experiments()

    def get(self, experiment_id: str) -> Experiment:
        """One experiment (NotFoundError if unknown)."""
        return self.store.get_experiment(experiment_id)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _load_running(self) -> Experiment | None:
        return next((e for e in self.store.list_experiments() if e.status == "running"), None)

    def running(self) -> Experiment | None:
        """The running experiment, if any (cached for ``cache_s`` seconds)."""
        now = time.monotonic()
        cached = self._running
        if cached is not None and now - cached[0] < self._cache_s:
            return cached[1]
        exp = self._load_running()
        self._running = (now, exp)
        return exp

    # -- serving ---------------------------------------------------------------------

    def assign(self, experiment: Experiment, user_id: str) -> Variant:
        """The user's variant: salted hash (A/B) or a sticky Thompson draw (bandit)."""
        spec = experiment.spec
        if spec.mode == "interleaving":
            return spec.control  # every user sees both; the router merges them
        if spec.mode == "ab":
            names = [v.name for v in spec.variants]
            return spec.variant(assign(user_id, experiment.salt, names, [v.weight for v in spec.variants]))
        counters = self.store.counters(experiment.id)
        a, b = posteriors(spec, counters)
        with self._lock:
            draw = self._rng.beta(a, b)
        chosen = spec.variants[int(np.argmax(draw))].name
        return spec.variant(self.store.claim_variant(experiment.id, user_id, chosen))

    def record_exposure(
        self, experiment: Experiment, variant: str, user_id: str, request_id: str,
        items: Sequence[int], ts: float | None = None, *, teams: Sequence[str] = (),
        propensities: Sequence[float] = (), pre_activity: float | None = None,
    ) -> bool:  # fmt: skip
        """Log that ``items`` (public ids, rank order) were shown, per slot ``teams`` and
        ``propensities`` (see :class:`Exposure`); False if already logged."""
        exposure = Exposure(experiment.id, variant, user_id, request_id, tuple(int(i) for i in items),
                            self._clock() if ts is None else float(ts), tuple(teams),
                            tuple(float(p) for p in propensities), pre_activity)  # fmt: skip
        return self.store.add_exposure(exposure)

    def attribute(self, event: AttributableEvent) -> Outcome | None:
        """Turn ``event`` into an outcome of the running experiment, if it is one."""
        exp = self.running()
        metrics = outcome_metrics(event.type, event.value)
        if exp is None or not metrics:
            return None
        if event.request_id:
            exposure = self.store.exposure(exp.id, event.request_id)
        else:
            exposure = self.store.latest_exposure(exp.id, event.user_id)
            window = exp.spec.attribution_window_s
            if exposure is not None and not 0.0 <= event.timestamp - exposure.ts <= window:
                exposure = None
        if exposure is None or exposure.user_id != event.user_id or event.item_id not in exposure.items:
            return None
        slot = exposure.items.index(int(event.item_id))
        variant = exposure.teams[slot] if exposure.teams else exposure.variant  # interleaving: the team
        outcome = Outcome(exp.id, variant, exposure.request_id, event.user_id, event.event_id,
                          int(event.item_id), metrics, float(event.timestamp))  # fmt: skip
        return outcome if self.store.add_outcome(outcome) else None

    # -- results ---------------------------------------------------------------------

    def results(self, experiment_id: str) -> dict[str, Any]:
        """The ``Results`` object of docs/API.md as of now: a pure read (nothing stored, nothing promoted).

        The sequential p-value shown is the stored running minimum with this look
        folded in, without storing it; :meth:`look` is what stores looks and promotes.
        """
        return self._evaluate(experiment_id, commit=False)

    def look(self, experiment_id: str) -> dict[str, Any]:
        """One scheduled look: fold it into the sequential state, auto-promote a winner if asked.

        Called by the :class:`ExperimentSupervisor` on a schedule (and by tests), never
        by a read, so a decision does not depend on anyone watching the results.
        """
        return self._evaluate(experiment_id, commit=True)

    def _evaluate(self, experiment_id: str, commit: bool) -> dict[str, Any]:
        exp = self.store.get_experiment(experiment_id)
        if exp.spec.mode == "interleaving":
            out, winner = interleaving_results(self.store, exp, commit)
        else:
            judged = judge(self.store, exp, commit)
            out, winner = render(exp, judged), judged.winner
        if commit and winner is not None and exp.status == "running":
            promoted = self._maybe_promote(exp, winner)
            out.update(status=promoted.status)
        if exp.spec.mode == "ab":
            out["cuped"] = [c.model_dump(mode="json") for c in cuped_results(self.store, exp)]
        return out


    def _maybe_promote(self, exp: Experiment, winner: Variant) -> Experiment:
        version = winner.registry_version
        if not exp.spec.auto_promote or version is None:
            return exp
        with self._lock:
            exp = self.store.get_experiment(exp.id)
            if exp.status != "running":
                return exp
            try:
                result = self._registry().promote(version)
            except RecloopError as exc:
                log.warning("experiment_promote_failed", id=exp.id, version=version, error=exc.message)
                return exp
            exp = exp.model_copy(update={"status": "stopped", "stopped_at": self._now(),
                                         "promoted_version": result.champion})  # fmt: skip
            self.store.save_experiment(exp)
            self._running = None
        log.info("experiment_promoted", id=exp.id, variant=winner.name, version=result.champion,
                 previous=result.previous)  # fmt: skip
        return exp


def assignment_probability(
    experiment: Experiment, variant: Variant, counters: dict[str, VariantCounters]
) -> float:
    """The probability the router chose ``variant``: its weight share (A/B), 1 (interleaving), or the
    Thompson probability that its posterior draw is the largest under the current counters (bandit)."""
    spec = experiment.spec
    if spec.mode == "interleaving":
        return 1.0
    if spec.mode == "ab":
        return variant.weight / sum(v.weight for v in spec.variants)
    from recloop.experiments.exploration import thompson_probabilities

    a, b = posteriors(spec, counters)
    names = [v.name for v in spec.variants]
    return float(thompson_probabilities(a, b)[names.index(variant.name)])


def posteriors(
    spec: ExperimentSpec, counters: dict[str, VariantCounters]
) -> tuple[np.ndarray, np.ndarray]:
    """Beta(1 + s, 1 + n - s) per variant; ratings as fractional rewards ``(r - 1) / 4``."""
    a, b = np.ones(len(spec.variants)), np.ones(len(spec.variants))
    for k, v in enumerate(spec.variants):
        c = counters.get(v.name, VariantCounters())
        if spec.primary_metric == "mean_rating":
            reward = (c.rating_sum - c.ratings) / 4.0
            a[k], b[k] = 1.0 + reward, 1.0 + c.ratings - reward
        else:
            s = min(c.successes.get(spec.primary_metric, 0), c.exposures)
            a[k], b[k] = 1.0 + s, 1.0 + c.exposures - s
    return a, b
