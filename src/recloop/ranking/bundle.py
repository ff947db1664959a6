"""The model bundle: a directory holding everything a two-stage version needs.

Files: ``meta.json`` (the whole recipe: every source's kind, quota and fit
parameters, the ranker's; the feature names; training facts), each source's
own files (each item-item matrix as ``<name>.npy`` when the catalog is small,
else its CSR arrays ``<name>.{indptr,indices,data}.npy``, memory-mapped on load;
``als_items.npy``, ``index.faiss``, ``index.json``, ``sasrec.pt``), ``ranker.txt``
(LightGBM), ``manifest.json`` (the SHA-256 of every other file,
recloop.ranking.manifest) and, optionally, ``rating.npz`` (the rating model behind
``predicted_rating``; a bundle without it loads and serves without predicted
ratings). The bundle is what the
registry stores, so a version is reproducible and servable from the
registry alone, and a retrain refits the champion from its recipe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from recloop.data.movielens import Dataset
from recloop.errors import BundleIntegrityError, DataError, RecloopError
from recloop.ranking.features import FeatureBuilder, UserProfiles
from recloop.ranking.manifest import probe_native, verify_bundle, write_manifest
from recloop.ranking.model import TwoStageModel
from recloop.ranking.ranker import LambdaRanker, RankerConfig
from recloop.rating import RatingParams, load_rating, save_rating
from recloop.retrieval.candidates import CandidateConfig, CandidateSources
from recloop.retrieval.sources import source_kind

__all__ = ["BUNDLE_FORMAT", "LoadedBundle", "TwoStageConfig", "feature_builder", "load_bundle", "save_bundle"]

BUNDLE_FORMAT = 4  # 4: sparse top-k item-item matrices, the ALS index chosen by size (index.json)
# 3: sources and features by name, the whole recipe in meta.json


class TwoStageConfig(BaseModel):
    """The recipe of a two-stage model besides the data: sources, ranker, training frames.

    ``candidates.sources`` empty means "recloop's default mix with the settings'
    fit parameters" (filled in at training time, so a saved recipe is complete).
    """

    candidates: CandidateConfig = CandidateConfig()
    ranker: RankerConfig = RankerConfig()
    label_fraction: float = 0.2
    label_horizon: int = 5  # chosen on the validation splits (P2-val +2.8% over 3 seeds)
    max_queries: int = 5000
    valid_fraction: float = 0.2
    half_life_days: float = 7.0
    seed: int = 7
    rating: RatingParams | None = RatingParams()  # None: no rating model (no predicted_rating)
    # the rating model fits on the ratings of a seeded sample of users holding at most this many
    # (its cost is ~k^2 per rating and sweep; MovieLens-100K's 80k ratings are all used)
    rating_max_ratings: int = 500_000


@dataclass(frozen=True)
class LoadedBundle:
    """A model read back from a bundle directory, with its metadata."""

    model: TwoStageModel
    config: TwoStageConfig
    meta: dict[str, Any]


def feature_builder(sources: CandidateSources, dataset: Dataset) -> FeatureBuilder:
    """The feature builder of ``sources`` over the dataset's catalog and user profiles."""
    return FeatureBuilder(sources, dataset.genre_matrix(), dataset.items["year"].astype("float64").to_numpy(),
                          UserProfiles.from_frame(dataset.users))  # fmt: skip


def save_bundle(
    model: TwoStageModel, config: TwoStageConfig, facts: dict[str, Any], item_ids: np.ndarray, path: Path
) -> Path:
    """Write ``model`` into directory ``path`` (created); ``config`` must hold its sources."""
    path.mkdir(parents=True, exist_ok=True)
    for source in model.sources.sources:
        source.save(path)
    model.ranker.save(path / "ranker.txt")
    if model.rating is not None:
        save_rating(model.rating, path)
    recipe = config.model_copy(update={"candidates": CandidateConfig(sources=model.sources.specs)})
    meta = {
        "format": BUNDLE_FORMAT,
        "config": recipe.model_dump(mode="json"),
        "feature_names": model.ranker.feature_names,
        "item_ids": [int(i) for i in item_ids],
        "facts": facts,
    }
    (path / "meta.json").write_text(json.dumps(meta, indent=1))
    write_manifest(path)
    return path


def _read_meta(path: Path) -> dict[str, Any]:
    meta_file = path / "meta.json"
    if not meta_file.exists():
        raise DataError(f"{path}: no meta.json; not a recloop model bundle")
    try:
        meta: dict[str, Any] = json.loads(meta_file.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{meta_file}: unreadable ({exc}); download the version again or retrain") from exc
    if meta.get("format") != BUNDLE_FORMAT:
        raise DataError(
            f"{path}: bundle format {meta.get('format')}, this recloop serves format {BUNDLE_FORMAT} "
            "(its item matrices, sources or features are stored differently); it cannot be served: "
            "retrain a new version with `recloop train`"
        )
    return meta


def load_bundle(path: Path, dataset: Dataset) -> LoadedBundle:
    """Read a bundle; the catalog, the sources and the feature names must match this code's.

    Every file is checked against the bundle's manifest first (recloop.ranking.manifest); a
    bundle without one has its native files loaded in a child process first. Either way a
    damaged file is a DataError naming it, never a crash in LightGBM or FAISS.
    """
    try:
        if not verify_bundle(path):
            probe_native(path)
    except BundleIntegrityError as exc:
        raise BundleIntegrityError(f"{exc.message}; download the version again (the registry refetches "
                                   "a damaged cache) or retrain with `recloop train`", exc.field) from None
    meta = _read_meta(path)
    if meta["item_ids"] != [int(i) for i in dataset.item_ids]:
        raise DataError(f"{path}: trained on a different catalog than the loaded dataset")
    try:
        cfg = TwoStageConfig.model_validate(meta["config"])
        sources = CandidateSources(
            [source_kind(s.kind).load(s, path) for s in cfg.candidates.sources], dataset.n_items
        )
    except (PydanticError, RecloopError, OSError, ValueError) as exc:
        msg = exc.message if isinstance(exc, RecloopError) else str(exc)
        raise DataError(f"{path}: its sources cannot be loaded ({msg}); retrain: `recloop train`") from exc
    features = feature_builder(sources, dataset)
    ranker = LambdaRanker.load(path / "ranker.txt", cfg.ranker)
    if tuple(ranker.feature_names) != features.names or tuple(meta["feature_names"]) != features.names:
        raise DataError(
            f"{path}: its ranker was trained on features {list(meta['feature_names'])}, "
            "this recloop "
            f"builds {list(features.names)}; retrain with `recloop train`"
        )
    rating = None if cfg.rating is None else load_rating(cfg.rating, path)  # None: an older bundle
    return LoadedBundle(TwoStageModel(sources, features, ranker, rating), cfg, meta)
