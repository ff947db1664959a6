"""The global sources' rows, computed once per item-statistics snapshot and shared by every user.

A global source (popularity, trending) scores items from the item statistics and
the time only, so its scores, their sort and its order of preference are the same
for every user until the statistics change. :class:`GlobalRows` keeps them for one
``(stats, at)``; a user's part is then only what depends on the seen items: the first
``quota`` unseen items of each preference order (O(quota + seen) instead of a sort
of the catalog) and the candidates' ranks among the unseen items (ranks among all
items less the seen items ranked above, by binary search). The results equal the
per-request computation exactly (same ties, same ranks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from recloop.retrieval.sources import CandidateSource, Query
from recloop.retrieval.trending import ItemStats

__all__ = ["GlobalRows", "GlobalRowsCache", "Preferring"]


@runtime_checkable
class Preferring(Protocol):
    """A global source that can give its whole order of preference once for every user."""

    def preference(self, query: Query, scores: np.ndarray) -> np.ndarray:
        """Every item it would propose, best first (int64, seen items included), from its ``scores``."""
        ...


@dataclass(frozen=True)
class GlobalRows:
    """Scores float32 (n_sources, n_items), each row sorted, the preference orders, the row maxima."""

    raw: np.ndarray
    ordered: np.ndarray
    preferences: tuple[np.ndarray, ...]
    source_max: np.ndarray

    def tops(self, seen: np.ndarray, quotas: Sequence[int]) -> list[np.ndarray]:
        """Each source's first ``quota`` unseen items (``seen``: sorted unique int64)."""
        out = []
        for pref, quota in zip(self.preferences, quotas, strict=True):
            head = pref[: quota + len(seen)]
            out.append(head[~_member(head, seen)][:quota])
        return out

    def ranks(self, row: int, seen: np.ndarray, items: np.ndarray) -> np.ndarray:
        """float32 rank of each of ``items`` (unseen) among the unseen items of source ``row``."""
        scores, ordered = self.raw[row], self.ordered[row]
        vals = scores[items]
        above = len(ordered) - np.searchsorted(ordered, vals, side="right")
        if len(seen):
            seen_vals = np.sort(scores[seen])
            above = above - (len(seen_vals) - np.searchsorted(seen_vals, vals, side="right"))
        ranks: np.ndarray = (above + 1).astype(np.float32)
        return ranks


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """bool: which of ``values`` are in ``sorted_set`` (sorted, unique)."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    hit: np.ndarray = sorted_set[pos] == values
    return hit


class GlobalRowsCache:
    """The :class:`GlobalRows` of the latest ``(stats, at)`` (one entry: statistics snapshots only move on).

    ``stats`` is matched by identity and :attr:`ItemStats.version` (bumped by every ``add``):
    the live state hands out one snapshot until an event changes it; training replays
    add events to one object between queries.
    """

    def __init__(self, sources: Sequence[CandidateSource], n_items: int) -> None:
        self.sources, self.n_items = tuple(sources), n_items
        self._latest: tuple[ItemStats, int, float, GlobalRows] | None = None

    @staticmethod
    def supports(sources: Sequence[CandidateSource]) -> bool:
        """True when every one of ``sources`` gives its preference order."""
        return all(isinstance(s, Preferring) for s in sources)

    def rows(self, query: Query) -> GlobalRows:
        """The rows for ``query.stats`` at ``query.at``, computed when either moved."""
        latest = self._latest
        if latest is not None and latest[0] is query.stats and latest[1:3] == (query.stats.version, query.at):
            return latest[3]
        raw = np.empty((len(self.sources), self.n_items), dtype=np.float32)
        for row, src in enumerate(self.sources):
            raw[row] = src.scores(query)
        prefs = tuple(src.preference(query, raw[row]) for row, src in enumerate(self.sources))  # type: ignore[attr-defined]
        rows = GlobalRows(raw, np.sort(raw, axis=1), prefs, raw.max(axis=1) if self.n_items else
                          np.zeros(len(self.sources), np.float32))  # fmt: skip
        self._latest = (query.stats, query.stats.version, query.at, rows)
        return rows
