"""Drift statistics: compare a recent window with the training reference.

Input drift (features), output drift (scores, cold-start share, popularity
concentration of recommendations) and the online positive-feedback rate are
scored, then :func:`detect_drift` flags alerts. Pure numpy + scipy.stats.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats

from recloop.errors import ValidationError

__all__ = [
    "Concentration",
    "DriftInputs",
    "DriftReport",
    "DriftScore",
    "DriftThresholds",
    "SlidingRate",
    "StatTestResult",
    "chi_square_categorical",
    "concentration",
    "detect_drift",
    "ks_numeric",
    "psi_categorical",
    "psi_numeric",
]

FloatArray = npt.NDArray[np.float64]
Counts = Mapping[str, int]
ScoreKind = Literal["psi", "ks", "chi2", "delta", "relative_drop"]


class StatTestResult(NamedTuple):
    """A two-sample test: its statistic and p-value (unpacks as a pair)."""

    statistic: float
    p_value: float


class Concentration(NamedTuple):
    """Popularity concentration: Gini in [0, 1) and the share held by the top 10 % of items."""

    gini: float
    top10_share: float


def _sample(name: str, values: npt.ArrayLike) -> FloatArray:
    """Return ``values`` as a finite, non-empty 1-D float64 array or raise ValidationError."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        msg = f"{name} must be a non-empty 1-D array without NaN/inf; got shape {arr.shape}"
        raise ValidationError(msg)
    return arr


def _psi(ref_p: FloatArray, cur_p: FloatArray, eps: float) -> float:
    """PSI = sum((c - r) * ln(c / r)) over bins, proportions floored at ``eps``."""
    if not 0.0 < eps < 1.0:
        raise ValidationError(f"eps must be in (0, 1); got {eps}")
    r, c = np.maximum(ref_p, eps), np.maximum(cur_p, eps)
    return float(np.sum((c - r) * np.log(c / r)))


def psi_numeric(reference: npt.ArrayLike, current: npt.ArrayLike, bins: int = 10, eps: float = 1e-4) -> float:
    """Population Stability Index of ``current`` against ``reference`` (1-D float arrays).

    Cut points are the reference's inner quantiles (k/bins, k = 1..bins-1),
    deduplicated (ties in ratings or counts); bins are ``[cut_k, cut_k+1)``
    and the outer two are open-ended, so current values outside the reference
    range are counted. If the top cut is the reference maximum (constant or
    binary feature), a cut just above it gives larger values their own bin.
    """
    if bins < 2:
        raise ValidationError(f"bins must be >= 2; got {bins}")
    ref, cur = _sample("reference", reference), _sample("current", current)
    cuts = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    if cuts[-1] >= ref.max():
        cuts = np.append(cuts, np.nextafter(ref.max(), np.inf))
    n_bins = cuts.size + 1
    ref_counts = np.bincount(np.searchsorted(cuts, ref, side="right"), minlength=n_bins)
    cur_counts = np.bincount(np.searchsorted(cuts, cur, side="right"), minlength=n_bins)
    return _psi(ref_counts / ref.size, cur_counts / cur.size, eps)


def _count_table(reference_counts: Counts, current_counts: Counts) -> tuple[FloatArray, FloatArray]:
    """Align two category -> count mappings over their sorted union of categories."""
    keys = sorted(set(reference_counts) | set(current_counts))
    ref = np.array([reference_counts.get(k, 0) for k in keys], dtype=np.float64)
    cur = np.array([current_counts.get(k, 0) for k in keys], dtype=np.float64)
    for name, arr in (("reference_counts", ref), ("current_counts", cur)):
        if not np.all(np.isfinite(arr)) or np.any(arr < 0) or arr.sum() <= 0:
            raise ValidationError(f"{name} must hold finite counts >= 0 with a positive total")
    return ref, cur


def psi_categorical(reference_counts: Counts, current_counts: Counts, eps: float = 1e-4) -> float:
    """PSI over the union of categories; a category unseen on one side gets proportion ``eps``."""
    ref, cur = _count_table(reference_counts, current_counts)
    return _psi(ref / ref.sum(), cur / cur.sum(), eps)


