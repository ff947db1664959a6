"""Team-draft interleaving: merge invariants, credit, and the preference tests' error rates."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from recloop.experiments.interleaving import (
    SequentialPreference,
    preference_ci,
    sign_test,
    summarise_preferences,
    team_draft,
    team_draft_coins,
    user_preferences,
)


def test_merge_has_no_duplicates_and_each_team_takes_its_best_remaining() -> None:
    a, b = [1, 2, 3, 4, 5, 6], [3, 1, 7, 8, 9, 10]
    for coins in itertools.product((True, False), repeat=3):
        m = team_draft_coins(a, b, 6, coins)
        assert len(m.items) == 6 == len(set(m.items))
        for pos, (item, team) in enumerate(zip(m.items, m.teams, strict=True)):
            ranking = a if team == 0 else b
            before = set(m.items[:pos])
            assert item == next(i for i in ranking if i not in before)


def test_teams_balanced_and_coin_decides_first_pick() -> None:
    a, b = list(range(20)), list(range(100, 120))
    heads = team_draft_coins(a, b, 10, [True] * 5)
    assert heads.items[:2] == (0, 100) and heads.teams[:2] == (0, 1)
    tails = team_draft_coins(a, b, 10, [False] * 5)
    assert tails.items[:2] == (100, 0) and tails.teams[:2] == (1, 0)
    for coins in itertools.product((True, False), repeat=5):
        m = team_draft_coins(a, b, 10, coins)
        assert sum(m.teams) == 5  # every round one pick each


def test_identical_rankers_give_the_ranking_itself() -> None:
    a = [5, 4, 3, 2, 1, 9, 8]
    m = team_draft(a, a, 5, np.random.default_rng(0))
    assert m.items == (5, 4, 3, 2, 1)


def test_exhausted_ranker_passes() -> None:
    m = team_draft_coins([1], [2, 3, 4, 5], 4, [True])
    assert m.items == (1, 2, 3, 4) and m.teams == (0, 1, 1, 1)


def test_first_slot_is_fair() -> None:
    rng = np.random.default_rng(1)
    firsts = [team_draft([1, 2], [3, 4], 2, rng).teams[0] for _ in range(4000)]
    assert abs(np.mean(firsts) - 0.5) < 0.03


def test_preferences_and_summary() -> None:
    prefs = user_preferences([2, 0, 1, 1], [0, 3, 1, 2])
    assert prefs.tolist() == [-1, 1, 0, 1]
    s = summarise_preferences(prefs)
    assert (s.wins_a, s.wins_b, s.ties, s.users) == (1, 2, 1, 4)
    assert s.delta == pytest.approx(0.25)
    assert s.ci[0] <= 0.25 <= s.ci[1]


def test_sign_test_values() -> None:
    assert float(sign_test(5, 5)) == pytest.approx(1.0)
    assert float(sign_test(10, 0)) == pytest.approx(2 * 0.5**10)
    assert float(sign_test(0, 0)) == 1.0


def test_sign_test_false_positive_rate_under_null() -> None:
    rng = np.random.default_rng(2)
    n = rng.binomial(400, 0.6, size=4000)  # non-tied users per experiment
    wins_b = rng.binomial(n, 0.5)
    fpr = float((sign_test(wins_b, n - wins_b) < 0.05).mean())
    assert 0.03 <= fpr <= 0.06


def test_bootstrap_ci_covers_under_null() -> None:
    rng = np.random.default_rng(3)
    covered = [
        lo <= 0 <= hi
        for lo, hi in (
            preference_ci(rng.choice([-1, 0, 1], size=300), n_boot=400, seed=s) for s in range(200)
        )
    ]
    assert 0.90 <= np.mean(covered) <= 0.99


def test_sequential_preference_under_peeking_and_power() -> None:
    rng = np.random.default_rng(4)
    seq = SequentialPreference(planned_users=1000)
    runs, n, looks = 1000, 1000, np.arange(50, 1001, 50)
    x = rng.choice([-1.0, 0.0, 1.0], size=(runs, n))
    cs, cs2 = np.cumsum(x, axis=1), np.cumsum(x * x, axis=1)
    p = seq.look_p(looks[None, :], cs[:, looks - 1], cs2[:, looks - 1])
    assert float((p.min(axis=1) < 0.05).mean()) <= 0.05
    y = rng.choice([-1.0, 0.0, 1.0], p=[0.3, 0.3, 0.4], size=(200, n))
    cs, cs2 = np.cumsum(y, axis=1), np.cumsum(y * y, axis=1)
    p = seq.look_p(looks[None, :], cs[:, looks - 1], cs2[:, looks - 1])
    assert float((p.min(axis=1) < 0.05).mean()) > 0.8
    one = SequentialPreference(planned_users=500)
    assert one.update(y[0]) == pytest.approx(float(seq.look_p(n, y[0].sum(), (y[0] ** 2).sum())), rel=1)
