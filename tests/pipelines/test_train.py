"""The training pipeline end to end: real LightGBM, FAISS and an embedded MLflow registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from homes import HomeCopier, Trained
from recloop.config import Settings
from recloop.data import Dataset
from recloop.pipelines.train import TrainResult
from recloop.ranking.bundle import load_bundle
from recloop.registry import registry_from_settings
from recloop.retrieval.history import History


@pytest.fixture(scope="module")
def trained(training_run: Trained, copy_trained_home: HomeCopier) -> tuple[Settings, TrainResult]:
    """The session's training run (tests/homes.py) and a private copy of its home."""
    assert "fit LightGBM LambdaRank" in training_run.stages
    return Settings(home=copy_trained_home("train_home")), training_run.result


def test_two_stage_beats_every_baseline_on_p1(trained: tuple[Settings, TrainResult]) -> None:
    _, result = trained
    m = result.report.models
    best = max(m[n].metrics["NDCG@10"] for n in ("popular", "itemknn", "als", "ease"))
    # even the small CI config must clear the best classical baseline by 15%
    assert m["champion"].metrics["NDCG@10"] > 1.15 * best
    assert m["champion"].metrics["Coverage@10"] >= max(
        m[n].metrics["Coverage@10"] for n in ("itemknn", "als", "ease")
    )


def test_first_version_becomes_champion(trained: tuple[Settings, TrainResult]) -> None:
    settings, result = trained
    reg = registry_from_settings(settings)
    assert result.became_champion
    assert reg.alias_version("champion") == result.version.version
    assert reg.alias_version("challenger") == result.version.version
    assert result.version.metrics["NDCG@10"] == pytest.approx(
        result.report.models["champion"].metrics["NDCG@10"]
    )


def test_bundle_from_registry_reproduces_rankings(
    trained: tuple[Settings, TrainResult], movielens: Dataset
) -> None:
    settings, _ = trained
    reg = registry_from_settings(settings)
    path: Path = reg.download("champion")
    loaded = load_bundle(path, movielens)
    again = load_bundle(path, movielens)
    stats_src = movielens.interactions.iloc[:50_000]
    from recloop.ranking.inputs import item_stats

    stats = item_stats(movielens, stats_src, 7.0)
    h = History.from_items([49, 180, 99], [880000000, 880000100, 880000200], user_id="1")
    a = loaded.model.rank(h, stats, 880000300.0, 10)
    b = again.model.rank(h, stats, 880000300.0, 10)
    assert len(a.items) == 10
    np.testing.assert_array_equal(a.items, b.items)
    assert not set(a.items.tolist()) & {49, 180, 99}
    # the latest item changes the list: recommendations use the current history
    h2 = History.from_items([49, 180, 99, 312], [880000000, 880000100, 880000200, 880000250],
                            user_id="1")  # fmt: skip
    c = loaded.model.rank(h2, stats, 880000300.0, 10)
    assert c.items.tolist() != a.items.tolist()
