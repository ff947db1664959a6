"""The synthetic catalog: items in taste clusters, power-law popularity, arrivals, drift.

Time is cut into :data:`N_BUCKETS` equal buckets. For every (pool, bucket) the
generator keeps one cumulative distribution over the pool's items, where a pool
is a taste cluster (``0..K-1``) or the whole catalog (pool ``K``). An item's
weight in a bucket is its Zipf weight times zero before it arrives, then a decay
with its age (popularity drift: new items peak, old ones fade to a floor). All
``(K + 1) * N_BUCKETS`` distributions live in one array, segment ``s`` holding
values in ``[s, s + 1]``, so one ``searchsorted`` samples every event at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from recloop.data.movielens import GENRES
from recloop.data.synth_spec import SynthSpec

__all__ = ["N_BUCKETS", "Catalog", "build_catalog", "items_frame", "sorted_search"]

N_BUCKETS = 32
PRESENT_AT_START = 0.4  # share of the catalog that exists before the first event
DRIFT_FLOOR = 0.15  # an old item keeps this share of its peak popularity
_WORDS = ("Blue", "Silent", "Last", "Golden", "Hidden", "Broken", "Wild", "Iron", "Paper", "Night", "River",
          "Glass", "Winter", "Lucky", "Red", "Northern", "Little", "Electric", "Quiet", "Lost")  # fmt: skip
_NOUNS = ("Road", "Garden", "Machine", "Harbor", "Letter", "Empire", "Song", "Island", "Circle", "Voyage",
          "Mirror", "Signal", "Forest", "Promise", "Engine", "Frontier", "Story", "Tide", "Crown",
          "Echo")  # fmt: skip


def sorted_search(haystack: np.ndarray, needles: np.ndarray, side: Literal["left", "right"]) -> np.ndarray:
    """``np.searchsorted`` with the needles sorted first (4x faster on large random needles)."""
    order = np.argsort(needles)
    out = np.empty(len(needles), dtype=np.int64)
    out[order] = np.searchsorted(haystack, needles[order], side=side)
    return out


@dataclass(frozen=True)
class Catalog:
    """The items' latent structure and the samplers built from it.

    ``cluster``: int32 (n_items,) taste cluster; ``arrival``: int64 (n_items,) Unix s;
    ``quality``: float32 (n_items,) standard normal; ``cdf``: float64
    ((K + 1) * N_BUCKETS * n_items,) the concatenated distributions, ``members``:
    int32 of the same length, the item index at each position; ``seg_end``: int64
    ((K + 1) * N_BUCKETS,) one past each segment's last position.
    """

    cluster: np.ndarray
    arrival: np.ndarray
    quality: np.ndarray
    cdf: np.ndarray
    members: np.ndarray
    seg_end: np.ndarray
    by_arrival: np.ndarray
    arrival_sorted: np.ndarray

    def sample(self, pool: np.ndarray, bucket: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Item indices drawn from ``pool`` (int, K = whole catalog) in ``bucket`` by weight.

        ``u``: uniforms in [0, 1), one per draw; returns int64 of the same length.
        """
        seg = pool.astype(np.int64) * N_BUCKETS + bucket
        pos = sorted_search(self.cdf, seg + u, "right")
        pos = np.minimum(pos, self.seg_end[seg] - 1)
        out: np.ndarray = self.members[pos].astype(np.int64)
        return out

    def uniform_alive(self, ts: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Item indices drawn uniformly among the items that exist at ``ts`` (the last resort)."""
        n_alive = np.maximum(np.searchsorted(self.arrival_sorted, ts, side="right"), 1)
        out: np.ndarray = self.by_arrival[(u * n_alive).astype(np.int64)].astype(np.int64)
        return out


def _clusters(spec: SynthSpec, rng: np.random.Generator) -> np.ndarray:
    k = spec.clusters
    sizes = rng.dirichlet(np.full(k, 3.0))
    cluster = rng.choice(k, size=spec.items, p=sizes).astype(np.int32)
    cluster[:k] = np.arange(k, dtype=np.int32)  # no empty cluster
    return cluster


def _arrivals(
    spec: SynthSpec, weight: np.ndarray, cluster: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    span = spec.span_s
    present = rng.random(spec.items) < PRESENT_AT_START
    for c in range(spec.clusters):  # each cluster's most popular item exists from the start
        idx = np.flatnonzero(cluster == c)
        present[idx[np.argmax(weight[idx])]] = True
    before = spec.start - (rng.random(spec.items) * span).astype(np.int64)
    after = spec.start + (rng.random(spec.items) * span * 0.95).astype(np.int64)
    return np.where(present, before, after)


def _segment(weights: np.ndarray, seg: int) -> np.ndarray:
    cum = np.cumsum(weights)
    return seg + cum / cum[-1] if cum[-1] > 0 else np.full(len(weights), float(seg + 1))


def build_catalog(spec: SynthSpec, rng: np.random.Generator) -> Catalog:
    """Draw the catalog's structure and its (pool, bucket) samplers from ``rng``."""
    weight = (rng.permutation(spec.items) + 1.0) ** -spec.zipf
    cluster = _clusters(spec, rng)
    arrival = _arrivals(spec, weight, cluster, rng)
    quality = rng.standard_normal(spec.items).astype(np.float32)
    tau = spec.span_s / 3.0
    pools = [np.flatnonzero(cluster == c) for c in range(spec.clusters)] + [np.arange(spec.items)]
    cdfs, members, ends = [], [], []
    for p, idx in enumerate(pools):
        for b in range(N_BUCKETS):
            t0 = spec.start + b * spec.span_s / N_BUCKETS
            age = np.maximum(t0 + spec.span_s / (2 * N_BUCKETS) - arrival[idx], 0.0)
            w = weight[idx] * (arrival[idx] <= t0) * (DRIFT_FLOOR + (1 - DRIFT_FLOOR) * np.exp(-age / tau))
            cdfs.append(_segment(w, p * N_BUCKETS + b))
            members.append(idx.astype(np.int32))
            ends.append(len(idx))
    by_arrival = np.argsort(arrival, kind="stable").astype(np.int32)
    return Catalog(cluster, arrival, quality, np.concatenate(cdfs), np.concatenate(members),
                   np.cumsum(np.asarray(ends, dtype=np.int64)), by_arrival, arrival[by_arrival])  # fmt: skip


def items_frame(spec: SynthSpec, catalog: Catalog, rng: np.random.Generator) -> pd.DataFrame:
    """The items table: ``item_id`` (1-based), ``title``, ``year``, ``genres`` (by cluster)."""
    k = spec.clusters
    genre_pool = np.asarray(GENRES[1:])
    primary = rng.integers(0, len(genre_pool), size=k)
    second = rng.integers(0, len(genre_pool), size=spec.items)
    first = genre_pool[primary[catalog.cluster]]
    other = genre_pool[second]
    genres = np.where((rng.random(spec.items) < 0.5) & (other != first),
                      np.char.add(np.char.add(first, "|"), other), first)  # fmt: skip
    words = np.asarray(_WORDS)[rng.integers(0, len(_WORDS), spec.items)]
    nouns = np.asarray(_NOUNS)[rng.integers(0, len(_NOUNS), spec.items)]
    years = pd.to_datetime(catalog.arrival, unit="s").year.to_numpy()
    ids = np.arange(1, spec.items + 1, dtype=np.int64)
    titles = [f"{w} {n} {i}" for w, n, i in zip(words, nouns, ids, strict=True)]
    return pd.DataFrame({"item_id": ids, "title": titles, "year": pd.array(years, dtype="Int64"),
                         "genres": genres.astype(str)})  # fmt: skip
