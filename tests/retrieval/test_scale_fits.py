"""The scale changes keep what they replace: the same values, bounded work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recloop.evaluation.protocols import p1_users
from recloop.pipelines.twostage import rating_sample
from recloop.rating.mf import ridge_rows
from recloop.retrieval.base import TrainData
from recloop.retrieval.itemmatrix import _block_top_k, top_k_per_row
from recloop.retrieval.trending import ItemStats
from recloop.stages import recording, stage


def test_add_many_matches_one_event_at_a_time() -> None:
    rng = np.random.default_rng(0)
    items = rng.integers(0, 50, 3000)
    stamps = np.sort(rng.integers(8e8, 8.1e8, 3000)).astype(np.float64)
    ratings = rng.integers(0, 6, 3000).astype(np.float64)
    one, bulk = ItemStats(50), ItemStats(50)
    for i, t, r in zip(items, stamps, ratings, strict=True):
        one.add(int(i), float(t), float(r))
    bulk.add_many(items[:700], stamps[:700], ratings[:700])
    bulk.add_many(items[700:], stamps[700:], ratings[700:])
    for name in ("counts", "trend_time", "rating_sum", "rating_n"):
        assert np.array_equal(getattr(one, name), getattr(bulk, name)), name
    assert np.allclose(one.trend_value, bulk.trend_value, rtol=1e-12)
    assert one.now == bulk.now


def test_recent_matrix_keeps_each_users_latest_events() -> None:
    data = TrainData.from_arrays(np.array([1, 2, 1, 1, 2, 1]), np.array([0, 1, 2, 3, 3, 4]),
                                 np.ones(6), np.arange(6), 5)  # fmt: skip
    assert data.recent_matrix(2).toarray().tolist() == [[0, 0, 0, 1, 1], [0, 1, 0, 1, 0]]
    assert (data.recent_matrix(10) != data.matrix()).nnz == 0


def test_ridge_rows_by_blocks_is_the_whole_product() -> None:
    import recloop.rating.mf as mf

    rng = np.random.default_rng(1)
    mask = sp.random(200, 40, 0.2, format="csr", random_state=2)
    mask.data[:] = 1.0
    target = mask.copy()
    target.data = rng.normal(size=mask.nnz)
    x = np.c_[rng.normal(size=(40, 4)), np.ones(40)]
    whole = ridge_rows(mask, target, x, 0.1, 5.0)
    mf._BLOCK_CELLS = 25 * 7  # blocks of 7 rows
    try:
        assert np.array_equal(whole, ridge_rows(mask, target, x, 0.1, 5.0))
    finally:
        mf._BLOCK_CELLS = 32_000_000


def test_dense_block_top_k_keeps_the_same_values() -> None:
    rng = np.random.default_rng(3)
    dense = rng.random((30, 5000)).astype(np.float32)  # distinct values: no ties
    co = sp.csr_matrix(dense)
    a, b = top_k_per_row(co, 20).toarray(), _block_top_k(co, 20).toarray()
    assert np.array_equal(a, b)


def test_rating_sample_takes_whole_users_up_to_the_cap() -> None:
    rated = pd.DataFrame({"user_id": np.repeat(np.arange(100), 10), "rating": 4})
    assert rating_sample(rated, 5000, 0) is rated
    got = rating_sample(rated, 255, 0)
    assert len(got) == 250 and got.groupby("user_id").size().eq(10).all()


def test_p1_users_sample_is_seeded_and_sorted() -> None:
    users = np.repeat(np.arange(1000), 3)
    assert len(p1_users(users, None)) == 1000
    a, b = p1_users(users, 100, 0), p1_users(users, 100, 0)
    assert np.array_equal(a, b) and len(a) == 100 and np.all(np.diff(a) > 0)


def test_stages_nest_and_record_only_inside_recording() -> None:
    with stage("ignored"):
        pass
    with recording() as log, stage("fit"), stage("ease"):
        pass
    assert [r.name for r in log] == ["fit.ease", "fit"]
    assert all(r.end >= r.start for r in log)
