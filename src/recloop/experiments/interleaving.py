"""Team-draft interleaving of two rankers and its per-user preference statistics.

Radlinski, Kurup & Joachims (2008), "How does clickthrough data reflect retrieval
quality?". Each request gets one merged list: in every round the two teams each
pick their best item not yet in the list, a fair coin deciding who picks first
(team ``a`` when the coin is heads), so neither ranker owns the top slot. Every
position is credited to the team that picked it; a click counts for its team.

Unit of analysis: the user (users are the unit of randomisation and their
requests are correlated). A user's preference is ``sign(clicks_b - clicks_a)``
summed over their lists, in {-1, 0, +1}. Under the null "neither ranker is
better" the two teams are exchangeable, so among non-tied users ``+1`` has
probability 1/2: :func:`sign_test` is the exact two-sided binomial test;
:func:`preference_ci` a percentile bootstrap CI of the mean preference
``delta = P(b wins) - P(a wins)``; :class:`SequentialPreference` the
always-valid mSPRT of ``delta = 0`` (:mod:`recloop.experiments.sequential`),
which may be looked at after every user.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from recloop.errors import ValidationError
from recloop.experiments.sequential import msprt_p_value, tau_for_horizon

__all__ = [
    "Interleaved",
    "PreferenceSummary",
    "SequentialPreference",
    "preference_ci",
    "sign_test",
    "summarise_preferences",
    "team_draft",
    "team_draft_coins",
    "user_preferences",
]

TEAM_A, TEAM_B = 0, 1


@dataclass(frozen=True, slots=True)
class Interleaved:
    """A merged list: ``items`` (ids, rank order) and ``teams`` (0 = ranker a, 1 = ranker b) per slot."""

    items: tuple[int, ...]
    teams: tuple[int, ...]


def team_draft_coins(a: Sequence[int], b: Sequence[int], k: int, coins: Sequence[bool]) -> Interleaved:
    """Team-draft merge of rankings ``a`` and ``b`` into ``k`` slots with given coin flips.

    ``coins[j]`` is round ``j``'s flip (True: ``a`` picks first). A team whose
    ranking is used up passes its turn; the list is shorter than ``k`` only if
    both are. Deterministic given ``coins`` (tests and the vectorised simulator
    enumerate every coin sequence).
    """
    items: list[int] = []
    teams: list[int] = []
    taken: set[int] = set()
    ptr = [0, 0]
    ranks = (list(a), list(b))
    round_ = 0
    while len(items) < k:
        first = TEAM_A if coins[round_ % len(coins)] else TEAM_B
        picked = False
        for team in (first, 1 - first):
            if len(items) >= k:
                break
            r = ranks[team]
            while ptr[team] < len(r) and r[ptr[team]] in taken:
                ptr[team] += 1
            if ptr[team] < len(r):
                item = int(r[ptr[team]])
                items.append(item)
                teams.append(team)
                taken.add(item)
                picked = True
        if not picked:
            break
        round_ += 1
    return Interleaved(tuple(items), tuple(teams))


def team_draft(a: Sequence[int], b: Sequence[int], k: int, rng: np.random.Generator) -> Interleaved:
    """Team-draft merge with fair coins drawn from ``rng`` (one per round)."""
    return team_draft_coins(a, b, k, [bool(c) for c in rng.random(k) < 0.5])


def user_preferences(clicks_a: ArrayLike, clicks_b: ArrayLike) -> NDArray[np.int64]:
    """Per-user preference ``sign(clicks_b - clicks_a)`` (+1: b preferred), int64 like the inputs."""
    return np.sign(np.asarray(clicks_b, dtype=np.float64) - np.asarray(clicks_a, dtype=np.float64)).astype(
        np.int64
    )


def sign_test(wins_b: ArrayLike, wins_a: ArrayLike) -> NDArray[np.float64]:
    """Exact two-sided binomial p-value of ``wins_b`` out of ``wins_b + wins_a`` at 1/2 (vectorised).

    ``p = min(1, 2 * P(X <= min(wins)))`` with ``X ~ Bin(n, 1/2)``; 1.0 when ``n = 0``.
    """
    wb, wa = np.asarray(wins_b, dtype=np.float64), np.asarray(wins_a, dtype=np.float64)
    n = wb + wa
    p = np.minimum(1.0, 2.0 * sps.binom.cdf(np.minimum(wb, wa), n, 0.5))
    return np.where(n > 0, p, 1.0).astype(np.float64)


def preference_ci(
    prefs: ArrayLike, alpha: float = 0.05, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap ``1 - alpha`` CI of the mean per-user preference (NaNs if < 2 users)."""
    x = np.asarray(prefs, dtype=np.float64)
    if len(x) < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(x), np.full(len(x), 1.0 / len(x)), size=n_boot)
    means = counts @ x / len(x)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


