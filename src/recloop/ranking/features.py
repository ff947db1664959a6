"""Ranking features for (user, candidate) pairs, from data before the query time.

Everything here is computed from the user's history as it stands at the
query, the item statistics as they stand at the query, and static catalog
facts, so training frames built at past cut points carry no future data.

Features are declared as a list of :class:`FeatureSpec`; the list order is the
column order. Each source of the model contributes ``<name>_score`` and
``<name>_rank`` first; a spec that needs a source the model lacks is left out.
A bundle stores the names it was trained with and refuses a mismatch at load.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from recloop.retrieval.candidates import Candidates, CandidateSources
from recloop.retrieval.history import History, recency_weights
from recloop.retrieval.trending import ItemStats

__all__ = ["FEATURES", "FeatureBuilder", "FeatureInput", "FeatureSpec", "UserProfiles"]

_SECONDS_PER_YEAR = 365.25 * 86400


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


@dataclass(frozen=True)
class FeatureInput:
    """One query's inputs to every feature: history, candidates, stats, time, the model's sources."""

    history: History
    cands: Candidates
    stats: ItemStats
    at: float
    sources: CandidateSources
    genres: np.ndarray
    years: np.ndarray
    profile: tuple[float, float, float]
    genre_norms: np.ndarray  # ||genres[i]|| + 1e-9 per item (made once by the builder)

    @property
    def items(self) -> np.ndarray:
        """The candidate items, int64 (n,)."""
        return self.cands.items

    def rel(self, name: str) -> np.ndarray | float:
        """Source ``name``'s score relative to its catalog maximum (0 with no history)."""
        col = self.sources.names.index(name)
        top = float(self.cands.source_max[col]) if len(self.history.items) else 0.0
        return self.cands.scores[:, col] / top if top > 0 else 0.0

    def gap(self, name: str) -> np.ndarray | float:
        """Source ``name``'s score minus its catalog maximum (SASRec: the log-odds against its top item)."""
        col = self.sources.names.index(name)
        if not len(self.history.items):
            return 0.0
        out: np.ndarray = self.cands.scores[:, col] - self.cands.source_max[col]
        return out

    def sim_last(self, name: str, last_n: int = 1) -> np.ndarray | float:
        """Max over the latest ``last_n`` history items of source ``name``'s matrix towards each candidate."""
        h = self.history.items
        matrix = self.sources.sources[self.sources.names.index(name)].similarity()
        if not len(h) or matrix is None:
            return 0.0
        if last_n == 1:
            row: np.ndarray = matrix.block(h[-1:], self.items)[0]
            return row
        best: np.ndarray = matrix.block(h[-last_n:], self.items).max(axis=0)
        return best

    @cached_property
    def hours_since_last(self) -> float:
        """Hours between the latest event and the query (NaN with no dated history)."""
        if not len(self.history.items):
            return np.nan
        last_t = float(self.history.timestamps[-1])
        return (self.at - last_t) / 3600.0 if last_t > 0 else np.nan

    def genre_match(self) -> np.ndarray | float:
        """Cosine of each candidate's genres with the user's recency-weighted genre profile."""
        h = self.history.items
        if len(h) == 0:
            return 0.0
        last = h[-50:]
        profile = recency_weights(len(last), 0.9) @ self.genres[last]
        norm = np.linalg.norm(profile) + 1e-9
        item_g = self.genres[self.items]
        return np.asarray(item_g @ profile / self.genre_norms[self.items] / norm)

    def user_rating_mean(self) -> float:
        """Mean of the user's explicit ratings (NaN if none)."""
        rated = self.history.ratings[self.history.ratings > 0]
        return float(rated.mean()) if len(rated) else np.nan


Column = Callable[[FeatureInput], "np.ndarray | float"]


@dataclass(frozen=True)
class FeatureSpec:
    """One feature column: its name, how to compute it, the sources it needs."""

    name: str
    compute: Column
    needs: tuple[str, ...] = ()


FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("ease_rel", lambda f: f.rel("ease"), ("ease",)),
    FeatureSpec("itemknn_rel", lambda f: f.rel("itemknn"), ("itemknn",)),
    FeatureSpec("origin", lambda f: f.cands.origin),
    FeatureSpec("sim_last_ease", lambda f: f.sim_last("ease"), ("ease",)),
    FeatureSpec("sim_last_itemknn", lambda f: f.sim_last("itemknn"), ("itemknn",)),
    FeatureSpec("sim_last3_itemknn_max", lambda f: f.sim_last("itemknn", 3), ("itemknn",)),
    FeatureSpec("seq_last", lambda f: f.sim_last("sequence"), ("sequence",)),
    FeatureSpec("sasrec_gap", lambda f: f.gap("sasrec"), ("sasrec",)),
    FeatureSpec("item_rating_mean", lambda f: f.stats.rating_mean(items=f.items)),
    FeatureSpec("item_rating_n_log", lambda f: np.log1p(f.stats.rating_n[f.items])),
    FeatureSpec("item_age_years", lambda f: f.at / _SECONDS_PER_YEAR + 1970.0 - f.years[f.items]),
    FeatureSpec("trend_share", lambda f: f.stats.trending(f.at, f.items) / (f.stats.counts[f.items] + 1.0)),
    FeatureSpec("user_hist_log", lambda f: float(np.log1p(len(f.history.items)))),
    FeatureSpec("user_rating_mean", FeatureInput.user_rating_mean),
    FeatureSpec("user_hours_since_last", lambda f: f.hours_since_last),
    FeatureSpec("user_age", lambda f: f.profile[0]),
    FeatureSpec("user_gender", lambda f: f.profile[1]),
    FeatureSpec("user_occupation", lambda f: f.profile[2]),
    FeatureSpec("genre_match", FeatureInput.genre_match),
    FeatureSpec("user_known", lambda f: 0.0 if np.isnan(f.profile[0]) else 1.0),
)


class FeatureBuilder:
    """Turns candidates + history + item stats into a float32 feature matrix."""

    def __init__(
        self,
        sources: CandidateSources,
        genres: np.ndarray,
        years: np.ndarray,
        profiles: UserProfiles,
        specs: tuple[FeatureSpec, ...] = FEATURES,
    ) -> None:
        self.sources = sources
        self.genres = genres.astype(np.float32)
        self.years = years.astype(np.float64)
        self.genre_norms = np.linalg.norm(self.genres, axis=1) + 1e-9
        self.profiles = profiles
        names = set(sources.names)
        self.specs = tuple(s for s in specs if set(s.needs) <= names)
        self.names: tuple[str, ...] = (
            *(f"{n}_score" for n in sources.names),
            *(f"{n}_rank" for n in sources.names),
            *(s.name for s in self.specs),
        )

    def build(self, history: History, cands: Candidates, stats: ItemStats, at: float) -> np.ndarray:
        """Features float32 (n_candidates, len(self.names)), in ``self.names`` order."""
        n, n_src = len(cands.items), len(self.sources)
        x = np.empty((n, len(self.names)), dtype=np.float32)
        x[:, :n_src] = cands.scores
        x[:, n_src : 2 * n_src] = cands.ranks
        f = FeatureInput(history, cands, stats, at, self.sources, self.genres, self.years,
                         self.profiles.get(history.user_id), self.genre_norms)  # fmt: skip
        for col, spec in enumerate(self.specs, start=2 * n_src):
            x[:, col] = spec.compute(f)
        return x