def chi_square_categorical(reference_counts: Counts, current_counts: Counts) -> StatTestResult:
    """Pearson chi-square test of homogeneity on the 2 x K table of counts.

    All-zero columns are dropped; no Yates correction; one category left gives
    (0.0, 1.0). Large windows make tiny shifts "significant": read it with PSI.
    """
    ref, cur = _count_table(reference_counts, current_counts)
    table = np.vstack([ref, cur])[:, ref + cur > 0]
    if table.shape[1] < 2:
        return StatTestResult(0.0, 1.0)
    res = stats.chi2_contingency(table, correction=False)
    return StatTestResult(float(res.statistic), float(res.pvalue))


def ks_numeric(reference: npt.ArrayLike, current: npt.ArrayLike) -> StatTestResult:
    """Two-sample Kolmogorov-Smirnov test (two-sided) of two 1-D float samples."""
    res = stats.ks_2samp(_sample("reference", reference), _sample("current", current))
    return StatTestResult(float(res.statistic), float(res.pvalue))


def concentration(counts: Counts | npt.ArrayLike) -> Concentration:
    """Gini coefficient and top-10 % share of per-item counts (mapping or 1-D array).

    Population Gini ``sum_ij |x_i - x_j| / (2 n^2 mean)`` (0 for equal counts);
    the top 10 % are the ``ceil(0.1 n)`` most counted items. Only items present
    are measured: pass zeros to include never-recommended items.
    """
    values = list(counts.values()) if isinstance(counts, Mapping) else counts
    x = np.sort(_sample("counts", values))
    if np.any(x < 0) or x.sum() <= 0:
        raise ValidationError("counts must be >= 0 with a positive total")
    n = x.size
    gini = float(2.0 * np.sum(np.arange(1, n + 1) * x) / (n * x.sum()) - (n + 1) / n)
    top10 = float(x[n - math.ceil(0.1 * n) :].sum() / x.sum())
    return Concentration(max(gini, 0.0), top10)


class DriftThresholds(BaseModel):
    """When drift scores alert (PSI between warn and alert only warns), and PSI binning."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    psi_warn: float = Field(0.1, gt=0)
    psi_alert: float = Field(0.25, gt=0)
    ks_p: float = Field(0.01, gt=0, lt=1)
    chi2_p: float = Field(0.01, gt=0, lt=1)
    positive_rate_drop: float = Field(0.2, gt=0, le=1, description="relative drop")
    cold_share_delta: float = Field(0.15, gt=0, le=1, description="absolute change")
    gini_delta: float = Field(0.1, gt=0, le=1, description="absolute change")
    psi_bins: int = Field(10, ge=2, description="quantile bins of numeric PSI")
    psi_eps: float = Field(1e-4, gt=0, lt=1, description="floor of PSI proportions")


@dataclass(frozen=True)
class DriftScore:
    """One drift check and whether it alerts (``warn``: PSI above ``psi_warn``).

    ``ks``/``chi2`` alert when ``p_value < threshold``; ``delta`` (signed,
    current - reference) when ``|statistic| > threshold``; ``psi`` and
    ``relative_drop`` when ``statistic > threshold``.
    """

    name: str
    kind: ScoreKind
    statistic: float
    p_value: float | None
    threshold: float
    alert: bool
    warn: bool = False


@dataclass(frozen=True)
class DriftReport:
    """All drift scores of one comparison; ``alert`` is true if any score alerts."""

    scores: tuple[DriftScore, ...]
    alert: bool
    created_at: datetime

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (``created_at`` as ISO 8601)."""
        scores = [asdict(s) for s in self.scores]
        return {"alert": self.alert, "created_at": self.created_at.isoformat(), "scores": scores}


@dataclass(frozen=True, kw_only=True)
class DriftInputs:
    """One window's data for drift detection (reference = training, current = recent).

    ``numeric``: name -> 1-D float array (user activity counts, item popularity
    of interactions, ratings); ``categorical``: name -> category counts (event
    types, genres); ``output_scores``: 1-D float array of recommendation scores;
    ``cold_start_share`` in [0, 1] of requests served cold; ``recommended_counts``:
    item id -> times recommended; ``positive_rate``: online rate or None.
    """

    output_scores: FloatArray
    cold_start_share: float
    recommended_counts: Mapping[str, int]
    numeric: Mapping[str, FloatArray] = field(default_factory=dict)
    categorical: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    positive_rate: float | None = None


