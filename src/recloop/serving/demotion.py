"""Negative feedback beyond the item itself: items similar to what the user disliked move down.

After ranking, each candidate's score drops by ``strength`` x the score spread
of the ranked list x its similarity to the user's negatives. The similarity of
candidate j is, per item-item source of the model (EASE, item-kNN), the largest
``magnitude(n) * max(0, W[n, j]) / max_k W[n, k]`` over the negatives n, averaged
over the sources: 1 for a negative's nearest neighbour at full magnitude (a
dislike or a 1-star rating), 0 for an item unrelated to every negative
(docs/FEEDBACK.md). With no negatives the ranking is untouched.
"""

from __future__ import annotations

import numpy as np

from recloop.retrieval.candidates import CandidateSources
from recloop.retrieval.history import History

__all__ = ["DEMOTION_DEPTH", "DEMOTION_STRENGTH", "demote", "negative_similarity"]

# A negative's nearest neighbour loses 30% of the list's score spread. Chosen on a validation
# replay inside the P2 bootstrap (benchmarks/feedback_validation.py): 1.0 cost a quarter of
# NDCG@10 (people go on to rate what is near a film they rated 1 star); 0.3 keeps NDCG@10 on
# the well-rated events level with the implicit semantics.
DEMOTION_STRENGTH = 0.3
DEMOTION_DEPTH = 200  # the top of the ranked list the demotion re-orders


def negative_similarity(items: np.ndarray, history: History, sources: CandidateSources) -> np.ndarray:
    """float64 (len(items),) in [0, 1]: how close each item is to the user's negatives."""
    neg = history.negatives
    out = np.zeros(len(items), dtype=np.float64)
    if len(neg) == 0 or len(items) == 0:
        return out
    mags = history.negative_item_weights.astype(np.float32)[:, None]
    used = 0
    for src in sources.sources:
        matrix = src.similarity() if src.explained_by == src.kind else None
        if matrix is None:
            continue
        near = matrix.normalized().block(neg, items)  # (m, len(items)): W[n, j] / max_k W[n, k], >= 0
        out += (mags * near).max(axis=0)
        used += 1
    return out / used if used else out


def demote(
    items: np.ndarray, scores: np.ndarray, history: History, sources: CandidateSources,
    strength: float | None = None, depth: int = DEMOTION_DEPTH,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(items, scores, order) re-ranked after the demotion; ``order`` indexes the inputs.

    ``items`` int64 (n,) ranked, ``scores`` float64 (n,) the ranker's, descending;
    ``strength`` (default :data:`DEMOTION_STRENGTH`). Only the top ``depth`` items are
    demoted, by the score spread of that top (the P2 protocol ranks exactly that deep, so
    serving and the protocol demote the same way); items below keep their scores. Stable:
    items the demotion does not touch keep their relative order.
    """
    strength = DEMOTION_STRENGTH if strength is None else strength
    if len(history.negatives) == 0 or len(items) == 0:
        return items, scores, np.arange(len(items))
    d = min(depth, len(items))
    top = scores[:d]
    spread = float(top.max() - top.min()) or 1.0
    new = np.asarray(scores, dtype=np.float64).copy()
    new[:d] -= strength * spread * negative_similarity(items[:d], history, sources)
    order = np.argsort(-new, kind="stable")
    return items[order], new[order], order
