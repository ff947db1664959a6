"""The P1 per-user temporal split and the P2 prequential split, by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from recloop.evaluation.splits import prequential_split, temporal_user_split

# n -> n_test = max(1, round(0.2 * n)):
#   1 -> round(0.2) = 0 -> 1 ; 3 -> round(0.6) = 1 ; 5 -> round(1.0) = 1
#   7 -> round(1.4) = 1 ; 8 -> round(1.6) = 2 ; 10 -> round(2.0) = 2 ; 13 -> round(2.6) = 3
N_TEST = {1: 1, 3: 1, 5: 1, 7: 1, 8: 2, 10: 2, 13: 3}


def _interleaved(sizes: dict[int, int]) -> pd.DataFrame:
    """Users with ``sizes[u]`` events each, interleaved round-robin in time order.

    The item id of a user's k-th event (time order) is ``1000 * u + k``.
    """
    rows = []
    t = 0
    for k in range(max(sizes.values())):
        for u, n in sizes.items():
            if k < n:
                rows.append((u, 1000 * u + k, 3, t))
                t += 1
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])


def test_temporal_user_split_takes_each_users_last_20_percent() -> None:
    sizes = {u: n for u, n in enumerate(N_TEST, start=1)}  # user 1 has 1 event, user 2 has 3 ...
    inter = _interleaved(sizes)
    train, test = temporal_user_split(inter)
    for u, n in sizes.items():
        n_test = N_TEST[n]
        assert sorted(test.loc[test["user_id"] == u, "item_id"]) == [
            1000 * u + k for k in range(n - n_test, n)
        ]
        assert sorted(train.loc[train["user_id"] == u, "item_id"]) == [
            1000 * u + k for k in range(n - n_test)
        ]
    assert len(train) + len(test) == len(inter)
    # both halves keep the global time order and a fresh index
    assert train["timestamp"].is_monotonic_increasing
    assert test["timestamp"].is_monotonic_increasing
    assert list(test.index) == list(range(len(test)))


def test_temporal_user_split_follows_row_order_not_timestamps() -> None:
    # rows are already in the canonical event order; equal timestamps keep that order
    inter = pd.DataFrame(
        {
            "user_id": [5, 5, 5, 5, 5],
            "item_id": [50, 40, 30, 20, 10],
            "rating": [1, 2, 3, 4, 5],
            "timestamp": [7, 7, 7, 7, 7],
        }
    )
    train, test = temporal_user_split(inter)
    assert list(test["item_id"]) == [10]
    assert list(train["item_id"]) == [50, 40, 30, 20]


@pytest.mark.parametrize(("n", "cut"), [(10, 8), (7, 6), (5, 4), (100_000, 80_000)])
def test_prequential_split_is_first_80_percent_of_global_order(n: int, cut: int) -> None:
    # 7 * 0.8 = 5.6 -> 6 ; 5 * 0.8 = 4
    inter = pd.DataFrame(
        {
            "user_id": [i % 3 for i in range(n)],
            "item_id": list(range(n)),
            "rating": [4] * n,
            "timestamp": list(range(n)),
        }
    )
    boot, rest = prequential_split(inter)
    assert list(boot["item_id"]) == list(range(cut))
    assert list(rest["item_id"]) == list(range(cut, n))
    assert list(rest.index) == list(range(n - cut))
