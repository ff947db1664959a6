"""Short human-readable reasons for recommended items, from the sources that proposed them."""

from __future__ import annotations

import numpy as np

from recloop.events.feedback import LIKED_WEIGHT
from recloop.retrieval.candidates import CandidateSources
from recloop.retrieval.history import History
from recloop.serving.catalog import Catalog

__all__ = ["FILLER", "explain_all"]

RECENT = 20  # reasons name one of the user's last RECENT items
FILLER = "popular"  # the source name of items filled in after the business rules


def explain_all(
    items: np.ndarray, origins: np.ndarray, history: History, sources: CandidateSources, catalog: Catalog
) -> list[tuple[str, str]]:
    """(source name, reason) per item; item-based reasons name the history item behind it.

    Only liked items are named (weight >= ``LIKED_WEIGHT`` in recloop.events.feedback):
    a 1-star rating, a dislike, a view or a 3-star rating never reads "because you liked".

    A source with ``explained_by`` names the recent history item with the largest
    weight towards the candidate in that source's item-item matrix (EASE's for ALS),
    read for every such candidate at once. Origin -1 is a filler (popular) item.
    """
    recent = history.liked(LIKED_WEIGHT)[-RECENT:]  # never a negative, a view or a 3-star rating
    names = [sources.names[o] if o >= 0 else FILLER for o in origins.tolist()]
    because: dict[int, int] = {}  # position -> the history item behind it
    by: dict[str, list[int]] = {}
    for p, o in enumerate(origins.tolist()):
        via = sources.sources[o].explained_by if o >= 0 else None
        if via is not None and len(recent):
            by.setdefault(via, []).append(p)
    for via, at in by.items():
        src = sources.get(via)
        matrix = None if src is None else src.similarity()
        if matrix is None:
            continue
        contrib = matrix.block(recent, items[at])  # (len(recent), len(at))
        who, weight = recent[contrib.argmax(axis=0)].tolist(), contrib.max(axis=0).tolist()
        because |= {p: w for p, w, x in zip(at, who, weight, strict=True) if x > 0}

    def display(i: int) -> str:
        return catalog.view(i).display

    out = []
    for p, (name, o) in enumerate(zip(names, origins.tolist(), strict=True)):
        if p in because:
            reason = f"because you liked {display(because[p])}"
        elif o >= 0:
            reason = sources.sources[o].reason(recent, display)
        else:
            reason = "popular with everyone"
        out.append((name, reason))
    return out
