"""The item catalog as the API shows it: ids, titles, years, genres, search."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recloop.data.movielens import Dataset
from recloop.errors import NotFoundError

__all__ = ["Catalog", "ItemView"]


@dataclass(frozen=True, slots=True)
class ItemView:
    """One item as shown to people."""

    item_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]

    @property
    def display(self) -> str:
        """``Title (1995)``."""
        return f"{self.title} ({self.year})" if self.year else self.title


class Catalog:
    """Index <-> id mapping and display data for every catalog item."""

    def __init__(self, dataset: Dataset) -> None:
        items = dataset.items
        self.ids = dataset.item_ids
        self.index_of = {int(i): k for k, i in enumerate(self.ids)}
        years = items["year"].astype("float64").to_numpy()
        self.years = years
        self.views = [
            ItemView(int(i), str(t), None if np.isnan(y) else int(y),
                     tuple(g for g in str(gs).split("|") if g))
            for i, t, y, gs in zip(self.ids, items["title"], years, items["genres"], strict=True)
        ]  # fmt: skip
        self._lower = [v.display.lower() for v in self.views]
        self.genre_sets = [frozenset(v.genres) for v in self.views]

    def __len__(self) -> int:
        return len(self.views)

    def index(self, item_id: int) -> int:
        """Dense index of ``item_id``; NotFoundError names the valid range."""
        try:
            return self.index_of[int(item_id)]
        except KeyError:
            raise NotFoundError(
                f"unknown item_id {item_id}; valid ids are {int(self.ids.min())}-"
                f"{int(self.ids.max())} (search with GET /v1/items?query=...)"
            ) from None

    def view(self, index: int) -> ItemView:
        """Display data of the item at dense ``index``."""
        return self.views[index]

    def search(self, query: str, limit: int, popularity: np.ndarray) -> list[int]:
        """Indices whose title contains every word of ``query``, most popular first."""
        words = query.lower().split()
        hits = [k for k, t in enumerate(self._lower) if all(w in t for w in words)]
        hits.sort(key=lambda k: -popularity[k])
        return hits[:limit]

    def allowed(
        self, include: frozenset[str], exclude: frozenset[str],
        year_min: int | None, year_max: int | None,
    ) -> np.ndarray:  # fmt: skip
        """Boolean mask (n_items,) of items passing genre and year filters."""
        ok = np.ones(len(self.views), dtype=bool)
        if include:
            ok &= np.fromiter((bool(g & include) for g in self.genre_sets), bool, len(ok))
        if exclude:
            ok &= np.fromiter((not (g & exclude) for g in self.genre_sets), bool, len(ok))
        if year_min is not None:
            ok &= np.nan_to_num(self.years, nan=-1) >= year_min
        if year_max is not None:
            ok &= np.nan_to_num(self.years, nan=1e9) <= year_max
        return ok
