"""What training and serving rebuild from an interaction frame: item stats and histories."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recloop.data.movielens import Dataset
from recloop.retrieval.columnar import ColumnarHistories
from recloop.retrieval.trending import ItemStats

__all__ = ["BaseHistories", "columnar_histories", "item_stats", "replay_histories"]

BaseHistories = dict[str, tuple[list[int], list[int], list[float]]]


def item_stats(dataset: Dataset, frame: pd.DataFrame, half_life_days: float) -> ItemStats:
    """Item statistics after ingesting ``frame`` in time order."""
    stats = ItemStats(dataset.n_items, half_life_days)
    stats.add_many(dataset.item_index(frame["item_id"]), frame["timestamp"].to_numpy(),
                   frame["rating"].to_numpy().astype(np.float64))  # fmt: skip
    return stats


def columnar_histories(dataset: Dataset, frame: pd.DataFrame) -> ColumnarHistories:
    """Every user's events of ``frame`` (time ordered) as columnar arrays, without per-user lists."""
    users = frame["user_id"].to_numpy()
    items, stamps = dataset.item_index(frame["item_id"]), frame["timestamp"].to_numpy()
    return ColumnarHistories.from_events(users, items, stamps, frame["rating"].to_numpy())


def replay_histories(dataset: Dataset, frame: pd.DataFrame) -> BaseHistories:
    """Per user id (str): items, timestamps, ratings of ``frame`` in time order."""
    out: BaseHistories = {}
    items = dataset.item_index(frame["item_id"])
    for u, i, t, r in zip(frame["user_id"].astype(str), items, frame["timestamp"],
                          frame["rating"], strict=True):  # fmt: skip
        h = out.setdefault(u, ([], [], []))
        h[0].append(int(i))
        h[1].append(int(t))
        h[2].append(float(r))
    return out
