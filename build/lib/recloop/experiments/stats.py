"""Statistics for A/B tests: intervals, fixed-horizon tests, SRM, power.

Conventions: arm ``a`` is control and arm ``b`` the treatment; every
difference is ``b - a`` and every relative lift is ``b / a - 1``. Variances
are sample variances (``ddof=1``). Functions take summary statistics, so they
work on running sums kept by an exposure/outcome log. Pure numpy + scipy.
The always-valid (peeking-safe) test lives in :mod:`recloop.experiments.sequential`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from recloop.errors import ValidationError

__all__ = [
    "ComparisonResult",
    "ProportionSummary",
    "SrmResult",
    "pooled_z_p_value",
    "power_two_proportions",
    "proportion_ci",
    "sample_size_two_proportions",
    "srm_check",
    "two_proportion_ztest",
    "validate_alpha",
    "validate_counts",
    "welch_ttest",
    "welch_ttest_arrays",
]


@dataclass(frozen=True, slots=True)
class ProportionSummary:
    """A conversion rate ``successes / trials`` with its Wilson interval."""

    successes: int
    trials: int
    rate: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True, slots=True)
class ComparisonResult:
    """Treatment ``b`` vs control ``a``: absolute difference and relative lift.

    ``diff`` is ``b - a`` with a two-sided ``1 - alpha`` interval ``diff_ci``;
    ``relative_lift`` is ``b / a - 1`` with a delta-method interval ``lift_ci``
    (both NaN when the control estimate is 0). ``df`` is ``inf`` for z-tests.
    """

    diff: float
    diff_ci: tuple[float, float]
    relative_lift: float
    lift_ci: tuple[float, float]
    statistic: float
    p_value: float
    significant: bool
    test: str
    df: float


@dataclass(frozen=True, slots=True)
class SrmResult:
    """Sample-ratio-mismatch check: chi-square statistic, p-value, verdict."""

    statistic: float
    p_value: float
    mismatch: bool
    expected_counts: tuple[float, ...]


def validate_alpha(alpha: float, name: str = "alpha") -> None:
    """Raise :class:`ValidationError` unless ``0 < alpha < 1``."""
    if not 0.0 < alpha < 1.0:
        raise ValidationError(f"{name} must be in (0, 1), got {alpha}; use e.g. 0.05")


def validate_counts(successes: int, trials: int, arm: str = "") -> None:
    """Raise :class:`ValidationError` unless ``0 <= successes <= trials`` and ``trials > 0``."""
    where = f" for arm {arm}" if arm else ""
    if trials <= 0:
        raise ValidationError(f"trials{where} must be > 0, got {trials}")
    if not 0 <= successes <= trials:
        raise ValidationError(f"successes{where} must be in [0, trials={trials}], got {successes}")


def _relative_lift(
    mean_a: float, se_a: float, mean_b: float, se_b: float, z: float
) -> tuple[float, tuple[float, float]]:
    """``R - 1`` for ``R = b/a`` with the delta-method CI ``R - 1 +- z se(R)``.

    ``Var(R) ~ (se_b^2 + R^2 se_a^2) / a^2`` (independent arms), which equals
    ``R^2 (se_b^2/b^2 + se_a^2/a^2)`` when ``b != 0``. NaN when ``a == 0``.
    """
    if mean_a == 0.0:
        return math.nan, (math.nan, math.nan)
    ratio = mean_b / mean_a
    half = z * math.sqrt(se_b**2 + ratio**2 * se_a**2) / abs(mean_a)
    return ratio - 1.0, (ratio - 1.0 - half, ratio - 1.0 + half)


def proportion_ci(successes: int, trials: int, alpha: float = 0.05) -> ProportionSummary:
    """Wilson score interval for a binomial proportion.

    With ``p = s/n`` and ``z = Phi^-1(1 - alpha/2)``::

        centre = (p + z^2 / (2n)) / (1 + z^2/n)
        half   = z / (1 + z^2/n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))

    Unlike the Wald interval it stays inside [0, 1] and keeps its coverage
    near 0 and 1, where conversion rates live.
    """
    validate_counts(successes, trials)
    validate_alpha(alpha)
    p, n = successes / trials, float(trials)
    z = float(sps.norm.ppf(1.0 - alpha / 2.0))
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    return ProportionSummary(successes, trials, p, max(0.0, centre - half), min(1.0, centre + half))


def pooled_z_p_value(s_a: ArrayLike, n_a: ArrayLike, s_b: ArrayLike, n_b: ArrayLike) -> NDArray[np.float64]:
    """Vectorised two-sided pooled z-test p-values (no validation; for simulations).

    ``z = (p_b - p_a) / sqrt(p (1 - p) (1/n_a + 1/n_b))`` with the pooled rate
    ``p = (s_a + s_b) / (n_a + n_b)``; ``p-value = 2 (1 - Phi(|z|))``. Cells
    with zero pooled variance (no data, or all 0/all 1) get p-value 1.
    Inputs broadcast; output is float64 with the broadcast shape.
    """
    sa, na, sb, nb = (np.asarray(x, dtype=np.float64) for x in (s_a, n_a, s_b, n_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (sa + sb) / (na + nb)
        se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb))
        z = (sb / nb - sa / na) / se
    p = 2.0 * sps.norm.sf(np.abs(z))
    return np.where(np.isfinite(z), p, 1.0).astype(np.float64)


def two_proportion_ztest(s_a: int, n_a: int, s_b: int, n_b: int, alpha: float = 0.05) -> ComparisonResult:
    """Two-sided z-test for ``p_b - p_a`` (conversion rates).

    The statistic and p-value use the pooled variance (the null says both
    rates are equal), see :func:`pooled_z_p_value`. The interval for the
    difference uses the unpooled (Wald) standard error
    ``se = sqrt(p_a (1 - p_a)/n_a + p_b (1 - p_b)/n_b)``: ``diff +- z se``.
    """
    validate_counts(s_a, n_a, "a")
    validate_counts(s_b, n_b, "b")
    validate_alpha(alpha)
    p_a, p_b = s_a / n_a, s_b / n_b
    pooled = (s_a + s_b) / (n_a + n_b)
    se_pool = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
    z_stat = (p_b - p_a) / se_pool if se_pool > 0.0 else 0.0
    p_value = float(2.0 * sps.norm.sf(abs(z_stat)))
    se_a, se_b = math.sqrt(p_a * (1 - p_a) / n_a), math.sqrt(p_b * (1 - p_b) / n_b)
    zc = float(sps.norm.ppf(1.0 - alpha / 2.0))
    half = zc * math.hypot(se_a, se_b)
    lift, lift_ci = _relative_lift(p_a, se_a, p_b, se_b, zc)
    diff = p_b - p_a
    return ComparisonResult(
        diff, (diff - half, diff + half), lift, lift_ci, z_stat, p_value,
        p_value < alpha, "two-proportion z-test", math.inf,
    )  # fmt: skip


def welch_ttest(
    mean_a: float, var_a: float, n_a: int,
    mean_b: float, var_b: float, n_b: int,
    alpha: float = 0.05,
) -> ComparisonResult:  # fmt: skip
    """Welch's unequal-variance t-test from summary statistics.

    ``se^2 = var_a/n_a + var_b/n_b``, ``t = (mean_b - mean_a) / se`` and the
    Welch–Satterthwaite degrees of freedom
    ``df = se^4 / ((var_a/n_a)^2/(n_a - 1) + (var_b/n_b)^2/(n_b - 1))``;
    two-sided p-value from Student's t with ``df``, CI ``diff +- t_{1-alpha/2,df} se``.
    """
    for name, n in (("n_a", n_a), ("n_b", n_b)):
        if n < 2:
            raise ValidationError(f"{name} must be >= 2 for a t-test, got {n}")
    if not (math.isfinite(mean_a) and math.isfinite(mean_b)):
        raise ValidationError(f"means must be finite, got {mean_a} and {mean_b}")
    for name, v in (("var_a", var_a), ("var_b", var_b)):
        if not v >= 0.0:
            raise ValidationError(f"{name} must be a non-negative variance, got {v}")
    validate_alpha(alpha)
    va, vb = var_a / n_a, var_b / n_b
    se = math.sqrt(va + vb)
    diff = mean_b - mean_a
    if se > 0.0:
        df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
        t_stat = diff / se
    else:  # both arms constant: the difference is known exactly
        df = float(n_a + n_b - 2)
        t_stat = 0.0 if diff == 0.0 else math.copysign(math.inf, diff)
    p_value = float(2.0 * sps.t.sf(abs(t_stat), df))
    tc = float(sps.t.ppf(1.0 - alpha / 2.0, df))
    lift, lift_ci = _relative_lift(mean_a, math.sqrt(va), mean_b, math.sqrt(vb), tc)
    return ComparisonResult(
        diff, (diff - tc * se, diff + tc * se), lift, lift_ci, t_stat, p_value,
        p_value < alpha, "welch t-test", df,
    )  # fmt: skip


def welch_ttest_arrays(a: ArrayLike, b: ArrayLike, alpha: float = 0.05) -> ComparisonResult:
    """:func:`welch_ttest` on raw 1-D samples ``a`` (control) and ``b`` (treatment)."""
    xa, xb = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if xa.size < 2 or xb.size < 2:
        raise ValidationError("each sample needs at least 2 values for a t-test")
    return welch_ttest(
        float(xa.mean()), float(xa.var(ddof=1)), int(xa.size),
        float(xb.mean()), float(xb.var(ddof=1)), int(xb.size), alpha,
    )  # fmt: skip


def srm_check(
    observed_counts: Sequence[int], expected_weights: Sequence[float], threshold: float = 0.001
) -> SrmResult:
    """Sample-ratio mismatch: chi-square goodness of fit of arm sizes to weights.

    ``expected_i = N * w_i / sum(w)``; ``chi2 = sum (obs - exp)^2 / exp`` with
    ``k - 1`` degrees of freedom (:func:`scipy.stats.chisquare`). A p-value
    below ``threshold`` (strict, 0.001 by convention) flags broken assignment.
    """
    obs = np.asarray(observed_counts, dtype=np.float64)
    w = np.asarray(expected_weights, dtype=np.float64)
    if obs.ndim != 1 or obs.shape != w.shape or obs.size < 2:
        raise ValidationError("give one observed count and one weight per arm (>= 2 arms)")
    if np.any(obs < 0) or obs.sum() <= 0:
        raise ValidationError("observed counts must be >= 0 with a positive total")
    if np.any(w <= 0) or not np.all(np.isfinite(w)):
        raise ValidationError("expected weights must be finite and > 0")
    validate_alpha(threshold, "threshold")
    expected = obs.sum() * w / w.sum()
    stat, p = sps.chisquare(obs, expected)
    return SrmResult(float(stat), float(p), bool(p < threshold), tuple(expected.tolist()))


def _power_terms(p_a: float, p_b: float) -> tuple[float, float]:
    """``sqrt(2 pbar qbar)`` (null sd) and ``sqrt(p_a q_a + p_b q_b)`` (alternative sd)."""
    pbar = (p_a + p_b) / 2.0
    return math.sqrt(2 * pbar * (1 - pbar)), math.sqrt(p_a * (1 - p_a) + p_b * (1 - p_b))


def sample_size_two_proportions(
    p_base: float, mde: float, *, relative: bool = False,
    alpha: float = 0.05, power: float = 0.8,
) -> int:  # fmt: skip
    """Users per arm for a two-sided two-proportion z-test (equal arms).

    ``p_a = p_base``, ``p_b = p_base + mde`` (``p_base * (1 + mde)`` when ``relative``),
    ``d = p_b - p_a``, ``pbar = (p_a + p_b)/2`` (Fleiss, no continuity correction)::

        n = ceil((z_{1-alpha/2} sqrt(2 pbar qbar) + z_{power} sqrt(p_a q_a + p_b q_b))^2 / d^2)
    """
    validate_alpha(alpha)
    validate_alpha(power, "power")
    p_b = p_base * (1.0 + mde) if relative else p_base + mde
    if not (0.0 < p_base < 1.0 and 0.0 < p_b < 1.0 and p_b != p_base):
        raise ValidationError(
            f"need 0 < p_base < 1 and a non-zero mde keeping p_b in (0, 1); got {p_base}, {p_b}"
        )
    null_sd, alt_sd = _power_terms(p_base, p_b)
    za, zb = float(sps.norm.ppf(1 - alpha / 2)), float(sps.norm.ppf(power))
    return math.ceil((za * null_sd + zb * alt_sd) ** 2 / (p_b - p_base) ** 2)


def power_two_proportions(p_a: float, p_b: float, n_per_arm: int, alpha: float = 0.05) -> float:
    """Power of the two-sided pooled z-test with ``n_per_arm`` users per arm.

    Inverse of :func:`sample_size_two_proportions` (both rejection tails)::

        power = Phi((|d| sqrt(n) - z sqrt(2 pbar qbar)) / sd1) + Phi((-|d| sqrt(n) - z ...) / sd1)

    with ``d = p_b - p_a`` and ``sd1 = sqrt(p_a q_a + p_b q_b)``.
    """
    validate_alpha(alpha)
    if not (0.0 < p_a < 1.0 and 0.0 < p_b < 1.0) or n_per_arm < 1:
        raise ValidationError("need rates in (0, 1) and n_per_arm >= 1")
    null_sd, alt_sd = _power_terms(p_a, p_b)
    za = float(sps.norm.ppf(1 - alpha / 2))
    shift = abs(p_b - p_a) * math.sqrt(n_per_arm)
    return float(
        sps.norm.cdf((shift - za * null_sd) / alt_sd) + sps.norm.cdf((-shift - za * null_sd) / alt_sd)
    )
