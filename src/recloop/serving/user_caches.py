"""Per (model version, user) state a recommender keeps between requests, each part LRU-bounded.

* the ALS fold-in state (A^-1, b, x), updated incrementally as the user's history grows;
* the personal sources' scores (:class:`UserScores`), until the user's next event;
* the user folded into the rating model, until the user's next event.

Histories only grow, so a history is identified by (length, latest time, seen and
negative counts): any event of the user's, from this or another worker, makes the next
request recompute what depended on it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from recloop.monitoring.bounded import ByteLRU, array_bytes, int_set_bytes
from recloop.ranking.model import RatingUser, TwoStageModel
from recloop.retrieval.als import FoldIn
from recloop.retrieval.candidates import UserScores
from recloop.retrieval.history import History

__all__ = ["ServedModel", "UserCaches", "foldin_bytes", "scores_bytes"]

Key = tuple[str, str]  # (model version, user id)


@dataclass(frozen=True)
class ServedModel:
    """A loaded model and the registry version it came from."""

    model: TwoStageModel
    version: str


def scores_bytes(s: UserScores | None) -> int:
    """Memory of one user's cached personal scores (the arrays; the tuple of tops)."""
    if s is None:  # a model without personal sources (test stubs)
        return 0
    return array_bytes(s.masked, s.ordered, s.source_max, *s.tops) + 56 + 8 * len(s.tops)


def foldin_bytes(state: FoldIn) -> int:
    """Memory of one cached fold-in state: A^-1, b, x and the set of items folded in."""
    return array_bytes(state.a_inv, state.b, state.factor) + int_set_bytes(state.seen) + 56


def rating_bytes(user: RatingUser) -> int:
    """Memory of one user folded into the rating model: the factor, the bias, the objects."""
    return 120 + (0 if user.state is None else array_bytes(user.state[0]) + 24)


def history_key(history: History) -> tuple[int, ...]:
    """What identifies a user's history here: (length, latest time, seen, negatives)."""
    return (len(history.items), int(history.last_timestamp), len(history.seen), len(history.negatives))


def _put(cache: ByteLRU[Any, Any], key: Any, value: Any, nbytes: int) -> None:
    cache.put(key, value, nbytes + 64)  # + the (version, user) tuple and the value tuple


class UserCaches:
    """The fold-in states, personal scores and rating users of recent users (see the module)."""

    def __init__(self, scores_limit: int, factors_limit: int, observer: Any = None) -> None:
        """``scores_limit``: bytes of personal scores; ``factors_limit``: bytes of fold-in states
        (the rating users, ~0.5 KB each, get a tenth of it besides)."""
        self.observer = observer
        self.scores: ByteLRU[Key, tuple[tuple[int, ...], UserScores]] = ByteLRU("user_scores", scores_limit)
        self.factors: ByteLRU[Key, tuple[tuple[int, int], FoldIn]] = ByteLRU("foldins", factors_limit)
        self.ratings: ByteLRU[Key, tuple[tuple[int, ...], RatingUser]] = ByteLRU(
            "rating_users", factors_limit // 10)
        self.lock = threading.Lock()

    def all(self) -> list[ByteLRU[Any, Any]]:
        """Every cache here (for the memory gauges)."""
        return [self.scores, self.factors, self.ratings]

    def fold_in(self, user_id: str, served: ServedModel, h: History) -> np.ndarray | None:
        """Re-solve the user's ALS factor from history ``h``; incremental when only new items were added."""
        als = served.model.sources.als
        if als is None:
            return None
        if len(h.items) == 0:  # nothing to fold in: x = 0, and nothing is kept for the user
            return np.zeros(als.item_factors.shape[1], dtype=np.float32)
        key = (served.version, user_id)
        with self.lock:  # the state is updated in place
            cached = self.factors.get(key)
            start, state = 0, als.fold_in_start()
            if cached is not None and cached[0][0] <= len(h.items):
                start, state = cached[0][0], cached[1]
            w = h.item_weights[start:]
            if np.all(w == 1.0):  # implicit feedback: the plain fold-in
                state = als.fold_in_add(state, h.items[start:])
            else:
                state = als.fold_in_add(state, h.items[start:], weights=w)
            _put(self.factors, key, ((len(h.items), h.last_timestamp), state), foldin_bytes(state))
        if self.observer:
            self.observer.foldin()
        return state.factor

    def factor(self, user_id: str, served: ServedModel, history: History) -> np.ndarray | None:
        """The cached fold-in if ``served`` computed it from this same history (else redone).

        A factor folded in by another worker's events, or by a fold-in racing a newer event, is redone.
        """
        if len(history.items) == 0:
            return self.fold_in(user_id, served, history)
        cached = self.factors.get((served.version, user_id))
        if cached is not None and cached[0] == (len(history.items), history.last_timestamp):
            return cached[1].factor
        return self.fold_in(user_id, served, history)

    def user_scores(self, user_id: str, served: ServedModel, history: History) -> UserScores:
        """The personal source scores, reused until the user's history changes.

        Global sources are not kept here (recloop.retrieval.global_rows shares them by all users).
        """
        key, ck = history_key(history), (served.version, user_id)
        with self.lock:
            cached = self.scores.get(ck)
            if cached is not None and cached[0] == key:
                self.scores.move_to_end(ck)
                if self.observer:
                    self.observer.user_scores(hit=True)
                return cached[1]
        scores = served.model.sources.user_scores(history, self.factor(user_id, served, history))
        if len(history.items) == 0 and len(history.seen) == 0:
            return scores  # a user without history: cheap to score, and not worth a cache slot
        with self.lock:
            _put(self.scores, ck, (key, scores), scores_bytes(scores))
        if self.observer:
            self.observer.user_scores(hit=False)
        return scores

    def rating_user(self, user_id: str, served: ServedModel, history: History) -> RatingUser:
        """The user folded into the rating model, kept like :meth:`user_scores` until the next event."""
        key, ck = history_key(history), (served.version, user_id)
        with self.lock:
            cached = self.ratings.get(ck)
            if cached is not None and cached[0] == key:
                self.ratings.move_to_end(ck)
                return cached[1]
        folded = served.model.rating_user(history)
        with self.lock:
            _put(self.ratings, ck, (key, folded), rating_bytes(folded))
        return folded
