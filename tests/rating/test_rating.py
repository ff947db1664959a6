"""Rating models on synthetic ratings with a known low-rank structure, and the rating task."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import build_dataset
from recloop.evaluation.rating import RATING_MODELS, error_metrics, run_rating
from recloop.evaluation.splits import temporal_user_split
from recloop.rating import (
    NMF,
    BiasedMF,
    BiasModel,
    GlobalMean,
    RatingParams,
    Ratings,
    load_rating,
    save_rating,
)


def low_rank_rows(
    n_users: int = 150, n_items: int = 60, per_user: int = 30
) -> list[tuple[int, int, int, int]]:
    """(user, item id, rating, timestamp): rating = round(3 + b_u + b_i + p.q + noise), in 1..5."""
    rng = np.random.default_rng(5)
    p, q = rng.normal(0, 0.8, (n_users, 3)), rng.normal(0, 0.8, (n_items, 3))
    bu, bi = rng.normal(0, 0.4, n_users), rng.normal(0, 0.4, n_items)
    rows = []
    for u in range(n_users):
        for k, i in enumerate(rng.choice(n_items, size=per_user, replace=False)):
            r = 3 + bu[u] + bi[i] + p[u] @ q[i] + rng.normal(0, 0.3)
            rows.append((u + 1, 10 * (int(i) + 1), int(np.clip(round(r), 1, 5)), 1000 * k + u))
    rows.sort(key=lambda r: r[3])
    return rows


@pytest.fixture()
def split() -> tuple[Ratings, Ratings]:
    data = build_dataset(low_rank_rows(), 60)
    train, test = temporal_user_split(data.interactions)
    return Ratings.from_frame(data, train), Ratings.from_frame(data, test)


def test_mf_beats_biases_beats_the_mean_on_held_out_ratings(split: tuple[Ratings, Ratings]) -> None:
    train, test = split
    rmse = {type(m).__name__: error_metrics(m.fit(train), test)["RMSE"]
            for m in (GlobalMean(), BiasModel(), BiasedMF(factors=5, reg=0.05), NMF(factors=5))}  # fmt: skip
    assert rmse["BiasedMF"] < 0.8 * rmse["BiasModel"] < 0.8 * rmse["GlobalMean"]
    assert rmse["NMF"] < rmse["BiasModel"]


def test_fits_are_deterministic_and_predictions_on_the_scale(split: tuple[Ratings, Ratings]) -> None:
    train, test = split
    for make in (lambda: BiasedMF(factors=5), lambda: NMF(factors=5, epochs=20)):
        a, b = make().fit(train), make().fit(train)
        pa = a.predict(test.users, test.items)
        assert np.array_equal(pa, b.predict(test.users, test.items))
        assert pa.min() >= 1.0 and pa.max() <= 5.0


def test_fold_in_of_a_training_user_predicts_like_the_trained_factor(split: tuple[Ratings, Ratings]) -> None:
    train, _ = split
    mf = BiasedMF(factors=5, reg=0.05, iterations=30).fit(train)
    mine = train.users == 7
    items, ratings = train.items[mine], train.values[mine]
    others = np.arange(train.n_items)
    folded = mf.predict_for(items, ratings, others)
    trained = mf.predict(np.full(len(others), 7), others)
    assert np.abs(folded - trained).max() < 0.05
    cold = mf.predict_for(np.zeros(0, dtype=np.int64), np.zeros(0), others)
    assert np.allclose(cold, np.clip(mf.mean + mf.item_bias, 1, 5))


def test_the_rating_task_tunes_on_validation_and_reports_every_model() -> None:
    data = build_dataset(low_rank_rows(), 60)
    grids = {"bias": {"reg_user": [1.0, 5.0]}, "svd": {"factors": [3, 5], "reg": [0.05]},
             "nmf": {"factors": [3], "epochs": [20]}}  # fmt: skip
    report = run_rating(data, list(RATING_MODELS), grids=grids).to_dict()
    assert report["protocol"] == "rating" and set(report["models"]) == set(RATING_MODELS)
    train, test = temporal_user_split(data.interactions)
    assert report["data"]["test"] == len(test)
    assert report["data"]["validation"] == len(temporal_user_split(train)[1])
    m = {k: v["metrics"] for k, v in report["models"].items()}
    assert m["svd"]["RMSE"] < m["bias"]["RMSE"] < m["global_mean"]["RMSE"]
    assert report["models"]["svd"]["params"]["factors"] in (3, 5)
    assert "valid_RMSE" in report["models"]["svd"]["params"]
    with pytest.raises(ValueError, match="unknown rating models"):
        run_rating(data, ["svdpp"])


def test_the_served_rating_model_round_trips_and_an_older_bundle_has_none(
    split: tuple[Ratings, Ratings], tmp_path: Path
) -> None:
    train, _ = split
    params = RatingParams(factors=5, reg=0.05)
    mf = BiasedMF(**params.model_dump()).fit(train)
    save_rating(mf, tmp_path)
    back = load_rating(params, tmp_path)
    assert back is not None
    items, ratings, cands = train.items[:6], train.values[:6], np.arange(train.n_items)
    assert np.array_equal(back.predict_for(items, ratings, cands), mf.predict_for(items, ratings, cands))
    assert load_rating(params, tmp_path / "older") is None
