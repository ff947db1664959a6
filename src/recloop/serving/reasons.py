"""Short human-readable reasons for recommended items."""

from __future__ import annotations

import numpy as np

from recloop.retrieval.candidates import SOURCES, CandidateSources
from recloop.retrieval.history import History
from recloop.serving.catalog import Catalog

__all__ = ["explain_all"]

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
    because: dict[int, int] = {}  # position -> the history item behind it
    if len(recent):
        for kinds in (("ease", "als"), ("itemknn",)):
            at = [p for p, name in enumerate(names) if name in kinds]
            if not at:
                continue
            matrix = sources.itemknn if kinds == ("itemknn",) else sources.ease
            contrib = matrix[recent[:, None], items[at][None, :]]  # (len(recent), len(at))
            who, weight = recent[contrib.argmax(axis=0)].tolist(), contrib.max(axis=0).tolist()
            because |= {p: w for p, w, x in zip(at, who, weight, strict=True) if x > 0}
    out = []
    for p, source in enumerate(names):
        if p in because:
            reason = f"because you liked {catalog.view(because[p]).display}"
        else:
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
