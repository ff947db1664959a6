"""The registered model as a protocol builder, for ``recloop evaluate --models champion``.

P1: the registered bundle was trained on P1's train split of the same data,
so it is evaluated as is (its training split is checked). P2: the artifact
has seen part of the replay period, so the version's recipe (its exact
configuration from the registry) is refitted on the P2 bootstrap history and
replayed through the serving path (feature store, per-event fold-in).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from recloop.config import Settings
from recloop.data.movielens import Dataset
from recloop.evaluation.protocols import ModelBuilder, OnlineModel
from recloop.events.feedback import Semantics
from recloop.pipelines.twostage import fit_two_stage
from recloop.ranking.bundle import load_bundle
from recloop.ranking.inputs import item_stats, replay_histories
from recloop.registry import registry_from_settings
from recloop.serving.recommender import ServedModel
from recloop.serving.replay import service_session
from recloop.serving.session import ModelSession
from recloop.serving.stability import Stability

__all__ = ["registered_builder"]


def registered_builder(alias: str, settings: Settings, semantics: Semantics = "implicit") -> ModelBuilder:
    """A builder for the version behind ``alias`` (champion/challenger).

    ``semantics``: how the P2 replay's service turns ratings into history
    (recloop.events.feedback): ``implicit`` is P2 as defined, ``explicit`` the
    "negatives" variant (ratings <= 2 are negatives, as when serving).
    """
    registry = registry_from_settings(settings)
    info = registry.get(alias)
    path = registry.download(info.version)

    def build(dataset: Dataset, frame: pd.DataFrame) -> OnlineModel:
        loaded = load_bundle(path, dataset)
        facts: dict[str, Any] = loaded.meta["facts"]
        same_split = int(facts.get("train_rows", -1)) == len(frame) and int(
            facts.get("last_timestamp", -1)) == int(frame["timestamp"].max())  # fmt: skip
        if same_split:
            stats = item_stats(dataset, frame, loaded.config.half_life_days)
            return ModelSession(loaded.model, stats, replay_histories(dataset, frame))
        cfg = loaded.config  # the whole recipe: every source's parameters
        model, _, _ = fit_two_stage(dataset, frame, settings, cfg)
        served = ServedModel(model, f"{info.version}-refit")
        steady = Stability(settings.shown_lists, settings.stability_strength)
        return service_session(dataset, frame, served, cfg.half_life_days, semantics, steady)

    params: dict[str, Any] = {"version": info.version, "recipe": "registered",
                              "stability": settings.stability_strength if settings.shown_lists else 0.0}
    if semantics != "implicit":
        params["semantics"] = semantics
    return ModelBuilder(alias, build, params)
