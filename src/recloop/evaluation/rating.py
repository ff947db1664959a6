"""The rating task: RMSE and MAE of predicted ratings on the P1 split.

The test events are P1's (per user, the last 20% in time order); the models train
on P1's train events. Hyperparameters are chosen on a validation split made the
same way inside train (the last 20% of each user's train events), then each model
is refitted on the whole train split and scored once on test.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from recloop.data.movielens import Dataset
from recloop.evaluation.protocols import Advance, EvaluationReport, ModelResult
from recloop.evaluation.splits import temporal_user_split
from recloop.rating import NMF, BiasedMF, BiasModel, GlobalMean, Ratings

__all__ = ["RATING_GRIDS", "RATING_MODELS", "RatingModel", "error_metrics", "run_rating", "tune_rating"]


class RatingModel(Protocol):
    """What the task needs: fit on ratings, predict float64 (n,) for index pairs."""

    def fit(self, r: Ratings) -> Any: ...

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray: ...


RATING_MODELS: dict[str, Callable[..., RatingModel]] = {
    "global_mean": GlobalMean, "bias": BiasModel, "svd": BiasedMF, "nmf": NMF,
}  # fmt: skip

RATING_GRIDS: dict[str, dict[str, list[Any]]] = {
    "global_mean": {},
    "bias": {"reg_user": [2.0, 5.0, 10.0], "reg_item": [5.0, 10.0, 25.0]},
    "svd": {"factors": [20, 40], "reg": [0.15, 0.2, 0.3], "reg_bias": [5.0]},
    "nmf": {"factors": [5, 15], "reg_user": [0.06, 0.15], "epochs": [50]},
}


def error_metrics(model: RatingModel, r: Ratings) -> dict[str, float]:
    """RMSE and MAE of ``model`` on ``r``."""
    err = model.predict(r.users, r.items) - r.values
    return {"RMSE": float(np.sqrt(np.mean(err**2))), "MAE": float(np.mean(np.abs(err)))}


def tune_rating(name: str, fit: Ratings, valid: Ratings, grid: Mapping[str, Sequence[Any]]) -> tuple[
        dict[str, Any], float]:  # fmt: skip
    """The grid point of model ``name`` with the lowest validation RMSE, and that RMSE."""
    best: tuple[dict[str, Any], float] = ({}, float("inf"))
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, values, strict=True))
        rmse = error_metrics(RATING_MODELS[name](**params).fit(fit), valid)["RMSE"]
        if rmse < best[1]:
            best = (params, rmse)
    return best


def run_rating(
    dataset: Dataset, names: Sequence[str], advance: Advance | None = None,
    grids: Mapping[str, Mapping[str, Sequence[Any]]] | None = None,
) -> EvaluationReport:  # fmt: skip
    """Tune each model on validation, refit on P1 train, score RMSE/MAE on P1 test."""
    unknown = [n for n in names if n not in RATING_MODELS]
    if unknown:
        raise ValueError(f"unknown rating models {unknown}; choose from {sorted(RATING_MODELS)}")
    train, test = temporal_user_split(dataset.interactions)
    inner, valid = temporal_user_split(train)
    r_train, r_test = Ratings.from_frame(dataset, train), Ratings.from_frame(dataset, test)
    r_inner, r_valid = Ratings.from_frame(dataset, inner), Ratings.from_frame(dataset, valid)
    results: dict[str, ModelResult] = {}
    for name in names:
        t0 = time.perf_counter()
        params, valid_rmse = tune_rating(name, r_inner, r_valid, (grids or RATING_GRIDS).get(name, {}))
        model = RATING_MODELS[name](**params).fit(r_train)
        results[name] = ModelResult(error_metrics(model, r_test), {**params, "valid_RMSE": valid_rmse},
                                    time.perf_counter() - t0)  # fmt: skip
        if advance:
            advance(1)
    data = {"source": dataset.source, "split": "p1", "train": len(train), "test": len(test),
            "validation": len(valid), "users": int(test["user_id"].nunique()),
            "items": dataset.n_items}  # fmt: skip
    return EvaluationReport("rating", data, results)
