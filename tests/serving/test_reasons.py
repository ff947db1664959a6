"""Reasons: the history item behind each item-based candidate, generic text otherwise."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from recloop.config import ALSParams
from recloop.retrieval.als import ALSScorer
from recloop.retrieval.candidates import CandidateSources
from recloop.retrieval.history import History
from recloop.retrieval.index import IndexConfig, build_index
from recloop.retrieval.itemmatrix import ItemMatrix
from recloop.retrieval.sequence import TransitionScorer
from recloop.retrieval.sources import SourceSpec
from recloop.retrieval.sources.als import ALSSource
from recloop.retrieval.sources.itemitem import EASESource, ItemKNNSource, RecencyWindow
from recloop.retrieval.sources.popularity import PopularSource, TrendingSource
from recloop.retrieval.sources.transitions import SequenceSource
from recloop.serving.catalog import ItemView
from recloop.serving.reasons import explain_all


class _Catalog:
    def view(self, index: int) -> ItemView:
        return ItemView(index + 100, f"Movie {index}", 1990 + index, ())


def _spec(kind: str) -> SourceSpec:
    return SourceSpec(kind=kind, quota=5)


def _sources() -> CandidateSources:
    """The default mix of real source objects over 6 items, with hand-set matrices."""
    ease = np.zeros((6, 6), np.float32)
    knn = np.zeros((6, 6), np.float32)
    ease[1, 4], ease[2, 4] = 0.2, 0.9  # item 4: EASE says because of item 2
    knn[1, 5], knn[2, 5] = 0.7, 0.1  # item 5: kNN says because of item 1
    seq = TransitionScorer()
    seq.trans = ItemMatrix.empty(6)
    als = ALSScorer(ALSParams(factors=2))
    als.set_item_factors(np.ones((6, 2), np.float32))
    return CandidateSources([
        EASESource(_spec("ease"), ItemMatrix.from_dense(ease), RecencyWindow()),
        ItemKNNSource(_spec("itemknn"), ItemMatrix.from_dense(knn), RecencyWindow()),
        SequenceSource(_spec("sequence"), seq),
        ALSSource(_spec("als"), als, build_index(IndexConfig(type="flat"), als.item_factors)),
        PopularSource(_spec("popular")), TrendingSource(_spec("trending")),
    ], 6)  # fmt: skip


def _src(name: str) -> int:
    return _sources().names.index(name)


def test_item_based_reasons_name_the_strongest_history_item() -> None:
    h = History.from_items([1, 2], user_id="u")
    items = np.array([4, 5, 3, 0, 3, 4], np.int64)
    origins = np.array([_src("ease"), _src("itemknn"), _src("sequence"), _src("trending"),
                        _src("als"), _src("als")])  # fmt: skip
    got = explain_all(items, origins, h, _sources(), cast(Any, _Catalog()))
    assert got == [
        ("ease", "because you liked Movie 2 (1992)"),
        ("itemknn", "because you liked Movie 1 (1991)"),
        ("sequence", "often watched after Movie 2 (1992)"),
        ("trending", "trending this week"),
        ("als", "matches your taste profile"),  # no EASE weight from the history to item 3
        ("als", "because you liked Movie 2 (1992)"),
    ]


def test_new_user_gets_generic_reasons_and_a_single_item_gets_its_reason() -> None:
    h = History.from_items([], user_id="new")
    got = explain_all(np.array([3, 4]), np.array([_src("popular"), _src("als")]), h, _sources(),
                      cast(Any, _Catalog()))  # fmt: skip
    assert got == [("popular", "popular with everyone"), ("als", "matches your taste profile")]
    one = explain_all(np.array([4]), np.array([_src("ease")]), History.from_items([1, 2]), _sources(),
                      cast(Any, _Catalog()))  # fmt: skip
    assert one == [("ease", "because you liked Movie 2 (1992)")]
