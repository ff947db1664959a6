"""Biased matrix factorisation for explicit ratings, fitted by alternating least squares.

r_hat(u, i) = mu + b_u + b_i + p_u . q_i, clipped to [1, 5]. Each half-step is an
exact ridge regression per user (or item) on the augmented vectors [q_i, 1]
(or [p_u, 1]), all solved at once: the normal-equation matrices come from one
sparse product of the rating mask with the per-row outer products, so a sweep
over 100k ratings is a few numpy calls. The factor penalty grows with the row's
rating count (ALS-WR, Zhou et al. 2008); the bias penalty is a constant.
The same user step folds in a user from their current ratings at serving time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel

from recloop.rating.baselines import HIGH, LOW, fit_biases
from recloop.rating.data import Ratings

__all__ = ["RATING_FILE", "BiasedMF", "RatingParams", "load_rating", "ridge_rows", "save_rating"]


_BLOCK_CELLS = 32_000_000  # normal-equation entries solved at a time: 256 MB of float64


def ridge_rows(
    mask: sp.csr_matrix, target: sp.csr_matrix, x: np.ndarray, reg_factor: float, reg_bias: float
) -> np.ndarray:
    """Per row u of ``mask`` (rows x cols, 0/1): argmin_w sum_j (t_uj - x_j . w)^2 + penalties.

    ``x`` float64 (cols, k + 1) with a last column of ones (the bias); ``target`` holds
    t_uj at the rated cells. The penalty is reg_factor * max(n_u, 1) on the first k
    weights and reg_bias on the last. Returns float64 (rows, k + 1).

    The normal matrices are symmetric: only their upper triangle is summed (half the
    sparse product; the same values as the whole product), by blocks of rows so the
    memory stays at ``_BLOCK_CELLS`` entries whatever the number of rows.
    """
    k1 = x.shape[1]
    out = np.zeros((mask.shape[0], k1))  # a row without ratings solves to exactly 0
    rated = np.flatnonzero(np.diff(mask.indptr) > 0)
    if len(rated) < mask.shape[0]:  # e.g. the users outside a rating sample: solve the others only
        out[rated] = ridge_rows(mask[rated], target[rated], x, reg_factor, reg_bias)
        return out
    iu, ju = np.triu_indices(k1)
    outer = x[:, iu] * x[:, ju]
    n = np.maximum(np.asarray(mask.sum(axis=1)).ravel(), 1.0)
    b = np.asarray(target @ x)
    step = max(1, _BLOCK_CELLS // (k1 * k1))
    for r0 in range(0, mask.shape[0], step):
        r1 = min(r0 + step, mask.shape[0])
        half = np.asarray(mask[r0:r1] @ outer)
        a = np.empty((r1 - r0, k1, k1))
        a[:, iu, ju] = half
        a[:, ju, iu] = half
        penalty = np.full((r1 - r0, k1), float(reg_bias))
        penalty[:, :-1] = reg_factor * n[r0:r1, None]
        a[:, np.arange(k1), np.arange(k1)] += penalty
        out[r0:r1] = np.linalg.solve(a, b[r0:r1, :, None])[:, :, 0]
    return out


@dataclass
class BiasedMF:
    """SVD-style biased MF (ALS): ``factors``, ``reg`` (per rating), ``reg_bias``, ``iterations``."""

    factors: int = 20
    reg: float = 0.1
    reg_bias: float = 5.0
    iterations: int = 15
    seed: int = 42
    mean: float = 0.0
    user_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    item_bias: np.ndarray = field(default_factory=lambda: np.zeros(0))
    user_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    item_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def fit(self, r: Ratings) -> BiasedMF:
        """Fit on ``r`` (deterministic given ``seed``); returns self."""
        self.mean = float(r.values.mean())
        bu, bi = fit_biases(r, self.mean, self.reg_bias, self.reg_bias)
        q = np.random.default_rng(self.seed).normal(0.0, 0.1, (r.n_items, self.factors))
        p = np.zeros((r.n_users, self.factors))
        mask = r.matrix(np.ones(len(r)))
        mask_t = mask.T.tocsr()
        for _ in range(self.iterations):
            w = ridge_rows(mask, r.matrix(r.values - self.mean - bi[r.items]),
                           np.c_[q, np.ones(r.n_items)], self.reg, self.reg_bias)  # fmt: skip
            p, bu = w[:, :-1], w[:, -1]
            t = sp.csr_matrix((r.values - self.mean - bu[r.users], (r.items, r.users)),
                              shape=(r.n_items, r.n_users))  # fmt: skip
            w = ridge_rows(mask_t, t, np.c_[p, np.ones(r.n_users)], self.reg, self.reg_bias)
            q, bi = w[:, :-1], w[:, -1]
        self.user_bias, self.item_bias, self.user_factors, self.item_factors = bu, bi, p, q
        return self

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """float64 (n,) predictions for index pairs."""
        dot = np.einsum("nk,nk->n", self.user_factors[users], self.item_factors[items])
        est = self.mean + self.user_bias[users] + self.item_bias[items] + dot
        out: np.ndarray = np.clip(est, LOW, HIGH)
        return out

    def fold_in(self, items: np.ndarray, ratings: np.ndarray) -> tuple[np.ndarray, float]:
        """A user's (factor float64 (k,), bias) from their ratings: the training user step."""
        x = np.c_[self.item_factors[items], np.ones(len(items))]
        a = x.T @ x
        a[np.diag_indices_from(a)] += np.r_[np.full(self.factors, self.reg * max(len(items), 1)),
                                            self.reg_bias]  # fmt: skip
        w = np.linalg.solve(
            a, x.T @ (np.asarray(ratings, dtype=np.float64) - self.mean - self.item_bias[items])
        )
        return w[:-1], float(w[-1])

    def predict_for(self, items: np.ndarray, ratings: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Predicted ratings float64 (len(candidates),) of a user who rated ``items`` ``ratings``."""
        return self.predict_folded(self.fold_in(items, ratings) if len(items) else None, candidates)

    def predict_folded(self, user: tuple[np.ndarray, float] | None, candidates: np.ndarray) -> np.ndarray:
        """Predicted ratings float64 (len(candidates),) of a user folded in by :meth:`fold_in`.

        ``user`` None: a user with no rating (item bias only).
        """
        if user is None:
            cold: np.ndarray = np.clip(self.mean + self.item_bias[candidates], LOW, HIGH)
            return cold
        p, b = user
        est = self.mean + b + self.item_bias[candidates] + self.item_factors[candidates] @ p
        out: np.ndarray = np.clip(est, LOW, HIGH)
        return out


class RatingParams(BaseModel):
    """The served rating model's recipe (chosen by ``recloop evaluate --task rating`` on validation)."""

    factors: int = 40
    reg: float = 0.15
    reg_bias: float = 5.0
    iterations: int = 15
    seed: int = 42


RATING_FILE = "rating.npz"


def save_rating(model: BiasedMF, directory: Path) -> None:
    """Write what serving needs (mean, item biases and factors) to ``directory/rating.npz``."""
    np.savez(directory / RATING_FILE, mean=np.float64(model.mean), item_bias=model.item_bias,
             item_factors=model.item_factors)  # fmt: skip


def load_rating(params: RatingParams, directory: Path) -> BiasedMF | None:
    """The model saved by :func:`save_rating`, or None if the bundle has none (older bundles)."""
    path = directory / RATING_FILE
    if not path.exists():
        return None
    with np.load(path) as z:
        return BiasedMF(**params.model_dump(), mean=float(z["mean"]), item_bias=z["item_bias"],
                        item_factors=z["item_factors"])  # fmt: skip
