"""Short human-readable reasons for recommended items."""

from __future__ import annotations

import numpy as np

from recloop.retrieval.candidates import SOURCES, CandidateSources
from recloop.retrieval.history import History
from recloop.serving.catalog import Catalog

__all__ = ["explain", "explain_all"]

_ITEM_BASED = ("ease", "itemknn", "als")
RECENT = 20  # reasons name one of the user's last RECENT items


def explain_all(
    items: np.ndarray, origins: np.ndarray, history: History, sources: CandidateSources, catalog: Catalog
) -> list[tuple[str, str]]:
    """(source name, reason) per item; item-based reasons name the history item behind it.

    For EASE, item-kNN and ALS candidates the reason names the recent history item
    with the largest item-item weight towards the candidate (EASE's for ALS), read for
    every candidate at once from the two matrices.
    """
    recent = history.items[-RECENT:]
    names = [SOURCES[int(o)] for o in origins.tolist()]
    best: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if len(recent) and len(items):
        for kind, matrix in (("ease", sources.ease), ("itemknn", sources.itemknn)):
            contrib = matrix[recent[:, None], items[None, :]]  # (len(recent), len(items))
            best[kind] = (recent[contrib.argmax(axis=0)], contrib.max(axis=0))
    out = []
    for pos, source in enumerate(names):
        reason = None
        if source in _ITEM_BASED and best:
            who, weight = best["itemknn" if source == "itemknn" else "ease"]
            if weight[pos] > 0:
                reason = f"because you liked {catalog.view(int(who[pos])).display}"
        if reason is None:
            reason = _generic(source, recent, catalog)
        out.append((source, reason))
    return out


def _generic(source: str, recent: np.ndarray, catalog: Catalog) -> str:
    if source == "sequence" and len(recent):
        return f"often watched after {catalog.view(int(recent[-1])).display}"
    if source == "als":
        return "matches your taste profile"
    if source == "trending":
        return "trending this week"
    return "popular with everyone"


def explain(
    item: int, origin: int, history: History, sources: CandidateSources, catalog: Catalog
) -> tuple[str, str]:
    """(source name, reason) for one ``item`` (see :func:`explain_all`)."""
    return explain_all(np.asarray([item], np.int64), np.asarray([origin]), history, sources, catalog)[0]
