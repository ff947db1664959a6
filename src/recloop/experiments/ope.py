"""Off-policy evaluation of a ranking policy on logged lists: IPS, SNIPS, doubly robust.

Value of a policy = expected clicks per list. The reward is assumed additive
over positions with each slot's click depending only on (user, item, position)
(the item-position model; the simulator of :mod:`recloop.experiments.listsim`
is one). Then, with ``w_ir = target(a_ir at r | x_i) / logging(a_ir at r | x_i)``
from the logged marginal propensities (:mod:`recloop.experiments.exploration`):

* IPS: ``V = mean_i sum_r w_ir c_ir`` (unbiased where the logging policy
  supports every (item, position) the target uses; Li et al. 2018);
* SNIPS: per position ``sum_i w_ir c_ir / sum_i w_ir`` summed over ``r``
  (self-normalised: small bias, less variance);
* DR: ``V = mean_i [ sum_r q(x_i, t_ir, r) + sum_r w_ir (c_ir - q(x_i, a_ir, r)) ]``
  with a reward model ``q`` (Dudik et al. 2011): unbiased if the propensities
  are right, and the model fills in (item, position) pairs the log never tried.

Intervals are normal, from the per-list contributions (lists are iid given the
logging policy; SNIPS by the delta method). A list is one unit: with several
lists per user, pass per-user sums instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

__all__ = ["Estimate", "PositionItemCTR", "dr", "ips", "snips", "unsupported_share"]


@dataclass(frozen=True, slots=True)
class Estimate:
    """A policy value (expected clicks per list) with its standard error and ``1 - alpha`` CI."""

    value: float
    se: float
    ci: tuple[float, float]

    def covers(self, truth: float) -> bool:
        """Whether the interval contains ``truth``."""
        return self.ci[0] <= truth <= self.ci[1]


def _normal(contrib: NDArray[np.float64], alpha: float, value: float | None = None) -> Estimate:
    n = len(contrib)
    v = float(contrib.mean()) if value is None else value
    se = float(contrib.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    z = float(sps.norm.ppf(1 - alpha / 2))
    return Estimate(v, se, (v - z * se, v + z * se))


def _weights(target_prob: ArrayLike, logged_prob: ArrayLike) -> NDArray[np.float64]:
    t, p = np.asarray(target_prob, dtype=np.float64), np.asarray(logged_prob, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, t / p, 0.0)


def ips(clicks: ArrayLike, target_prob: ArrayLike, logged_prob: ArrayLike, alpha: float = 0.05) -> Estimate:
    """IPS from (n, k) clicks, target and logged marginal probabilities of the logged slots."""
    w = _weights(target_prob, logged_prob)
    return _normal((w * np.asarray(clicks, dtype=np.float64)).sum(axis=1), alpha)


def snips(clicks: ArrayLike, target_prob: ArrayLike, logged_prob: ArrayLike, alpha: float = 0.05) -> Estimate:
    """Per-position self-normalised IPS with a delta-method interval (positions with no weight add 0)."""
    w = _weights(target_prob, logged_prob)
    c = np.asarray(clicks, dtype=np.float64)
    mw = w.mean(axis=0)
    ratio = np.where(mw > 0, (w * c).mean(axis=0) / np.where(mw > 0, mw, 1.0), 0.0)
    lin = np.where(mw > 0, w * (c - ratio) / np.where(mw > 0, mw, 1.0), 0.0).sum(axis=1)
    est = _normal(lin, alpha, float(ratio.sum()))
    return est


def dr(
    clicks: ArrayLike,
    target_prob: ArrayLike,
    logged_prob: ArrayLike,
    q_logged: ArrayLike,
    q_target: ArrayLike,
    alpha: float = 0.05,
) -> Estimate:
    """Doubly robust: ``q_target`` (n,) model value of the target's list, ``q_logged`` (n, k) logged slots."""
    w = _weights(target_prob, logged_prob)
    resid = np.asarray(clicks, dtype=np.float64) - np.asarray(q_logged, dtype=np.float64)
    return _normal(np.asarray(q_target, dtype=np.float64) + (w * resid).sum(axis=1), alpha)


def unsupported_share(target_items: ArrayLike, support: ArrayLike) -> float:
    """Share of the target's (item, position) slots the logging policy could never show.

    ``support``: bool (n, k) with True where the logging propensity of the
    target's item at that position is > 0. IPS and SNIPS miss these slots'
    clicks entirely (a downward bias); DR fills them with the reward model.
    """
    s = np.asarray(support, dtype=bool)
    return float(1.0 - s.mean()) if s.size else math.nan


class PositionItemCTR:
    """A reward model ``q(item, r) = theta_r * rho_item`` fitted on logged lists.

    ``theta_r`` is the click rate at position ``r``; ``rho`` is the item's clicks
    over its expected clicks at those positions, shrunk to 1 with ``prior``
    pseudo-clicks. Non-personal by design: a simple, robust baseline.
    ``personal`` (optional, (n, k) in [0, 1]) multiplies in a per-user factor
    such as the ranker's calibrated score.
    """

    def __init__(self, n_items: int, prior: float = 2.0) -> None:
        """An unfitted model over item ids ``0..n_items - 1``."""
        self.n_items, self.prior = n_items, prior
        self.theta = np.zeros(0)
        self.rho = np.ones(n_items)

    def fit(self, items: ArrayLike, clicks: ArrayLike) -> PositionItemCTR:
        """Fit on logged (n, k) item ids and clicks; returns self."""
        it, c = np.asarray(items, dtype=np.int64), np.asarray(clicks, dtype=np.float64)
        self.theta = c.mean(axis=0)
        expected = np.bincount(
            it.ravel(), weights=np.broadcast_to(self.theta, it.shape).ravel(), minlength=self.n_items
        )
        got = np.bincount(it.ravel(), weights=c.ravel(), minlength=self.n_items)
        mean_theta = float(self.theta.mean()) or 1.0
        self.rho = (got + self.prior * mean_theta) / (expected + self.prior * mean_theta)
        return self

    def predict(self, items: ArrayLike) -> NDArray[np.float64]:
        """``q`` for (n, k) item ids at positions 0..k-1, float64 (n, k)."""
        it = np.asarray(items, dtype=np.int64)
        return (self.theta[None, : it.shape[1]] * self.rho[it]).astype(np.float64)
