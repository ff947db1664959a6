"""Explicit ratings as index arrays: the input of every rating model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recloop.data.movielens import Dataset

__all__ = ["Ratings"]


@dataclass(frozen=True)
class Ratings:
    """``n`` ratings: user indices int64 (n,), item indices int64 (n,), values float64 (n,).

    Users are indexed by their position among the dataset's user ids and the frame's
    (as text, sorted), items by the dataset's catalog index, so a model trained on one
    frame predicts for another frame of the dataset's users.
    """

    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    n_users: int
    n_items: int

    @classmethod
    def from_frame(cls, dataset: Dataset, frame: pd.DataFrame) -> Ratings:
        """The ratings of ``frame`` (columns user_id, item_id, rating) over ``dataset``'s users and items."""
        # users as text: live users (not in the dataset's table) may come with any id
        mine = frame["user_id"].astype(str).to_numpy()
        user_ids = np.unique(np.r_[dataset.users["user_id"].astype(str).to_numpy(), mine])
        users = np.searchsorted(user_ids, mine)
        items = np.asarray(dataset.item_index(frame["item_id"]), dtype=np.int64)
        return cls(users.astype(np.int64), items, frame["rating"].to_numpy().astype(np.float64),
                   len(user_ids), dataset.n_items)  # fmt: skip

    def __len__(self) -> int:
        return len(self.values)

    def matrix(self, values: np.ndarray | None = None) -> sp.csr_matrix:
        """Users x items CSR of ``values`` (default: the ratings) at the rated cells."""
        v = self.values if values is None else values
        return sp.csr_matrix((v, (self.users, self.items)), shape=(self.n_users, self.n_items))

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Ratings per user float64 (n_users,) and per item float64 (n_items,)."""
        return (np.bincount(self.users, minlength=self.n_users).astype(np.float64),
                np.bincount(self.items, minlength=self.n_items).astype(np.float64))  # fmt: skip
