"""Ranking metrics against hand-computed values (shared/EVALUATION.md definitions)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recloop.evaluation.metrics import (
    average_precision_at_k,
    catalog_coverage,
    hit_rate_at_k,
    ndcg_at_k,
    precision_at_k,
    rank_ndcg,
    recall_at_k,
)
from recloop.retrieval import top_k

# 1 / log2(rank + 1) for ranks 1..10
D = [1.0, 0.6309298, 0.5, 0.4306766, 0.3868528, 0.3562072, 0.3333333, 0.3154649, 0.30103, 0.2890648]


def test_discounts_are_log2() -> None:
    exact = [1 / math.log2(r + 1) for r in range(1, 11)]
    assert exact == pytest.approx(D, abs=1e-6)


# --- NDCG ------------------------------------------------------------------------------


def test_ndcg_hits_at_ranks_1_and_3_of_two_relevant() -> None:
    # DCG = 1/log2(2) + 1/log2(4) = 1 + 0.5 = 1.5
    # IDCG over min(10, 2) = 2 hits = 1 + 1/log2(3) = 1.6309298
    # NDCG = 1.5 / 1.6309298 = 0.9197208
    assert ndcg_at_k([7, 1, 9, 2, 3], {7, 9}, 10) == pytest.approx(0.9197208, abs=1e-6)


def test_ndcg_three_relevant_fewer_than_k() -> None:
    # one hit at rank 2: DCG = 1/log2(3) = 0.6309298
    # IDCG over 3 hits = 1 + 0.6309298 + 0.5 = 2.1309298
    # NDCG = 0.6309298 / 2.1309298 = 0.2960819
    assert ndcg_at_k([0, 5, 1, 2], {5, 8, 9}, 10) == pytest.approx(0.2960819, abs=1e-6)
    # all three at the top is perfect although the other 7 slots miss
    assert ndcg_at_k([5, 8, 9, 0, 1, 2, 3, 4, 6, 7], {5, 8, 9}, 10) == pytest.approx(1.0)


def test_ndcg_more_relevant_than_k_uses_ideal_over_k() -> None:
    relevant = set(range(12))  # |test| = 12 > 10: IDCG sums 10 discounts = 4.5435593
    # hits at ranks 1..5, misses at 6..10:
    # DCG = 1 + 0.6309298 + 0.5 + 0.4306766 + 0.3868528 = 2.9484591
    # NDCG = 2.9484591 / 4.5435593 = 0.6489316
    ranked = [0, 1, 2, 3, 4, 100, 101, 102, 103, 104]
    assert sum(D) == pytest.approx(4.5435593, abs=1e-6)
    assert ndcg_at_k(ranked, relevant, 10) == pytest.approx(0.6489316, abs=1e-6)
    # ten hits out of twelve relevant is a perfect top-10
    assert ndcg_at_k(list(range(10)), relevant, 10) == pytest.approx(1.0)
    # a hit at rank 11 does not count at k = 10
    assert ndcg_at_k([*range(100, 110), 0], relevant, 10) == 0.0


def test_empty_list_or_empty_test_scores_zero() -> None:
    for metric in (
        ndcg_at_k,
        recall_at_k,
        precision_at_k,
        hit_rate_at_k,
        average_precision_at_k,
    ):
        assert metric([], {1, 2}, 10) == 0.0
        assert metric([1, 2], set(), 10) == 0.0


# --- Recall, Precision, HR, MAP --------------------------------------------------------


def test_recall_at_10_and_20() -> None:
    # |test| = 4; hits at ranks 3, 15 and 25
    ranked = list(range(100, 130))
    ranked[2], ranked[14], ranked[24] = 1, 2, 3
    relevant = {1, 2, 3, 4}
    assert recall_at_k(ranked, relevant, 10) == pytest.approx(1 / 4)  # rank 3 only
    assert recall_at_k(ranked, relevant, 20) == pytest.approx(2 / 4)  # ranks 3 and 15


def test_precision_at_10_with_a_short_list() -> None:
    # 3 recommendations, 2 hits: 2 / 10 (the empty slots count as misses)
    assert precision_at_k([1, 9, 2], {1, 2, 3}, 10) == pytest.approx(0.2)


def test_hit_rate() -> None:
    assert hit_rate_at_k([5, 6, 7], {7}, 10) == 1.0
    assert hit_rate_at_k([5, 6, 7], {8}, 10) == 0.0
    assert hit_rate_at_k([*range(100, 110), 8], {8}, 10) == 0.0  # rank 11


def test_map_normalised_by_min_k_and_test_size() -> None:
    # |test| = 3, hits at ranks 1 and 3: P@1 = 1, P@3 = 2/3
    # AP = (1 + 2/3) / min(10, 3) = 1.6666667 / 3 = 0.5555556
    assert average_precision_at_k([4, 0, 5, 1], {4, 5, 6}, 10) == pytest.approx(0.5555556)
    # |test| = 15, hits at ranks 2 and 10: P@2 = 1/2, P@10 = 2/10
    # AP = (0.5 + 0.2) / min(10, 15) = 0.07
    ranked = [100, 0, 101, 102, 103, 104, 105, 106, 107, 1]
    assert average_precision_at_k(ranked, set(range(15)), 10) == pytest.approx(0.07)
    # no hit: 0
    assert average_precision_at_k([100, 101], {1}, 10) == 0.0


# --- coverage and single-item NDCG ----------------------------------------------------


def test_catalog_coverage() -> None:
    # top-2 of each list: {0, 1} and {1, 2} -> 3 distinct items of 10
    assert catalog_coverage([[0, 1, 9], [1, 2, 8]], n_items=10, k=2) == pytest.approx(0.3)
    # top-3: {0, 1, 9, 2, 8} -> 5 of 10
    assert catalog_coverage([[0, 1, 9], [1, 2, 8]], n_items=10, k=3) == pytest.approx(0.5)
    assert catalog_coverage([], n_items=10) == 0.0


def test_rank_ndcg() -> None:
    assert rank_ndcg([3, 4, 5], 3) == (1.0, 1.0)  # rank 1: 1/log2(2)
    assert rank_ndcg([3, 4, 5], 5) == pytest.approx((1.0, 0.5))  # rank 3: 1/log2(4)
    assert rank_ndcg([3, 4, 5], 9) == (0.0, 0.0)
    assert rank_ndcg([*range(100, 110), 9], 9, 10) == (0.0, 0.0)  # rank 11
    hit, ndcg = rank_ndcg(list(range(10)), 9, 10)  # rank 10: 1/log2(11)
    assert hit == 1.0 and ndcg == pytest.approx(D[9], abs=1e-6)


# --- top_k -----------------------------------------------------------------------------


def test_top_k_ties_go_to_the_lower_index() -> None:
    scores = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    np.testing.assert_array_equal(top_k(scores, 2), [1, 2])
    np.testing.assert_array_equal(top_k(scores, 4), [1, 2, 4, 3])
    # many ties across the k-th place still resolve by index
    np.testing.assert_array_equal(top_k(np.zeros(6), 3), [0, 1, 2])
    assert top_k(scores, 2).dtype == np.int64


def test_top_k_never_returns_excluded_items() -> None:
    scores = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    np.testing.assert_array_equal(top_k(scores, 2, exclude=np.array([1])), [2, 4])
    np.testing.assert_array_equal(top_k(scores, 5, exclude=np.array([2, 4])), [1, 3, 0])
    assert len(top_k(scores, 3, exclude=np.arange(5))) == 0
    # scores are not modified in place
    np.testing.assert_array_equal(scores, [1.0, 3.0, 3.0, 2.0, 3.0])


def test_top_k_with_k_larger_than_the_valid_items() -> None:
    scores = np.array([0.5, -1.0, 2.0, -np.inf])
    # -inf counts as invalid like an excluded item: 3 valid, 1 excluded -> 2 returned
    np.testing.assert_array_equal(top_k(scores, 10, exclude=np.array([0])), [2, 1])
    np.testing.assert_array_equal(top_k(scores, 10), [2, 0, 1])
    assert len(top_k(scores, 0)) == 0
