"""Item popularity, overall and in a recent window, updated by every event.

Trending is an exponentially decayed count with half-life ``half_life_days``:
value(T) = sum over events e of 2^(-(T - t_e) / half_life). It is stored as
(value at last update, time of last update) per item and decayed on read, so
an update is O(1) and a read of many items is one vectorised expression.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ItemStats"]


class ItemStats:
    """Per-item counts, decayed trending counts and rating sums (float64 arrays)."""

    def __init__(self, n_items: int, half_life_days: float = 7.0) -> None:
        self.n_items = n_items
        self.half_life_s = half_life_days * 86400.0
        self.counts = np.zeros(n_items, dtype=np.float64)
        self.trend_value = np.zeros(n_items, dtype=np.float64)
        self.trend_time = np.zeros(n_items, dtype=np.float64)
        self.rating_sum = np.zeros(n_items, dtype=np.float64)
        self.rating_n = np.zeros(n_items, dtype=np.float64)
        self.now = 0.0
        self.version = 0  # bumped by every add: readers that keep derived arrays compare it

    def add(self, item: int, timestamp: float, rating: float = 0.0) -> None:
        """Count one positive event on ``item`` at ``timestamp`` (Unix s)."""
        self.version += 1
        self.counts[item] += 1.0
        t = float(timestamp)
        dt = max(0.0, t - self.trend_time[item])
        self.trend_value[item] = self.trend_value[item] * 2.0 ** (-dt / self.half_life_s) + 1.0
        self.trend_time[item] = max(t, self.trend_time[item])
        if rating > 0:
            self.rating_sum[item] += rating
            self.rating_n[item] += 1.0
        self.now = max(self.now, t)

    def add_many(self, items: np.ndarray, timestamps: np.ndarray, ratings: np.ndarray) -> None:
        """Add events in time order (bulk load at training time), vectorised.

        The same state as :meth:`add` per event up to float rounding: each item's trending
        value is brought to its latest event time and every event adds its own decayed 1.
        O(n_events + n_items) array work, no Python loop over events.
        """
        i = np.asarray(items, dtype=np.int64)
        if len(i) == 0:
            return
        self.version += 1
        t = np.asarray(timestamps, dtype=np.float64)
        r = np.asarray(ratings, dtype=np.float64)
        self.counts += np.bincount(i, minlength=self.n_items)
        latest = self.trend_time.copy()
        np.maximum.at(latest, i, t)
        decayed = self.trend_value * np.exp2(-(latest - self.trend_time) / self.half_life_s)
        added = np.exp2(-np.maximum(0.0, latest[i] - t) / self.half_life_s)
        self.trend_value = decayed + np.bincount(i, weights=added, minlength=self.n_items)
        self.trend_time = latest
        rated = r > 0
        self.rating_sum += np.bincount(i[rated], weights=r[rated], minlength=self.n_items)
        self.rating_n += np.bincount(i[rated], minlength=self.n_items)
        self.now = max(self.now, float(t.max()))

    def trending(self, at: float | None = None, items: np.ndarray | None = None) -> np.ndarray:
        """Decayed counts at time ``at`` (default: latest event) for ``items`` (or all)."""
        t = self.now if at is None else float(at)
        idx = slice(None) if items is None else items
        dt = np.maximum(0.0, t - self.trend_time[idx])
        return np.asarray(self.trend_value[idx] * np.exp2(-dt / self.half_life_s))

    def rating_mean(
        self, prior: float = 3.5, strength: float = 5.0, items: np.ndarray | None = None
    ) -> np.ndarray:
        """Shrunk mean rating per item (Bayesian average towards ``prior``), of ``items`` (or all)."""
        idx = slice(None) if items is None else items
        return np.asarray((self.rating_sum[idx] + prior * strength) / (self.rating_n[idx] + strength))

    def merged(self, other: ItemStats) -> ItemStats:
        """A new ItemStats counting the events of both (same catalog and half-life).

        Counts and rating sums add; decayed trending values are brought to the later
        of the two update times and added, which is exactly the value one ItemStats
        fed with both event streams would hold.
        """
        if other.n_items != self.n_items or other.half_life_s != self.half_life_s:
            raise ValueError(
                f"cannot merge item stats of {other.n_items} items / half-life {other.half_life_s} s "
                f"into {self.n_items} items / half-life {self.half_life_s} s"
            )
        out = ItemStats(self.n_items, self.half_life_s / 86400.0)
        out.counts = self.counts + other.counts
        out.rating_sum = self.rating_sum + other.rating_sum
        out.rating_n = self.rating_n + other.rating_n
        t = np.maximum(self.trend_time, other.trend_time)
        out.trend_time = t
        out.trend_value = self.trend_value * np.exp2(-(t - self.trend_time) / self.half_life_s) + (
            other.trend_value * np.exp2(-(t - other.trend_time) / self.half_life_s)
        )
        out.now = max(self.now, other.now)
        return out

    def shifted(self, seconds: float) -> ItemStats:
        """A copy whose clock runs ``seconds`` later: every update time and ``now`` moved forward.

        Counts and trending values are unchanged, so trending read at ``now + seconds``
        equals this object's at ``now``.
        """
        other = self.copy()
        other.trend_time = np.where(other.trend_time > 0, other.trend_time + seconds, 0.0)
        other.now = self.now + seconds
        return other

    def copy(self) -> ItemStats:
        """An independent copy (training state must not leak into evaluation)."""
        other = ItemStats(self.n_items, self.half_life_s / 86400.0)
        for name in ("counts", "trend_value", "trend_time", "rating_sum", "rating_n"):
            setattr(other, name, getattr(self, name).copy())
        other.now = self.now
        return other
