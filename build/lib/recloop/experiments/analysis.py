"""Results of an experiment from its per-variant counters: O(variants), pure functions.

Metrics are ratios: ``ctr``/``like_rate``/``positive_rate`` = lists with a
success / lists served, ``mean_rating`` = sum of attributed ratings /
their number. Users are the unit of randomisation and a user contributes
many correlated lists (a heavy user clicks on all of them), so binomial
variances understate the truth: in simulated A/A tests with three lists per
user, half of the runs "found" a winner. Each ratio's variance is therefore
the delta-method variance with users as independent units (Deng, Knoblich
& Lu 2018), from the per-user cross sums the store keeps. Its ratio to the
naive variance is the design effect ``deff`` (at least 1), and the
prescribed tests run on *effective counts* ``n_eff = n / deff`` (Kish):
Wilson intervals and the two-proportion z-test, or Welch's t-test and a t
interval for ``mean_rating``. With one list per user ``deff`` is ~1 and
everything is the textbook analysis.

Every treatment (variants after the first) is compared with the control
(the first) at ``alpha / (K - 1)`` (Bonferroni): the fixed-horizon test gives
the reported ``p_value``/``lift``, the always-valid mSPRT
(:mod:`recloop.experiments.sequential`) gives the decision. A look counts
for the mSPRT only once every variant has ``min_users`` users (plug-in
variances of tiny arms break its guarantee). Its p-value is kept as a
running minimum *per direction* (looks where the treatment is ahead, looks
where it is behind): each directional minimum is at least the two-sided one,
so rejecting in either direction keeps the error at most ``alpha``, and a
rejection always has a sign.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from scipy import stats as sps

from recloop.experiments.models import (
    Experiment,
    ExperimentSpec,
    MetricName,
    SrmOut,
    Variant,
    VariantCounters,
)
from recloop.experiments.sequential import msprt_p_value, tau_for_horizon
from recloop.experiments.stats import (
    ComparisonResult,
    proportion_ci,
    srm_check,
    two_proportion_ztest,
    welch_ttest,
)

__all__ = [
    "RATING_VARIANCE",
    "ArmStats",
    "Direction",
    "arm_stats",
    "compare",
    "direction_key",
    "finite",
    "guardrail_breached",
    "look_p_value",
    "mixing_sd",
    "ratio_variance",
    "srm",
]

RATING_VARIANCE = 1.27
"""Variance of MovieLens-100K ratings (1.267): the planning variance for ``mean_rating``."""

Direction = str  # "+" (treatment ahead) or "-" (treatment behind)


def finite(x: float | None) -> float | None:
    """``x`` if it is a finite number, else None (JSON has no NaN)."""
    return float(x) if x is not None and math.isfinite(x) else None


@dataclass(frozen=True, slots=True)
class ArmStats:
    """One variant on one metric.

    Raw counts: ``exposures`` (lists), ``users``, ``successes`` (lists with
    a success, or the number of ratings). ``mean``: rate or mean rating (NaN
    without data); ``var``: per-unit variance (``p (1 - p)``, or the sample
    variance of ratings; NaN if undefined); ``deff``: design effect (>= 1);
    ``n_eff``/``s_eff``: effective trials and successes (ints, for the tests);
    ``ci``: ``1 - alpha`` interval of ``mean`` from the effective counts
    (NaNs if undefined).
    """

    variant: Variant
    exposures: int
    users: int
    successes: int
    mean: float
    var: float
    deff: float
    n_eff: int
    s_eff: int
    ci: tuple[float, float]


def ratio_variance(units: int, sx: float, sy: float, sxx: float, syy: float, sxy: float) -> float:
    """Delta-method variance of ``R = sum y / sum x`` over ``units`` iid units (NaN if undefined).

    With unit means ``mx, my`` and plug-in (co)variances ``cxx, cyy, cxy``
    (divided by ``units``, so that one trial per unit gives exactly the
    binomial ``R (1 - R) / n``): ``Var(R) ~ (cyy - 2 R cxy + R^2 cxx) / (units * mx^2)``.
    """
    if units < 2 or sx <= 0:
        return math.nan
    mx, my, r = sx / units, sy / units, sy / sx
    cxx = sxx / units - mx * mx
    cyy = syy / units - my * my
    cxy = sxy / units - mx * my
    return max(0.0, (cyy - 2.0 * r * cxy + r * r * cxx) / (units * mx * mx))


def _deff(robust: float, naive: float) -> float:
    return max(1.0, robust / naive) if naive > 0 and math.isfinite(robust) else 1.0


def arm_stats(variant: Variant, c: VariantCounters, metric: MetricName, alpha: float) -> ArmStats:
    """Summary of ``variant`` on ``metric`` from its counters (see the module docstring)."""
    nan = (math.nan, math.nan)
    if metric != "mean_rating":
        n = c.exposures
        s = min(c.successes.get(metric, 0), n)
        if n == 0:
            return ArmStats(variant, 0, c.users, 0, math.nan, math.nan, 1.0, 0, 0, nan)
        rate = s / n
        robust = ratio_variance(c.users, n, s, c.n_sq, c.x_sq.get(metric, 0.0), c.xn.get(metric, 0.0))
        deff = _deff(robust, rate * (1 - rate) / n)
        n_eff = max(1, round(n / deff))
        s_eff = min(n_eff, round(rate * n_eff))
        w = proportion_ci(s_eff, n_eff, alpha)
        return ArmStats(variant, n, c.users, s, rate, rate * (1 - rate), deff, n_eff, s_eff,
                        (w.ci_low, w.ci_high))  # fmt: skip
    k = c.ratings
    if k == 0:
        return ArmStats(variant, c.exposures, c.users, 0, math.nan, math.nan, 1.0, 0, 0, nan)
    mean = c.rating_sum / k
    if k < 2:
        return ArmStats(variant, c.exposures, c.users, k, mean, math.nan, 1.0, k, k, nan)
    var = max(0.0, (c.rating_sumsq - c.rating_sum**2 / k) / (k - 1))
    robust = ratio_variance(c.users, k, c.rating_sum, c.k_sq, c.r_sq, c.rk)
    deff = _deff(robust, var / k)
    n_eff = max(2, round(k / deff))
    half = float(sps.t.ppf(1 - alpha / 2, n_eff - 1)) * math.sqrt(var / n_eff)
    return ArmStats(variant, c.exposures, c.users, k, mean, var, deff, n_eff, n_eff,
                    (mean - half, mean + half))  # fmt: skip


def compare(a: ArmStats, b: ArmStats, metric: MetricName, alpha: float) -> ComparisonResult | None:
    """Fixed-horizon test of ``b`` vs ``a`` on effective counts (z-test, or Welch for ratings)."""
    if metric != "mean_rating":
        if a.n_eff == 0 or b.n_eff == 0:
            return None
        return two_proportion_ztest(a.s_eff, a.n_eff, b.s_eff, b.n_eff, alpha)
    if a.n_eff < 2 or b.n_eff < 2 or not (math.isfinite(a.var) and math.isfinite(b.var)):
        return None
    return welch_ttest(a.mean, a.var, a.n_eff, b.mean, b.var, b.n_eff, alpha)


def mixing_sd(spec: ExperimentSpec) -> float:
    """mSPRT ``tau``: the effect the plan is powered for (80%, per-comparison alpha).

    Horizon variance of the difference: ``2 p (1 - p) / N`` with
    ``p = baseline_rate`` for binary metrics, ``2 * 1.27 / N`` for
    ``mean_rating``; ``N = planned_exposures`` per variant.
    """
    p = spec.baseline_rate
    unit_var = RATING_VARIANCE if spec.primary_metric == "mean_rating" else p * (1 - p)
    alpha = spec.alpha / (len(spec.variants) - 1)
    return tau_for_horizon(2.0 * unit_var / spec.planned_exposures, alpha)


def look_p_value(a: ArmStats, b: ArmStats, tau: float, min_users: int = 2) -> tuple[Direction, float]:
    """This look's mSPRT p-value ``min(1, 1/Lambda)`` of ``b - a`` and its direction.

    ``V = var_a / n_eff_a + var_b / n_eff_b`` (unpooled, cluster-robust); a
    look before both arms have ``min_users`` users, or without information
    (``V = 0``), gives p = 1.
    """
    ok = min(a.users, b.users) >= min_users and min(a.n_eff, b.n_eff) >= 2
    if not ok or not (math.isfinite(a.var) and math.isfinite(b.var)):
        return "+", 1.0
    diff = b.mean - a.mean
    variance = a.var / a.n_eff + b.var / b.n_eff
    return ("+" if diff >= 0 else "-"), float(msprt_p_value(diff, variance, tau))


def direction_key(metric: str, variant: str, direction: Direction) -> str:
    """Store key of a directional running minimum: ``metric:variant:+``."""
    return f"{metric}:{variant}:{direction}"


def guardrail_breached(
    winner: Variant, loser: Variant, counters: Mapping[str, VariantCounters],
    metric: MetricName, alpha: float,
) -> bool:  # fmt: skip
    """Whether ``winner`` is significantly worse than ``loser`` on ``metric`` (fixed horizon)."""
    empty = VariantCounters()
    w = arm_stats(winner, counters.get(winner.name, empty), metric, alpha)
    lo = arm_stats(loser, counters.get(loser.name, empty), metric, alpha)
    res = compare(lo, w, metric, alpha)
    return res is not None and res.significant and res.diff < 0


def srm(experiment: Experiment, counters: Mapping[str, VariantCounters]) -> SrmOut:
    """Chi-square of exposed users per variant against the A/B weights (alert p < 0.001).

    Bandit allocation is adaptive by design: no SRM check (p_value None).
    A user seen in a zero-weight variant is a mismatch by itself.
    """
    spec = experiment.spec
    if spec.mode != "ab":
        return SrmOut(p_value=None, mismatch=False)
    users = {v.name: counters[v.name].users if v.name in counters else 0 for v in spec.variants}
    if any(v.weight == 0 and users[v.name] > 0 for v in spec.variants):
        return SrmOut(p_value=0.0, mismatch=True)
    live = [v for v in spec.variants if v.weight > 0]
    if len(live) < 2 or sum(users[v.name] for v in live) == 0:
        return SrmOut(p_value=None, mismatch=False)
    res = srm_check([users[v.name] for v in live], [v.weight for v in live])
    return SrmOut(p_value=finite(res.p_value), mismatch=res.mismatch)
