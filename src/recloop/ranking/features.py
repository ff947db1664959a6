"""Ranking features for (user, candidate) pairs, from data before the query time.

Everything here is computed from the user's history as it stands at the
query, the item statistics as they stand at the query, and static catalog
facts, so training frames built at past cut points carry no future data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recloop.retrieval.candidates import SOURCES, Candidates, CandidateSources
from recloop.retrieval.history import History, recency_weights
from recloop.retrieval.trending import ItemStats

__all__ = ["FEATURE_NAMES", "FeatureBuilder", "UserProfiles"]

_SECONDS_PER_YEAR = 365.25 * 86400

FEATURE_NAMES: tuple[str, ...] = (
    *(f"{s}_score" for s in SOURCES),
    *(f"{s}_rank" for s in SOURCES),
    "ease_rel", "itemknn_rel", "origin",
    "sim_last_ease", "sim_last_itemknn", "sim_last3_itemknn_max", "seq_last",
    "item_rating_mean", "item_rating_n_log", "item_age_years", "trend_share",
    "user_hist_log", "user_rating_mean", "user_hours_since_last",
    "user_age", "user_gender", "user_occupation", "genre_match", "user_known",
)  # fmt: skip


@dataclass(frozen=True)
class UserProfiles:
    """Demographics by user id: age, gender (1 = F), occupation code; NaN if unknown."""

    table: dict[str, tuple[float, float, float]]

    @classmethod
    def from_frame(cls, users: pd.DataFrame) -> UserProfiles:
        """From the dataset's users table."""
        occ = {o: float(k) for k, o in enumerate(sorted(users["occupation"].unique()))}
        table = {
            str(u): (float(a), 1.0 if g == "F" else 0.0, occ[o])
            for u, a, g, o in zip(users["user_id"], users["age"], users["gender"],
                                  users["occupation"], strict=True)
        }  # fmt: skip
        return cls(table)

    def get(self, user_id: str) -> tuple[float, float, float]:
        """The user's (age, gender, occupation), NaNs for a user never seen."""
        return self.table.get(user_id, (np.nan, np.nan, np.nan))


class FeatureBuilder:
    """Turns candidates + history + item stats into a float32 feature matrix."""

    def __init__(
        self,
        sources: CandidateSources,
        genres: np.ndarray,
        years: np.ndarray,
        profiles: UserProfiles,
    ) -> None:
        self.sources = sources
        self.genres = genres.astype(np.float32)
        self.years = years.astype(np.float64)
        self.profiles = profiles

    def _genre_match(self, history: History, items: np.ndarray) -> np.ndarray:
        if len(history.items) == 0:
            return np.zeros(len(items), dtype=np.float32)
        last = history.items[-50:]
        profile = recency_weights(len(last), 0.9) @ self.genres[last]
        norm = np.linalg.norm(profile) + 1e-9
        item_g = self.genres[items]
        return np.asarray(item_g @ profile / (np.linalg.norm(item_g, axis=1) + 1e-9) / norm)

    def build(self, history: History, cands: Candidates, stats: ItemStats, at: float) -> np.ndarray:
        """Features float32 (n_candidates, len(FEATURE_NAMES)), in FEATURE_NAMES order."""
        items = cands.items
        n = len(items)
        src = self.sources
        h = history.items
        if len(h):
            last = int(h[-1])
            sim_last_ease = src.ease[last, items]
            sim_last_knn = src.itemknn[last, items]
            sim_last3 = src.itemknn[h[-3:]][:, items].max(axis=0)
            seq_last = src.sequence.trans[last, items]
            last_t = float(history.timestamps[-1])
            hours = (at - last_t) / 3600.0 if last_t > 0 else np.nan
        else:
            sim_last_ease = sim_last_knn = sim_last3 = seq_last = np.zeros(n)
            hours = np.nan
        rated = history.ratings[history.ratings > 0]
        age, gender, occ = self.profiles.get(history.user_id)
        known = 0.0 if np.isnan(age) else 1.0

        def rel(col: int) -> np.ndarray:
            top = float(cands.source_max[col]) if len(h) else 0.0
            return cands.scores[:, col] / top if top > 0 else np.zeros(n)

        counts = stats.counts[items]
        n_src = len(SOURCES)
        x = np.empty((n, len(FEATURE_NAMES)), dtype=np.float32)  # filled in FEATURE_NAMES order
        x[:, :n_src] = cands.scores
        x[:, n_src : 2 * n_src] = cands.ranks
        per_item = (
            rel(0), rel(1), cands.origin,
            sim_last_ease, sim_last_knn, sim_last3, seq_last,
            stats.rating_mean()[items], np.log1p(stats.rating_n[items]),
            at / _SECONDS_PER_YEAR + 1970.0 - self.years[items], stats.trending(at, items) / (counts + 1.0),
        )  # fmt: skip
        col = 2 * n_src
        for values in per_item:
            x[:, col] = values
            col += 1
        per_user = (np.log1p(len(h)), rated.mean() if len(rated) else np.nan, hours, age, gender, occ)
        x[:, col : col + len(per_user)] = np.asarray(per_user, dtype=np.float64)
        col += len(per_user)
        x[:, col] = self._genre_match(history, items)
        x[:, col + 1] = known
        return x
