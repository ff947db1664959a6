"""The recommender: serves a model over the live state, with per-user caches keyed by model version.

Ingest: validate (events/) -> durable append through the live state
(idempotent); nothing else (a user's caches are keyed by their history). Recommend:
history (base + live) -> the ALS fold-in and personal source scores (kept per user
until the user's next event) -> candidates with the global sources as of now
(shared by all users per statistics snapshot) -> features -> ranker ->
business rules (seen, genre and year filters) -> reasons. Every method takes
the :class:`ServedModel` to use (default: the champion), so experiment
variants are served by this same object with caches of their own version.
The offline P2 protocol drives this object too: what is measured is what is served.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from recloop.errors import RecloopError
from recloop.events.idempotency import conflict_message
from recloop.events.schema import Event
from recloop.events.validation import DEFAULT_WINDOW, TimestampWindow, to_event
from recloop.monitoring.bounded import ByteLRU
from recloop.ranking.model import Ranked
from recloop.retrieval.candidates import Candidates
from recloop.retrieval.history import History
from recloop.serving.catalog import ItemView
from recloop.serving.coldstart import StarterList, starter_list
from recloop.serving.demotion import DEMOTION_DEPTH, demote
from recloop.serving.live import LiveState
from recloop.serving.reasons import explain_all
from recloop.serving.stability import Stability
from recloop.serving.user_caches import ServedModel, UserCaches

__all__ = [
    "Filters", "IngestOutcome", "RecItem", "RecommendationList", "Recommender", "ServedModel",
    "similar_items",
]

Status = Literal["applied", "duplicate", "conflict", "rejected", "queued"]


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
    predicted_rating: float | None = None  # 1-5, when the model has a rating model


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
    """Per event: (event_id, status, error or None), in request order; ``applied``: the new events."""

    results: list[tuple[str, Status, str | None]]
    applied: list[Event] = field(default_factory=list)

    def count(self, status: Status) -> int:
        """How many events ended in ``status``."""
        return sum(1 for _, s, _ in self.results if s == status)


def _is_new(history: History) -> bool:
    """No event at all: the starter list, not the ranker."""
    return len(history.items) == 0 and len(history.negatives) == 0


def _everything(n: int) -> np.ndarray:
    return np.ones(n, dtype=bool)


def _as_ranked(start: StarterList, served: ServedModel) -> Ranked:
    """The starter list as a :class:`Ranked` with no candidate of any source (for the observer)."""
    e, n_src = np.empty(0, np.int64), len(served.model.sources)
    none = Candidates(e, np.empty((0, n_src), np.float32), np.empty((0, n_src), np.float32),
                      np.zeros(n_src, np.float32), e)  # fmt: skip
    origin = np.full(len(start.items), -1, np.int64)
    return Ranked(start.items, start.scores, origin, none, served.model.sources.names)


def validate_raw(
    raw_events: Sequence[Any], catalog: Any, window: TimestampWindow = DEFAULT_WINDOW
) -> tuple[list[Event], list[tuple[str, Status, str | None]]]:
    """Validate raw payloads once: the valid events, and per payload (id, applied|rejected, error).

    A rejected payload never stops the others: each is checked on its own.
    """
    valid: list[Event] = []
    slots: list[tuple[str, Status, str | None]] = []
    for raw in raw_events:
        try:
            ev = to_event(raw, catalog, window)
        except RecloopError as exc:
            eid = raw.get("event_id", "") if isinstance(raw, dict) else ""
            slots.append((str(eid)[:128], "rejected", exc.message))
            continue
        valid.append(ev)
        slots.append((ev.event_id, "applied", None))
    return valid, slots


def merge_fates(
    slots: list[tuple[str, Status, str | None]], fates: list[tuple[Status, str | None]]
) -> list[tuple[str, Status, str | None]]:
    """The validation slots with each valid event's fate (in order) in place of ``applied``."""
    fate = iter(fates)
    return [(eid, s, err) if s == "rejected" else (eid, *next(fate)) for eid, s, err in slots]


def conflicts(store: Any, events: Sequence[Event]) -> dict[int, str]:
    """``id(event) -> message`` for each event whose id is stored with another payload.

    Events without a fingerprint, or stored before fingerprints existed, never conflict.
    """
    asked = [ev for ev in events if ev.fingerprint is not None]
    stored = store.stored_events([ev.event_id for ev in asked]) if asked else {}
    out: dict[int, str] = {}
    for ev in asked:
        old = stored.get(ev.event_id)
        if old is not None and old.fingerprint is not None and old.fingerprint != ev.fingerprint:
            out[id(ev)] = conflict_message(old, ev)
    return out


