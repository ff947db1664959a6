"""The P1 (temporal hold-out) and P2 (prequential replay) protocols.

Each model is given as a builder that trains it on the protocol's training
frame; the protocol then scores it on data it never trained on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from recloop.data.movielens import Dataset
from recloop.evaluation import metrics as m
from recloop.evaluation.splits import prequential_split, temporal_user_split
from recloop.stages import stage

__all__ = [
    "EvaluationReport",
    "ModelBuilder",
    "ModelResult",
    "OnlineModel",
    "p1_users",
    "replay_sample",
    "run_p1",
    "run_p2",
    "sample_note",
]


class OnlineModel(Protocol):
    """What a protocol needs: recommend (excluding seen) and ingest events."""

    def recommend(self, user_id: int, k: int) -> np.ndarray: ...

    def recommend_many(self, user_ids: Sequence[int], k: int) -> list[np.ndarray]: ...

    def ingest(self, user_id: int, item: int, rating: float, timestamp: int) -> None: ...


@dataclass(frozen=True)
class ModelBuilder:
    """A named recipe: ``build(dataset, train_frame)`` returns a trained model."""

    name: str
    build: Callable[[Dataset, pd.DataFrame], OnlineModel]
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelResult:
    """Metrics of one model under one protocol, with params and wall time (s)."""

    metrics: dict[str, float]
    params: dict[str, Any]
    wall_s: float


@dataclass(frozen=True)
class EvaluationReport:
    """One protocol run: every model on the same split."""

    protocol: str
    data: dict[str, Any]
    models: dict[str, ModelResult]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"protocol", "data", "models": {name: {...}}}``."""
        return {
            "protocol": self.protocol,
            "data": self.data,
            "models": {
                name: {"metrics": r.metrics, "params": r.params, "wall_s": r.wall_s}
                for name, r in self.models.items()
            },
        }


Advance = Callable[[int], None]


def _p1_metrics(lists: Sequence[np.ndarray], tests: Sequence[set[int]], n_items: int) -> dict[str, float]:
    keys = ("NDCG@10", "Recall@10", "Recall@20", "HR@10", "MAP@10", "Precision@10")
    per: dict[str, list[float]] = {k: [] for k in keys}
    for ranked, rel in zip(lists, tests, strict=True):
        r = ranked.tolist()
        per["NDCG@10"].append(m.ndcg_at_k(r, rel, 10))
        per["Recall@10"].append(m.recall_at_k(r, rel, 10))
        per["Recall@20"].append(m.recall_at_k(r, rel, 20))
        per["HR@10"].append(m.hit_rate_at_k(r, rel, 10))
        per["MAP@10"].append(m.average_precision_at_k(r, rel, 10))
        per["Precision@10"].append(m.precision_at_k(r, rel, 10))
    out = {k: float(np.mean(v)) for k, v in per.items()}
    out["Coverage@10"] = m.catalog_coverage([x.tolist() for x in lists], n_items, 10)
    return out


def p1_users(test_users: np.ndarray, max_users: int | None, seed: int = 0) -> np.ndarray:
    """The users P1 scores, sorted int64: every user with a test event, or a seeded uniform
    sample of ``max_users`` of them (large data sets; the report says so)."""
    users = np.unique(np.asarray(test_users, dtype=np.int64))
    if max_users is None or len(users) <= max_users:
        return users
    return np.sort(np.random.default_rng(seed).choice(users, size=max_users, replace=False))


def run_p1(
    dataset: Dataset,
    builders: Sequence[ModelBuilder],
    advance: Advance | None = None,
    interactions: pd.DataFrame | None = None,
    max_users: int | None = None,
    user_seed: int = 0,
) -> EvaluationReport:
    """P1: per-user temporal hold-out; top-20 over items unseen in train.

    ``max_users``: score a seeded uniform sample of this many users (:func:`p1_users`);
    every model is still trained on the whole train split, and ``data.user_sample`` says so.
    """
    inter = dataset.interactions if interactions is None else interactions
    train, test = temporal_user_split(inter)
    users = p1_users(test["user_id"].to_numpy(), max_users, user_seed).tolist()
    scored = test[test["user_id"].isin(users)]
    test_items: dict[int, set[int]] = {}
    for u, i in zip(scored["user_id"], dataset.item_index(scored["item_id"]), strict=True):
        test_items.setdefault(int(u), set()).add(int(i))
    results: dict[str, ModelResult] = {}
    for b in builders:
        t0 = time.perf_counter()
        with stage(f"p1.{b.name}.fit"):
            model = b.build(dataset, train)
        with stage(f"p1.{b.name}.recommend"):
            lists = model.recommend_many(users, 20)
        metrics = _p1_metrics(lists, [test_items[u] for u in users], dataset.n_items)
        results[b.name] = ModelResult(metrics, dict(b.params), time.perf_counter() - t0)
        if advance:
            advance(1)
    data: dict[str, Any] = {"source": dataset.source, "train": len(train), "test": len(test),
                            "users": len(users), "items": dataset.n_items}  # fmt: skip
    n_all = int(test["user_id"].nunique())
    if len(users) < n_all:
        data["user_sample"] = {"scored": len(users), "of": n_all, "seed": user_seed,
                               "note": "metrics over a seeded uniform sample of the users; every model "
                                       "is trained on the whole train split"}  # fmt: skip
    return EvaluationReport("p1", data, results)


