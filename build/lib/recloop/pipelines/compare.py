"""Champion vs challenger on the same fresh window: metrics, guardrails, verdict.

The window is the latest fraction of all interactions (global time order,
shared/EVALUATION.md). Every model starts from the same pre-window history
and is scored twice on the window:

* **P1-window**: for each user active in the window, the window items are
  the test set; the model ranks items unseen before the window (top 20, at
  the user's last pre-window event). Metrics as in P1, plus Coverage@10.
* **P2-window**: the window events are replayed test-then-train (top-10,
  then ingest). All models are replayed in lockstep, one event at a time, in
  a rotating order, so the per-request latency of each model is measured
  under the same machine load.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from recloop.data.movielens import Dataset
from recloop.errors import ValidationError
from recloop.evaluation import metrics as m
from recloop.evaluation.protocols import OnlineModel
from recloop.evaluation.splits import prequential_split

__all__ = [
    "PRIMARY_METRICS",
    "Check",
    "Policy",
    "Primary",
    "Verdict",
    "Window",
    "decide",
    "relative_change",
    "score_window",
    "split_window",
]

Primary = Literal["p1_ndcg", "p2_ndcg"]
PRIMARY_METRICS: dict[str, str] = {"p1_ndcg": "p1.NDCG@10", "p2_ndcg": "p2.NDCG@10"}
COVERAGE = "p1.Coverage@10"
LATENCY = "latency_p50_ms"


@dataclass(frozen=True)
class Window:
    """Interactions (canonical order) cut by global time into history and window."""

    history: pd.DataFrame
    events: pd.DataFrame
    fraction: float

    def describe(self) -> dict[str, float | int]:
        """Sizes and time span (Unix s) of the window, JSON-ready."""
        ev, hist = self.events, self.history
        known = set(hist["user_id"].unique().tolist())
        users = ev["user_id"].unique().tolist()
        return {"fraction": self.fraction, "events": len(ev), "history_rows": len(hist),
                "users": len(users), "cold_users": sum(u not in known for u in users),
                "start_timestamp": int(ev["timestamp"].min()),
                "end_timestamp": int(ev["timestamp"].max())}  # fmt: skip


def split_window(interactions: pd.DataFrame, fraction: float) -> Window:
    """The latest ``fraction`` of ``interactions`` (already in event order) is the window."""
    if not 0.0 < fraction < 1.0:
        raise ValidationError(f"window fraction must be in (0, 1), got {fraction}")
    history, events = prequential_split(interactions, 1.0 - fraction)
    if len(events) == 0 or len(history) == 0:
        raise ValidationError(
            f"{len(interactions)} interactions are too few for a window of {fraction:.0%}; "
            f"ingest more events or raise the window fraction"
        )
    return Window(history, events, fraction)


_P1: dict[str, Callable[[list[int], set[int]], float]] = {
    "NDCG@10": lambda r, t: m.ndcg_at_k(r, t, 10),
    "Recall@10": lambda r, t: m.recall_at_k(r, t, 10),
    "Recall@20": lambda r, t: m.recall_at_k(r, t, 20),
    "HR@10": lambda r, t: m.hit_rate_at_k(r, t, 10),
    "MAP@10": lambda r, t: m.average_precision_at_k(r, t, 10),
    "Precision@10": lambda r, t: m.precision_at_k(r, t, 10),
}


def _p1(model: OnlineModel, dataset: Dataset, window: Window) -> dict[str, float]:
    tests: dict[int, set[int]] = {}
    for u, i in zip(window.events["user_id"], dataset.item_index(window.events["item_id"]),
                    strict=True):  # fmt: skip
        tests.setdefault(int(u), set()).add(int(i))
    users = sorted(tests)
    lists = [x.tolist() for x in model.recommend_many(users, 20)]
    pairs = list(zip(lists, (tests[u] for u in users), strict=True))
    out = {name: float(np.mean([fn(r, t) for r, t in pairs])) for name, fn in _P1.items()}
    out["Coverage@10"] = m.catalog_coverage(lists, dataset.n_items, 10)
    return {f"p1.{k}": float(v) for k, v in out.items()}


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if len(x) else 0.0


def _p2_lockstep(
    models: Mapping[str, OnlineModel], dataset: Dataset, window: Window
) -> dict[str, dict[str, float]]:
    names = list(models)
    ev = window.events
    items = dataset.item_index(ev["item_id"])
    users = ev["user_id"].to_numpy()
    ratings, stamps = ev["rating"].to_numpy(), ev["timestamp"].to_numpy()
    n = len(ev)
    hit = {k: np.zeros(n) for k in names}
    ndcg = {k: np.zeros(n) for k in names}
    lat = {k: np.zeros(n) for k in names}
    for e in range(n):
        u, i = int(users[e]), int(items[e])
        for j in range(len(names)):
            name = names[(e + j) % len(names)]
            t0 = time.perf_counter()
            top = models[name].recommend(u, 10)
            lat[name][e] = (time.perf_counter() - t0) * 1000.0
            hit[name][e], ndcg[name][e] = m.rank_ndcg(top.tolist(), i, 10)
        for name in names:
            models[name].ingest(u, i, float(ratings[e]), int(stamps[e]))
    known = set(int(u) for u in window.history["user_id"].unique())
    warm = np.fromiter((int(u) in known for u in users), dtype=bool, count=n)
    out: dict[str, dict[str, float]] = {}
    for k in names:
        out[k] = {
            "p2.NDCG@10": _mean(ndcg[k]), "p2.HR@10": _mean(hit[k]),
            "p2.NDCG@10_warm": _mean(ndcg[k][warm]), "p2.HR@10_warm": _mean(hit[k][warm]),
            "p2.NDCG@10_cold": _mean(ndcg[k][~warm]), "p2.HR@10_cold": _mean(hit[k][~warm]),
            LATENCY: float(np.percentile(lat[k], 50)) if n else 0.0,
            "latency_p95_ms": float(np.percentile(lat[k], 95)) if n else 0.0,
        }  # fmt: skip
    return out


def score_window(
    models: Mapping[str, OnlineModel], dataset: Dataset, window: Window
) -> dict[str, dict[str, float]]:
    """P1-window then P2-window metrics (plus latency) per model name.

    Each model must start at the end of ``window.history`` (user ids as ints);
    P1 only reads it, the P2 replay then ingests the window into it.
    """
    p1 = {name: _p1(model, dataset, window) for name, model in models.items()}
    p2 = _p2_lockstep(models, dataset, window)
    return {name: {**p1[name], **p2[name]} for name in models}


def relative_change(old: float, new: float) -> float | None:
    """``(new - old) / old``; ``None`` when ``old`` is 0 (no relative change exists)."""
    return (new - old) / old if old else None


@dataclass(frozen=True)
class Policy:
    """When a challenger may replace the champion (all margins relative).

    ``margin``: the primary metric must improve by at least this much.
    ``coverage_margin``: Coverage@10 may drop by at most this much.
    ``latency_margin``: single-user latency p50 may grow by at most this much.
    """

    primary: Primary = "p2_ndcg"
    margin: float = 0.01
    coverage_margin: float = 0.05
    latency_margin: float = 0.5

    def __post_init__(self) -> None:
        if self.primary not in PRIMARY_METRICS:
            raise ValidationError(
                f"primary metric {self.primary!r}: choose from {', '.join(PRIMARY_METRICS)}"
            )
        for name in ("margin", "coverage_margin", "latency_margin"):
            if getattr(self, name) < 0:
                raise ValidationError(f"{name} must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class Check:
    """One comparison: both values, relative change, the limit on it, pass/fail."""

    metric: str
    champion: float
    challenger: float
    change: float | None
    limit: float
    passed: bool

    def describe(self) -> str:
        """E.g. ``p2.NDCG@10 +4.1% (needs >= +1.0%)``."""
        change = "n/a" if self.change is None else f"{self.change:+.1%}"
        op = "<=" if self.metric == LATENCY else ">="
        return f"{self.metric} {change} (needs {op} {self.limit:+.1%})"


@dataclass(frozen=True)
class Verdict:
    """Whether to promote, why, and every check behind it."""

    promote: bool
    reason: str
    primary: Check
    guardrails: dict[str, Check]


def decide(champion: Mapping[str, float], challenger: Mapping[str, float], policy: Policy) -> Verdict:
    """Promote iff the primary metric improves by >= ``margin`` and no guardrail breaks.

    A tie never promotes (the improvement must be positive even with margin 0).
    """
    key = PRIMARY_METRICS[policy.primary]
    old, new = champion[key], challenger[key]
    primary = Check(key, old, new, relative_change(old, new), policy.margin,
                    new > old and new >= old * (1.0 + policy.margin))  # fmt: skip
    cov_old, cov_new = champion[COVERAGE], challenger[COVERAGE]
    lat_old, lat_new = champion[LATENCY], challenger[LATENCY]
    guardrails = {
        "coverage": Check(COVERAGE, cov_old, cov_new, relative_change(cov_old, cov_new),
                          -policy.coverage_margin,
                          cov_new >= cov_old * (1.0 - policy.coverage_margin)),
        "latency": Check(LATENCY, lat_old, lat_new, relative_change(lat_old, lat_new),
                         policy.latency_margin, lat_new <= lat_old * (1.0 + policy.latency_margin)),
    }  # fmt: skip
    failed: Sequence[Check] = [c for c in (primary, *guardrails.values()) if not c.passed]
    if failed:
        reason = "; ".join(f"{c.describe()} failed" for c in failed)
    else:
        passed = ", ".join(c.describe() for c in guardrails.values())
        reason = f"{primary.describe()}; guardrails pass: {passed}"
    return Verdict(not failed, reason, primary, guardrails)
