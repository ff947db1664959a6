"""Short human-readable reasons for a recommended item."""

from __future__ import annotations

import numpy as np

from recloop.retrieval.candidates import SOURCES, CandidateSources
from recloop.retrieval.history import History
from recloop.serving.catalog import Catalog

__all__ = ["explain"]


def explain(
    item: int, origin: int, history: History, sources: CandidateSources, catalog: Catalog
) -> tuple[str, str]:
    """(source name, reason) for ``item``; item-based reasons name the history item."""
    source = SOURCES[int(origin)]
    recent = history.items[-20:]
    if len(recent) and source in ("ease", "itemknn", "als"):
        matrix = sources.itemknn if source == "itemknn" else sources.ease
        contrib = matrix[recent, item]
        best = int(recent[int(np.argmax(contrib))])
        if contrib.max() > 0:
            return source, f"because you liked {catalog.view(best).display}"
    if source == "sequence" and len(recent):
        return source, f"often watched after {catalog.view(int(recent[-1])).display}"
    if source == "als":
        return source, "matches your taste profile"
    if source == "trending":
        return source, "trending this week"
    return source, "popular with everyone"
