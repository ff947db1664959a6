"""Vectorised experiment simulation over precomputed ranked lists (numpy, no server).

The request-by-request simulator (:mod:`recloop.experiments.simulator`) drives a
live recommender and is the ground truth for the engine end to end; at a few
hundred users per minute it cannot run the thousands of experiments a power
or false-positive figure needs. This module keeps its click model
(:class:`~recloop.experiments.simulator.ClickModel`: rank ``r`` examined with
``1 / r^0.8``, an examined item in the user's held-out future is clicked,
independently per slot) and its ground truth (the user's MovieLens
interactions after the P2 cut), over *static* lists: each ranker's list for a
user is computed once from the bootstrap history (no learning between
requests). A simulated user is a population user drawn with replacement and
fresh click randomness, so experiments larger than the 301 real future users
can be sized; the figures say so.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from recloop.experiments.interleaving import team_draft_coins
from recloop.experiments.simulator import ClickModel

__all__ = ["InterleavingBank", "Population", "interleaving_bank"]


@dataclass(frozen=True)
class Population:
    """Ranked lists and ground truth of ``U`` users.

    ``champion`` int64 (U, P): the champion's top-P public item ids, with
    ``scores`` float64 (U, P); ``popular`` int64 (U, P); ``relevant`` bool
    (U, n_ids): item id in the user's future; ``pre_activity`` float64 (U,):
    interactions before the cut (the CUPED covariate).
    """

    user_ids: tuple[str, ...]
    champion: NDArray[np.int64]
    scores: NDArray[np.float64]
    popular: NDArray[np.int64]
    relevant: NDArray[np.bool_]
    pre_activity: NDArray[np.float64]

    @classmethod
    def from_lists(
        cls,
        user_ids: Sequence[str],
        champion: NDArray[np.int64],
        scores: NDArray[np.float64],
        popular: NDArray[np.int64],
        futures: Sequence[NDArray[np.int64]],
        pre_activity: NDArray[np.float64],
    ) -> Population:
        """Build from per-user future item arrays."""
        n_ids = (
            int(max(champion.max(), popular.max(), max((int(f.max()) for f in futures if len(f)), default=0)))
            + 1
        )
        rel = np.zeros((len(user_ids), n_ids), dtype=bool)
        for u, f in enumerate(futures):
            rel[u, f] = True
        return cls(tuple(user_ids), champion, scores, popular, rel, pre_activity)

    @property
    def n_users(self) -> int:
        """``U``."""
        return len(self.user_ids)

    def save(self, path: Path, facts: dict[str, float] | None = None) -> None:
        """Write an ``.npz`` (``facts``: fit facts kept beside the arrays)."""
        np.savez_compressed(
            path,
            user_ids=np.array(self.user_ids),
            champion=self.champion,
            scores=self.scores,
            popular=self.popular,
            relevant=self.relevant,
            pre_activity=self.pre_activity,
            facts=np.array(sorted((facts or {}).items()), dtype=object),
        )

    @classmethod
    def load(cls, path: Path) -> Population:
        """Read what :meth:`save` wrote."""
        z = np.load(path, allow_pickle=True)
        return cls(
            tuple(str(u) for u in z["user_ids"]),
            z["champion"],
            z["scores"],
            z["popular"],
            z["relevant"],
            z["pre_activity"],
        )

    def rel(self, users: NDArray[np.int64], items: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Relevance of ``items`` (n, k) for population ``users`` (n,)."""
        return self.relevant[users[:, None], items]

    def expected_clicks(
        self, lists: NDArray[np.int64], click_model: ClickModel | None = None
    ) -> NDArray[np.float64]:
        """Exact expected clicks of each user's list ``lists`` (U, k) under the click model, (U,)."""
        e = (click_model or ClickModel()).examine(lists.shape[1])
        got: NDArray[np.float64] = (self.relevant[np.arange(self.n_users)[:, None], lists] * e).sum(axis=1)
        return got

    def click_prob(
        self, lists: NDArray[np.int64], click_model: ClickModel | None = None
    ) -> NDArray[np.float64]:
        """Exact ``P(at least one click)`` of each user's list (U, k), (U,): the engine's ``ctr``."""
        e = (click_model or ClickModel()).examine(lists.shape[1])
        r = self.relevant[np.arange(self.n_users)[:, None], lists]
        p: NDArray[np.float64] = 1.0 - np.prod(1.0 - r * e, axis=1)
        return p


@dataclass(frozen=True)
class InterleavingBank:
    """Every team-draft merge of two rankers per user: ``items``/``teams`` int64 (U, S, k), S coin seqs."""

    items: NDArray[np.int64]
    teams: NDArray[np.int64]


def interleaving_bank(a: NDArray[np.int64], b: NDArray[np.int64], k: int) -> InterleavingBank:
    """All ``2^ceil(k/2)`` equally likely coin sequences' merges of rankings ``a`` and ``b`` (U, P).

    Team draft draws one fair coin per round of two picks, so for ``k = 10``
    there are 32 sequences; a uniformly drawn index is an exact draw of the merge.
    """
    rounds = (k + 1) // 2
    seqs = list(itertools.product((True, False), repeat=rounds))
    n = a.shape[0]
    items = np.zeros((n, len(seqs), k), dtype=np.int64)
    teams = np.zeros((n, len(seqs), k), dtype=np.int64)
    for u in range(n):
        la, lb = a[u].tolist(), b[u].tolist()
        for s, coins in enumerate(seqs):
            m = team_draft_coins(la, lb, k, coins)
            items[u, s], teams[u, s] = m.items, m.teams
    return InterleavingBank(items, teams)
