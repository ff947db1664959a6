"""Fitting the two-stage model: sources on a base period, ranker on a later one.

The training frame (time ordered) is cut by time: the first part fits the
candidate sources; queries are replayed over the rest exactly as live
traffic would arrive (history and item statistics as they stand at each
query, then the event is ingested). Labels are the user's next
``label_horizon`` items. The last queries by time are the early-stopping
validation period. The sources are then refitted on the whole frame.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from pydantic import BaseModel

from recloop.config import Settings
from recloop.data.movielens import Dataset
from recloop.evaluation.baselines import train_data
from recloop.ranking.features import FEATURE_NAMES, FeatureBuilder, UserProfiles
from recloop.ranking.ranker import LambdaRanker, RankerConfig, RankingFrame
from recloop.retrieval import ALSScorer, EASEScorer, ItemKNNScorer
from recloop.retrieval.candidates import CandidateConfig, CandidateSources
from recloop.retrieval.history import History
from recloop.retrieval.index import IndexConfig, build_index, recall_against_exact
from recloop.retrieval.sequence import TransitionScorer
from recloop.retrieval.trending import ItemStats
from recloop.serving.model import TwoStageModel

__all__ = ["TwoStageConfig", "fit_sources", "fit_two_stage", "item_stats", "replay_histories"]

Stage = Callable[[str], None]


class TwoStageConfig(BaseModel):
    """Everything that defines a two-stage training run besides the data."""

    candidates: CandidateConfig = CandidateConfig()
    ranker: RankerConfig = RankerConfig()
    index: IndexConfig = IndexConfig()
    label_fraction: float = 0.2
    label_horizon: int = 5  # chosen on the validation splits (P2-val +2.8% over 3 seeds)
    max_queries: int = 5000
    valid_fraction: float = 0.2
    half_life_days: float = 7.0
    seed: int = 7


def item_stats(dataset: Dataset, frame: pd.DataFrame, half_life_days: float) -> ItemStats:
    """Item statistics after ingesting ``frame`` in time order."""
    stats = ItemStats(dataset.n_items, half_life_days)
    stats.add_many(dataset.item_index(frame["item_id"]), frame["timestamp"].to_numpy(),
                   frame["rating"].to_numpy().astype(np.float64))  # fmt: skip
    return stats


def fit_sources(
    dataset: Dataset, frame: pd.DataFrame, settings: Settings, cfg: TwoStageConfig
) -> CandidateSources:
    """Fit EASE, item-kNN, transitions and ALS (+ its FAISS index) on ``frame``."""
    td = train_data(dataset, frame)
    p = settings.models
    als = ALSScorer(p.als).fit(td)
    return CandidateSources(
        ease=EASEScorer(p.ease).fit(td).weights,
        itemknn=ItemKNNScorer(p.itemknn).fit(td).sim,
        sequence=TransitionScorer().fit(td),
        als=als,
        index=build_index(cfg.index, als.item_factors),
        config=cfg.candidates,
    )


def replay_histories(
    dataset: Dataset, frame: pd.DataFrame
) -> dict[str, tuple[list[int], list[int], list[float]]]:
    """Per user id (str): items, timestamps, ratings of ``frame`` in time order."""
    out: dict[str, tuple[list[int], list[int], list[float]]] = {}
    items = dataset.item_index(frame["item_id"])
    for u, i, t, r in zip(frame["user_id"].astype(str), items, frame["timestamp"],
                          frame["rating"], strict=True):  # fmt: skip
        h = out.setdefault(u, ([], [], []))
        h[0].append(int(i))
        h[1].append(int(t))
        h[2].append(float(r))
    return out


def _history(user: str, h: tuple[list[int], list[int], list[float]] | None) -> History:
    if h is None:
        return History.from_items([], user_id=user)
    return History.from_items(h[0], h[1], h[2], user_id=user)


def _frames(
    dataset: Dataset, base: pd.DataFrame, label: pd.DataFrame, model: TwoStageModel,
    cfg: TwoStageConfig,
) -> tuple[RankingFrame, RankingFrame]:  # fmt: skip
    hist = replay_histories(dataset, base)
    stats = item_stats(dataset, base, cfg.half_life_days)
    users = label["user_id"].astype(str).to_numpy()
    items = dataset.item_index(label["item_id"])
    stamps = label["timestamp"].to_numpy()
    ratings = label["rating"].to_numpy().astype(float)
    rng = np.random.default_rng(cfg.seed)
    n = len(label)
    chosen = np.zeros(n, dtype=bool)
    chosen[rng.choice(n, size=min(cfg.max_queries, n), replace=False)] = True
    future: dict[str, list[int]] = {}
    for pos, u in enumerate(users):
        future.setdefault(u, []).append(pos)
    nxt = {u: 0 for u in future}
    xs, ys, groups = [], [], []
    for pos in range(n):
        u = users[pos]
        if chosen[pos]:
            mine = future[u][nxt[u] : nxt[u] + cfg.label_horizon]
            wanted = set(int(items[p]) for p in mine)
            h = _history(u, hist.get(u))
            cands = model.sources.generate(h, stats, float(stamps[pos]))
            y = np.isin(cands.items, list(wanted)).astype(np.int32)
            if y.any():
                xs.append(model.features.build(h, cands, stats, float(stamps[pos])))
                ys.append(y)
                groups.append(len(y))
        nxt[u] += 1
        rec = hist.setdefault(u, ([], [], []))
        rec[0].append(int(items[pos]))
        rec[1].append(int(stamps[pos]))
        rec[2].append(float(ratings[pos]))
        stats.add(int(items[pos]), float(stamps[pos]), float(ratings[pos]))
    cut = int(len(groups) * (1 - cfg.valid_fraction))
    rows = int(np.sum(groups[:cut]))
    x, y = np.concatenate(xs), np.concatenate(ys)
    g = np.asarray(groups)
    return (RankingFrame(x[:rows], y[:rows], g[:cut]), RankingFrame(x[rows:], y[rows:], g[cut:]))


def fit_two_stage(
    dataset: Dataset, frame: pd.DataFrame, settings: Settings, cfg: TwoStageConfig,
    stage: Stage | None = None,
) -> tuple[TwoStageModel, ItemStats, dict[str, float]]:  # fmt: skip
    """Train on ``frame``: returns the model, item stats at its end, and fit facts."""
    say = stage or (lambda _s: None)
    cut = round(len(frame) * (1 - cfg.label_fraction))
    base, label = frame.iloc[:cut], frame.iloc[cut:]
    genres = dataset.genre_matrix()
    years = dataset.items["year"].astype("float64").to_numpy()
    profiles = UserProfiles.from_frame(dataset.users)
    say("fit candidate sources (base period)")
    early = fit_sources(dataset, base, settings, cfg)
    early_model = TwoStageModel(early, FeatureBuilder(early, genres, years, profiles),
                                LambdaRanker(cfg.ranker))  # fmt: skip
    say("build ranking frames (label period)")
    train_f, valid_f = _frames(dataset, base, label, early_model, cfg)
    say("fit LightGBM LambdaRank")
    ranker = LambdaRanker(cfg.ranker).fit(train_f, valid_f, list(FEATURE_NAMES))
    say("refit candidate sources (whole training frame) + index")
    sources = fit_sources(dataset, frame, settings, cfg)
    model = TwoStageModel(sources, FeatureBuilder(sources, genres, years, profiles), ranker)
    facts = {"train_queries": float(train_f.queries), "valid_queries": float(valid_f.queries),
             "train_rows": float(len(train_f.labels)), "ranker_rounds": float(ranker.best_iteration),
             "ranker_valid_ndcg10": ranker.valid_ndcg}  # fmt: skip
    if cfg.index.type != "flat":  # how much the approximate index loses against exact search
        als = sources.als
        exact = build_index(IndexConfig(type="flat"), als.item_factors)
        queries = als.user_factors[:: max(1, len(als.user_factors) // 300)]
        facts["index_recall10_vs_exact"] = recall_against_exact(sources.index, exact, queries, 10)
    return model, item_stats(dataset, frame, cfg.half_life_days), facts
