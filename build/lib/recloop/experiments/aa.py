"""A/A simulation: false-positive rates of fixed-horizon, peeking and mSPRT analyses.

Both arms share one true conversion rate, so every rejection is a false
positive. Users arrive over ``days`` (Poisson arrivals, a fair 50/50 split,
which is what :func:`recloop.experiments.assignment.assign` produces) and
each run is analysed three ways:

* ``fixed``: one pooled two-proportion z-test at the end (should be ~alpha);
* ``naive``: the same z-test after every day, reject at the first p < alpha
  (the classic peeking error: well above alpha);
* ``sequential``: the always-valid mSPRT p-value after every day, reject at
  the first p < alpha (at most alpha whatever the number of looks).

Everything is vectorised over runs x days, so hundreds of runs take well
under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from recloop.errors import ValidationError
from recloop.experiments.sequential import msprt_p_value, tau_for_horizon
from recloop.experiments.stats import pooled_z_p_value, validate_alpha

__all__ = ["AACounts", "AAParams", "AAResult", "evaluate_aa", "run_aa", "simulate_aa_counts"]


@dataclass(frozen=True, slots=True)
class AAParams:
    """Settings of an A/A simulation.

    Each run draws its true rate uniformly from ``[rate_low, rate_high]``;
    ``users_per_day`` is the mean of the Poisson daily arrivals over both arms
    (defaults: ~8,400 users per run, ~4,200 per arm).

    The mSPRT mixing sd ``tau`` (absolute rate difference) is ``mixing_sd``
    when given, else :func:`~recloop.experiments.sequential.tau_for_horizon`
    at the planned horizon: the minimum detectable effect (alpha, 80% power)
    for the mid-range rate and the expected users per arm, ~0.016 (a 21%
    relative lift on 7.5%) with the defaults.
    """

    runs: int = 200
    days: int = 14
    users_per_day: float = 600.0
    rate_low: float = 0.05
    rate_high: float = 0.10
    alpha: float = 0.05
    mixing_sd: float | None = None
    seed: int = 0

    @property
    def tau(self) -> float:
        """mSPRT mixing standard deviation on the absolute difference."""
        if self.mixing_sd is not None:
            return self.mixing_sd
        rate = (self.rate_low + self.rate_high) / 2.0
        n_per_arm = self.users_per_day * self.days / 2.0
        return tau_for_horizon(2.0 * rate * (1.0 - rate) / n_per_arm, self.alpha)


@dataclass(frozen=True, slots=True)
class AACounts:
    """Cumulative counts at the end of each day, int64 arrays of shape ``(runs, days)``."""

    s_a: NDArray[np.int64]
    n_a: NDArray[np.int64]
    s_b: NDArray[np.int64]
    n_b: NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class AAResult:
    """False-positive rates (fractions of runs that rejected) of the three analyses.

    The ``*_reject`` arrays are bool of shape ``(runs,)``.
    """

    params: AAParams
    fpr_fixed: float
    fpr_sequential_peeking: float
    fpr_naive_peeking: float
    fixed_reject: NDArray[np.bool_]
    sequential_reject: NDArray[np.bool_]
    naive_reject: NDArray[np.bool_]


def _check(params: AAParams) -> None:
    validate_alpha(params.alpha)
    if params.runs < 1 or params.days < 1 or params.users_per_day <= 0:
        raise ValidationError("runs and days must be >= 1 and users_per_day > 0")
    if not 0.0 < params.rate_low <= params.rate_high < 1.0:
        raise ValidationError("need 0 < rate_low <= rate_high < 1")
    if params.mixing_sd is not None and not params.mixing_sd > 0:
        raise ValidationError(f"mixing_sd must be > 0 or None, got {params.mixing_sd}")


def simulate_aa_counts(params: AAParams) -> AACounts:
    """Draw the daily A/A traffic of every run; deterministic given ``params.seed``."""
    _check(params)
    rng = np.random.default_rng(params.seed)
    shape = (params.runs, params.days)
    rates = rng.uniform(params.rate_low, params.rate_high, size=(params.runs, 1))
    arrivals = rng.poisson(params.users_per_day, size=shape)
    n_b = rng.binomial(arrivals, 0.5)
    n_a = arrivals - n_b
    s_a = rng.binomial(n_a, rates)
    s_b = rng.binomial(n_b, rates)
    cum = [np.cumsum(x, axis=1).astype(np.int64) for x in (s_a, n_a, s_b, n_b)]
    return AACounts(*cum)


def evaluate_aa(counts: AACounts, params: AAParams) -> AAResult:
    """Apply the fixed, naive-peeking and mSPRT analyses to simulated counts."""
    _check(params)
    alpha = params.alpha
    z_p = pooled_z_p_value(counts.s_a, counts.n_a, counts.s_b, counts.n_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_a = counts.s_a / counts.n_a
        p_b = counts.s_b / counts.n_b
        var = p_a * (1 - p_a) / counts.n_a + p_b * (1 - p_b) / counts.n_b
    ok = (counts.n_a > 0) & (counts.n_b > 0)
    diff = np.where(ok, p_b - p_a, 0.0)
    var = np.where(ok, var, 0.0)  # no data yet: V = 0 means "no information"
    seq_p = np.minimum.accumulate(msprt_p_value(diff, var, params.tau), axis=1)
    fixed = z_p[:, -1] < alpha
    naive = np.any(z_p < alpha, axis=1)
    sequential = seq_p[:, -1] < alpha
    return AAResult(
        params,
        float(fixed.mean()),
        float(sequential.mean()),
        float(naive.mean()),
        fixed,
        sequential,
        naive,
    )


def run_aa(params: AAParams) -> AAResult:
    """Simulate and evaluate an A/A experiment campaign (see module docstring)."""
    return evaluate_aa(simulate_aa_counts(params), params)
