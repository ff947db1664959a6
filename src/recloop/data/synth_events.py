"""Synthetic users and their events, one chunk of users at a time.

A user has an activity (events; Pareto-tailed, the totals exact), a taste mix over
the K clusters (Dirichlet, mostly one to three clusters), a join time and an active
window. Events come in sessions (geometric length, seconds apart, sessions spread
over the window); each event picks a cluster from the mix (or, with probability
:data:`EXPLORE`, any cluster), then an item of that cluster by its popularity at that
time. Histories are repeat-free; the rating follows the user's affinity for the
item's cluster, the item's quality and the user's bias, with noise.
"""

from __future__ import annotations

import math

import numpy as np

from recloop.data.synth_items import N_BUCKETS, Catalog, sorted_search
from recloop.data.synth_spec import SynthSpec

__all__ = ["EXPLORE", "EventChunk", "activity", "event_chunk"]

EXPLORE = 0.1
MAX_CATALOG_SHARE = 0.3  # the most active user sees at most this share of the catalog
MAX_OVER_MEAN = 60.0  # ... and at most this many times the mean activity
MAX_REDRAWS = 60
GAP_MEAN_S = 90.0  # seconds between two events of one session
EventChunk = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""(user_id int32, item_id int32, rating int8, timestamp int64), user-major, time order per user."""


def _fix_total(n: np.ndarray, target: int, lo: int, hi: int, rng: np.random.Generator) -> np.ndarray:
    while (gap := target - int(n.sum())) != 0:
        cand = np.flatnonzero(n < hi) if gap > 0 else np.flatnonzero(n > lo)
        pick = rng.choice(cand, size=min(abs(gap), len(cand)), replace=False)
        n[pick] += 1 if gap > 0 else -1
    return n


def activity(spec: SynthSpec, rng: np.random.Generator) -> np.ndarray:
    """Events per user, int64 (n_users,), summing exactly to ``spec.events``."""
    lo = spec.min_events
    mean = spec.events / spec.users
    hi = max(lo, int(min(spec.items * MAX_CATALOG_SHARE, mean * MAX_OVER_MEAN)), math.ceil(mean))
    raw = (1.0 - rng.random(spec.users)) ** (-1.0 / spec.pareto) - 1.0  # Pareto (Lomax), >= 0
    low, high = 0.0, float(spec.events)
    for _ in range(60):  # the scale that makes the capped totals meet the target
        mid = (low + high) / 2
        total = np.minimum(np.floor(lo + raw * mid), hi).sum()
        low, high = (mid, high) if total < spec.events else (low, mid)
    n = np.minimum(np.floor(lo + raw * low), hi).astype(np.int64)
    return _fix_total(n, spec.events, lo, hi, rng)


def _timestamps(spec: SynthSpec, n: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per event (user-major): the chunk-local user and a timestamp, strictly rising per user."""
    cu, total = len(n), int(n.sum())
    user = np.repeat(np.arange(cu), n)
    starts = np.repeat(np.cumsum(n) - n, n)
    pos = np.arange(total) - starts
    join = spec.start + rng.random(cu) * spec.span_s * 0.9
    window = np.minimum(spec.start + spec.span_s - join, rng.exponential(spec.span_s * 0.15, cu) + 3600.0)
    new = (pos == 0) | (rng.random(total) < 1.0 / spec.session_mean)
    sess = np.cumsum(new) - 1
    s_user = user[new]
    s_start = join[s_user] + rng.random(len(s_user)) * window[s_user]
    s_start = s_start[np.lexsort((s_start, s_user))]  # sessions of a user in time order
    gaps = np.where(new, 0, 1 + np.floor(rng.exponential(GAP_MEAN_S, total))).astype(np.int64)
    cum = np.cumsum(gaps)
    ts = np.floor(s_start[sess]).astype(np.int64) + cum - cum[np.flatnonzero(new)][sess]
    lift = user.astype(np.int64) << 40  # a segmented running max: users never mix
    ts = np.maximum.accumulate(ts - pos + lift) - lift + pos
    return user, ts


