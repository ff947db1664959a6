"""Global sources: all-time popularity and trending (decayed counts), as of the query time.

They read only :class:`~recloop.retrieval.trending.ItemStats`, so they hold
nothing of their own and are recomputed on every request.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

import numpy as np

from recloop.retrieval.sources.base import Display, FitContext, Query, SourceSpec, top_unseen

__all__ = ["MIN_TRENDING_COUNT", "PopularSource", "TrendingSource"]


class _Global:
    personal: ClassVar[bool] = False
    explained_by: ClassVar[str | None] = None
    kind: ClassVar[str]

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        """The source's kind."""
        return self.spec.kind

    @classmethod
    def fit(cls, spec: SourceSpec, ctx: FitContext) -> Self:
        """Nothing to fit: the scores come from the live item statistics."""
        return cls(spec)

    @classmethod
    def load(cls, spec: SourceSpec, directory: Path) -> Self:
        """Nothing to read."""
        return cls(spec)

    def propose(self, query: Query, masked: np.ndarray, ordered: np.ndarray) -> np.ndarray:
        """Top unseen items."""
        return top_unseen(masked, ordered, self.spec.quota)

    def preference(self, query: Query, scores: np.ndarray) -> np.ndarray:
        """Every item, best score first, ties to the lower index (the order :meth:`propose` takes)."""
        out: np.ndarray = np.argsort(-scores, kind="stable").astype(np.int64)
        return out

    def similarity(self) -> None:
        """No item-item matrix."""
        return None

    def save(self, directory: Path) -> None:
        """Nothing to write."""


class PopularSource(_Global):
    """log(1 + all-time positive events) per item."""

    kind: ClassVar[str] = "popular"
    label: ClassVar[str] = "popular"

    def scores(self, query: Query) -> np.ndarray:
        """log1p of the counts."""
        return np.log1p(query.stats.counts).astype(np.float32)

    def reason(self, recent: np.ndarray, display: Display) -> str:
        """Popular."""
        return "popular with everyone"


MIN_TRENDING_COUNT = 10  # all-time events an item needs before the trending source proposes it


class TrendingSource(_Global):
    """log(1 + decayed count at the query time) per item.

    It proposes only items with at least :data:`MIN_TRENDING_COUNT` events (two recent
    events on an obscure item are not a trend), best trending value first, ties broken
    by all-time popularity, then by item index.
    """

    kind: ClassVar[str] = "trending"
    label: ClassVar[str] = "trending"

    def propose(self, query: Query, masked: np.ndarray, ordered: np.ndarray) -> np.ndarray:
        """Top unseen items with enough events, ties by popularity (seen items are -inf in ``masked``).

        Serving reads :meth:`preference` once per statistics snapshot instead
        (recloop.retrieval.global_rows); this is the per-query path.
        """
        return self.preference(query, masked)[: self.spec.quota]

    def preference(self, query: Query, scores: np.ndarray) -> np.ndarray:
        """Items with enough events, best trending value first, ties by popularity, then index."""
        counts = query.stats.counts
        cand = np.flatnonzero(np.isfinite(scores) & (counts >= MIN_TRENDING_COUNT))
        out: np.ndarray = cand[np.lexsort((cand, -counts[cand], -scores[cand]))].astype(np.int64)
        return out

    def scores(self, query: Query) -> np.ndarray:
        """log1p of the trending values at ``query.at``."""
        out: np.ndarray = np.log1p(query.stats.trending(query.at)).astype(np.float32)
        return out

    def reason(self, recent: np.ndarray, display: Display) -> str:
        """Trending."""
        return "trending this week"