def _psi_score(name: str, v: float, t: DriftThresholds) -> DriftScore:
    """A PSI score with its warn and alert levels."""
    return DriftScore(name, "psi", v, None, t.psi_alert, v > t.psi_alert, v > t.psi_warn)


def detect_drift(
    reference: DriftInputs, current: DriftInputs, thresholds: DriftThresholds | None = None
) -> DriftReport:
    """Score every drift check of ``current`` against ``reference`` and flag alerts.

    Numeric features get PSI + KS, categorical ones PSI + chi-square, output
    scores PSI; cold-start share and Gini of recommended items get signed
    deltas; the positive-feedback rate its relative drop (when both are known).
    """
    t = thresholds or DriftThresholds()
    names = (set(reference.numeric), set(reference.categorical))
    if names != (set(current.numeric), set(current.categorical)):
        raise ValidationError("pass the same numeric and categorical feature names for both")
    if not (0 <= reference.cold_start_share <= 1 and 0 <= current.cold_start_share <= 1):
        raise ValidationError("cold_start_share must be a fraction in [0, 1]")
    scores: list[DriftScore] = []
    for name in sorted(reference.numeric):
        ref_x, cur_x = reference.numeric[name], current.numeric[name]
        key, ks = f"numeric.{name}", ks_numeric(ref_x, cur_x)
        scores.append(_psi_score(key, psi_numeric(ref_x, cur_x, t.psi_bins, t.psi_eps), t))
        scores.append(DriftScore(key, "ks", *ks, t.ks_p, ks.p_value < t.ks_p))
    for name in sorted(reference.categorical):
        ref_c, cur_c = reference.categorical[name], current.categorical[name]
        key, chi2 = f"categorical.{name}", chi_square_categorical(ref_c, cur_c)
        scores.append(_psi_score(key, psi_categorical(ref_c, cur_c, t.psi_eps), t))
        scores.append(DriftScore(key, "chi2", *chi2, t.chi2_p, chi2.p_value < t.chi2_p))
    psi = psi_numeric(reference.output_scores, current.output_scores, t.psi_bins, t.psi_eps)
    scores.append(_psi_score("output.scores", psi, t))
    cold = current.cold_start_share - reference.cold_start_share
    gini = concentration(current.recommended_counts).gini
    gini -= concentration(reference.recommended_counts).gini
    for name, delta, limit in (
        ("output.cold_start_share", cold, t.cold_share_delta),
        ("output.gini", gini, t.gini_delta),
    ):
        scores.append(DriftScore(name, "delta", delta, None, limit, abs(delta) > limit))
    if reference.positive_rate is not None and current.positive_rate is not None:
        base, lim, key = reference.positive_rate, t.positive_rate_drop, "online.positive_rate"
        drop = (base - current.positive_rate) / base if base > 0 else 0.0
        scores.append(DriftScore(key, "relative_drop", drop, None, lim, drop > lim))
    return DriftReport(tuple(scores), any(s.alert for s in scores), datetime.now(UTC))


class SlidingRate:
    """Online quality signal: positive share of the last ``window`` outcomes (O(1), thread-safe)."""

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValidationError(f"window must be >= 1; got {window}")
        self._outcomes: deque[bool] = deque(maxlen=window)
        self._positives = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Number of outcomes currently in the window."""
        return len(self._outcomes)

    def update(self, positive: bool) -> None:
        """Add one outcome, evicting the oldest when the window is full."""
        with self._lock:
            if len(self._outcomes) == self._outcomes.maxlen and self._outcomes[0]:
                self._positives -= 1
            self._outcomes.append(bool(positive))
            self._positives += bool(positive)

    @property
    def rate(self) -> float | None:
        """Positive share of the outcomes in the window, or None if there are none."""
        with self._lock:
            n = len(self._outcomes)
            return self._positives / n if n else None
