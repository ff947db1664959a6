"""Non-negative matrix factorisation for ratings (Luo et al. 2014), multiplicative updates.

r_hat(u, i) = p_u . q_i with p, q >= 0. Each epoch updates all users, then all
items: p_uf <- p_uf * sum_i q_if r_ui / (sum_i q_if r_hat_ui + reg_user n_u p_uf),
the same rule as scikit-surprise's NMF, vectorised over the rated cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from recloop.rating.baselines import HIGH, LOW
from recloop.rating.data import Ratings

__all__ = ["NMF"]


def _step(
    obs: sp.csr_matrix, est: sp.csr_matrix, fixed: np.ndarray, free: np.ndarray, reg: float
) -> np.ndarray:
    """One multiplicative update of ``free`` (rows, k) against ``fixed`` (cols, k)."""
    n = np.asarray((obs != 0).sum(axis=1)).ravel()
    num = np.asarray(obs @ fixed)
    den = np.asarray(est @ fixed) + reg * n[:, None] * free
    out: np.ndarray = np.where(den > 0, free * num / np.where(den > 0, den, 1.0), free)
    return out


@dataclass
class NMF:
    """NMF with ``factors``, ``reg_user``/``reg_item`` penalties, ``epochs``, ``seed``."""

    factors: int = 15
    reg_user: float = 0.06
    reg_item: float = 0.06
    epochs: int = 50
    seed: int = 42
    mean: float = 0.0
    user_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    item_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    known: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.zeros(0), np.zeros(0)))

    def fit(self, r: Ratings) -> NMF:
        """Fit on ``r`` (deterministic given ``seed``); returns self."""
        rng = np.random.default_rng(self.seed)
        p = rng.uniform(0.0, 1.0, (r.n_users, self.factors))
        q = rng.uniform(0.0, 1.0, (r.n_items, self.factors))
        obs, obs_t = r.matrix(), r.matrix().T.tocsr()
        for _ in range(self.epochs):
            est = r.matrix(np.einsum("nk,nk->n", p[r.users], q[r.items]))
            p = _step(obs, est, q, p, self.reg_user)
            est = r.matrix(np.einsum("nk,nk->n", p[r.users], q[r.items]))
            q = _step(obs_t, est.T.tocsr(), p, q, self.reg_item)
        self.mean = float(r.values.mean())
        self.user_factors, self.item_factors = p, q
        self.known = r.counts()
        return self

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """float64 (n,) predictions; the global mean for a user or item without training ratings."""
        est = np.einsum("nk,nk->n", self.user_factors[users], self.item_factors[items])
        unknown = (self.known[0][users] == 0) | (self.known[1][items] == 0)
        return np.clip(np.where(unknown, self.mean, est), LOW, HIGH)
