"""The classical baselines as protocol model builders: popular, itemknn, als, ease."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from recloop.config import Settings
from recloop.data.movielens import Dataset
from recloop.errors import ValidationError
from recloop.evaluation.protocols import ModelBuilder, OnlineModel
from recloop.retrieval import (
    ALSScorer,
    BaseScorer,
    EASEScorer,
    ItemKNNScorer,
    PopularScorer,
    ScorerSession,
    TrainData,
)
from recloop.retrieval.base import ORIGIN_ATTR

__all__ = ["BASELINE_NAMES", "baseline_builder", "train_data"]

BASELINE_NAMES = ("popular", "itemknn", "als", "ease")


def train_data(dataset: Dataset, frame: pd.DataFrame) -> TrainData:
    """Dense training arrays from an interactions frame (event order kept)."""
    return TrainData.from_arrays(
        frame["user_id"].to_numpy(),
        dataset.item_index(frame["item_id"]),
        frame["rating"].to_numpy(),
        frame["timestamp"].to_numpy(),
        dataset.n_items,
        frame.attrs.get(ORIGIN_ATTR),
    )


def _scorer(name: str, settings: Settings) -> Callable[[], BaseScorer]:
    p = settings.models
    makers: dict[str, Callable[[], BaseScorer]] = {
        "popular": PopularScorer,
        "itemknn": lambda: ItemKNNScorer(p.itemknn),
        "als": lambda: ALSScorer(p.als),
        "ease": lambda: EASEScorer(p.ease),
    }
    if name not in makers:
        raise ValidationError(f"unknown model {name!r}; choose from {', '.join(BASELINE_NAMES)} or champion")
    return makers[name]


def baseline_builder(name: str, settings: Settings) -> ModelBuilder:
    """A builder that fits baseline ``name`` with the configured hyperparameters."""
    make = _scorer(name, settings)

    def build(dataset: Dataset, frame: pd.DataFrame) -> OnlineModel:
        td = train_data(dataset, frame)
        return ScorerSession(make().fit(td), td)

    return ModelBuilder(name, build, make().params())
