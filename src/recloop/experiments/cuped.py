"""CUPED: variance reduction of an A/B difference with a pre-experiment covariate.

Deng, Xu, Kohavi & Walker (2013). Per user, ``y`` is the metric during the
experiment and ``x`` a covariate fixed before it (here the user's activity
before the experiment: their number of interactions in the training history).
With ``theta = cov(y, x) / var(x)`` pooled over both arms, the adjusted metric
``y - theta (x - mean x)`` has the same expectation difference between arms
(``x`` is independent of the assignment) and variance ``(1 - rho^2) var(y)``.
The test is Welch's t-test on the adjusted values; ``theta`` estimated from
the same data costs O(1/n), negligible at experiment sizes (the A/A benchmark
checks the false-positive rate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

__all__ = ["CupedResult", "cuped", "cuped_sums", "cuped_theta"]


@dataclass(frozen=True, slots=True)
class CupedResult:
    """Plain and CUPED-adjusted difference ``b - a`` of per-user means.

    ``diff``/``diff_cuped`` with standard errors, two-sided p-values and
    ``1 - alpha`` intervals; ``theta``; ``variance_reduction`` =
    ``1 - se_cuped^2 / se^2`` (the share of the variance removed).
    """

    diff: float
    se: float
    p_value: float
    ci: tuple[float, float]
    diff_cuped: float
    se_cuped: float
    p_value_cuped: float
    ci_cuped: tuple[float, float]
    theta: float
    variance_reduction: float


def cuped_theta(y: ArrayLike, x: ArrayLike) -> float:
    """``cov(y, x) / var(x)`` (0 when ``x`` is constant)."""
    y_, x_ = np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64)
    vx = float(x_.var())
    return float(((y_ - y_.mean()) * (x_ - x_.mean())).mean() / vx) if vx > 0 else 0.0


def _welch(
    a: NDArray[np.float64], b: NDArray[np.float64], alpha: float
) -> tuple[float, float, float, tuple[float, float]]:
    diff = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, 0.0, 1.0, (diff, diff)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = diff / se
    p = float(2 * sps.t.sf(abs(t), df))
    h = float(sps.t.ppf(1 - alpha / 2, df)) * se
    return diff, se, p, (diff - h, diff + h)


def cuped(y_a: ArrayLike, x_a: ArrayLike, y_b: ArrayLike, x_b: ArrayLike, alpha: float = 0.05) -> CupedResult:
    """Plain and CUPED Welch tests of per-user metrics ``y`` with covariates ``x`` (>= 2 users per arm)."""
    ya, xa = np.asarray(y_a, dtype=np.float64), np.asarray(x_a, dtype=np.float64)
    yb, xb = np.asarray(y_b, dtype=np.float64), np.asarray(x_b, dtype=np.float64)
    theta = cuped_theta(np.concatenate([ya, yb]), np.concatenate([xa, xb]))
    mx = float(np.concatenate([xa, xb]).mean())
    d, se, p, ci = _welch(ya, yb, alpha)
    dc, sec, pc, cic = _welch(ya - theta * (xa - mx), yb - theta * (xb - mx), alpha)
    vr = 1.0 - sec**2 / se**2 if se > 0 else 0.0
    return CupedResult(d, se, p, ci, dc, sec, pc, cic, theta, vr)


def cuped_sums(y: ArrayLike, x: ArrayLike, arm: ArrayLike) -> dict[str, NDArray[np.float64]]:
    """Vectorised CUPED over many experiments: rows are experiments, columns users.

    ``y``, ``x`` float (R, N); ``arm`` bool (R, N), True for treatment. Returns
    ``diff``, ``se``, ``diff_cuped``, ``se_cuped`` (R,) with unpooled (Welch)
    standard errors, for the benchmark's thousands of A/A and A/B runs.
    """
    y_, x_, b = (np.asarray(v, dtype=np.float64) for v in (y, x, arm))
    xc = x_ - x_.mean(axis=1, keepdims=True)
    theta = (xc * (y_ - y_.mean(axis=1, keepdims=True))).mean(axis=1, keepdims=True) / np.maximum(
        (xc * xc).mean(axis=1, keepdims=True), 1e-300
    )
    out: dict[str, NDArray[np.float64]] = {}
    for name, v in (("", y_), ("_cuped", y_ - theta * xc)):
        stats = []
        for mask in (1.0 - b, b):
            n = mask.sum(axis=1)
            m = (v * mask).sum(axis=1) / n
            var = ((v - m[:, None]) ** 2 * mask).sum(axis=1) / (n - 1)
            stats.append((m, var / n))
        out[f"diff{name}"] = stats[1][0] - stats[0][0]
        out[f"se{name}"] = np.sqrt(stats[0][1] + stats[1][1])
    return out
