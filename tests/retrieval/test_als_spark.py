"""ALS fitted by Spark ML gives the same kind of model as implicit: item factors in catalog
order, a fold-in that ranks co-consumed items first. (The P1 comparison on MovieLens is
benchmarks/spark_als.py; this starts a real local Spark, ~15 s.)"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import build_dataset
from recloop.config import ALSParams
from recloop.data import Dataset
from recloop.evaluation.baselines import train_data
from recloop.retrieval.als import ALSScorer

pytestmark = pytest.mark.slow


def two_taste_dataset(users_per_taste: int = 30) -> Dataset:
    """Items 0..4 (taste A) and 5..9 (taste B); each user rates all items of one taste."""
    rows, t = [], 0
    for u in range(2 * users_per_taste):
        for i in range(0, 5) if u % 2 == 0 else range(5, 10):
            rows.append((u + 1, 10 * (i + 1), 5, t))
            t += 1
    return build_dataset(rows, n_items=10)


def test_spark_als_learns_the_two_tastes_like_implicit() -> None:
    data = two_taste_dataset()
    td = train_data(data, data.interactions)
    got = {}
    for engine in ("implicit", "spark"):
        als = ALSScorer(ALSParams(factors=4, iterations=10, engine=engine, spark_master="local[2]",
                                  spark_reg_param=0.01, regularization=0.1)).fit(td)  # fmt: skip
        assert als.item_factors.shape == (data.n_items, 4) and als.item_factors.dtype == np.float32
        scores = als.score(np.array([0, 1]))  # a user who liked two items of taste A (0..4)
        got[engine] = set(np.argsort(-scores)[:5].tolist())
    assert got["spark"] == got["implicit"] == {0, 1, 2, 3, 4}