def _fates(store: Any, valid: list[Event], applied: list[Event]) -> list[tuple[Status, str | None]]:
    """Per valid event: applied, or (not new) a duplicate or a conflict with its message."""
    new = {id(ev) for ev in applied}
    clash = conflicts(store, [ev for ev in valid if id(ev) not in new])
    return [("applied", None) if id(ev) in new else ("conflict", clash[id(ev)]) if id(ev) in clash
            else ("duplicate", None) for ev in valid]  # fmt: skip


class Recommender:
    """Serves :class:`ServedModel` s over one :class:`LiveState`."""

    def __init__(self, live: LiveState, model: ServedModel, observer: Any = None,
                 user_cache_mb: float = 128.0, foldin_cache_mb: float = 64.0,
                 stability: Stability | None = None) -> None:  # fmt: skip
        self.live, self.observer = live, observer
        self.stability = Stability() if stability is None else stability
        self._model = model
        self.user_caches = UserCaches(int(user_cache_mb * 2**20), int(foldin_cache_mb * 2**20), observer)
        self._id_prefix = uuid.uuid4().hex[:16]
        self._id_counter = itertools.count(1)
        self.event_window = DEFAULT_WINDOW  # the accepted event times (RECLOOP_EVENTS__*)

    @property
    def model(self) -> ServedModel:
        """The champion serving right now (swapped atomically by :meth:`swap`)."""
        return self._model

    def swap(self, model: ServedModel) -> None:
        """Serve ``model`` from the next request on; in-flight requests finish on the old."""
        self._model = model

    def caches(self) -> list[ByteLRU[Any, Any]]:
        """The per-user caches of this process (for the memory gauges)."""
        return [*self.user_caches.all(), self.stability.shown]

    def history(self, user_id: str) -> History:
        """The user's history (base + live)."""
        return self.live.history(user_id)

    def request_id(self) -> str:
        """Unique per list: a random per-process prefix and a counter (no syscall per request)."""
        return f"{self._id_prefix}-{next(self._id_counter):x}"

    def apply(self, events: Sequence[Event]) -> list[Event]:
        """Store validated events; the events that were new.

        Nothing is recomputed here: a user's caches are keyed by their history, so the
        user's next request folds the new events in (incrementally) and rescores. A batch
        of many users' events (a replay, a bulk import) costs only the store's write.
        """
        applied = self.live.apply(events)
        if self.observer:
            self.observer.events(applied)
        return applied

    def validate(self, raw_events: Sequence[Any]) -> tuple[list[Event], list[tuple[str, Status, str | None]]]:
        """:func:`validate_raw` against this catalog."""
        return validate_raw(raw_events, self.live.catalog, self.event_window)

    def ingest(self, raw_events: Sequence[Any]) -> IngestOutcome:
        """Validate raw payloads once, apply the valid ones, report each one's fate.

        An event whose id was stored before is a ``duplicate`` when its payload's fingerprint
        is the stored one's, a ``conflict`` (with a message naming the differing fields) when not.
        """
        valid, slots = self.validate(raw_events)
        applied = self.apply(valid) if valid else []
        return IngestOutcome(merge_fates(slots, _fates(self.live.store, valid, applied)), applied)

    def rank_items(self, user_id: str, k: int, at: float | None = None) -> np.ndarray:
        """Top-k item indices, unseen, no filters (the P2 protocol's path).

        The same steps as :meth:`recommend`: the starter list for a user with no
        history, the demotion of items similar to the user's negatives.
        """
        served = self._model
        history = self.live.history(user_id)
        stats = self.live.stats
        if _is_new(history):
            everything = _everything(len(self.live.catalog))
            return starter_list(stats, self.live.catalog.genre_sets, everything, k).items
        personal = self.user_caches.user_scores(user_id, served, history)
        depth = max(k, self.stability.depth) if self.stability.enabled else k
        depth = depth if len(history.negatives) == 0 else max(depth, DEMOTION_DEPTH)
        ranked = served.model.rank(history, stats, stats.now if at is None else at, depth, personal=personal)
        items, scores, _ = demote(ranked.items, ranked.scores, history, served.model.sources)
        items, _, _ = self.stability.adjust(user_id, items, scores, history, served.model.sources)
        self.stability.remember(user_id, items[:k], history)
        return items[:k]

    def _ranked(self, user_id: str, served: ServedModel, f: Filters) -> tuple[History, Ranked]:
        history = self.live.history(user_id)
        if f.exclude_seen:
            personal = self.user_caches.user_scores(user_id, served, history)
        else:  # seen items stay in: a one-off set of scores, not kept
            history = History(history.items, history.timestamps, history.ratings,
                              np.empty(0, np.int64), user_id, history.type_counts)  # fmt: skip
            factor = self.user_caches.factor(user_id, served, history)
            personal = served.model.sources.user_scores(history, factor)
        stats = self.live.stats
        ranked = served.model.rank(history, stats, stats.now, 10_000, personal=personal)
        src = served.model.sources
        items, scores, order = demote(ranked.items, ranked.scores, history, src)
        items, scores, steady = self.stability.adjust(user_id, items, scores, history, src)
        origin = ranked.origin[order][steady]
        return history, Ranked(items, scores, origin, ranked.candidates, ranked.source_names)

    def recommend(self, user_id: str, k: int = 10, filters: Filters | None = None,
                  served: ServedModel | None = None) -> RecommendationList:  # fmt: skip
        """Top-k for the user with business rules and reasons, from ``served`` (default: the champion)."""
        t0 = time.perf_counter()
        f, served = filters or Filters(), served or self._model
        catalog = self.live.catalog
        allowed = catalog.allowed(f.include_genres, f.exclude_genres, f.year_min, f.year_max)
        history = self.live.history(user_id)
        if _is_new(history):
            return _starter(self, user_id, k, allowed, served, t0)
        history, ranked = self._ranked(user_id, served, f)
        keep = allowed[ranked.items]
        items, scores, origin = ranked.items[keep][:k], ranked.scores[keep][:k], ranked.origin[keep][:k]
        if len(items) < k:  # rules removed too much: fill with popular allowed items
            pop = np.argsort(-self.live.stats.counts, kind="stable")
            taken = set(items.tolist()) | set(history.seen.tolist())
            extra = [i for i in pop.tolist() if allowed[i] and i not in taken][: k - len(items)]
            items = np.concatenate([items, np.asarray(extra, np.int64)])
            scores = np.concatenate([scores, np.full(len(extra), -1e9)])
            origin = np.concatenate([origin, np.full(len(extra), -1, np.int64)])  # -1: the filler
        why = explain_all(items, origin, history, served.model.sources, catalog)
        rating = served.model.rating is not None
        stars = served.model.predicted_ratings(
            history, items, self.user_caches.rating_user(user_id, served, history) if rating else None)
        rated = [None] * len(items) if stars is None else [round(float(v), 3) for v in stars]
        rows = zip(items.tolist(), scores.tolist(), why, rated, strict=True)
        out = [RecItem(catalog.views[i], s, source, reason, p) for i, s, (source, reason), p in rows]
        self.stability.remember(user_id, items, history)
        latency = (time.perf_counter() - t0) * 1000
        if self.observer:
            self.observer.recommendation(latency, user_id, ranked, len(history.items) == 0,
                                         version=str(served.version), shown=items)  # fmt: skip
        return RecommendationList(user_id, out, served.version, self.request_id(), latency)