@dataclass(frozen=True, slots=True)
class PreferenceSummary:
    """Interleaving result over users: wins per team, ties, ``delta`` = mean preference and its tests."""

    users: int
    wins_a: int
    wins_b: int
    ties: int
    delta: float
    ci: tuple[float, float]
    p_value: float


def summarise_preferences(prefs: ArrayLike, alpha: float = 0.05, seed: int = 0) -> PreferenceSummary:
    """Wins, ties, ``delta``, its bootstrap CI and the sign-test p-value of per-user preferences."""
    x = np.asarray(prefs, dtype=np.int64)
    wins_b, wins_a = int((x > 0).sum()), int((x < 0).sum())
    delta = float(x.mean()) if len(x) else math.nan
    return PreferenceSummary(
        len(x),
        wins_a,
        wins_b,
        len(x) - wins_a - wins_b,
        delta,
        preference_ci(x, alpha, seed=seed),
        float(sign_test(wins_b, wins_a)),
    )


class SequentialPreference:
    """Always-valid test of ``delta = 0`` on per-user preferences (mSPRT, running minimum p).

    At a look with ``n`` users, ``d`` = mean preference and ``V = s^2 / n``
    (``s^2`` the sample variance of preferences). ``tau`` defaults to the
    effect a fixed test on ``planned_users`` users with preference variance
    ``planned_var`` detects at 80% power (:func:`tau_for_horizon`).
    Looks with fewer than ``min_users`` users do not count.
    """

    def __init__(
        self, planned_users: int, alpha: float = 0.05, planned_var: float = 0.5, min_users: int = 50
    ) -> None:
        """A test planned for ``planned_users`` users at level ``alpha``."""
        if planned_users < 2:
            raise ValidationError(f"planned_users must be >= 2, got {planned_users}")
        self.tau = tau_for_horizon(planned_var / planned_users, alpha)
        self.alpha, self.min_users = alpha, min_users
        self.p_value = 1.0

    def look_p(self, n: ArrayLike, total: ArrayLike, total_sq: ArrayLike) -> NDArray[np.float64]:
        """This look's ``min(1, 1/Lambda)`` from running sums of preferences (vectorised, no state)."""
        n_ = np.asarray(n, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.asarray(total, dtype=np.float64) / n_
            var = (np.asarray(total_sq, dtype=np.float64) - n_ * mean * mean) / (n_ - 1.0)
            v = np.where((n_ >= self.min_users) & (var > 0), var / n_, 0.0)
        return np.where(v > 0, msprt_p_value(np.nan_to_num(mean), v, self.tau), 1.0).astype(np.float64)

    def update(self, prefs: ArrayLike) -> float:
        """Fold in a look at every preference so far; the running-minimum p-value."""
        x = np.asarray(prefs, dtype=np.float64)
        p = float(self.look_p(len(x), x.sum(), (x * x).sum()))
        self.p_value = min(self.p_value, p)
        return self.p_value

    @property
    def reject(self) -> bool:
        """Whether the running p-value is below ``alpha`` (never flips back)."""
        return self.p_value < self.alpha