def replay_sample(n_events: int, sample: int | None, seed: int = 0) -> np.ndarray | None:
    """Which replayed events are scored: all (None) or a seeded uniform sample of ``sample``.

    Returns a bool mask of shape (n_events,), or None for all. Every event is still ingested
    in time order, so the sampled metrics estimate the full replay's without bias.
    """
    if sample is None or sample >= n_events:
        return None
    mask = np.zeros(n_events, dtype=bool)
    mask[np.random.default_rng(seed).choice(n_events, size=max(sample, 0), replace=False)] = True
    return mask


def _p2_summary(hit: np.ndarray, ndcg: np.ndarray, warm: np.ndarray, n_events: int,
                wall: float) -> dict[str, float]:  # fmt: skip
    def mean(x: np.ndarray) -> float:
        return float(x.mean()) if len(x) else 0.0

    return {
        "NDCG@10": mean(ndcg), "HR@10": mean(hit),
        "NDCG@10_cold": mean(ndcg[~warm]), "HR@10_cold": mean(hit[~warm]),
        "NDCG@10_warm": mean(ndcg[warm]), "HR@10_warm": mean(hit[warm]),
        "events_per_s": n_events / wall if wall > 0 else 0.0,
        "events": float(len(hit)), "cold_events": float((~warm).sum()),
    }  # fmt: skip


def replay(
    model: OnlineModel,
    dataset: Dataset,
    events: pd.DataFrame,
    warm_users: set[int],
    advance: Advance | None = None,
    liked_min: float | None = None,
    scored: np.ndarray | None = None,
) -> dict[str, float]:
    """Test-then-train over ``events``: recommend top-10, score, then ingest.

    ``liked_min``: also report ``NDCG@10_liked``/``HR@10_liked`` over the events rated at
    least this much (the P2 "negatives" variant); the standard metrics are unchanged.
    ``scored``: bool mask (len(events),) of the events to recommend for and score (see
    :func:`replay_sample`); the others are only ingested. ``events`` in the result counts
    the scored events; ``events_per_s`` is all replayed events per second.
    """
    items = dataset.item_index(events["item_id"])
    users = events["user_id"].to_numpy()
    ratings = events["rating"].to_numpy()
    stamps = events["timestamp"].to_numpy()
    mask = np.ones(len(events), dtype=bool) if scored is None else scored
    hit = np.zeros(len(events))
    ndcg = np.zeros(len(events))
    t0 = time.perf_counter()
    for n in range(len(events)):
        u, i = int(users[n]), int(items[n])
        if mask[n]:
            hit[n], ndcg[n] = m.rank_ndcg(model.recommend(u, 10).tolist(), i, 10)
        model.ingest(u, i, float(ratings[n]), int(stamps[n]))
        if advance and n % 500 == 499:
            advance(500)
    wall = time.perf_counter() - t0
    if advance:
        advance(len(events) % 500)
    warm = np.fromiter((int(u) in warm_users for u in users[mask]), dtype=bool, count=int(mask.sum()))
    extra: dict[str, float] = {}
    if liked_min is not None:
        liked = ratings[mask] >= liked_min
        h, g = hit[mask][liked], ndcg[mask][liked]
        extra = {"NDCG@10_liked": float(g.mean()) if len(g) else 0.0,
                 "HR@10_liked": float(h.mean()) if len(h) else 0.0,
                 "liked_events": float(liked.sum())}  # fmt: skip
    return extra | _p2_summary(hit[mask], ndcg[mask], warm, len(events), wall)


def sample_note(scored: np.ndarray | None, n_events: int, seed: int) -> dict[str, Any]:
    """The report's statement of what was scored (``data.replay_sample``)."""
    if scored is None:
        return {"scored": n_events, "of": n_events, "sampled": False}
    return {"scored": int(scored.sum()), "of": n_events, "sampled": True, "seed": seed,
            "note": "metrics over a seeded uniform sample of the replayed events; every event is "
                    "still ingested in time order"}  # fmt: skip


def run_p2(
    dataset: Dataset,
    builders: Sequence[ModelBuilder],
    advance: Advance | None = None,
    limit: int | None = None,
    liked_min: float | None = None,
    sample: int | None = None,
    sample_seed: int = 0,
) -> EvaluationReport:
    """P2: train on the first 80% of events, replay the rest one at a time.

    ``liked_min``: see :func:`replay` (extra metrics over the well-rated events only).
    ``sample``: score only a seeded uniform sample of this many replayed events (all are
    still ingested); the report's ``data.replay_sample`` says so.
    """
    boot, rest = prequential_split(dataset.interactions)
    if limit is not None:
        rest = rest.iloc[:limit]
    scored = replay_sample(len(rest), sample, sample_seed)
    warm_users = set(int(u) for u in boot["user_id"].unique())
    results: dict[str, ModelResult] = {}
    for b in builders:
        t0 = time.perf_counter()
        model = b.build(dataset, boot)
        metrics = replay(model, dataset, rest, warm_users, advance, liked_min, scored)
        results[b.name] = ModelResult(metrics, dict(b.params), time.perf_counter() - t0)
    data: dict[str, Any] = {"source": dataset.source, "bootstrap": len(boot), "replayed": len(rest),
                            "items": dataset.n_items}  # fmt: skip
    if scored is not None:
        data["replay_sample"] = sample_note(scored, len(rest), sample_seed)
    return EvaluationReport("p2", data, results)
