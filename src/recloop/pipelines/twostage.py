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

from recloop.config import Settings
from recloop.data.movielens import Dataset
from recloop.evaluation.baselines import train_data
from recloop.ranking.bundle import TwoStageConfig, feature_builder
from recloop.ranking.inputs import item_stats
from recloop.ranking.model import TwoStageModel
from recloop.ranking.queries import LabelPeriod, sample_queries
from recloop.ranking.ranker import LambdaRanker, RankingFrame
from recloop.rating import BiasedMF, Ratings
from recloop.retrieval.candidates import CandidateConfig, CandidateSources, default_candidates
from recloop.retrieval.index import IndexConfig
from recloop.retrieval.sources import FitContext, source_kind
from recloop.retrieval.sources.als import ALSSource
from recloop.retrieval.trending import ItemStats
from recloop.stages import stage as timed

__all__ = ["fit_sources", "fit_two_stage", "resolved", "with_index"]

Stage = Callable[[str], None]


def resolved(cfg: TwoStageConfig, settings: Settings) -> TwoStageConfig:
    """``cfg`` with its sources spelled out: the default mix with the settings' parameters if empty."""
    if cfg.candidates.sources:
        return cfg
    return cfg.model_copy(update={"candidates": default_candidates(settings.models)})


def with_index(cfg: TwoStageConfig, settings: Settings, index: IndexConfig) -> TwoStageConfig:
    """``cfg`` (spelled out) with the ALS source searched through ``index``."""
    full = resolved(cfg, settings)
    specs = [s.model_copy(update={"params": {**s.params, "index": index.model_dump()}}) if s.kind == "als"
             else s for s in full.candidates.sources]  # fmt: skip
    return full.model_copy(update={"candidates": CandidateConfig(sources=specs)})


def with_als_engine(cfg: TwoStageConfig, settings: Settings, engine: str, master: str) -> TwoStageConfig:
    """``cfg`` (spelled out) with its ALS source fitted by ``engine`` (implicit | spark at ``master``)."""
    full = resolved(cfg, settings)
    update = {"engine": engine, "spark_master": master}
    specs = [s.model_copy(update={"params": {**s.params, **update}}) if s.kind == "als" else s
             for s in full.candidates.sources]  # fmt: skip
    return full.model_copy(update={"candidates": CandidateConfig(sources=specs)})


def fit_sources(
    dataset: Dataset, frame: pd.DataFrame, settings: Settings, cfg: TwoStageConfig
) -> CandidateSources:
    """Fit every source of the recipe on ``frame``, in order."""
    with timed("train_data"):
        ctx = FitContext(train_data(dataset, frame))
    specs = resolved(cfg, settings).candidates.sources
    fitted = []
    for s in specs:
        with timed(s.kind):
            fitted.append(source_kind(s.kind).fit(s, ctx))
    return CandidateSources(fitted, dataset.n_items)


def rating_sample(rated: pd.DataFrame, max_ratings: int, seed: int) -> pd.DataFrame:
    """``rated`` itself, or the ratings of seeded random users whose ratings add up to at most
    ``max_ratings`` (whole users: each user's fold-in sees all of their ratings)."""
    if len(rated) <= max_ratings:
        return rated
    counts = rated["user_id"].value_counts(sort=False)
    users = counts.index.to_numpy()[np.random.default_rng(seed).permutation(len(counts))]
    total = np.cumsum(counts.loc[users].to_numpy())
    keep = users[: max(1, int(np.searchsorted(total, max_ratings, side="right")))]
    return rated[rated["user_id"].isin(keep)]


def _frames(
    dataset: Dataset, base: pd.DataFrame, label: pd.DataFrame, model: TwoStageModel,
    cfg: TwoStageConfig,
) -> tuple[RankingFrame, RankingFrame]:  # fmt: skip
    """Train and validation frames over at most ``cfg.max_queries`` sampled label events.

    Each query sees the history and item statistics as they stood at its time (the
    events before it ingested); its labels are the user's next ``label_horizon`` items.
    """
    period = LabelPeriod(dataset, base, label)
    stats = item_stats(dataset, base, cfg.half_life_days)
    xs, ys, groups = [], [], []
    prev = 0
    for pos in sample_queries(len(period), cfg.max_queries, cfg.seed).tolist():
        stats.add_many(period.items[prev:pos], period.stamps[prev:pos], period.ratings[prev:pos])
        prev = pos
        h, at = period.history(pos), float(period.stamps[pos])
        cands = model.sources.generate(h, stats, at)
        y = np.isin(cands.items, period.wanted(pos, cfg.label_horizon)).astype(np.int32)
        if y.any():
            xs.append(model.features.build(h, cands, stats, at))
            ys.append(y)
            groups.append(len(y))
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
    cfg = resolved(cfg, settings)
    cut = round(len(frame) * (1 - cfg.label_fraction))
    base, label = frame.iloc[:cut], frame.iloc[cut:]
    say("fit candidate sources (base period)")
    with timed("sources_base"):
        early = fit_sources(dataset, base, settings, cfg)
    early_features = feature_builder(early, dataset)
    early_model = TwoStageModel(early, early_features, LambdaRanker(cfg.ranker))
    say("build ranking frames (label period)")
    with timed("frames"):
        train_f, valid_f = _frames(dataset, base, label, early_model, cfg)
    say("fit LightGBM LambdaRank")
    with timed("ranker"):
        ranker = LambdaRanker(cfg.ranker).fit(train_f, valid_f, list(early_features.names))
    say("refit candidate sources (whole training frame) + index")
    with timed("sources_refit"):
        sources = fit_sources(dataset, frame, settings, cfg)
    say("fit the rating model")
    with timed("rating_model"):
        rated = rating_sample(frame[frame["rating"] > 0], cfg.rating_max_ratings, cfg.seed)
        rating = None if cfg.rating is None or rated.empty else (
            BiasedMF(**cfg.rating.model_dump()).fit(Ratings.from_frame(dataset, rated)))  # fmt: skip
    model = TwoStageModel(sources, feature_builder(sources, dataset), ranker, rating)
    facts = {"train_queries": float(train_f.queries), "valid_queries": float(valid_f.queries),
             "train_rows": float(len(train_f.labels)), "ranker_rounds": float(ranker.best_iteration),
             "ranker_valid_ndcg10": ranker.valid_ndcg}  # fmt: skip
    facts |= _index_recall(sources)
    with timed("item_stats"):
        stats = item_stats(dataset, frame, cfg.half_life_days)
    return model, stats, facts


def _index_recall(sources: CandidateSources) -> dict[str, float]:
    """How much the ALS source's approximate index loses against exact search (none if exact).

    Measured when the index was built (:func:`recloop.retrieval.index_choice.choose_index`).
    """
    src = next((s for s in sources.sources if isinstance(s, ALSSource)), None)
    if src is None or src.report is None or src.report.kind == "flat":
        return {}
    rep = src.report
    widths = {"index_ef_search": float(rep.ef_search), "index_nprobe": float(rep.nprobe)}
    return {"index_recall10_vs_exact": rep.recall10} | {k: v for k, v in widths.items() if v}
