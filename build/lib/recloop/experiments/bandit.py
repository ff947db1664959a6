"""Beta-Bernoulli Thompson sampling over K variants, and regret accounting.

Each arm ``k`` keeps a ``Beta(alpha_k, beta_k)`` posterior on its conversion
rate; :meth:`ThompsonSampler.choose` draws one rate per arm and serves the
arm with the largest draw, so traffic flows to an arm in proportion to the
posterior probability that it is the best one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from recloop.errors import ValidationError

__all__ = ["BanditRun", "ThompsonSampler", "cumulative_regret", "simulate_bandit"]


class ThompsonSampler:
    """Thompson sampling for ``n_arms`` Bernoulli arms with Beta priors.

    Deterministic given ``seed`` (one :class:`numpy.random.Generator` drives
    :meth:`choose` and :meth:`probability_best`). Not thread-safe: guard it
    with a lock if several request handlers share one sampler.
    """

    def __init__(
        self,
        n_arms: int,
        *,
        seed: int | None = None,
        prior_alpha: float = 1.0,
        prior_beta: float = 1.0,
    ) -> None:
        """Start every arm at ``Beta(prior_alpha, prior_beta)`` (uniform by default)."""
        if n_arms < 2:
            raise ValidationError(f"n_arms must be >= 2, got {n_arms}")
        if not (prior_alpha > 0 and prior_beta > 0):
            raise ValidationError("prior_alpha and prior_beta must be > 0 (1, 1 is uniform)")
        self._alpha: NDArray[np.float64] = np.full(n_arms, float(prior_alpha))
        self._beta: NDArray[np.float64] = np.full(n_arms, float(prior_beta))
        self._rng = np.random.default_rng(seed)

    @property
    def n_arms(self) -> int:
        """Number of arms ``K``."""
        return int(self._alpha.size)

    @property
    def alpha(self) -> NDArray[np.float64]:
        """Copy of the posterior ``alpha`` (prior + successes), shape ``(K,)``."""
        return self._alpha.copy()

    @property
    def beta(self) -> NDArray[np.float64]:
        """Copy of the posterior ``beta`` (prior + failures), shape ``(K,)``."""
        return self._beta.copy()

    @property
    def posterior_mean(self) -> NDArray[np.float64]:
        """``alpha / (alpha + beta)`` per arm, shape ``(K,)``."""
        return self._alpha / (self._alpha + self._beta)

    def choose(self) -> int:
        """Draw one rate per arm from its posterior; return the argmax arm index."""
        return int(np.argmax(self._rng.beta(self._alpha, self._beta)))

    def update(self, arm: int, reward: float) -> None:
        """Record ``reward`` in [0, 1] (1 = conversion) for ``arm``.

        Fractional rewards update as ``alpha += r``, ``beta += 1 - r``.
        """
        if not 0 <= arm < self.n_arms:
            raise ValidationError(f"arm must be in [0, {self.n_arms}), got {arm}")
        if not 0.0 <= reward <= 1.0:
            raise ValidationError(f"reward must be in [0, 1], got {reward}")
        self._alpha[arm] += reward
        self._beta[arm] += 1.0 - reward

    def probability_best(self, draws: int = 10_000) -> NDArray[np.float64]:
        """Monte Carlo ``P(arm k has the highest rate)``, shape ``(K,)``, sums to 1.

        Standard error per entry is at most ``0.5 / sqrt(draws)``.
        """
        if draws < 1:
            raise ValidationError(f"draws must be >= 1, got {draws}")
        samples = self._rng.beta(self._alpha, self._beta, size=(draws, self.n_arms))
        wins = np.bincount(np.argmax(samples, axis=1), minlength=self.n_arms)
        return (wins / draws).astype(np.float64)


def _check_rates(true_rates: ArrayLike) -> NDArray[np.float64]:
    rates = np.asarray(true_rates, dtype=np.float64)
    if rates.ndim != 1 or rates.size < 2 or np.any(rates < 0) or np.any(rates > 1):
        raise ValidationError("true_rates must be a 1-D list of >= 2 rates in [0, 1]")
    return rates


def cumulative_regret(true_rates: ArrayLike, chosen_arms: ArrayLike) -> NDArray[np.float64]:
    """Expected (pseudo-)regret after each step, shape ``(T,)`` float64.

    ``R_t = sum_{s <= t} (max_k mu_k - mu_{a_s})`` for the true arm rates
    ``mu`` and the chosen arms ``a_s`` (integer indices, shape ``(T,)``).
    """
    rates = _check_rates(true_rates)
    arms = np.asarray(chosen_arms, dtype=np.int64)
    if arms.ndim != 1 or np.any(arms < 0) or np.any(arms >= rates.size):
        raise ValidationError(f"chosen_arms must be a 1-D array of indices in [0, {rates.size})")
    return np.cumsum(rates.max() - rates[arms]).astype(np.float64)


@dataclass(frozen=True, slots=True)
class BanditRun:
    """One simulated bandit run of ``T`` steps.

    ``arms``: int64 ``(T,)`` chosen arm per step; ``rewards``: float64 ``(T,)``
    0/1 outcomes; ``regret``: float64 ``(T,)`` cumulative expected regret.
    """

    arms: NDArray[np.int64]
    rewards: NDArray[np.float64]
    regret: NDArray[np.float64]


def simulate_bandit(
    true_rates: Sequence[float] | NDArray[np.float64],
    horizon: int,
    *,
    policy: Literal["thompson", "uniform"] = "thompson",
    seed: int = 0,
) -> BanditRun:
    """Run ``policy`` for ``horizon`` steps against Bernoulli arms ``true_rates``.

    ``uniform`` picks arms at random (the A/B-test allocation), whose regret
    grows linearly; Thompson sampling's grows like ``log T``.
    """
    rates = _check_rates(true_rates)
    if horizon < 1:
        raise ValidationError(f"horizon must be >= 1, got {horizon}")
    rng = np.random.default_rng(seed)
    uniforms = rng.random(horizon)
    if policy == "uniform":
        arms = rng.integers(0, rates.size, size=horizon)
    elif policy == "thompson":
        sampler = ThompsonSampler(rates.size, seed=int(rng.integers(2**63)))
        arms = np.empty(horizon, dtype=np.int64)
        for t in range(horizon):
            arms[t] = arm = sampler.choose()
            sampler.update(arm, float(uniforms[t] < rates[arm]))
    else:
        raise ValidationError(f"policy must be 'thompson' or 'uniform', got {policy!r}")
    rewards = (uniforms < rates[arms]).astype(np.float64)
    return BanditRun(arms.astype(np.int64), rewards, cumulative_regret(rates, arms))
