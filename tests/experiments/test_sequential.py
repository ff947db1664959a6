"""The always-valid mSPRT: formulas by hand, running minimum, validity under peeking."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from recloop.errors import ValidationError
from recloop.experiments.sequential import (
    SequentialTest,
    msprt_ci_halfwidth,
    msprt_log_likelihood_ratio,
    msprt_p_value,
    tau_for_horizon,
)


def test_likelihood_ratio_by_hand() -> None:
    # d = 0.02, V = 1e-4, tau^2 = 1e-4:
    # Lambda = sqrt(1e-4 / 2e-4) * exp(1e-4 * 4e-4 / (2 * 1e-4 * 2e-4)) = 0.7071068 * e^1
    #        = 1.9221155 -> 1 / Lambda = 0.5202601
    assert float(msprt_log_likelihood_ratio(0.02, 1e-4, 0.01)) == pytest.approx(
        math.log(math.sqrt(0.5) * math.e)
    )
    assert float(msprt_p_value(0.02, 1e-4, 0.01)) == pytest.approx(0.5202601, abs=1e-7)
    # d = 0: Lambda = sqrt(1/2) < 1, so the per-look p-value is capped at 1.
    assert float(msprt_p_value(0.0, 1e-4, 0.01)) == 1.0
    # No information yet (V = 0): p = 1 rather than a division by zero.
    assert float(msprt_p_value(0.01, 0.0, 0.01)) == 1.0


def test_confidence_halfwidth_by_hand_and_boundary() -> None:
    # V (V + tau^2) / tau^2 = 1e-4 * 2e-4 / 1e-4 = 2e-4
    # 2 log(1/0.05) + log(2) = 5.9914645 + 0.6931472 = 6.6846117
    # h = sqrt(2e-4 * 6.6846117) = sqrt(1.3369223e-3) = 0.0365639
    h = float(msprt_ci_halfwidth(1e-4, 0.01, 0.05))
    assert h == pytest.approx(0.0365639, abs=1e-7)
    # At theta0 = d +- h the likelihood ratio equals 1 / alpha exactly.
    for theta0 in (0.02 - h, 0.02 + h):
        log_lr = float(msprt_log_likelihood_ratio(0.02, 1e-4, 0.01, theta0=theta0))
        assert log_lr == pytest.approx(math.log(20.0), rel=1e-10)


def test_tau_for_horizon_is_the_planned_mde() -> None:
    # V_N = 2 * 0.075 * 0.925 / 4200 = 3.3035714e-5, sqrt = 0.00574767
    # tau = (1.959964 + 0.841621) * 0.00574767 = 0.0161026
    assert tau_for_horizon(2 * 0.075 * 0.925 / 4200) == pytest.approx(0.0161026, abs=1e-6)


def test_p_value_is_a_running_minimum_and_rejection_is_sticky() -> None:
    test = SequentialTest(tau=0.01, alpha=0.05)
    first = test.update(0.02, 1e-4)
    assert first.step == 1 and first.p_value == pytest.approx(0.5202601, abs=1e-7)
    assert first.likelihood_ratio == pytest.approx(1.9221155, abs=1e-6)
    strong = test.update(0.05, 1e-4)  # Lambda = 0.7071068 * exp(6.25) = 366.2907 -> p = 0.0027301
    assert strong.reject and strong.p_value == pytest.approx(0.0027301, abs=1e-7)
    weak = test.update(0.0, 1e-4)  # no evidence at this look ...
    assert weak.p_value == strong.p_value and weak.reject  # ... but p never goes back up
    assert test.p_value == strong.p_value


def test_confidence_sequence_is_intersected() -> None:
    test = SequentialTest(tau=0.01)
    ci1 = test.update(0.02, 1e-4).ci
    ci2 = test.update(0.03, 0.5e-4).ci
    assert ci1[0] <= ci2[0] <= ci2[1] <= ci1[1]
    h2 = float(msprt_ci_halfwidth(0.5e-4, 0.01, 0.05))
    assert ci2 == pytest.approx((0.03 - h2, min(ci1[1], 0.03 + h2)))


def test_update_proportions_and_means_use_unpooled_variance() -> None:
    a, b = SequentialTest(tau=0.01), SequentialTest(tau=0.01)
    # V = 0.2*0.8/1000 + 0.25*0.75/1000 = 3.475e-4
    ra = a.update_proportions(200, 1000, 250, 1000)
    rb = b.update(0.05, 3.475e-4)
    assert ra.p_value == pytest.approx(rb.p_value) and ra.ci == pytest.approx(rb.ci)
    rm = SequentialTest(tau=0.01).update_means(0.2, 0.16, 1000, 0.25, 0.1875, 1000)
    assert rm.p_value == pytest.approx(rb.p_value)


def test_always_valid_under_continuous_monitoring() -> None:
    # Gaussian increments with known variance: the mSPRT guarantee is exact (Ville's
    # inequality), so rejecting at the first of 400 looks keeps the error <= alpha,
    # while the naive z-test at every look rejects far more often.
    rng = np.random.default_rng(11)
    paths, looks = 2000, 400
    n = np.arange(1, looks + 1)
    diff = np.cumsum(rng.standard_normal((paths, looks)), axis=1) / n
    var = np.broadcast_to(1.0 / n, diff.shape)
    p_seq = np.minimum.accumulate(msprt_p_value(diff, var, tau=0.15), axis=1)
    fpr_seq = float(np.mean(p_seq[:, -1] < 0.05))
    fpr_naive = float(np.mean(np.any(np.abs(diff) / np.sqrt(var) > 1.959964, axis=1)))
    assert fpr_seq <= 0.05
    assert fpr_naive > 0.2
    # ... and it still finds a real effect of 0.3 sd.
    p_alt = np.minimum.accumulate(msprt_p_value(diff + 0.3, var, tau=0.15), axis=1)
    assert float(np.mean(p_alt[:, -1] < 0.05)) > 0.95


@pytest.mark.parametrize(
    "call",
    [
        lambda: SequentialTest(tau=0.0),
        lambda: SequentialTest(tau=math.inf),
        lambda: SequentialTest(tau=0.01, alpha=1.0),
        lambda: SequentialTest(tau=0.01).update(0.01, -1e-4),
        lambda: SequentialTest(tau=0.01).update(math.nan, 1e-4),
        lambda: SequentialTest(tau=0.01).update_proportions(5, 4, 1, 4),
        lambda: tau_for_horizon(0.0),
    ],
)
def test_bad_arguments_raise_validation_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        call()
