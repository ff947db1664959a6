"""Estimators with known truth: exploration propensities, IPS / SNIPS / DR, CUPED."""

from __future__ import annotations

import numpy as np
import pytest

from recloop.experiments.cuped import cuped, cuped_sums
from recloop.experiments.exploration import (
    ExplorationConfig,
    epsilon_marginals,
    explore,
    thompson_probabilities,
)
from recloop.experiments.ope import PositionItemCTR, dr, ips, snips


def test_epsilon_propensities_are_the_empirical_marginals() -> None:
    cfg = ExplorationConfig(type="epsilon", epsilon=0.3, pool=6)
    rng = np.random.default_rng(0)
    ranked, k, n = list(range(10, 20)), 4, 20000
    counts = np.zeros((6, k))
    for _ in range(n):
        e = explore(ranked, k, cfg, rng)
        for r, (item, p) in enumerate(zip(e.items, e.propensities, strict=True)):
            counts[item - 10, r] += 1
            assert p == pytest.approx(float(epsilon_marginals(item - 10, r, 0.3, 6)))
    expect = epsilon_marginals(np.arange(6)[:, None], np.arange(k)[None, :], 0.3, 6)
    assert np.abs(counts / n - expect).max() < 0.01
    assert explore(ranked, k, ExplorationConfig(), rng).propensities == (1.0,) * k


def test_thompson_probabilities_match_monte_carlo() -> None:
    a, b = np.array([11.0, 15.0, 3.0]), np.array([91.0, 87.0, 20.0])
    p = thompson_probabilities(a, b)
    draws = np.random.default_rng(1).beta(a, b, size=(200000, 3)).argmax(axis=1)
    assert np.abs(p - np.bincount(draws, minlength=3) / 200000).max() < 0.005
    assert p.sum() == pytest.approx(1.0)


def _logs(n: int, seed: int) -> tuple[np.ndarray, ...]:
    """Synthetic item-position logs: 8 items, 3 slots, known click rates, epsilon logging."""
    rng = np.random.default_rng(seed)
    rel = np.linspace(0.05, 0.6, 8)[::-1]  # item 0 best
    exam = np.array([1.0, 0.6, 0.4])
    eps, pool, k = 0.4, 8, 3
    explore_ = rng.random(n) < eps
    perm = np.argsort(rng.random((n, pool)), axis=1)[:, :k]
    logged = np.where(explore_[:, None], perm, np.arange(k)[None, :])
    prop = epsilon_marginals(logged, np.arange(k)[None, :], eps, pool)
    clicks = (rng.random((n, k)) < exam * rel[logged]).astype(float)
    return logged, prop, clicks, rel, exam


@pytest.mark.parametrize("target", [[0, 1, 2], [5, 6, 7], [2, 0, 4]])
def test_ips_snips_dr_recover_the_true_value(target: list[int]) -> None:
    t = np.array(target)
    truth = float((np.array([1.0, 0.6, 0.4]) * np.linspace(0.05, 0.6, 8)[::-1][t]).sum())
    covered = {"ips": 0, "snips": 0, "dr": 0}
    reps = 60
    for seed in range(reps):
        logged, prop, clicks, _, _ = _logs(4000, seed)
        tp = (logged == t[None, :]).astype(float)
        model = PositionItemCTR(8).fit(logged, clicks)  # fitted in-sample: fine for a test
        est = {
            "ips": ips(clicks, tp, prop),
            "snips": snips(clicks, tp, prop),
            "dr": dr(clicks, tp, prop, model.predict(logged), model.predict(np.tile(t, (4000, 1))).sum(1)),
        }
        for name, e in est.items():
            covered[name] += e.covers(truth)
            assert abs(e.value - truth) < 6 * e.se
    for name, c in covered.items():
        assert c / reps >= 0.85, (name, c)


def test_dr_has_less_variance_than_ips_with_a_good_model() -> None:
    logged, prop, clicks, rel, exam = _logs(20000, 7)
    t = np.array([5, 6, 7])
    tp = (logged == t[None, :]).astype(float)
    q = exam[None, :] * rel[logged]
    e_dr = dr(clicks, tp, prop, q, np.full(len(q), float((exam * rel[t]).sum())))
    assert e_dr.se < ips(clicks, tp, prop).se


def test_cuped_reduces_variance_by_rho_squared_and_keeps_the_difference() -> None:
    rng = np.random.default_rng(5)
    n = 20000
    x = rng.normal(size=2 * n)
    y = 0.8 * x + 0.6 * rng.normal(size=2 * n)
    y[n:] += 0.05
    r = cuped(y[:n], x[:n], y[n:], x[n:])
    assert r.variance_reduction == pytest.approx(0.64, abs=0.03)
    assert r.diff_cuped == pytest.approx(0.05, abs=4 * r.se_cuped)
    assert r.p_value_cuped < r.p_value


def test_cuped_aa_false_positive_rate() -> None:
    rng = np.random.default_rng(6)
    runs, n = 2000, 400
    x = rng.poisson(20, size=(runs, n)).astype(float)
    y = rng.poisson(x / 4).astype(float)
    arm = rng.random((runs, n)) < 0.5
    s = cuped_sums(y, x, arm)
    z = np.abs(s["diff_cuped"] / s["se_cuped"])
    fpr = float((z > 1.96).mean())
    assert 0.035 <= fpr <= 0.065
    assert float(np.mean(s["se_cuped"] ** 2 / s["se"] ** 2)) < 0.9
