"""Fixed-horizon statistics checked against hand computations and scipy."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats as sps

from recloop.errors import ValidationError
from recloop.experiments.stats import (
    pooled_z_p_value,
    power_two_proportions,
    proportion_ci,
    sample_size_two_proportions,
    srm_check,
    two_proportion_ztest,
    welch_ttest,
    welch_ttest_arrays,
)


def test_wilson_interval_45_of_100() -> None:
    # p = 0.45, n = 100, z = 1.959964, z^2 = 3.841459, denom = 1 + z^2/n = 1.0384146
    # centre = (0.45 + 3.841459/200) / 1.0384146 = 0.4692073 / 1.0384146 = 0.4518497
    # half = z / denom * sqrt(0.45*0.55/100 + 3.841459/40000)
    #      = 1.959964 / 1.0384146 * sqrt(0.002475 + 0.0000960365) = 0.0957043
    # -> [0.3561454, 0.5475540] (the textbook Wilson interval for 45/100)
    s = proportion_ci(45, 100)
    assert s.rate == 0.45
    assert s.ci_low == pytest.approx(0.3561454, abs=1e-6)
    assert s.ci_high == pytest.approx(0.5475540, abs=1e-6)


def test_wilson_interval_stays_inside_unit_interval() -> None:
    zero, full = proportion_ci(0, 20), proportion_ci(20, 20)
    assert zero.ci_low == 0.0 and 0.0 < zero.ci_high < 0.2
    assert full.ci_high == 1.0 and 0.8 < full.ci_low < 1.0
    # Wider for a stricter alpha.
    assert proportion_ci(45, 100, alpha=0.01).ci_low < proportion_ci(45, 100).ci_low


def test_ztest_200_of_1000_vs_250_of_1000() -> None:
    # pooled p = 450/2000 = 0.225; se0 = sqrt(0.225*0.775*(2/1000)) = sqrt(3.4875e-4) = 0.0186748
    # z = 0.05 / 0.0186748 = 2.677398; p = 2 (1 - Phi(2.677398)) = 2 * 0.0037098 = 0.0074196
    # unpooled se = sqrt(0.2*0.8/1000 + 0.25*0.75/1000) = sqrt(3.475e-4) = 0.0186414
    # diff CI = 0.05 +- 1.959964 * 0.0186414 = 0.05 +- 0.0365364 -> [0.0134636, 0.0865364]
    # lift R - 1 = 0.25, Var(R) = 1.25^2 (1.875e-4/0.0625 + 1.6e-4/0.04) = 1.5625 * 0.007
    #   = 0.0109375, sd 0.1045825, CI 0.25 +- 0.2049779 -> [0.0450221, 0.4549779]
    r = two_proportion_ztest(200, 1000, 250, 1000)
    assert r.diff == pytest.approx(0.05)
    assert r.statistic == pytest.approx(2.677398, abs=1e-6)
    assert r.p_value == pytest.approx(0.0074196, abs=1e-6)
    assert r.diff_ci == pytest.approx((0.0134636, 0.0865364), abs=1e-6)
    assert r.relative_lift == pytest.approx(0.25)
    assert r.lift_ci == pytest.approx((0.0450221, 0.4549779), abs=1e-6)
    assert r.significant and r.df == math.inf
    assert not two_proportion_ztest(200, 1000, 250, 1000, alpha=0.005).significant


def test_ztest_degenerate_and_zero_control() -> None:
    r = two_proportion_ztest(0, 100, 0, 100)
    assert r.p_value == 1.0 and r.statistic == 0.0 and not r.significant
    assert math.isnan(r.relative_lift) and math.isnan(r.lift_ci[0])


def test_pooled_z_p_value_vectorised_matches_scalar() -> None:
    s_a, n_a = np.array([[200, 10], [0, 50]]), np.array([[1000, 100], [0, 400]])
    s_b, n_b = np.array([[250, 12], [3, 61]]), np.array([[1000, 90], [10, 410]])
    p = pooled_z_p_value(s_a, n_a, s_b, n_b)
    assert p.shape == (2, 2) and p.dtype == np.float64
    assert p[1, 0] == 1.0  # arm a has no users yet
    for i, j in [(0, 0), (0, 1), (1, 1)]:
        ref = two_proportion_ztest(int(s_a[i, j]), int(n_a[i, j]), int(s_b[i, j]), int(n_b[i, j]))
        assert p[i, j] == pytest.approx(ref.p_value, rel=1e-12)


def test_welch_hand_computed_summary_stats() -> None:
    # a: mean 10, var 4, n 10 -> var/n = 0.4 ; b: mean 12, var 9, n 15 -> var/n = 0.6
    # se = sqrt(1.0) = 1, t = 2 / 1 = 2
    # df = 1.0^2 / (0.4^2/9 + 0.6^2/14) = 1 / (0.0177778 + 0.0257143) = 22.992701
    # lift: R = 1.2, Var(R) = (0.6 + 1.44*0.4) / 100 = 0.01176
    r = welch_ttest(10.0, 4.0, 10, 12.0, 9.0, 15)
    assert r.statistic == pytest.approx(2.0)
    assert r.df == pytest.approx(22.992701, abs=1e-6)
    ref = sps.ttest_ind_from_stats(12.0, 3.0, 15, 10.0, 2.0, 10, equal_var=False)
    assert r.p_value == pytest.approx(float(ref.pvalue), rel=1e-12)
    tc = sps.t.ppf(0.975, 22.992701)
    assert r.diff_ci == pytest.approx((2.0 - tc, 2.0 + tc), abs=1e-6)
    half = tc * math.sqrt(0.01176)
    assert r.lift_ci == pytest.approx((0.2 - half, 0.2 + half), abs=1e-6)
    assert not r.significant  # p = 0.0574


def test_welch_arrays_match_scipy_on_raw_data() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(5.0, 1.0, 40), rng.normal(5.6, 2.5, 25)
    r = welch_ttest_arrays(a, b)
    ref = sps.ttest_ind(b, a, equal_var=False)  # scipy's statistic is first - second
    assert r.statistic == pytest.approx(float(ref.statistic), rel=1e-10)
    assert r.p_value == pytest.approx(float(ref.pvalue), rel=1e-10)
    va, vb = a.var(ddof=1) / 40, b.var(ddof=1) / 25
    df = (va + vb) ** 2 / (va**2 / 39 + vb**2 / 24)  # Welch–Satterthwaite
    assert r.df == pytest.approx(df, rel=1e-12)
    if hasattr(ref, "confidence_interval"):
        ci = ref.confidence_interval(0.95)
        assert r.diff_ci == pytest.approx((float(ci.low), float(ci.high)), rel=1e-9)


def test_welch_constant_arms() -> None:
    assert welch_ttest(1.0, 0.0, 5, 1.0, 0.0, 5).p_value == 1.0
    assert welch_ttest(1.0, 0.0, 5, 2.0, 0.0, 5).p_value == 0.0


def test_srm_5000_vs_5200() -> None:
    # expected 5100 each: chi2 = 2 * 100^2 / 5100 = 3.9215686, 1 df
    # p = P(chi2_1 > 3.92157) = 2 (1 - Phi(sqrt(3.92157) = 1.980295)) = 2 * 0.0238352 = 0.0476704
    r = srm_check([5000, 5200], [0.5, 0.5])
    assert r.statistic == pytest.approx(3.9215686, abs=1e-6)
    assert r.p_value == pytest.approx(0.0476704, abs=1e-6)
    assert r.expected_counts == (5100.0, 5100.0)
    assert not r.mismatch  # 0.048 > 0.001: not a sample-ratio mismatch
    assert srm_check([5000, 5200], [1, 1], threshold=0.05).mismatch
    assert srm_check([5000, 5600], [1, 1]).mismatch  # chi2 = 33.96, p ~ 6e-9


def test_sample_size_p10_mde2_matches_textbook_formula() -> None:
    # p1 = 0.10, p2 = 0.12, pbar = 0.11; z_.975 = 1.959964, z_.8 = 0.841621
    # sqrt(2*0.11*0.89) = 0.4424929, sqrt(0.1*0.9 + 0.12*0.88) = 0.4422669
    # n = (1.959964*0.4424929 + 0.841621*0.4422669)^2 / 0.02^2
    #   = (0.8672702 + 0.3722217)^2 / 0.0004 = 1.5363396 / 0.0004 = 3840.85 -> 3841
    assert sample_size_two_proportions(0.1, 0.02) == 3841
    assert sample_size_two_proportions(0.1, 0.2, relative=True) == 3841  # same p2 = 0.12
    # The simpler unpooled formula (z_a + z_b)^2 (p1 q1 + p2 q2) / d^2 = 3838.1 is close.
    assert abs(3841 - 7.848879 * 0.1956 / 0.0004) < 5
    assert sample_size_two_proportions(0.1, 0.02, power=0.9) > 3841


def test_power_inverts_sample_size() -> None:
    n = sample_size_two_proportions(0.1, 0.02)
    assert power_two_proportions(0.1, 0.12, n) == pytest.approx(0.8, abs=2e-4)
    assert power_two_proportions(0.1, 0.12, n) >= 0.8 > power_two_proportions(0.1, 0.12, n - 1)
    assert power_two_proportions(0.1, 0.1, 1000) == pytest.approx(0.05, abs=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda: proportion_ci(-1, 10),
        lambda: proportion_ci(11, 10),
        lambda: proportion_ci(1, 0),
        lambda: proportion_ci(1, 10, alpha=1.5),
        lambda: two_proportion_ztest(5, 10, 5, 10, alpha=0.0),
        lambda: two_proportion_ztest(5, 10, 12, 10),
        lambda: welch_ttest(1.0, -1.0, 10, 1.0, 1.0, 10),
        lambda: welch_ttest(1.0, 1.0, 1, 1.0, 1.0, 10),
        lambda: welch_ttest_arrays([1.0], [1.0, 2.0]),
        lambda: srm_check([10, -1], [1, 1]),
        lambda: srm_check([10, 10], [1, 0]),
        lambda: srm_check([10, 10], [1, 1, 1]),
        lambda: sample_size_two_proportions(0.1, 0.0),
        lambda: sample_size_two_proportions(0.95, 0.1),
        lambda: sample_size_two_proportions(0.1, 0.02, power=1.0),
        lambda: power_two_proportions(0.1, 0.12, 0),
    ],
)
def test_bad_arguments_raise_validation_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        call()
