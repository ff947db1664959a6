"""Hyperparameter search on the P1 *validation* split (never the test split).

The validation split is made inside P1's train exactly like P1 itself: the
last 20% of each user's train interactions. The chosen values are written
into :mod:`recloop.config` defaults by hand, so a run is reproducible.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from recloop.config import ALSParams, EASEParams, ItemKNNParams, Settings
from recloop.data.movielens import Dataset
from recloop.evaluation.baselines import baseline_builder
from recloop.evaluation.protocols import run_p1
from recloop.evaluation.splits import temporal_user_split

__all__ = ["GRIDS", "TrialResult", "tune"]

GRIDS: dict[str, dict[str, list[Any]]] = {
    "itemknn": {"neighbors": [50, 100, 200, 400], "shrink": [0.0, 10.0, 50.0]},
    "als": {"factors": [16, 32, 48], "regularization": [0.1, 1.0, 5.0, 20.0],
            "alpha": [0.5, 1.0, 2.0], "iterations": [15]},
    "ease": {"l2": [100.0, 250.0, 500.0, 1000.0, 2000.0]},
    "sequence": {"epochs": [20, 30], "dropout": [0.2, 0.3, 0.5], "lr": [0.003, 0.005]},
}  # fmt: skip


@dataclass(frozen=True)
class TrialResult:
    """One grid point and its validation NDCG@10."""

    model: str
    params: dict[str, Any]
    ndcg: float


def _points(grid: dict[str, list[Any]]) -> Iterator[dict[str, Any]]:
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        yield dict(zip(keys, values, strict=True))


def _with(settings: Settings, model: str, params: dict[str, Any]) -> Settings:
    m = settings.models
    new = {
        "itemknn": lambda: m.model_copy(update={"itemknn": ItemKNNParams(**params)}),
        "als": lambda: m.model_copy(update={"als": ALSParams(**params)}),
        "ease": lambda: m.model_copy(update={"ease": EASEParams(**params)}),
        "sequence": lambda: m.model_copy(update={"sasrec": m.sasrec.model_copy(update=params)}),
    }[model]()
    return settings.model_copy(update={"models": new})


def tune(
    dataset: Dataset,
    settings: Settings,
    models: list[str],
    on_trial: Callable[[TrialResult], None] | None = None,
) -> dict[str, TrialResult]:
    """Grid search per model on the validation split; returns the best per model."""
    train, _ = temporal_user_split(dataset.interactions)
    best: dict[str, TrialResult] = {}
    for model in models:
        for params in _points(GRIDS[model]):
            builder = baseline_builder(model, _with(settings, model, params))
            report = run_p1(dataset, [builder], interactions=train)
            trial = TrialResult(model, params, report.models[model].metrics["NDCG@10"])
            if on_trial:
                on_trial(trial)
            if model not in best or trial.ndcg > best[model].ndcg:
                best[model] = trial
    return best
