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
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from recloop.ranking.model import RatingUser, TwoStageModel
from recloop.retrieval.als import FoldIn
from recloop.retrieval.candidates import UserScores
from recloop.retrieval.history import History

__all__ = ["FOLDIN_OVERHEAD_BYTES", "ServedModel", "UserCaches", "foldin_entry_bytes"]

Key = tuple[str, str]  # (model version, user id)


@dataclass(frozen=True)
class ServedModel:
    """A loaded model and the registry version it came from."""

    model: TwoStageModel
    version: str


FOLDIN_OVERHEAD_BYTES = 1200  # per cached fold-in besides A^-1, b and x: objects, seen set, key


def foldin_entry_bytes(factors: int) -> int:
    """Memory of one cached fold-in state: A^-1 (f x f float64), b (f float64), x (f float32)."""
    return 8 * factors * factors + 12 * factors + FOLDIN_OVERHEAD_BYTES


def history_key(history: History) -> tuple[int, ...]:
    """What identifies a user's history here: (length, latest time, seen, negatives)."""
    return (len(history.items), int(history.last_timestamp), len(history.seen), len(history.negatives))


def _put(cache: OrderedDict[Any, Any], key: Any, value: Any, limit: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > limit:
        cache.popitem(last=False)


class UserCaches:
    """The fold-in states, personal scores and rating users of recent users (see the module)."""

    def __init__(self, max_scores: int, max_factors: int, observer: Any = None) -> None:
        self.max_scores, self.max_factors = max_scores, max_factors
        self.observer = observer
        self.scores: OrderedDict[Key, tuple[tuple[int, ...], UserScores]] = OrderedDict()
        self.factors: OrderedDict[Key, tuple[tuple[int, int], FoldIn]] = OrderedDict()
        self.ratings: OrderedDict[Key, tuple[tuple[int, ...], RatingUser]] = OrderedDict()
        self.lock = threading.Lock()

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
            _put(self.factors, key, ((len(h.items), h.last_timestamp), state), self.max_factors)
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
            _put(self.scores, ck, (key, scores), self.max_scores)
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
            _put(self.ratings, ck, (key, folded), self.max_factors)
        return folded
