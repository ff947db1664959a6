"""Logged propensities: how likely the serving policy was to show each item where it did.

Off-policy evaluation (:mod:`recloop.experiments.ope`) reweights logged clicks
by ``target(item at r) / logging(item at r)``; it needs the logging policy's
*marginal* probability of every (item, position) it showed, and needs it to be
non-zero wherever a candidate policy might put an item. A deterministic ranker
logs 1.0 at every slot and supports nothing else, so serving can add a small
exploration policy (:class:`ExplorationConfig`):

* ``epsilon`` (epsilon-greedy over the ranking): with probability ``1 - epsilon``
  the ranker's top-k is shown as ranked; with probability ``epsilon`` the list
  is a uniformly random ordered sample of ``k`` of the ranker's top ``pool``
  items. Marginal of the ranker's ``j``-th item at position ``r`` (both from 0),
  exact: ``(1 - epsilon) [j == r] + epsilon / pool`` for ``j < pool``, else 0.
* ``none``: propensity 1.0 at every slot (the ranker's own list).

Experiment-level assignment probabilities multiply in: an A/B variant with
weight share ``w`` was chosen with probability ``w``; a Thompson-sampling
bandit arm with :func:`thompson_probabilities` (the probability that its
Beta draw is the largest, by quadrature on a 2,001-point grid: exact to ~1e-6).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats as sps

__all__ = [
    "ExplorationConfig",
    "Explored",
    "epsilon_marginals",
    "explore",
    "thompson_probabilities",
]


class ExplorationConfig(BaseModel):
    """The exploration policy of served lists (``type="none"``: deterministic, propensity 1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["none", "epsilon"] = "none"
    epsilon: float = Field(default=0.1, ge=0.0, le=1.0)
    pool: int = Field(default=20, ge=1, le=500, description="explore among the ranker's top `pool` items")


@dataclass(frozen=True, slots=True)
class Explored:
    """A served list: ``items`` in rank order, ``propensities`` (same length) as logged."""

    items: tuple[int, ...]
    propensities: tuple[float, ...]


def epsilon_marginals(
    ranks: ArrayLike, positions: ArrayLike, epsilon: float, pool: int
) -> NDArray[np.float64]:
    """``P(ranker's item of rank j shown at position r)`` under ``epsilon`` exploration (vectorised).

    ``ranks`` (``j``, 0-based, -1 or >= pool: outside the pool) and ``positions``
    (``r``, 0-based) broadcast; float64 of their broadcast shape.
    """
    j, r = np.asarray(ranks), np.asarray(positions)
    inside = (j >= 0) & (j < pool)
    return np.where(inside, (1.0 - epsilon) * (j == r) + epsilon / pool, 0.0).astype(np.float64)


def explore(ranked: Sequence[int], k: int, config: ExplorationConfig, rng: np.random.Generator) -> Explored:
    """The list to show for the ranker's ``ranked`` items, with each slot's exact propensity."""
    top = [int(i) for i in ranked]
    if config.type == "none" or config.epsilon == 0.0:
        shown = top[:k]
        return Explored(tuple(shown), tuple(1.0 for _ in shown))
    pool = min(config.pool, len(top))
    kk = min(k, len(top))
    if pool < kk:  # not enough items to explore among: serve the ranking
        return Explored(tuple(top[:kk]), tuple(1.0 for _ in range(kk)))
    ranks = rng.permutation(pool)[:kk] if rng.random() < config.epsilon else np.arange(kk)
    props = epsilon_marginals(ranks, np.arange(kk), config.epsilon, pool)
    return Explored(tuple(top[int(j)] for j in ranks), tuple(float(p) for p in props))


def thompson_probabilities(a: ArrayLike, b: ArrayLike, grid: int = 2001) -> NDArray[np.float64]:
    """``P(arm k's Beta(a_k, b_k) draw is the largest)`` for every arm, float64 (K,), summing to 1.

    ``P_k = integral f_k(x) prod_{j != k} F_j(x) dx`` by the trapezoidal rule on
    ``grid`` points of [0, 1], renormalised (the discretisation error is ~1e-6).
    """
    a_, b_ = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    x = np.linspace(0.0, 1.0, grid)
    pdf = sps.beta.pdf(x[None, :], a_[:, None], b_[:, None])
    cdf = sps.beta.cdf(x[None, :], a_[:, None], b_[:, None])
    pdf = np.where(np.isfinite(pdf), pdf, 0.0)
    out = np.empty(len(a_))
    for k in range(len(a_)):
        others = np.prod(np.delete(cdf, k, axis=0), axis=0) if len(a_) > 1 else np.ones(grid)
        out[k] = np.trapezoid(pdf[k] * others, x)
    probs: NDArray[np.float64] = (out / out.sum()).astype(np.float64)
    return probs
