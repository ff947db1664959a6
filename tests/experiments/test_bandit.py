"""Thompson sampling: posterior updates, convergence, and regret vs uniform allocation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from recloop.errors import ValidationError
from recloop.experiments.bandit import ThompsonSampler, cumulative_regret, simulate_bandit

RATES = [0.04, 0.05, 0.07]  # arm 2 is best; gaps 0.03, 0.02, 0


def test_update_moves_the_beta_posterior() -> None:
    ts = ThompsonSampler(3, seed=0)
    ts.update(0, 1.0)
    ts.update(0, 0.0)
    ts.update(1, 0.25)  # fractional reward: alpha += 0.25, beta += 0.75
    assert ts.alpha.tolist() == [2.0, 1.25, 1.0]
    assert ts.beta.tolist() == [2.0, 1.75, 1.0]
    assert ts.posterior_mean.tolist() == pytest.approx([0.5, 1.25 / 3.0, 0.5])
    ts.alpha[0] = 99.0  # properties are copies
    assert ts.alpha[0] == 2.0


def test_same_seed_same_choices() -> None:
    a, b = ThompsonSampler(4, seed=5), ThompsonSampler(4, seed=5)
    assert [a.choose() for _ in range(50)] == [b.choose() for _ in range(50)]


def test_probability_best_from_clear_posteriors() -> None:
    ts = ThompsonSampler(2, seed=1)
    for _ in range(100):
        ts.update(0, 0.0)
        ts.update(1, 1.0)
    p = ts.probability_best(draws=2000)
    assert p.shape == (2,) and p.sum() == pytest.approx(1.0)
    assert p[1] == 1.0  # Beta(101, 1) vs Beta(1, 101) never overlap in practice
    # Equal posteriors: each arm wins about half the time (sd 0.5/sqrt(20000) = 0.0035).
    even = ThompsonSampler(2, seed=2).probability_best(draws=20_000)
    assert even[0] == pytest.approx(0.5, abs=0.02)


def test_converges_to_best_arm() -> None:
    run = simulate_bandit(RATES, 5000, seed=1)
    assert np.mean(run.arms[-1000:] == 2) > 0.9
    ts = ThompsonSampler(3, seed=3)
    rng = np.random.default_rng(4)
    for _ in range(5000):
        arm = ts.choose()
        ts.update(arm, float(rng.random() < RATES[arm]))
    assert int(np.argmax(ts.posterior_mean)) == 2
    assert ts.probability_best(draws=4000)[2] > 0.8


def test_regret_sublinear_and_far_below_uniform() -> None:
    horizon, half = 5000, 2499
    thompson = [simulate_bandit(RATES, horizon, seed=s).regret for s in range(3)]
    uniform = [simulate_bandit(RATES, horizon, policy="uniform", seed=s).regret for s in range(3)]
    ts_end = np.mean([r[-1] for r in thompson])
    ts_first_half = np.mean([r[half] for r in thompson])
    un_end = np.mean([r[-1] for r in uniform])
    un_first_half = np.mean([r[half] for r in uniform])
    # Uniform allocation pays the mean gap 0.05/3 per step: ~83 after 5000 steps, linearly.
    assert un_end == pytest.approx(horizon * 0.05 / 3, rel=0.05)
    assert un_end - un_first_half == pytest.approx(un_first_half, rel=0.1)
    # Thompson: the second half costs much less than the first, and the total far less.
    assert ts_end - ts_first_half < 0.6 * ts_first_half
    assert ts_end < 0.4 * un_end


def test_cumulative_regret_by_hand() -> None:
    # best rate 0.3; choosing arm 0 (0.1) costs 0.2, arm 1 costs 0.
    assert cumulative_regret([0.1, 0.3], [0, 1, 0, 0]).tolist() == pytest.approx([0.2, 0.2, 0.4, 0.6])


def test_simulation_rewards_and_shapes() -> None:
    run = simulate_bandit([0.0, 1.0], 200, seed=0)
    assert run.arms.shape == run.rewards.shape == run.regret.shape == (200,)
    assert np.array_equal(run.rewards, run.arms.astype(np.float64))  # rates 0 and 1
    assert run.regret[-1] == pytest.approx(float(np.sum(run.arms == 0)))


@pytest.mark.parametrize(
    "call",
    [
        lambda: ThompsonSampler(1),
        lambda: ThompsonSampler(2, prior_alpha=0.0),
        lambda: ThompsonSampler(2).update(2, 1.0),
        lambda: ThompsonSampler(2).update(0, 1.5),
        lambda: ThompsonSampler(2).probability_best(draws=0),
        lambda: cumulative_regret([0.1, 1.2], [0]),
        lambda: cumulative_regret([0.1, 0.2], [2]),
        lambda: simulate_bandit([0.1, 0.2], 0),
        lambda: simulate_bandit([0.1, 0.2], 10, policy="greedy"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_raise_validation_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        call()
