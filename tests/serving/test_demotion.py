"""Demotion: items similar to the user's negatives move down; nothing moves without negatives."""

from __future__ import annotations

import numpy as np
import pytest

from recloop.retrieval.candidates import CandidateSources
from recloop.retrieval.history import History
from recloop.retrieval.itemmatrix import ItemMatrix
from recloop.retrieval.sources import SourceSpec
from recloop.retrieval.sources.itemitem import EASESource, ItemKNNSource, RecencyWindow
from recloop.retrieval.sources.popularity import PopularSource
from recloop.serving.demotion import demote, negative_similarity


def _sources() -> CandidateSources:
    ease = np.zeros((6, 6), np.float32)
    knn = np.zeros((6, 6), np.float32)
    ease[0, 1], ease[0, 2] = 1.0, 0.5  # item 0's neighbours: 1 (nearest), then 2
    knn[0, 1], knn[0, 2] = 0.8, 0.4
    return CandidateSources([
        EASESource(SourceSpec(kind="ease", quota=5), ItemMatrix.from_dense(ease), RecencyWindow()),
        ItemKNNSource(SourceSpec(kind="itemknn", quota=5), ItemMatrix.from_dense(knn), RecencyWindow()),
        PopularSource(SourceSpec(kind="popular", quota=5)),
    ], 6)  # fmt: skip


def _history(negatives: list[int], magnitudes: list[float] | None = None) -> History:
    h = History.from_items([5])
    neg = np.asarray(negatives, np.int64)
    mags = np.asarray(magnitudes if magnitudes is not None else [1.0] * len(negatives), np.float32)
    return History(h.items, h.timestamps, h.ratings, np.unique(np.concatenate([h.items, neg])),
                   negatives=neg, negative_weights=mags)  # fmt: skip


def test_similarity_to_negatives_is_one_for_the_nearest_neighbour_and_zero_elsewhere() -> None:
    sim = negative_similarity(np.array([1, 2, 3, 4]), _history([0]), _sources())
    assert sim.tolist() == [1.0, 0.5, 0.0, 0.0]
    half = negative_similarity(np.array([1, 2]), _history([0], [0.5]), _sources())
    assert half.tolist() == [0.5, 0.25]


def test_demotion_pushes_the_neighbours_of_a_negative_below_unrelated_items() -> None:
    items = np.array([1, 2, 3, 4], np.int64)
    scores = np.array([4.0, 3.0, 2.0, 1.0])
    out, new, order = demote(items, scores, _history([0]), _sources(), strength=1.0)
    assert out.tolist() == [3, 2, 1, 4]  # 1 loses the whole spread (3), 2 half of it (strength 1)
    assert new.tolist() == [2.0, 1.5, 1.0, 1.0] and order.tolist() == [2, 1, 0, 3]


def test_no_negatives_no_change() -> None:
    items = np.array([1, 2, 3], np.int64)
    scores = np.array([3.0, 2.0, 1.0])
    out, new, order = demote(items, scores, History.from_items([5]), _sources())
    assert out is items and new is scores and order.tolist() == [0, 1, 2]


def test_default_strength_moves_the_nearest_neighbour_down_but_not_to_the_bottom() -> None:
    items = np.array([1, 2, 3, 4], np.int64)
    scores = np.array([4.0, 3.5, 3.8, 1.0])
    out, new, _ = demote(items, scores, _history([0]), _sources())  # strength 0.3 of a spread of 3
    assert out.tolist() == [3, 1, 2, 4] and new.tolist() == pytest.approx([3.8, 3.1, 3.05, 1.0])


def test_the_sparse_rows_give_the_dense_similarity_to_negatives() -> None:
    rng = np.random.default_rng(3)
    mats = [(rng.standard_normal((40, 40)) * (rng.random((40, 40)) < 0.3)).astype(np.float32)
            for _ in range(2)]  # fmt: skip

    def sources(dense_max: int) -> CandidateSources:
        ease, knn = (ItemMatrix.from_dense(m, dense_max) for m in mats)
        return CandidateSources([
            EASESource(SourceSpec(kind="ease", quota=5), ease, RecencyWindow()),
            ItemKNNSource(SourceSpec(kind="itemknn", quota=5), knn, RecencyWindow()),
        ], 40)  # fmt: skip

    h = _history([3, 17, 3, 30], [1.0, 0.5, 0.2, 0.8])
    items = np.arange(40)
    dense, sparse = sources(4096), sources(0)
    assert sparse.sources[0].similarity().dense is None  # type: ignore[union-attr]
    np.testing.assert_allclose(negative_similarity(items, h, sparse), negative_similarity(items, h, dense))
    assert negative_similarity(items, h, dense).max() > 0
