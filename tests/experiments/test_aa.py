"""A/A simulation: peeking inflates errors, the mSPRT does not."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from recloop.errors import ValidationError
from recloop.experiments.aa import AAParams, evaluate_aa, run_aa, simulate_aa_counts
from recloop.experiments.sequential import SequentialTest
from recloop.experiments.stats import two_proportion_ztest

SMALL = AAParams(runs=100, seed=0)


def test_naive_peeking_inflates_and_sequential_does_not() -> None:
    result = run_aa(SMALL)
    assert result.fpr_naive_peeking > result.fpr_fixed
    assert result.fpr_naive_peeking > 0.1
    assert result.fpr_sequential_peeking <= 0.07
    assert result.fpr_fixed <= 0.12  # binomial(100, 0.05): P(> 12) ~ 1e-3
    # Rejecting at the last look implies rejecting at some look.
    assert np.all(result.naive_reject[result.fixed_reject])


def test_counts_are_cumulative_and_split_evenly() -> None:
    counts = simulate_aa_counts(SMALL)
    assert counts.n_a.shape == (100, 14) and counts.n_a.dtype == np.int64
    for arr in (counts.s_a, counts.n_a, counts.s_b, counts.n_b):
        assert np.all(np.diff(arr, axis=1) >= 0)
    assert np.all(counts.s_a <= counts.n_a) and np.all(counts.s_b <= counts.n_b)
    total = counts.n_a[:, -1] + counts.n_b[:, -1]
    assert float(total.mean()) == pytest.approx(600 * 14, rel=0.01)
    assert float(counts.n_b[:, -1].sum() / total.sum()) == pytest.approx(0.5, abs=0.005)
    rate = (counts.s_a[:, -1] + counts.s_b[:, -1]).sum() / total.sum()
    assert 0.05 < rate < 0.1


def test_vectorised_decisions_match_scalar_api() -> None:
    params = AAParams(runs=30, seed=3)
    counts = simulate_aa_counts(params)
    result = evaluate_aa(counts, params)
    for r in range(params.runs):
        fixed = two_proportion_ztest(
            int(counts.s_a[r, -1]), int(counts.n_a[r, -1]),
            int(counts.s_b[r, -1]), int(counts.n_b[r, -1]),
        )  # fmt: skip
        assert fixed.significant == result.fixed_reject[r]
        test = SequentialTest(tau=params.tau, alpha=params.alpha)
        for d in range(params.days):
            state = test.update_proportions(
                int(counts.s_a[r, d]), int(counts.n_a[r, d]),
                int(counts.s_b[r, d]), int(counts.n_b[r, d]),
            )  # fmt: skip
        assert state.reject == result.sequential_reject[r]


def test_seeded_and_tau_documented() -> None:
    a, b = run_aa(SMALL), run_aa(SMALL)
    assert np.array_equal(a.naive_reject, b.naive_reject)
    # tau = (1.959964 + 0.841621) * sqrt(2 * 0.075 * 0.925 / 4200) = 0.0161026
    assert SMALL.tau == pytest.approx(0.0161026, abs=1e-6)
    assert dataclasses.replace(SMALL, mixing_sd=0.01).tau == 0.01


def test_bad_params_raise_validation_error() -> None:
    for bad in (
        AAParams(runs=0),
        AAParams(rate_low=0.2, rate_high=0.1),
        AAParams(alpha=0.0),
        AAParams(mixing_sd=0.0),
    ):
        with pytest.raises(ValidationError):
            run_aa(bad)
