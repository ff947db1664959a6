"""Adding a candidate source: one class plus one registration line, and the rest follows.

A toy source ("newest": the latest release years first) is registered, put in a
recipe beside the defaults and trained end to end on synthetic data: its
candidates reach the ranker with their own feature columns, its reason reaches
the list, the bundle saves and reloads it, and a bundle naming a source this
code does not have, or features it does not build, is refused with a message
that says to retrain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
import pytest

from recloop.config import Settings
from recloop.data import Dataset
from recloop.errors import DataError
from recloop.pipelines.twostage import fit_two_stage, resolved
from recloop.ranking.bundle import TwoStageConfig, load_bundle, save_bundle
from recloop.ranking.manifest import write_manifest
from recloop.ranking.ranker import RankerConfig
from recloop.retrieval.candidates import CandidateConfig
from recloop.retrieval.history import History
from recloop.retrieval.sources import (
    SOURCE_KINDS,
    Display,
    FitContext,
    Query,
    SourceSpec,
    register_source,
    top_unseen,
)
from recloop.serving.catalog import Catalog
from recloop.serving.reasons import explain_all


class NewestSource:
    """Scores items by release order (a stand-in for "new arrivals")."""

    kind: ClassVar[str] = "newest"
    label: ClassVar[str] = "new arrivals"
    personal: ClassVar[bool] = False
    explained_by: ClassVar[str | None] = None

    def __init__(self, spec: SourceSpec, order: np.ndarray) -> None:
        self.spec, self.order = spec, order

    @property
    def name(self) -> str:
        return self.spec.kind

    @classmethod
    def fit(cls, spec: SourceSpec, ctx: FitContext) -> Self:
        return cls(spec, np.arange(ctx.data.n_items, dtype=np.float32))  # later index = newer here

    @classmethod
    def load(cls, spec: SourceSpec, directory: Path) -> Self:
        return cls(spec, np.load(directory / "newest.npy"))

    def scores(self, query: Query) -> np.ndarray:
        return self.order

    def propose(self, query: Query, masked: np.ndarray, ordered: np.ndarray) -> np.ndarray:
        return top_unseen(masked, ordered, self.spec.quota)

    def similarity(self) -> None:
        return None

    def reason(self, recent: np.ndarray, display: Display) -> str:
        return "new this season"

    def save(self, directory: Path) -> None:
        np.save(directory / "newest.npy", self.order)


@pytest.fixture()
def registered() -> Iterator[None]:
    register_source(NewestSource)  # the one line a new source needs
    yield
    SOURCE_KINDS.pop("newest", None)


def _dataset(make_dataset: object) -> Dataset:
    rng = np.random.default_rng(3)
    rows = []
    for u in range(1, 41):
        items = rng.choice(12, size=9, replace=False)
        rows += [(u, 10 * (int(i) + 1), int(rng.integers(1, 6)), 1000 * u + 7 * k)
                 for k, i in enumerate(items)]
    rows.sort(key=lambda r: r[3])
    return make_dataset(rows, 12)  # type: ignore[operator,no-any-return]


def test_a_registered_toy_source_trains_serves_explains_and_round_trips(
    registered: None, make_dataset: object, tmp_path: Path
) -> None:
    data = _dataset(make_dataset)
    settings = Settings(home=tmp_path)
    base = resolved(TwoStageConfig(), settings)
    specs = [SourceSpec(kind="newest", quota=3), *base.candidates.sources]  # first: it wins shared items
    cfg = base.model_copy(update={
        "candidates": CandidateConfig(sources=specs),
        "ranker": RankerConfig(min_data_in_leaf=1, max_rounds=5, early_stopping_rounds=2),
    })  # fmt: skip
    model, stats, _ = fit_two_stage(data, data.interactions, settings, cfg)
    assert model.sources.names[0] == "newest"
    assert {"newest_score", "newest_rank"} <= set(model.features.names)
    assert model.ranker.feature_names == list(model.features.names)

    new_user = History.from_items([], user_id="nobody")
    ranked = model.rank(new_user, stats, stats.now, 50)
    mine = model.sources.names.index("newest")
    proposed = ranked.items[ranked.origin == mine]
    assert len(proposed) > 0 and set(proposed.tolist()) <= {9, 10, 11}  # its top 3, where no one beat it
    why = explain_all(ranked.items, ranked.origin, new_user, model.sources, Catalog(data))
    assert ("newest", "new this season") in why

    path = save_bundle(model, cfg, {}, data.item_ids, tmp_path / "bundle")
    meta = json.loads((path / "meta.json").read_text())
    saved = meta["config"]["candidates"]["sources"]
    assert saved[0]["kind"] == "newest"
    assert saved[1]["params"]["l2"] == settings.models.ease.l2  # the whole recipe
    loaded = load_bundle(path, data)
    again = loaded.model.rank(new_user, stats, stats.now, 50)
    np.testing.assert_array_equal(again.items, ranked.items)
    np.testing.assert_allclose(again.scores, ranked.scores, rtol=1e-6)

    SOURCE_KINDS.pop("newest")
    with pytest.raises(DataError, match=r"unknown candidate source kind 'newest'.*retrain"):
        load_bundle(path, data)
    register_source(NewestSource)
    meta["feature_names"] = [*meta["feature_names"][:-1], "renamed_feature"]
    (path / "meta.json").write_text(json.dumps(meta))
    write_manifest(path)  # a consistent bundle from other code, not a damaged file
    with pytest.raises(DataError, match=r"features .*retrain with `recloop train`"):
        load_bundle(path, data)
