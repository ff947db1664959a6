"""The one place that orchestrates serving: ingest events, recommend, explain.

Ingest: validate -> durable append to the feature store (idempotent) ->
update item statistics -> fold the user's ALS factor in again. Recommend:
history (training base + live events) -> the history-dependent source scores
(kept per user until the user's next event) -> candidates with popularity and
trending as of now -> features -> ranker -> business rules (seen, genre and
year filters) -> reasons. The offline P2 protocol drives this same object, so
what is measured is what is served.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from recloop.errors import RecloopError
from recloop.events.schema import Event
from recloop.features.store import FeatureStore
from recloop.retrieval.als import FoldIn
from recloop.retrieval.candidates import PERSONAL, UserScores
from recloop.retrieval.history import History
from recloop.retrieval.trending import ItemStats
from recloop.serving.catalog import Catalog, ItemView
from recloop.serving.model import TwoStageModel
from recloop.serving.reasons import explain_all
from recloop.serving.validation import to_event

__all__ = ["Filters", "IngestOutcome", "RecItem", "RecommendationList", "RecommenderService",
           "ServedModel"]  # fmt: skip

BaseHistories = dict[str, tuple[list[int], list[int], list[float]]]
Status = Literal["applied", "duplicate", "rejected"]


@dataclass(frozen=True)
class ServedModel:
    """A loaded model and the registry version it came from."""

    model: TwoStageModel
    version: str


@dataclass(frozen=True)
class Filters:
    """Business rules applied after ranking."""

    include_genres: frozenset[str] = frozenset()
    exclude_genres: frozenset[str] = frozenset()
    year_min: int | None = None
    year_max: int | None = None
    exclude_seen: bool = True


@dataclass(frozen=True)
class RecItem:
    """One recommended item with its score, source and reason."""

    item: ItemView
    score: float
    source: str
    reason: str


@dataclass(frozen=True)
class RecommendationList:
    """A response: ranked items, the model version and a request id."""

    user_id: str
    items: list[RecItem]
    model_version: str
    request_id: str
    latency_ms: float


@dataclass(frozen=True)
class IngestOutcome:
    """Per event: (event_id, status, error or None), in request order."""

    results: list[tuple[str, Status, str | None]]

    def count(self, status: Status) -> int:
        """How many events ended in ``status``."""
        return sum(1 for _, s, _ in self.results if s == status)


class RecommenderService:
    """Serves one model over a base history plus the live feature store."""

    def __init__(
        self, catalog: Catalog, base: BaseHistories, stats: ItemStats, store: FeatureStore,
        model: ServedModel, observer: Any = None, user_cache_mb: float = 128.0,
    ) -> None:  # fmt: skip
        self.catalog, self.base, self.store = catalog, base, store
        # user -> (model version, history key, scores); see _user_scores. LRU, bounded in bytes.
        self._personal: OrderedDict[str, tuple[str, tuple[int, int, int], UserScores]] = OrderedDict()
        self._personal_max = int(user_cache_mb * 2**20 // (2 * PERSONAL * 4 * max(1, len(catalog))))
        self._personal_lock = threading.Lock()
        # the training base never changes: per user, (items, timestamps, ratings, seen) built once
        self._base_cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        self._model = model
        self._lock = threading.Lock()
        # user -> (model version, history key, factor); see _factor
        self._factors: dict[str, tuple[str, tuple[int, int], np.ndarray, FoldIn]] = {}
        self._fold_lock = threading.Lock()
        self._id_prefix = uuid.uuid4().hex[:16]
        self._id_counter = itertools.count(1)
        self.observer = observer
        self._base_stats = stats  # the training base alone; live events come from the store
        self.stats = stats.merged(store.item_stats())

    def _request_id(self) -> str:
        """Unique per list: a random per-process prefix and a counter (no syscall per request)."""
        return f"{self._id_prefix}-{next(self._id_counter):x}"

    @property
    def model(self) -> ServedModel:
        """The model serving right now (swapped atomically by :meth:`swap`)."""
        return self._model

    def swap(self, model: ServedModel) -> None:
        """Serve ``model`` from the next request on; in-flight requests finish on the old."""
        self._model = model

    def _base_arrays(self, user_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The user's training-base (items, timestamps, ratings, seen items) as arrays, made once."""
        arrays = self._base_cache.get(user_id)
        if arrays is None:
            items, stamps, ratings = self.base.get(user_id, ([], [], []))
            item_arr = np.asarray(items, np.int64)
            arrays = (item_arr, np.asarray(stamps, np.int64), np.asarray(ratings, np.float32),
                      np.unique(item_arr))  # fmt: skip
            if user_id in self.base:
                self._base_cache[user_id] = arrays
        return arrays

    def sync_stats(self) -> None:
        """Item statistics again from the training base plus the store's live-event stats.

        With a shared store (Redis, several workers) this brings in the events other
        processes ingested; with the embedded store it changes nothing. Swapped in as
        a new object under the ingest lock, so no event of this process is lost.
        """
        with self._lock:
            self.store.refresh()
            self.stats = self._base_stats.merged(self.store.item_stats())

    def history(self, user_id: str) -> History:
        """The user's history: training base followed by live events."""
        base_items, base_stamps, base_ratings, base_seen = self._base_arrays(user_id)
        live = self.store.user_events(user_id)
        if len(live.items) == 0 and len(live.disliked) == 0:  # nothing live: the base as is
            return History(base_items, base_stamps, base_ratings, base_seen, user_id,
                           dict(live.counts_by_type))  # fmt: skip
        items = np.concatenate([base_items, live.items])
        stamps = np.concatenate([base_stamps, live.timestamps.astype(np.int64)])
        ratings = np.concatenate([base_ratings, live.ratings])
        seen = np.unique(np.concatenate([items, live.disliked]))
        return History(items, stamps, ratings, seen, user_id, dict(live.counts_by_type))

    def _positives(self, user_id: str) -> History:
        """The user's positive items and times only (what a fold-in needs; no seen set)."""
        base_items, base_stamps, _, _ = self._base_arrays(user_id)
        live = self.store.user_events(user_id)
        items = np.concatenate([base_items, live.items])
        stamps = np.concatenate([base_stamps, live.timestamps.astype(np.int64)])
        return History(items, stamps, np.empty(0, np.float32), items, user_id)

    def _fold_in(self, user_id: str, served: ServedModel, history: History | None = None) -> np.ndarray:
        """Re-solve the user's ALS factor; incremental when only new items were added."""
        h = self._positives(user_id) if history is None else history
        als = served.model.sources.als
        with self._fold_lock:  # the state is updated in place
            cached = self._factors.get(user_id)
            if cached is not None and cached[0] == served.version and cached[1][0] <= len(h.items):
                state = als.fold_in_add(cached[3], h.items[cached[1][0] :])
            else:
                state = als.fold_in_add(als.fold_in_start(), h.items)
            key = (len(h.items), h.last_timestamp)
            self._factors[user_id] = (served.version, key, state.factor, state)
        if self.observer:
            self.observer.foldin()
        return state.factor

    def apply(self, events: Sequence[Event]) -> list[bool]:
        """Durably store validated events, update stats, fold the users in again."""
        with self._lock:
            applied = self.store.append(events)
            for ev, new in zip(events, applied, strict=True):
                if new and ev.positive:
                    self.stats.add(ev.item, ev.timestamp, ev.rating)
        served = self._model
        for user in {ev.user_id for ev, new in zip(events, applied, strict=True) if new}:
            self._fold_in(user, served)
        if self.observer:
            self.observer.events([ev for ev, new in zip(events, applied, strict=True) if new])
        return applied

    def ingest(self, raw_events: Sequence[Any]) -> IngestOutcome:
        """Validate raw payloads, apply the valid ones, report each one's fate."""
        valid: list[Event] = []
        slots: list[tuple[str, Status, str | None]] = []
        for raw in raw_events:
            try:
                ev = to_event(raw, self.catalog)
            except RecloopError as exc:
                eid = raw.get("event_id", "") if isinstance(raw, dict) else ""
                slots.append((str(eid), "rejected", exc.message))
                continue
            valid.append(ev)
            slots.append((ev.event_id, "applied", None))
        applied = iter(self.apply(valid)) if valid else iter(())
        results = [(eid, s if s == "rejected" or next(applied) else "duplicate", err)
                   for eid, s, err in slots]  # fmt: skip
        return IngestOutcome(results)

    def _factor(self, user_id: str, served: ServedModel, history: History) -> np.ndarray:
        """The cached fold-in if it was computed by ``served`` from this same history.

        Histories only grow, so (length, latest time) identifies one: a factor folded
        in by another worker's events, or by a fold-in racing a newer event, is redone.
        """
        cached = self._factors.get(user_id)
        key = (len(history.items), history.last_timestamp)
        if cached is not None and cached[0] == served.version and cached[1] == key:
            return cached[2]
        return self._fold_in(user_id, served, history)

    def _user_scores(self, user_id: str, served: ServedModel, history: History) -> UserScores:
        """The history-dependent candidate scores, reused until the user's history changes.

        Sources ``SOURCES[:PERSONAL]`` (EASE, item-kNN, transitions, ALS + its index
        search) read only the history and the model, so they are kept per user under
        the same key as the fold-in plus the seen-set size (a dislike changes only that):
        any event of the user's, from this or another worker, makes the next request
        recompute them. Popularity and trending are recomputed on every request.
        """
        key = (len(history.items), history.last_timestamp, len(history.seen))
        with self._personal_lock:
            cached = self._personal.get(user_id)
            if cached is not None and cached[0] == served.version and cached[1] == key:
                self._personal.move_to_end(user_id)
                if self.observer:
                    self.observer.user_scores(hit=True)
                return cached[2]
        factor = self._factor(user_id, served, history)
        scores = served.model.sources.user_scores(history, factor)
        with self._personal_lock:
            self._personal[user_id] = (served.version, key, scores)
            self._personal.move_to_end(user_id)
            while len(self._personal) > self._personal_max:
                self._personal.popitem(last=False)
        if self.observer:
            self.observer.user_scores(hit=False)
        return scores

    def rank_items(self, user_id: str, k: int, at: float | None = None) -> np.ndarray:
        """Top-k item indices, unseen, no filters (the P2 protocol's path)."""
        served = self._model
        history = self.history(user_id)
        when = self.stats.now if at is None else at
        personal = self._user_scores(user_id, served, history)
        return served.model.rank(history, self.stats, when, k, personal=personal).items

    def recommend(self, user_id: str, k: int = 10, filters: Filters | None = None) -> RecommendationList:
        """Top-k for the user with business rules and reasons."""
        t0 = time.perf_counter()
        f = filters or Filters()
        served = self._model
        history = self.history(user_id)
        if not f.exclude_seen:
            history = History(history.items, history.timestamps, history.ratings,
                              np.empty(0, np.int64), user_id, history.type_counts)  # fmt: skip
        if f.exclude_seen:
            personal = self._user_scores(user_id, served, history)
        else:  # seen items stay in: a one-off set of scores, not kept
            personal = served.model.sources.user_scores(history, self._factor(user_id, served, history))
        ranked = served.model.rank(history, self.stats, self.stats.now, 10_000, personal=personal)
        allowed = self.catalog.allowed(f.include_genres, f.exclude_genres, f.year_min, f.year_max)
        keep = allowed[ranked.items]
        items, scores, origin = ranked.items[keep][:k], ranked.scores[keep][:k], ranked.origin[keep][:k]
        if len(items) < k:  # rules removed too much: fill with popular allowed items
            pop = np.argsort(-self.stats.counts, kind="stable")
            taken = set(items.tolist()) | set(history.seen.tolist())
            extra = [i for i in pop.tolist() if allowed[i] and i not in taken][: k - len(items)]
            items = np.concatenate([items, np.asarray(extra, np.int64)])
            scores = np.concatenate([scores, np.full(len(extra), -1e9)])
            origin = np.concatenate([origin, np.full(len(extra), 4, np.int64)])
        why = explain_all(items, origin, history, served.model.sources, self.catalog)
        views = self.catalog.views
        rows = zip(items.tolist(), scores.tolist(), why, strict=True)
        out = [RecItem(views[i], s, source, reason) for i, s, (source, reason) in rows]
        latency = (time.perf_counter() - t0) * 1000
        if self.observer:
            self.observer.recommendation(latency, user_id, ranked, len(history.items) == 0)
        return RecommendationList(user_id, out, served.version, self._request_id(), latency)

    def similar(self, item_id: int, k: int = 10) -> list[RecItem]:
        """Items most similar to ``item_id`` (EASE + item-kNN, normalised)."""
        i = self.catalog.index(item_id)
        src = self._model.model.sources
        e, n = src.ease[i].astype(np.float64), src.itemknn[i].astype(np.float64)
        score = e / (np.abs(e).max() or 1.0) + n / (np.abs(n).max() or 1.0)
        score[i] = -np.inf
        top = np.argsort(-score, kind="stable")[:k]
        why = f"similar to {self.catalog.view(i).display}"
        return [RecItem(self.catalog.view(int(j)), float(score[j]), "itemknn", why) for j in top]
