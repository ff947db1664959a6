"""The first list of a user with no history: popular, recently active, diverse, explained as such.

A user with no event has no personal signal, and the ranker then sees the
same features for most candidates (equal scores, ties broken by item id). The
starter list is instead made from the item statistics alone:

* score = log1p(all-time count) x shrunk mean rating / 5 + ``TREND_WEIGHT`` x
  log1p(trending value), where trending is read at the latest event time of the
  statistics (on the data's clock: serving/live.py), never the wall clock. Recent
  activity leads, popularity and quality break its ties. ``TREND_WEIGHT`` was
  chosen on a validation replay inside the P2 bootstrap (docs/FEEDBACK.md);
* only items with at least ``min_count`` events and at least the median count of
  the catalog qualify (a handful of recent events must not make an obscure item
  the first thing a new user sees);
* greedy diversity: each pick lowers the score of items sharing its genres
  (maximal marginal relevance with genre overlap), so ten items are not ten
  dramas;
* ties broken by popularity, then by item index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recloop.retrieval.trending import ItemStats

__all__ = ["MIN_COUNT", "StarterList", "starter_list"]

MIN_COUNT = 20  # events an item needs before it may open a new user's list (and the median count)
TREND_WEIGHT = 20.0  # of log1p(trending) against log1p(count) x quality; see the module docstring
DIVERSITY = 0.3  # weight of the genre overlap with items already picked, in units of the score spread
POOL = 60  # best-scored items considered by the diversity step (at least 3k)


@dataclass(frozen=True)
class StarterList:
    """``items`` int64 (k,), ``scores`` float64 (k,) after diversity, ``reasons`` one per item."""

    items: np.ndarray
    scores: np.ndarray
    reasons: list[str]


def _base_scores(stats: ItemStats, trend_weight: float) -> tuple[np.ndarray, np.ndarray]:
    trend = stats.trending(stats.now)
    quality = stats.rating_mean() / 5.0
    score = np.log1p(stats.counts) * quality + trend_weight * np.log1p(trend)
    return score, trend


def starter_list(
    stats: ItemStats, genres: Sequence[frozenset[str]], allowed: np.ndarray, k: int,
    min_count: int = MIN_COUNT, trend_weight: float = TREND_WEIGHT, diversity: float = DIVERSITY,
) -> StarterList:  # fmt: skip
    """The top ``k`` of the starter scores among ``allowed`` (bool (n_items,)) items, diversified."""
    score, trend = _base_scores(stats, trend_weight)
    ok = allowed & (stats.counts >= max(min_count, float(np.median(stats.counts))))
    if ok.sum() < k:  # a tiny or young catalog: take what there is
        ok = allowed.copy()
    cand = np.flatnonzero(ok)
    cand = cand[np.lexsort((cand, -stats.counts[cand], -score[cand]))][: max(POOL, 3 * k)]
    spread = float(score[cand].max() - score[cand].min()) if len(cand) else 1.0
    left = list(cand.tolist())
    picked: list[int] = []
    values: list[float] = []
    while left and len(picked) < k:
        best_i, best_v = 0, -np.inf
        for pos, i in enumerate(left):
            overlap = max((_jaccard(genres[i], genres[j]) for j in picked), default=0.0)
            v = float(score[i]) - diversity * (spread or 1.0) * overlap
            if v > best_v:  # strict: earlier (more popular) wins a tie
                best_i, best_v = pos, v
        picked.append(left.pop(best_i))
        values.append(best_v)
    reasons = [_reason(float(trend[i]), float(stats.counts[i])) for i in picked]
    return StarterList(np.asarray(picked, np.int64), np.asarray(values, np.float64), reasons)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _reason(trend: float, count: int | float) -> str:
    if trend >= 5.0:
        return "popular to start with: trending lately"
    return f"popular to start with: {int(count):,} people rated it"
