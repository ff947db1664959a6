"""The baselines as protocol model builders: popular, itemknn, als, ease, sequence (SASRec).

``sequence`` needs recloop[sequence] (torch), imported only when it is asked for.
"""

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
from recloop.retrieval.sources.sasrec import sasrec_module

__all__ = ["BASELINE_NAMES", "KNOWN_BASELINES", "baseline_builder", "baseline_scorer", "baselines_for",
           "train_data"]

BASELINE_NAMES = ("popular", "itemknn", "als", "ease")  # the default set (no torch needed)
KNOWN_BASELINES = (*BASELINE_NAMES, "sequence")  # sequence: SASRec alone (recloop[sequence])


def baselines_for(settings: Settings) -> tuple[str, ...]:
    """The baselines run beside a model: the default set, plus SASRec alone if the mix uses it."""
    return KNOWN_BASELINES if settings.models.sasrec_source else BASELINE_NAMES


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


def baseline_scorer(name: str, settings: Settings) -> Callable[[], BaseScorer]:
    """A maker of baseline ``name``'s unfitted scorer with the configured hyperparameters."""
    return _scorer(name, settings)


def _scorer(name: str, settings: Settings) -> Callable[[], BaseScorer]:
    p = settings.models
    makers: dict[str, Callable[[], BaseScorer]] = {
        "popular": PopularScorer,
        "itemknn": lambda: ItemKNNScorer(p.itemknn),
        "als": lambda: ALSScorer(p.als),
        "ease": lambda: EASEScorer(p.ease),
        "sequence": lambda: sasrec_module().SASRecScorer(p.sasrec),
    }
    if name not in makers:
        raise ValidationError(f"unknown model {name!r}; choose from {', '.join(KNOWN_BASELINES)} or champion")
    return makers[name]


def baseline_builder(name: str, settings: Settings) -> ModelBuilder:
    """A builder that fits baseline ``name`` with the configured hyperparameters."""
    make = _scorer(name, settings)

    def build(dataset: Dataset, frame: pd.DataFrame) -> OnlineModel:
        td = train_data(dataset, frame)
        return ScorerSession(make().fit(td), td)

    return ModelBuilder(name, build, make().params())
