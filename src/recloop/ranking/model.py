"""The two-stage model: candidate sources -> features -> LightGBM ranker."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recloop.ranking.features import FeatureBuilder
from recloop.ranking.ranker import LambdaRanker
from recloop.rating import BiasedMF
from recloop.retrieval.candidates import Candidates, CandidateSources, UserScores
from recloop.retrieval.history import History
from recloop.retrieval.trending import ItemStats

__all__ = ["Ranked", "RatingUser", "TwoStageModel"]


@dataclass(frozen=True)
class Ranked:
    """A ranked list: items int64 (k,), ranker scores float64 (k,), the candidates used.

    ``origin``: index into ``source_names`` of the source that proposed each item.
    """

    items: np.ndarray
    scores: np.ndarray
    origin: np.ndarray
    candidates: Candidates
    source_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class RatingUser:
    """A user folded into the rating model: (factor, bias), or None with no rated item."""

    state: tuple[np.ndarray, float] | None


class TwoStageModel:
    """Candidates from every source, ordered by the learned ranker."""

    def __init__(self, sources: CandidateSources, features: FeatureBuilder, ranker: LambdaRanker,
                 rating: BiasedMF | None = None):  # fmt: skip
        self.sources, self.features, self.ranker = sources, features, ranker
        self.rating = rating  # predicts the 1-5 rating of a recommended item, if the bundle has one

    def predicted_ratings(
        self, history: History, items: np.ndarray, user: RatingUser | None = None
    ) -> np.ndarray | None:
        """float64 (len(items),) ratings the user would give, folded in from their rated history.

        None without a rating model. ``user``: :meth:`rating_user` of this history, if kept.
        """
        if self.rating is None:
            return None
        folded = self.rating_user(history) if user is None else user
        return self.rating.predict_folded(folded.state, np.asarray(items, dtype=np.int64))

    def rating_user(self, history: History) -> RatingUser:
        """The user's rating-model state from their rated history (what :meth:`predicted_ratings` reads).

        Events without a rating (value 0) do not count. Negatives (docs/FEEDBACK.md) count
        as the stars their weight stands for: -1 (a 1-star rating or a dislike) as 1, -0.5
        (2 stars) as 2.
        """
        if self.rating is None:
            return RatingUser(None)
        rated = history.ratings > 0
        neg_stars = np.where(history.negative_item_weights >= 1.0, 1.0, 2.0)
        seen = np.concatenate([history.items[rated], history.negatives]).astype(np.int64)
        stars = np.concatenate([history.ratings[rated].astype(np.float64), neg_stars])
        return RatingUser(self.rating.fold_in(seen, stars) if len(seen) else None)

    def rank(
        self, history: History, stats: ItemStats, at: float, k: int,
        user_factor: np.ndarray | None = None, personal: UserScores | None = None,
    ) -> Ranked:  # fmt: skip
        """Top-k unseen items for the user at time ``at`` (Unix s).

        ``user_factor``: the ALS factor folded in at the user's last event, if cached;
        ``personal``: the history-dependent scores of this history, if kept.
        """
        cands = self.sources.generate(history, stats, at, user_factor, personal)
        if len(cands.items) == 0:
            e = np.empty(0, dtype=np.int64)
            return Ranked(e, np.empty(0), e, cands, self.sources.names)
        x = self.features.build(history, cands, stats, at)
        scores = self.ranker.predict(x)
        order = np.lexsort((cands.items, -scores))[:k]
        return Ranked(cands.items[order], scores[order], cands.origin[order], cands, self.sources.names)
