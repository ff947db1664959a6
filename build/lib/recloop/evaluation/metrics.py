"""Top-N ranking metrics exactly as shared/EVALUATION.md defines them.

Relevance is binary. ``ranked`` is a list of item indices, best first;
``relevant`` is the set of held-out items. An empty list scores zero.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

__all__ = [
    "average_precision_at_k",
    "catalog_coverage",
    "hit_rate_at_k",
    "ndcg_at_k",
    "precision_at_k",
    "rank_ndcg",
    "recall_at_k",
]

_DISCOUNT = 1.0 / np.log2(np.arange(2, 2 + 1000))


def _hits(ranked: Sequence[int], relevant: Collection[int], k: int) -> np.ndarray:
    return np.fromiter((1.0 if i in relevant else 0.0 for i in list(ranked)[:k]), dtype=float)


def ndcg_at_k(ranked: Sequence[int], relevant: Collection[int], k: int = 10) -> float:
    """DCG with log2 discount over ideal DCG of min(k, |relevant|) hits."""
    if not relevant:
        return 0.0
    hits = _hits(ranked, relevant, k)
    dcg = float((hits * _DISCOUNT[: len(hits)]).sum())
    ideal = float(_DISCOUNT[: min(k, len(relevant))].sum())
    return dcg / ideal


def recall_at_k(ranked: Sequence[int], relevant: Collection[int], k: int = 10) -> float:
    """Hits in the top k over |relevant|."""
    if not relevant:
        return 0.0
    return float(_hits(ranked, relevant, k).sum()) / len(relevant)


def precision_at_k(ranked: Sequence[int], relevant: Collection[int], k: int = 10) -> float:
    """Hits in the top k over k (a short list is not rewarded)."""
    return float(_hits(ranked, relevant, k).sum()) / k


def hit_rate_at_k(ranked: Sequence[int], relevant: Collection[int], k: int = 10) -> float:
    """1 if any of the top k is relevant, else 0."""
    return 1.0 if _hits(ranked, relevant, k).any() else 0.0


def average_precision_at_k(ranked: Sequence[int], relevant: Collection[int], k: int = 10) -> float:
    """Sum of precision@r at each hit rank r <= k, over min(k, |relevant|)."""
    if not relevant:
        return 0.0
    hits = _hits(ranked, relevant, k)
    if not hits.any():
        return 0.0
    prec = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((prec * hits).sum()) / min(k, len(relevant))


def catalog_coverage(lists: Sequence[Sequence[int]], n_items: int, k: int = 10) -> float:
    """Distinct items across all users' top-k lists over the catalog size."""
    seen: set[int] = set()
    for ranked in lists:
        seen.update(int(i) for i in list(ranked)[:k])
    return len(seen) / n_items


def rank_ndcg(ranked: Sequence[int], item: int, k: int = 10) -> tuple[float, float]:
    """(hit, NDCG) of one held-out item: 1/log2(rank+1) if it is in the top k."""
    top = list(ranked)[:k]
    if item in top:
        return 1.0, float(_DISCOUNT[top.index(item)])
    return 0.0, 0.0
