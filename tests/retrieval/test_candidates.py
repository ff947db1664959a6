"""Per-source selection and ranks: hand-computed, with ties and seen items."""

from __future__ import annotations

import numpy as np

from recloop.retrieval.candidates import _ranks
from recloop.retrieval.sources import top_unseen as _top_unseen


def _masked(scores: list[float], seen: list[int]) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float32)
    s[seen] = -np.inf
    return s, np.sort(s)


def test_top_unseen_orders_by_score_and_breaks_ties_by_lower_index() -> None:
    s, o = _masked([0.5, 0.9, 0.1, 0.9, 0.5, 0.5, 0.7], seen=[1])
    assert _top_unseen(s, o, 3).tolist() == [3, 6, 0]  # 0.9, 0.7, then the first 0.5
    assert _top_unseen(s, o, 4).tolist() == [3, 6, 0, 4]
    assert _top_unseen(s, o, 0).tolist() == []


def test_top_unseen_never_returns_seen_items_even_past_the_catalog() -> None:
    s, o = _masked([0.2, 0.0, 0.3, 0.0], seen=[0, 2])
    assert _top_unseen(s, o, 10).tolist() == [1, 3]  # only two unseen items exist
    s, o = _masked([1.0, 2.0], seen=[0, 1])
    assert _top_unseen(s, o, 5).tolist() == []


def test_ranks_count_strictly_better_unseen_items_and_ties_share() -> None:
    s, o = _masked([0.5, 0.9, 0.1, 0.9, 0.5, 0.3], seen=[1])
    # unseen: 3 (0.9), 0 and 4 (0.5), 5 (0.3), 2 (0.1); the seen 0.9 counts for nobody
    assert _ranks(s, o, np.array([3, 0, 4, 5, 2])).tolist() == [1.0, 2.0, 2.0, 4.0, 5.0]
    assert _ranks(s, o, np.array([2])).dtype == np.float32
