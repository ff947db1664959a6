"""Rating prediction from explicit ratings: baselines, biased MF (ALS) and NMF.

Every model has ``fit(Ratings) -> self`` and ``predict(users, items) -> float64 (n,)``
(index arrays, see :class:`~recloop.rating.data.Ratings`), clipped to the 1-5 scale.
"""

from recloop.rating.baselines import BiasModel, GlobalMean
from recloop.rating.data import Ratings
from recloop.rating.mf import BiasedMF, RatingParams, load_rating, save_rating
from recloop.rating.nmf import NMF

__all__ = [
    "NMF",
    "BiasModel",
    "BiasedMF",
    "GlobalMean",
    "RatingParams",
    "Ratings",
    "load_rating",
    "save_rating",
]