def _first_of_each(key: np.ndarray) -> np.ndarray:
    """Mask of the first occurrence of each value of ``key`` (in array order)."""
    order = np.argsort(key, kind="stable")
    first_sorted = np.ones(len(key), dtype=bool)
    first_sorted[1:] = key[order][1:] != key[order][:-1]
    first = np.zeros(len(key), dtype=bool)
    first[order] = first_sorted
    return first


def _redraw(spec: SynthSpec, cat: Catalog, round_: int, pool: np.ndarray, bucket: np.ndarray,
            ts: np.ndarray, u: np.ndarray) -> np.ndarray:  # fmt: skip
    """A repeat's new item: its own pool first, then the whole catalog by popularity, then uniform."""
    if round_ < 3:
        return cat.sample(pool, bucket, u)
    if round_ < 6:
        return cat.sample(np.full(len(u), spec.clusters), bucket, u)
    return cat.uniform_alive(ts, u)


def _draw_items(spec: SynthSpec, cat: Catalog, pool: np.ndarray, bucket: np.ndarray, ts: np.ndarray,
                user: np.ndarray, rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Items per event, repeat-free per user (-1 where no new item was found: dropped).

    Repeats are redrawn against sorted batches of the accepted (user, item) keys, so a
    round costs only its own draws and a binary search per batch.
    """
    item = cat.sample(pool, bucket, rng.random(len(pool)))
    key = user.astype(np.int64) * spec.items + item
    ok = _first_of_each(key)
    big, small = np.sort(key[ok]), np.empty(0, dtype=np.int64)
    todo = np.flatnonzero(~ok)
    for round_ in range(MAX_REDRAWS):
        if len(todo) == 0:
            break
        new = _redraw(spec, cat, round_, pool[todo], bucket[todo], ts[todo], rng.random(len(todo)))
        cand = user[todo].astype(np.int64) * spec.items + new
        fresh = _first_of_each(cand)
        for batch in (big, small):
            if len(batch):
                at = np.minimum(sorted_search(batch, cand, "left"), len(batch) - 1)
                fresh &= batch[at] != cand
        item[todo[fresh]] = new[fresh]
        small = np.sort(np.concatenate([small, cand[fresh]]))
        todo = todo[~fresh]
    item[todo] = -1
    return item


def _ratings(mix: np.ndarray, user: np.ndarray, item_cluster: np.ndarray, quality: np.ndarray,
             bias: np.ndarray, rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """1-5 stars from affinity (the mix relative to uniform), item quality, user bias and noise."""
    affinity = np.log(mix[user, item_cluster] * mix.shape[1] + 0.05)
    latent = 3.3 + 0.45 * np.clip(affinity, -3.0, 2.0) + 0.45 * quality + bias[user]
    latent += rng.normal(0.0, 0.6, len(user))
    stars: np.ndarray = np.clip(np.rint(latent), 1, 5).astype(np.int8)
    return stars


def event_chunk(spec: SynthSpec, cat: Catalog, first_user: int, n: np.ndarray,
                rng: np.random.Generator) -> EventChunk:  # fmt: skip
    """The events of users ``first_user .. first_user + len(n) - 1`` (0-based), ``n`` each."""
    k = spec.clusters
    mix = rng.dirichlet(np.full(k, 0.25), size=len(n))
    bias = rng.normal(0.0, 0.35, len(n))
    user, ts = _timestamps(spec, n, rng)
    bucket = np.clip((ts - spec.start) * N_BUCKETS // spec.span_s, 0, N_BUCKETS - 1)
    cum = np.cumsum(mix, axis=1)
    cum = (np.arange(len(n))[:, None] + cum / cum[:, -1:]).ravel()
    pool = np.searchsorted(cum, user + rng.random(len(user)), side="right") - user * k
    pool = np.clip(pool, 0, k - 1)
    explore = rng.random(len(user)) < EXPLORE
    pool[explore] = rng.integers(0, k, int(explore.sum()))
    item = _draw_items(spec, cat, pool, bucket, ts, user, rng)
    keep = item >= 0
    user, item, ts = user[keep], item[keep], ts[keep]
    rating = _ratings(mix, user, cat.cluster[item], cat.quality[item], bias, rng)
    return ((user + first_user + 1).astype(np.int32), (item + 1).astype(np.int32), rating, ts)
