"""Columnar base histories: the same per-user events as per-user lists, saved and memory-mapped."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recloop.retrieval.columnar import ColumnarHistories

LISTS = {
    "7": ([3, 1, 4], [10, 20, 30], [4.0, 5.0, 1.0]),
    "12": ([2], [15], [3.0]),
    "3": ([5, 9], [11, 40], [0.0, 2.0]),
}


def _interleaved() -> ColumnarHistories:
    """The events of LISTS in one time-ordered stream, users interleaved."""
    rows = sorted((t, u, i, r) for u, (its, ts, rs) in LISTS.items()
                  for i, t, r in zip(its, ts, rs, strict=True))  # fmt: skip
    t, u, i, r = (np.array([row[k] for row in rows]) for k in range(4))
    return ColumnarHistories.from_events(u, i, t, r)


def test_events_and_lists_give_each_user_their_events_in_time_order() -> None:
    for cols in (_interleaved(), ColumnarHistories.from_lists(LISTS)):
        assert len(cols) == 3 and cols.users.tolist() == ["12", "3", "7"]
        for user, (items, stamps, ratings) in LISTS.items():
            assert cols.lists(user) == (items, stamps, ratings)
            got = cols.user(user)
            assert got is not None and got[0].dtype == np.int64 and got[2].dtype == np.float32
        assert cols.user("99") is None and cols.lists("99") == ([], [], []) and "99" not in cols
        assert cols.sizes() == {"12": 1, "3": 2, "7": 3} and cols.most_active(2) == ["7", "3"]
        assert cols.nbytes == 16 * len(cols.items) + cols.indptr.nbytes + cols.users.nbytes  # 16 B per event


def test_save_and_memory_mapped_load_round_trip(tmp_path: Path) -> None:
    cols = _interleaved()
    cols.save(tmp_path / "base")
    back = ColumnarHistories.load(tmp_path / "base")
    assert isinstance(back.items, np.memmap)
    for user in LISTS:
        assert back.lists(user) == cols.lists(user)
    assert back.most_active(3) == cols.most_active(3)


def test_int_and_text_ids_give_the_same_histories() -> None:
    users = np.array([10, 9, 10, 100, 9])
    items, stamps, ratings = np.arange(5), np.arange(5) * 10, np.ones(5)
    by_int = ColumnarHistories.from_events(users, items, stamps, ratings)
    by_text = ColumnarHistories.from_events(users.astype(str), items, stamps, ratings)
    objects = np.array([10, "9", 10, 100, "9"], dtype=object)  # ids of live events may be text
    mixed = ColumnarHistories.from_events(objects, items, stamps, ratings)
    for cols in (by_int, by_text, mixed):
        assert cols.users.tolist() == ["10", "100", "9"]  # text order: what the lookup searches
        assert cols.lists("10")[0] == [0, 2] and cols.lists("9")[0] == [1, 4] and cols.lists("100")[0] == [3]
