"""Candidate generation: several sources, quotas, merge, de-duplication.

Each source scores every item from the user's current history; the top
``quota`` unseen items of each source are merged. Every candidate keeps every
source's score and rank (rank 1 = best among unseen items), so the ranker can
weigh the sources against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from recloop.retrieval.als import ALSScorer
from recloop.retrieval.history import History, recency_weights
from recloop.retrieval.index import VectorIndex
from recloop.retrieval.sequence import TransitionScorer
from recloop.retrieval.trending import ItemStats

__all__ = ["SOURCES", "CandidateConfig", "CandidateSources", "Candidates"]

SOURCES: tuple[str, ...] = ("ease", "itemknn", "sequence", "als", "popular", "trending")
_NON_NEGATIVE: frozenset[str] = frozenset()  # a score of 0 means "no signal"


class CandidateConfig(BaseModel):
    """Quotas per source and the recency decay of the item-item sources."""

    ease_quota: int = 100
    itemknn_quota: int = 50
    sequence_quota: int = 50
    als_quota: int = 50
    popular_quota: int = 20
    trending_quota: int = 20
    ease_decay: float = 0.9
    itemknn_decay: float = 0.8
    max_history: int = 100  # 0.9**100 < 3e-5: older items no longer matter


@dataclass(frozen=True)
class Candidates:
    """Merged candidates for one query.

    ``items``: int64 (n,). ``scores``/``ranks``: float32 (n, len(SOURCES)),
    every source's score and rank for every candidate. ``full``: each
    source's score over the whole catalog, float32 (len(SOURCES), n_items).
    ``origin``: index into SOURCES of the source that proposed it first.
    """

    items: np.ndarray
    scores: np.ndarray
    ranks: np.ndarray
    full: np.ndarray
    origin: np.ndarray


def _top_unseen(scores: np.ndarray, ordered: np.ndarray, quota: int) -> np.ndarray:
    """The ``quota`` best items of ``scores`` (seen items are -inf), best first.

    ``ordered`` is ``np.sort(scores)``. Ties at the cut go to the lower item index.
    Sorting values and ordering only the winners is 4x cheaper than an argsort of
    the catalog, and this runs five times per request.
    """
    n = len(scores)
    if quota <= 0 or n == 0:
        return np.empty(0, dtype=np.int64)
    cut = float(ordered[n - min(quota, n)])
    above = np.flatnonzero(scores > cut)
    above = above[np.argsort(-scores[above], kind="stable")]
    if cut == -np.inf:  # fewer than ``quota`` unseen items: that is all of them
        return above
    ties = np.flatnonzero(scores == cut)[: quota - len(above)]
    return np.concatenate([above, ties])


def _ranks(scores: np.ndarray, ordered: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Rank of each of ``items`` among the unseen items (1 = best; ties share the best rank).

    ``scores`` has the seen items at -inf; ``ordered`` is ``np.sort(scores)``.
    float32 (len(items),).
    """
    above = len(ordered) - np.searchsorted(ordered, scores[items], side="right")
    ranks: np.ndarray = (above + 1).astype(np.float32)
    return ranks


class CandidateSources:
    """The fitted sources: EASE, item-kNN, transitions, ALS (+ index), popularity."""

    def __init__(
        self,
        ease: np.ndarray,
        itemknn: np.ndarray,
        sequence: TransitionScorer,
        als: ALSScorer,
        index: VectorIndex,
        config: CandidateConfig,
    ) -> None:
        self.ease, self.itemknn, self.sequence = ease, itemknn, sequence
        self.als, self.index, self.config = als, index, config
        self.n_items = ease.shape[0]

    def _item_item(self, matrix: np.ndarray, items: np.ndarray, decay: float) -> np.ndarray:
        if len(items) == 0:
            return np.zeros(self.n_items, dtype=np.float32)
        last = items[-self.config.max_history :]
        return np.asarray(recency_weights(len(last), decay) @ matrix[last], dtype=np.float32)

    def full_scores(
        self, history: History, stats: ItemStats, at: float, user_factor: np.ndarray | None = None
    ) -> np.ndarray:
        """Every source's score over the catalog, float32 (len(SOURCES), n_items).

        ``user_factor`` is the user's ALS factor if already folded in (per event).
        """
        c = self.config
        if user_factor is None:
            user_factor = self.als.fold_in(history.items)
        return np.stack([
            self._item_item(self.ease, history.items, c.ease_decay),
            self._item_item(self.itemknn, history.items, c.itemknn_decay),
            self.sequence.score(history.items),
            self.als.item_factors @ user_factor,
            np.log1p(stats.counts),
            np.log1p(stats.trending(at)),
        ]).astype(np.float32)  # fmt: skip

    def _als_retrieve(self, history: History, k: int, factor: np.ndarray) -> np.ndarray:
        factor = factor[None, :]
        if not np.any(factor):
            return np.empty(0, dtype=np.int64)
        _, ids = self.index.search(factor, k, exclude=[history.seen])
        out: np.ndarray = np.asarray(ids[0], dtype=np.int64)
        return out[out >= 0]

    def generate(
        self, history: History, stats: ItemStats, at: float, user_factor: np.ndarray | None = None
    ) -> Candidates:
        """Top-``quota`` unseen items of each source, merged in source order."""
        c = self.config
        if user_factor is None:
            user_factor = self.als.fold_in(history.items)
        full = self.full_scores(history, stats, at, user_factor)
        seen = history.seen
        masked = full.copy()
        masked[:, seen] = -np.inf
        ordered = np.sort(masked, axis=1)
        quotas = [c.ease_quota, c.itemknn_quota, c.sequence_quota, c.als_quota,
                  c.popular_quota, c.trending_quota]  # fmt: skip
        first = np.full(self.n_items, len(SOURCES), dtype=np.int64)  # proposing source
        for s in reversed(range(len(SOURCES))):  # earlier sources overwrite later ones
            quota = quotas[s]
            if quota <= 0 or (s < 3 and len(history.items) == 0):
                continue  # no history: item-item sources have nothing to say
            if SOURCES[s] == "als":
                top = self._als_retrieve(history, quota, user_factor)
            else:
                top = _top_unseen(masked[s], ordered[s], quota)
            first[top] = s
        # every source excludes seen items itself (masked scores, the index's exclude)
        items = np.flatnonzero(first < len(SOURCES))
        if len(items) == 0:
            empty = np.empty(0, dtype=np.int64)
            return Candidates(empty, np.empty((0, len(SOURCES)), np.float32),
                              np.empty((0, len(SOURCES)), np.float32), full, empty)  # fmt: skip
        ranks = np.stack([_ranks(masked[s], ordered[s], items) for s in range(len(SOURCES))], axis=1)
        return Candidates(
            items=items,
            scores=full[:, items].T.copy(),
            ranks=ranks,
            full=full,
            origin=first[items],
        )