def similar_items(rec: Recommender, item_id: int, k: int = 10) -> list[RecItem]:
    """Items most similar to ``item_id``: the model's item-item matrices, each normalised, summed."""
    catalog = rec.live.catalog
    i = catalog.index(item_id)
    score = np.zeros(len(catalog), dtype=np.float64)
    for src in rec.model.model.sources.sources:
        matrix = src.similarity() if src.explained_by == src.kind else None
        if matrix is not None:
            row = matrix.rows(np.array([i]))[0].astype(np.float64)
            score += row / (np.abs(row).max() or 1.0)
    score[i] = -np.inf
    top = np.argsort(-score, kind="stable")[:k]
    why = f"similar to {catalog.view(i).display}"
    return [RecItem(catalog.view(int(j)), float(score[j]), "itemknn", why) for j in top]


def _starter(rec: Recommender, user_id: str, k: int, allowed: np.ndarray, served: ServedModel,
             t0: float) -> RecommendationList:  # fmt: skip
    """The list of a user with no history (serving/coldstart.py)."""
    catalog = rec.live.catalog
    start = starter_list(rec.live.stats, catalog.genre_sets, allowed, k)
    stars = served.model.predicted_ratings(rec.live.history(user_id), start.items)
    rated = [None] * len(start.items) if stars is None else [round(float(v), 3) for v in stars]
    rows = zip(start.items.tolist(), start.scores.tolist(), start.reasons, rated, strict=True)
    out = [RecItem(catalog.views[i], s, "popular", why, p) for i, s, why, p in rows]
    latency = (time.perf_counter() - t0) * 1000
    if rec.observer:
        rec.observer.recommendation(latency, user_id, _as_ranked(start, served), True,
                                    version=str(served.version), shown=start.items)  # fmt: skip
    return RecommendationList(user_id, out, served.version, rec.request_id(), latency)
