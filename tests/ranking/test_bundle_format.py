"""Bundle format 4: sparse item matrices saved and memory-mapped back; older formats refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from recloop.config import Settings
from recloop.data import Dataset
from recloop.errors import DataError
from recloop.pipelines.twostage import fit_two_stage
from recloop.ranking.bundle import BUNDLE_FORMAT, TwoStageConfig, load_bundle, save_bundle
from recloop.ranking.manifest import write_manifest
from recloop.ranking.ranker import RankerConfig
from recloop.retrieval import itemmatrix
from recloop.retrieval.history import History

Factory = Callable[..., Dataset]


def _dataset(make_dataset: Factory) -> Dataset:
    rng = np.random.default_rng(11)
    rows = []
    for u in range(1, 61):
        items = rng.choice(30, size=12, replace=False)
        rows += [(u, 10 * (int(i) + 1), int(rng.integers(1, 6)), 1000 * u + 7 * k)
                 for k, i in enumerate(items)]
    rows.sort(key=lambda r: r[3])
    return make_dataset(rows, 30)


@pytest.mark.parametrize("dense_max", [0, 4096])  # every matrix stored sparse; small catalog kept dense
def test_a_bundle_round_trips_its_item_matrices(
    make_dataset: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dense_max: int
) -> None:
    monkeypatch.setattr(itemmatrix, "DENSE_MAX", dense_max)
    data = _dataset(make_dataset)
    settings = Settings(home=tmp_path)
    cfg = TwoStageConfig(ranker=RankerConfig(min_data_in_leaf=1, max_rounds=5, early_stopping_rounds=2))
    model, stats, _ = fit_two_stage(data, data.interactions, settings, cfg)
    path = save_bundle(model, cfg, {}, data.item_ids, tmp_path / "bundle")
    files = {p.name for p in path.iterdir()}
    for name in ("ease", "itemknn", "sequence"):
        stored = {f"{name}.npy"} if dense_max else {f"{name}.{p}.npy" for p in ("indptr", "indices", "data")}
        assert stored <= files
    assert json.loads((path / "index.json").read_text())["kind"] == "flat"  # 30 items: exact search
    loaded = load_bundle(path, data)
    knn = loaded.model.sources.get("itemknn")
    assert knn is not None and knn.similarity() is not None
    assert (knn.similarity().dense is None) == (dense_max == 0)  # type: ignore[union-attr]
    for items in ([3, 7, 1], [12], [0, 29, 14, 5]):
        h = History.from_items(items, user_id="u")
        a, b = model.rank(h, stats, stats.now, 10), loaded.model.rank(h, stats, stats.now, 10)
        np.testing.assert_array_equal(a.items, b.items)


def test_an_older_bundle_format_is_refused_with_a_retrain_message(
    make_dataset: Factory, tmp_path: Path
) -> None:
    data = _dataset(make_dataset)
    cfg = TwoStageConfig(ranker=RankerConfig(min_data_in_leaf=1, max_rounds=5, early_stopping_rounds=2))
    model, _, _ = fit_two_stage(data, data.interactions, Settings(home=tmp_path), cfg)
    path = save_bundle(model, cfg, {}, data.item_ids, tmp_path / "bundle")
    meta = json.loads((path / "meta.json").read_text())
    assert meta["format"] == BUNDLE_FORMAT == 4
    meta["format"] = 3  # dense item matrices, no index report
    (path / "meta.json").write_text(json.dumps(meta))
    write_manifest(path)  # a well-formed bundle of the older format, not a damaged one
    refused = r"bundle format 3, this recloop serves format 4.*retrain.*recloop train"
    with pytest.raises(DataError, match=refused):
        load_bundle(path, data)
