"""Drift statistics against hand-computed values, and alerting of detect_drift."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import numpy as np
import pydantic
import pytest

from recloop.errors import ValidationError
from recloop.monitoring.drift import (
    DriftInputs,
    DriftThresholds,
    SlidingRate,
    chi_square_categorical,
    concentration,
    detect_drift,
    ks_numeric,
    psi_categorical,
    psi_numeric,
)

EPS = 1e-4


# --- PSI ------------------------------------------------------------------------------


def test_psi_numeric_hand_computed() -> None:
    # bins=2: the reference median 1.5 is the only cut -> reference proportions [0.5, 0.5];
    # current [0, 0, 0, 3, 3] -> [0.6, 0.4].
    # PSI = (0.6 - 0.5) ln(0.6/0.5) + (0.4 - 0.5) ln(0.4/0.5) = 0.1 ln 1.2 - 0.1 ln 0.8
    #     = 0.0182322 + 0.0223144 = 0.0405465
    psi = psi_numeric([0.0, 1.0, 2.0, 3.0], [0.0, 0.0, 0.0, 3.0, 3.0], bins=2)
    assert psi == pytest.approx(0.1 * math.log(1.2) - 0.1 * math.log(0.8))
    assert psi == pytest.approx(0.0405465, abs=1e-7)


def test_psi_numeric_identical_samples_is_zero() -> None:
    x = np.random.default_rng(0).normal(size=1000)
    assert psi_numeric(x, x) == pytest.approx(0.0, abs=1e-12)
    assert psi_numeric(x, x[::-1]) == pytest.approx(0.0, abs=1e-12)


def test_psi_numeric_counts_values_above_reference_range_in_open_top_bin() -> None:
    # reference 0..9 with 10 bins: cuts 0.9, 1.8, ..., 8.1 -> ten bins of 0.1 each.
    # All current values (100) fall in the open top bin: proportions [eps]*9 + [1].
    # PSI = (1 - 0.1) ln(1/0.1) + 9 (eps - 0.1) ln(eps/0.1)
    #     = 0.9 * 2.302585 + 9 * 0.0999 * 6.907755 = 2.072327 + 6.210763 = 8.283089
    psi = psi_numeric(np.arange(10.0), np.full(5, 100.0))
    assert psi == pytest.approx(8.283089, abs=1e-6)


def test_psi_numeric_constant_reference_detects_values_above_it() -> None:
    # cuts [5, 5+ulp] -> bins (<5, ==5, >5): reference [0, 1, 0], current [0, 0, 1].
    # PSI = (eps - 1) ln(eps/1) + (1 - eps) ln(1/eps) = 2 (1 - eps) ln(1/eps) = 18.41884
    psi = psi_numeric(np.full(10, 5.0), np.full(10, 6.0))
    assert psi == pytest.approx(2 * (1 - EPS) * math.log(1 / EPS))


def test_psi_numeric_keeps_ratings_apart() -> None:
    # integer ratings: tied quantiles are deduplicated, each rating keeps its own bin
    ref = np.repeat([1.0, 2.0, 3.0, 4.0, 5.0], 20)
    assert psi_numeric(ref, ref) == 0.0
    assert psi_numeric(ref, np.repeat([1.0, 2.0, 3.0, 5.0, 5.0], 20)) > 1.0


def test_psi_categorical_hand_computed_and_unseen_category() -> None:
    # same 0.5/0.5 vs 0.6/0.4 as the numeric case
    psi = psi_categorical({"view": 50, "click": 50}, {"view": 60, "click": 40})
    assert psi == pytest.approx(0.0405465, abs=1e-7)
    # "new" is unseen in the reference: reference [1, eps], current [0.5, 0.5]
    # PSI = (0.5 - 1) ln(0.5) + (0.5 - eps) ln(0.5/eps) = 0.346574 + 4.257745 = 4.604319
    psi = psi_categorical({"old": 100}, {"old": 50, "new": 50}, eps=EPS)
    assert psi == pytest.approx(-0.5 * math.log(0.5) + (0.5 - EPS) * math.log(0.5 / EPS))
    assert psi == pytest.approx(4.604319, abs=1e-6)


# --- hypothesis tests -----------------------------------------------------------------


def test_chi_square_matches_textbook_2x2() -> None:
    # [[10, 20], [30, 40]]: row sums 30, 70; column sums 40, 60; N = 100.
    # expected [[12, 18], [28, 42]]; chi2 = 4/12 + 4/18 + 4/28 + 4/42 = 0.793651 (no Yates).
    # 1 dof: p = erfc(sqrt(chi2 / 2)) = 0.372998
    stat, p = chi_square_categorical({"a": 10, "b": 20, "z": 0}, {"a": 30, "b": 40, "z": 0})
    assert stat == pytest.approx(4 / 12 + 4 / 18 + 4 / 28 + 4 / 42)
    assert p == pytest.approx(math.erfc(math.sqrt(stat / 2)))
    assert p == pytest.approx(0.372998, abs=1e-6)


def test_chi_square_single_category_is_no_difference() -> None:
    assert tuple(chi_square_categorical({"a": 5}, {"a": 50})) == (0.0, 1.0)


def test_ks_rejects_shift_and_accepts_same_distribution() -> None:
    rng = np.random.default_rng(7)
    ref = rng.normal(size=400)
    assert ks_numeric(ref, rng.normal(0.5, 1.0, size=400)).p_value < 0.01
    same = ks_numeric(ref, rng.normal(size=400))
    assert same.p_value > 0.05
    assert ks_numeric([0.0, 1.0], [2.0, 3.0]).statistic == 1.0


# --- concentration --------------------------------------------------------------------


def test_concentration_population_gini_and_top10_share() -> None:
    # population Gini = sum_ij |x_i - x_j| / (2 n^2 mean)
    equal = concentration([5] * 10)
    assert equal.gini == pytest.approx(0.0, abs=1e-12)
    assert equal.top10_share == pytest.approx(0.1)  # ceil(0.1 * 10) = 1 item of 10
    # [0, 0, 0, 10]: sum_ij |x_i - x_j| = 6 * 10 = 60; 2 * 4^2 * 2.5 = 80 -> 0.75;
    # the top ceil(0.4) = 1 item holds everything.
    skewed = concentration({"a": 0, "b": 0, "c": 0, "d": 10})
    assert skewed.gini == pytest.approx(0.75)
    assert skewed.top10_share == 1.0


# --- detect_drift ---------------------------------------------------------------------


def _reference(rng: np.random.Generator) -> DriftInputs:
    return DriftInputs(
        numeric={
            "activity": rng.lognormal(2.0, 1.0, 2000),
            "rating": rng.integers(1, 6, 2000).astype(float),
        },
        categorical={
            "event_type": {"view": 700, "click": 200, "rate": 100},
            "genre": {"drama": 300, "comedy": 300, "action": 400},
        },
        output_scores=rng.normal(0.0, 1.0, 2000),
        cold_start_share=0.10,
        recommended_counts={f"i{k}": 10 for k in range(100)},
        positive_rate=0.30,
    )


def _alerts(reference: DriftInputs, current: DriftInputs) -> set[tuple[str, str]]:
    report = detect_drift(reference, current)
    assert report.alert == bool(any(s.alert for s in report.scores))
    return {(s.name, s.kind) for s in report.scores if s.alert}


def test_detect_drift_identical_inputs_raise_nothing() -> None:
    ref = _reference(np.random.default_rng(1))
    report = detect_drift(ref, ref)
    assert not report.alert
    assert not any(s.warn for s in report.scores)
    assert len(report.scores) == 2 * 2 + 2 * 2 + 1 + 2 + 1
    assert report.created_at.tzinfo is not None
    json.dumps(report.to_dict())


def test_detect_drift_shifted_inputs_raise_the_right_alerts() -> None:
    rng = np.random.default_rng(2)
    ref = _reference(rng)
    cur = DriftInputs(
        numeric={
            "activity": rng.lognormal(2.7, 1.0, 2000),  # heavier users
            "rating": rng.integers(1, 6, 2000).astype(float),  # same distribution
        },
        categorical={
            # PSI = -0.3 ln(4/7) + 0.2 ln 2 + 0.1 ln 2 = 0.1679 + 0.1386 + 0.0693 = 0.3758
            "event_type": {"view": 400, "click": 400, "rate": 200},
            "genre": {"drama": 310, "comedy": 290, "action": 400},  # noise only
        },
        output_scores=rng.normal(1.0, 1.0, 2000),
        cold_start_share=0.30,  # +0.20 > 0.15
        recommended_counts={f"i{k}": 100 if k < 10 else 1 for k in range(100)},
        positive_rate=0.20,  # relative drop 1/3 > 0.2
    )
    assert _alerts(ref, cur) == {
        ("numeric.activity", "psi"),
        ("numeric.activity", "ks"),
        ("categorical.event_type", "psi"),
        ("categorical.event_type", "chi2"),
        ("output.scores", "psi"),
        ("output.cold_start_share", "delta"),
        ("output.gini", "delta"),
        ("online.positive_rate", "relative_drop"),
    }
    scores = {(s.name, s.kind): s for s in detect_drift(ref, cur).scores}
    assert scores[("categorical.event_type", "psi")].statistic == pytest.approx(0.3758, abs=1e-4)
    assert scores[("online.positive_rate", "relative_drop")].statistic == pytest.approx(1 / 3)
    assert scores[("output.cold_start_share", "delta")].statistic == pytest.approx(0.2)


def test_detect_drift_moderate_psi_only_warns() -> None:
    # 0.5/0.5 -> 0.7/0.3: PSI = 0.2 ln 1.4 - 0.2 ln 0.6 = 0.0673 + 0.1022 = 0.1695 (warn band);
    # with 10 events per side chi2 = 0.833, p = 0.36: no alert.
    base = _reference(np.random.default_rng(3))
    ref = replace(base, numeric={}, categorical={"genre": {"a": 5, "b": 5}})
    cur = replace(ref, categorical={"genre": {"a": 7, "b": 3}})
    report = detect_drift(ref, cur)
    psi = next(s for s in report.scores if s.kind == "psi" and s.name == "categorical.genre")
    assert psi.statistic == pytest.approx(0.2 * math.log(1.4) - 0.2 * math.log(0.6))
    assert psi.warn and not psi.alert
    assert not report.alert


def test_detect_drift_rejects_mismatched_inputs() -> None:
    ref = _reference(np.random.default_rng(4))
    with pytest.raises(ValidationError, match="same numeric and categorical"):
        detect_drift(ref, replace(ref, numeric={"activity": ref.numeric["activity"]}))
    with pytest.raises(ValidationError, match="cold_start_share"):
        detect_drift(ref, replace(ref, cold_start_share=1.5))


# --- SlidingRate ----------------------------------------------------------------------


def test_sliding_rate_keeps_only_the_last_n_outcomes() -> None:
    rate = SlidingRate(3)
    assert rate.rate is None
    for outcome in (True, False, True):
        rate.update(outcome)
    assert rate.rate == pytest.approx(2 / 3)
    rate.update(False)  # window [False, True, False]
    assert rate.rate == pytest.approx(1 / 3)
    rate.update(False)  # [True, False, False]
    rate.update(False)  # [False, False, False]
    assert rate.rate == 0.0
    assert len(rate) == 3


def test_sliding_rate_matches_brute_force() -> None:
    outcomes = np.random.default_rng(5).random(500) < 0.3
    rate = SlidingRate(50)
    for i, outcome in enumerate(outcomes):
        rate.update(bool(outcome))
        assert rate.rate == pytest.approx(outcomes[max(0, i - 49) : i + 1].mean())


# --- validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: psi_numeric([], [1.0]), "reference must be a non-empty 1-D array"),
        (lambda: psi_numeric([1.0], [np.nan]), "current must be .*without NaN"),
        (lambda: psi_numeric([[1.0]], [1.0]), "1-D"),
        (lambda: psi_numeric([1.0, 2.0], [1.0], bins=1), "bins must be >= 2"),
        (lambda: psi_numeric([1.0, 2.0], [1.0], eps=0.0), r"eps must be in \(0, 1\)"),
        (lambda: psi_categorical({"a": 0}, {"a": 1}), "reference_counts .* positive total"),
        (lambda: chi_square_categorical({"a": 1}, {"a": -1}), "current_counts .* >= 0"),
        (lambda: ks_numeric([1.0], []), "current must be a non-empty"),
        (lambda: concentration([0, 0]), "positive total"),
        (lambda: concentration({}), "counts must be a non-empty"),
        (lambda: SlidingRate(0), "window must be >= 1"),
    ],
)
def test_bad_arguments_raise_validation_error(call: Any, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        call()


def test_thresholds_are_validated_and_frozen() -> None:
    with pytest.raises(pydantic.ValidationError):
        DriftThresholds(ks_p=1.5)
    with pytest.raises(pydantic.ValidationError):
        DriftThresholds(psi_bins=1)
    with pytest.raises(pydantic.ValidationError):
        DriftThresholds().psi_alert = 0.5  # type: ignore[misc]
