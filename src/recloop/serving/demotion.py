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

__all__ = ["DEMOTION_STRENGTH", "demote", "negative_similarity"]

# A negative's nearest neighbour loses 30% of the list's score spread. Chosen on a validation
# replay inside the P2 bootstrap (benchmarks/feedback_validation.py): 1.0 cost a quarter of
# NDCG@10 (people go on to rate what is near a film they rated 1 star); 0.3 keeps NDCG@10 on
# the well-rated events level with the implicit semantics.
DEMOTION_STRENGTH = 0.3


def negative_similarity(items: np.ndarray, history: History, sources: CandidateSources) -> np.ndarray:
    """float64 (len(items),) in [0, 1]: how close each item is to the user's negatives."""
    neg = history.negatives
    out = np.zeros(len(items), dtype=np.float64)
    if len(neg) == 0 or len(items) == 0:
        return out
    mags = history.negative_item_weights.astype(np.float64)[:, None]
    used = 0
    for src in sources.sources:
        matrix = src.similarity() if src.explained_by == src.kind else None
        if matrix is None:
            continue
        near = np.maximum(matrix.block(neg, items).astype(np.float64), 0.0)  # (m, len(items))
        near[neg[:, None] == items[None, :]] = 0.0  # an item's own diagonal says nothing
        top = matrix.row_max(neg).astype(np.float64)[:, None]  # (m, 1), read from the sparse rows
        top[top == 0] = 1.0
        out += (mags * near / top).max(axis=0)
        used += 1
    return out / used if used else out


def demote(
    items: np.ndarray, scores: np.ndarray, history: History, sources: CandidateSources,
    strength: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(items, scores, order) re-ranked after the demotion; ``order`` indexes the inputs.

    ``items`` int64 (n,) ranked, ``scores`` float64 (n,) the ranker's; ``strength``
    (default :data:`DEMOTION_STRENGTH`). Stable: items the demotion does not touch keep
    their relative order.
    """
    strength = DEMOTION_STRENGTH if strength is None else strength
    if len(history.negatives) == 0 or len(items) == 0:
        return items, scores, np.arange(len(items))
    spread = float(scores.max() - scores.min()) or 1.0
    new = scores - strength * spread * negative_similarity(items, history, sources)
    order = np.argsort(-new, kind="stable")
    return items[order], new[order], order
