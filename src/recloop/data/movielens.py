"""The MovieLens-100K tables and the canonical event order.

``interactions``: one row per rating, columns ``user_id`` (int64),
``item_id`` (int64), ``rating`` (int8, 1-5), ``timestamp`` (int64, Unix s),
sorted in the order shared/EVALUATION.md defines: (timestamp, user_id, tie)
with ``tie = crc32(f"{user_id}:{item_id}")``.
``items``: ``item_id``, ``title`` (without the year), ``year`` (Int64, may be
missing), ``genres`` (``|``-joined names).
``users``: ``user_id``, ``age``, ``gender``, ``occupation``, ``zip``.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["GENRES", "Dataset", "event_order"]

GENRES: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


def event_order(interactions: pd.DataFrame) -> pd.DataFrame:
    """Sort by (timestamp, user_id, crc32 tie) and reset the index."""
    tie = np.fromiter(
        (
            zlib.crc32(f"{u}:{i}".encode())
            for u, i in zip(interactions["user_id"], interactions["item_id"], strict=True)
        ),
        dtype=np.int64,
        count=len(interactions),
    )
    ordered = interactions.assign(_tie=tie).sort_values(["timestamp", "user_id", "_tie"], kind="mergesort")
    return ordered.drop(columns="_tie").reset_index(drop=True)


@dataclass(frozen=True)
class Dataset:
    """MovieLens-100K (or any data of the same shape) as three typed tables."""

    interactions: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    source: str
    _item_pos: dict[int, int] = field(default_factory=dict, repr=False, compare=False)
    _sorted_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64), repr=False, compare=False)
    _sorted_pos: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64), repr=False, compare=False)

    def __post_init__(self) -> None:
        ids = self.items["item_id"].to_numpy(dtype=np.int64)
        object.__setattr__(self, "_item_pos", {int(i): k for k, i in enumerate(ids)})
        order = np.argsort(ids, kind="stable")
        object.__setattr__(self, "_sorted_ids", ids[order])
        object.__setattr__(self, "_sorted_pos", order.astype(np.int64))

    @property
    def n_items(self) -> int:
        """Number of catalog items (item index space is ``0..n_items-1``)."""
        return len(self.items)

    @property
    def item_ids(self) -> np.ndarray:
        """Item ids in index order, int64 shape (n_items,)."""
        return self.items["item_id"].to_numpy(dtype=np.int64)

    def item_index(self, item_ids: np.ndarray | pd.Series) -> np.ndarray:
        """Map item ids to dense indices (int64); unknown ids raise KeyError (vectorised: 20M ids
        in about a second)."""
        ids = np.asarray(item_ids, dtype=np.int64)
        if len(self._sorted_ids) == 0:
            if len(ids):
                raise KeyError(int(ids[0]))
            return np.empty(0, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted_ids, ids), len(self._sorted_ids) - 1)
        found = self._sorted_ids[at] == ids
        if not found.all():
            raise KeyError(int(ids[np.argmin(found)]))
        return self._sorted_pos[at]

    def has_item(self, item_id: int) -> bool:
        """Whether the catalog knows ``item_id``."""
        return item_id in self._item_pos

    def genre_matrix(self) -> np.ndarray:
        """Multi-hot genres, float32 shape (n_items, len(GENRES))."""
        out = np.zeros((self.n_items, len(GENRES)), dtype=np.float32)
        col = {g: k for k, g in enumerate(GENRES)}
        for row, genres in enumerate(self.items["genres"]):
            for g in str(genres).split("|"):
                if g in col:
                    out[row, col[g]] = 1.0
        return out

    def display_title(self, item_index: int) -> str:
        """Title with year, e.g. ``Heat (1995)``."""
        row = self.items.iloc[item_index]
        year = row["year"]
        return f"{row['title']} ({year})" if pd.notna(year) else str(row["title"])

    def info(self) -> dict[str, object]:
        """Counts, sparsity and time span, for ``recloop data info``."""
        inter = self.interactions
        n_users, n_items = inter["user_id"].nunique(), inter["item_id"].nunique()
        ts = pd.to_datetime(inter["timestamp"], unit="s", utc=True)
        return {
            "source": self.source,
            "interactions": len(inter),
            "users": n_users,
            "items": n_items,
            "catalog_items": self.n_items,
            "sparsity": 1.0 - len(inter) / (n_users * n_items),
            "rating_mean": float(inter["rating"].mean()),
            "first_event": ts.min().isoformat(),
            "last_event": ts.max().isoformat(),
            "span_days": float((inter["timestamp"].max() - inter["timestamp"].min()) / 86400),
        }
