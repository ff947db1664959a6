"""The label period of a ranking frame: any query's history and labels without replaying every event.

Training frames (``pipelines/twostage.py``) sample at most ``max_queries`` events of
the label period. Each sampled query needs the user's history as it stood then
(training base + the user's earlier label events) and the user's next
``label_horizon`` items. Grouping the label events by user once (a stable sort)
gives both by slicing, so building a frame costs O(n_events) array work plus
O(max_queries) per-query work, not a Python replay of every event into per-user lists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recloop.data.movielens import Dataset
from recloop.ranking.inputs import columnar_histories
from recloop.retrieval.history import History

__all__ = ["LabelPeriod", "sample_queries"]


def sample_queries(n: int, max_queries: int, seed: int) -> np.ndarray:
    """Positions (sorted, int64) of at most ``max_queries`` of ``n`` events, drawn without replacement."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=min(max_queries, n), replace=False)).astype(np.int64)


class LabelPeriod:
    """The label events (time order) grouped by user, over the columnar base histories.

    ``items`` int64, ``stamps`` int64, ``ratings`` float64, each (n,): the label events.
    """

    def __init__(self, dataset: Dataset, base: pd.DataFrame, label: pd.DataFrame) -> None:
        self.base = columnar_histories(dataset, base)
        self.users = label["user_id"].astype(str).to_numpy()
        self.items = np.asarray(dataset.item_index(label["item_id"]), dtype=np.int64)
        self.stamps = label["timestamp"].to_numpy().astype(np.int64)
        self.ratings = label["rating"].to_numpy().astype(np.float64)
        _, code = np.unique(self.users, return_inverse=True)
        self._by_user = np.argsort(code, kind="stable")  # label positions grouped by user, in time order
        self._slot = np.empty(len(code), dtype=np.int64)
        self._slot[self._by_user] = np.arange(len(code))
        grouped = code[self._by_user]
        self._start = np.searchsorted(grouped, code, side="left")
        self._end = np.searchsorted(grouped, code, side="right")

    def __len__(self) -> int:
        return len(self.items)

    def history(self, pos: int) -> History:
        """The user's history just before label event ``pos``: base events, then earlier label events."""
        user = str(self.users[pos])
        earlier = self._by_user[self._start[pos] : self._slot[pos]]
        got = self.base.user(user)
        if got is None:
            return History.from_items(self.items[earlier], self.stamps[earlier], self.ratings[earlier], user)
        return History.from_items(np.concatenate([got[0], self.items[earlier]]),
                                  np.concatenate([got[1], self.stamps[earlier]]),
                                  np.concatenate([got[2], self.ratings[earlier].astype(np.float32)]),
                                  user)  # fmt: skip

    def wanted(self, pos: int, horizon: int) -> np.ndarray:
        """The items of the user's label events from ``pos`` on, at most ``horizon`` of them, int64."""
        slot = self._slot[pos]
        return self.items[self._by_user[slot : min(slot + horizon, self._end[pos])]]
