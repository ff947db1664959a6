"""List stability: shown items keep a head start; items near negatives and items that fell far do not."""

from __future__ import annotations

import numpy as np

from recloop.retrieval.candidates import CandidateSources
from recloop.retrieval.history import History
from recloop.retrieval.itemmatrix import ItemMatrix
from recloop.retrieval.sources import SourceSpec
from recloop.retrieval.sources.itemitem import ItemKNNSource, RecencyWindow
from recloop.retrieval.sources.popularity import PopularSource
from recloop.serving.stability import SHOWN_LIST_BYTES, Stability

ITEMS = np.arange(10, dtype=np.int64)
SCORES = np.linspace(1.0, 0.1, 10)  # spread of the top 10: 0.9


def _sources() -> CandidateSources:
    knn = np.zeros((10, 10), np.float32)
    knn[9, 4] = 1.0  # item 4 is the nearest neighbour of item 9
    return CandidateSources([
        ItemKNNSource(SourceSpec(kind="itemknn", quota=5), ItemMatrix.from_dense(knn), RecencyWindow()),
        PopularSource(SourceSpec(kind="popular", quota=5)),
    ], 10)  # fmt: skip


def _history(negatives: list[int] | None = None) -> History:
    h = History.from_items([8])
    neg = np.asarray(negatives or [], np.int64)
    return History(h.items, h.timestamps, h.ratings, np.unique(np.concatenate([h.items, neg])),
                   negatives=neg, negative_weights=np.ones(len(neg), np.float32))  # fmt: skip


def test_a_shown_item_keeps_its_place_against_a_slightly_better_newcomer() -> None:
    st = Stability(max_users=10, strength=0.3, depth=10)
    st.remember("u", np.array([1, 2, 3]))
    items, scores, order = st.adjust("u", ITEMS, SCORES, _history(), _sources())
    # items 1-3 gain 0.3 x 0.9: 1 and 2 pass item 0 (1.17, 1.07 > 1.0), 3 does not (0.97)
    assert items[:4].tolist() == [1, 2, 0, 3]
    assert np.all(np.diff(scores[:10]) <= 0)
    assert ITEMS[order].tolist() == items.tolist()


def test_no_remembered_list_no_change() -> None:
    st = Stability(max_users=10)
    items, scores, order = st.adjust("nobody", ITEMS, SCORES, _history(), _sources())
    assert items.tolist() == ITEMS.tolist() and scores.tolist() == SCORES.tolist()
    assert order.tolist() == list(range(10))


def test_items_below_the_depth_get_no_head_start() -> None:
    st = Stability(max_users=10, strength=2.0, depth=5)
    st.remember("u", np.array([7]))  # fell to position 8: it no longer fits
    items, _, _ = st.adjust("u", ITEMS, SCORES, _history(), _sources())
    assert items.tolist() == ITEMS.tolist()


def test_an_item_near_a_negative_loses_its_head_start() -> None:
    st = Stability(max_users=10, strength=0.5, depth=10)
    st.remember("u", np.array([4, 5]))
    items, _, _ = st.adjust("u", ITEMS, SCORES, _history(negatives=[9]), _sources())
    # 5 gains 0.45 (0.95: second); 4, the disliked item's neighbour, keeps 0.6 (sixth)
    assert items[:6].tolist() == [0, 5, 1, 2, 3, 4]


def test_zero_strength_or_zero_users_turns_it_off_and_keeps_no_memory() -> None:
    for st in (Stability(max_users=0), Stability(max_users=10, strength=0.0)):
        st.remember("u", np.array([9]))
        assert len(st) == 0 and not st.enabled
        items, _, _ = st.adjust("u", ITEMS, SCORES, _history(), _sources())
        assert items.tolist() == ITEMS.tolist()


def test_memory_is_bounded_by_the_most_recent_users() -> None:
    st = Stability(max_users=3)
    for u in range(10):
        st.remember(f"u{u}", np.array([u]))
    assert len(st) == 3
    assert st.last("u0") is None and st.last("u9") is not None
    assert st.last("u9").tolist() == [9]  # type: ignore[union-attr]


def test_a_negative_the_user_had_when_shown_takes_nothing_away_so_a_refresh_keeps_the_order() -> None:
    st = Stability(max_users=10, strength=0.5, depth=10)
    old = _history(negatives=[9])  # 9's neighbour 4 is near a negative the list already knew
    st.remember("u", np.array([4, 5]), old)
    items, _, _ = st.adjust("u", ITEMS, SCORES, old, _sources())
    assert items[:3].tolist() == [4, 0, 5]  # both keep the full 0.45: 1.05, 1.0, 0.95
    shown = items[:10]
    st.remember("u", shown, old)
    again, _, _ = st.adjust("u", shown, np.sort(np.linspace(1.0, 0.1, 10))[::-1], old, _sources())
    assert again.tolist() == shown.tolist()  # nothing happened: the same list, the same order


def test_remembered_lists_stay_within_their_users_and_bytes_however_many_users_come() -> None:
    st = Stability(max_users=1000)
    for i in range(20_000):
        st.remember(f"new-{i}-{'x' * 32}", np.arange(100, dtype=np.int64))
    assert len(st) == 1000 and st.shown.nbytes <= st.shown.limit_bytes == 1000 * SHOWN_LIST_BYTES
    assert st.last("new-19999-" + "x" * 32) is not None and st.last("new-0-" + "x" * 32) is None
    long_ids = Stability(max_users=1000)
    for i in range(3000):  # ids of 4 KB: the bytes bound holds them, not the count
        long_ids.remember(f"{i}-" + "y" * 4000, np.arange(10, dtype=np.int64))
    assert len(long_ids) < 200 and long_ids.shown.nbytes <= long_ids.shown.limit_bytes
