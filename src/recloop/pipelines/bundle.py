"""The model bundle: a directory holding everything a two-stage version needs.

Files: ``meta.json`` (configs, feature names, training facts), ``ease.npy``,
``itemknn.npy``, ``transitions.npy``, ``als_items.npy`` (float32 matrices),
``index.faiss``, ``ranker.txt`` (LightGBM). The bundle is what the registry
stores, so a version is reproducible and servable from the registry alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recloop.config import ALSParams
from recloop.data.movielens import Dataset
from recloop.errors import DataError
from recloop.pipelines.twostage import TwoStageConfig
from recloop.ranking.features import FeatureBuilder, UserProfiles
from recloop.ranking.ranker import LambdaRanker
from recloop.retrieval.als import ALSScorer
from recloop.retrieval.candidates import CandidateSources
from recloop.retrieval.index import load_index
from recloop.retrieval.sequence import TransitionScorer
from recloop.serving.model import TwoStageModel

__all__ = ["BUNDLE_FORMAT", "LoadedBundle", "load_bundle", "save_bundle"]

BUNDLE_FORMAT = 2  # 2: candidate ranks share the best rank among ties


@dataclass(frozen=True)
class LoadedBundle:
    """A model read back from a bundle directory, with its metadata."""

    model: TwoStageModel
    config: TwoStageConfig
    meta: dict[str, Any]


def save_bundle(
    model: TwoStageModel, config: TwoStageConfig, als: ALSParams, facts: dict[str, Any],
    item_ids: np.ndarray, path: Path,
) -> Path:  # fmt: skip
    """Write ``model`` into directory ``path`` (created)."""
    path.mkdir(parents=True, exist_ok=True)
    s = model.sources
    np.save(path / "ease.npy", s.ease)
    np.save(path / "itemknn.npy", s.itemknn)
    np.save(path / "transitions.npy", s.sequence.trans)
    np.save(path / "als_items.npy", s.als.item_factors)
    s.index.save(path / "index.faiss")
    model.ranker.save(path / "ranker.txt")
    meta = {
        "format": BUNDLE_FORMAT,
        "config": config.model_dump(mode="json"),
        "als": als.model_dump(mode="json"),
        "sequence": s.sequence.params(),
        "feature_names": model.ranker.feature_names,
        "item_ids": [int(i) for i in item_ids],
        "facts": facts,
    }
    (path / "meta.json").write_text(json.dumps(meta, indent=1))
    return path


def load_bundle(path: Path, dataset: Dataset) -> LoadedBundle:
    """Read a bundle; the catalog must match the one it was trained on."""
    meta_file = path / "meta.json"
    if not meta_file.exists():
        raise DataError(f"{path}: no meta.json; not a recloop model bundle")
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != BUNDLE_FORMAT:
        raise DataError(
            f"{path}: bundle format {meta.get('format')}, this recloop serves format {BUNDLE_FORMAT} "
            "(its features differ); train a new version with `recloop train`"
        )
    if meta["item_ids"] != [int(i) for i in dataset.item_ids]:
        raise DataError(f"{path}: trained on a different catalog than the loaded dataset")
    cfg = TwoStageConfig.model_validate(meta["config"])
    als = ALSScorer(ALSParams.model_validate(meta["als"]))
    als.set_item_factors(np.load(path / "als_items.npy"))
    seq = TransitionScorer(**meta["sequence"])
    seq.trans = np.load(path / "transitions.npy")
    sources = CandidateSources(
        ease=np.load(path / "ease.npy"), itemknn=np.load(path / "itemknn.npy"), sequence=seq,
        als=als, index=load_index(path / "index.faiss"), config=cfg.candidates,
    )  # fmt: skip
    features = FeatureBuilder(
        sources, dataset.genre_matrix(), dataset.items["year"].astype("float64").to_numpy(),
        UserProfiles.from_frame(dataset.users),
    )  # fmt: skip
    ranker = LambdaRanker.load(path / "ranker.txt", cfg.ranker)
    return LoadedBundle(TwoStageModel(sources, features, ranker), cfg, meta)
