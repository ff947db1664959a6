"""Rating baselines: the global mean and regularised user/item biases (Koren 2010, sec. 2.1)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recloop.rating.data import Ratings

__all__ = ["BiasModel", "GlobalMean", "fit_biases"]

LOW, HIGH = 1.0, 5.0


@dataclass
class GlobalMean:
    """Predicts the mean training rating for every (user, item)."""

    mean: float = 0.0

    def fit(self, r: Ratings) -> GlobalMean:
        """Fit on ``r``; returns self."""
        self.mean = float(r.values.mean())
        return self

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """float64 (n,) predictions for index pairs."""
        return np.full(len(users), self.mean)


def fit_biases(r: Ratings, mean: float, reg_user: float, reg_item: float, sweeps: int = 10) -> tuple[
        np.ndarray, np.ndarray]:  # fmt: skip
    """User and item biases float64 (n_users,), (n_items,) by alternating ridge steps.

    b_i = sum_u (r - mu - b_u) / (reg_item + n_i), then b_u likewise; an unrated
    user or item keeps bias 0.
    """
    nu, ni = r.counts()
    bu, bi = np.zeros(r.n_users), np.zeros(r.n_items)
    resid = r.values - mean
    for _ in range(sweeps):
        bi = np.bincount(r.items, resid - bu[r.users], minlength=r.n_items) / (reg_item + ni)
        bu = np.bincount(r.users, resid - bi[r.items], minlength=r.n_users) / (reg_user + nu)
    return bu, bi


@dataclass
class BiasModel:
    """r_hat = mu + b_u + b_i, clipped to the rating scale; ``reg_*`` are ridge penalties."""

    reg_user: float = 5.0
    reg_item: float = 10.0
    mean: float = 0.0
    user_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    item_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def fit(self, r: Ratings) -> BiasModel:
        """Fit on ``r``; returns self."""
        self.mean = float(r.values.mean())
        self.user_bias, self.item_bias = fit_biases(r, self.mean, self.reg_user, self.reg_item)
        return self

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """float64 (n,) predictions for index pairs."""
        est = self.mean + self.user_bias[users] + self.item_bias[items]
        out: np.ndarray = np.clip(est, LOW, HIGH)
        return out
