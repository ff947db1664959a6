"""P1 baselines in ``recloop train`` that reuse the champion's refitted sources.

The champion's item-kNN, EASE and ALS sources are refitted on the whole P1 train
split with the settings' parameters: exactly the fits the baselines of the same name
would make again. Reusing them halves the item-item work of a training run (at
MovieLens-20M size the largest cost). A baseline whose parameters differ from its
source's (another recipe) is fitted as before. Each baseline's session holds the
histories of the users P1 scores only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recloop.config import ALSParams, EASEParams, ItemKNNParams, Settings
from recloop.data.movielens import Dataset
from recloop.evaluation.baselines import baseline_builder, baseline_scorer, train_data
from recloop.evaluation.protocols import ModelBuilder, OnlineModel
from recloop.ranking.model import TwoStageModel
from recloop.retrieval import ALSScorer, BaseScorer, EASEScorer, ItemKNNScorer, ScorerSession
from recloop.retrieval.sources.als import ALSSource
from recloop.retrieval.sources.itemitem import EASESource, ItemKNNSource

__all__ = ["reusing_builder"]


def _same(spec_params: dict[str, Any], params: Any) -> bool:
    """Whether a source was fitted with every field of the baseline's ``params``."""
    return all(spec_params.get(k) == v for k, v in params.model_dump().items())


def reused_scorer(name: str, model: TwoStageModel | None, settings: Settings) -> BaseScorer | None:
    """Baseline ``name`` built from the model's source of that kind, if fitted the same way."""
    src = None if model is None else model.sources.get(name)
    p = settings.models
    if isinstance(src, ItemKNNSource) and _same(src.spec.params, p.itemknn):
        knn = ItemKNNScorer(ItemKNNParams.model_validate(p.itemknn.model_dump()))
        knn.matrix = src.matrix
        return knn
    if isinstance(src, EASESource) and _same(src.spec.params, p.ease):
        ease = EASEScorer(EASEParams.model_validate(p.ease.model_dump()))
        ease.matrix = src.matrix
        return ease
    if isinstance(src, ALSSource) and _same(src.spec.params, p.als):
        assert isinstance(src.als, ALSScorer)
        return src.als if src.als.p == ALSParams.model_validate(p.als.model_dump()) else None
    return None


def reusing_builder(name: str, settings: Settings, fitted: dict[str, Any], users: np.ndarray) -> ModelBuilder:
    """Baseline ``name`` over ``fitted["model"]``'s source (else fitted), sessions for ``users`` only."""
    plain = baseline_builder(name, settings)

    def build(dataset: Dataset, frame: pd.DataFrame) -> OnlineModel:
        scorer = reused_scorer(name, fitted.get("model"), settings)
        if scorer is None:
            scorer = baseline_scorer(name, settings)().fit(train_data(dataset, frame))
        return ScorerSession(scorer, train_data(dataset, frame[frame["user_id"].isin(users)]))

    return ModelBuilder(name, build, plain.params)
