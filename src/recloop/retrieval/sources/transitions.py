"""The sequence source: what users take next after their latest items (first-order transitions).

Memory: one sparse top-k matrix (:class:`~recloop.retrieval.itemmatrix.ItemMatrix`,
``neighbors`` entries per item, 8 bytes each).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

import numpy as np
from pydantic import BaseModel, Field

from recloop.retrieval.itemmatrix import ItemMatrix
from recloop.retrieval.sequence import TransitionScorer
from recloop.retrieval.sources.base import Display, FitContext, Query, SourceSpec, top_unseen

__all__ = ["SequenceSource", "TransitionParams"]


class TransitionParams(BaseModel):
    """Steps counted as "next", how many latest items score, their recency decay, entries kept per item."""

    window: int = 5
    last_n: int = 10
    decay: float = 0.7
    neighbors: int = Field(default=200, ge=1)


class SequenceSource:
    """Recency-weighted transition rows of the latest items."""

    kind: ClassVar[str] = "sequence"
    label: ClassVar[str] = "sequence"
    personal: ClassVar[bool] = True
    explained_by: ClassVar[str | None] = None

    def __init__(self, spec: SourceSpec, scorer: TransitionScorer) -> None:
        self.spec, self.scorer = spec, scorer

    @property
    def name(self) -> str:
        """The source's kind."""
        return self.spec.kind

    @classmethod
    def fit(cls, spec: SourceSpec, ctx: FitContext) -> Self:
        """Count transitions in the training sequences."""
        params = TransitionParams.model_validate(spec.params).model_dump()
        return cls(spec, TransitionScorer(**params).fit(ctx.data))

    @classmethod
    def load(cls, spec: SourceSpec, directory: Path) -> Self:
        """Read the matrix :meth:`save` wrote."""
        scorer = TransitionScorer(**TransitionParams.model_validate(spec.params).model_dump())
        scorer.trans = ItemMatrix.load(directory, spec.kind)
        return cls(spec, scorer)

    def scores(self, query: Query) -> np.ndarray:
        """Transition scores from the latest items."""
        return self.scorer.score(query.history.items)

    def propose(self, query: Query, masked: np.ndarray, ordered: np.ndarray) -> np.ndarray:
        """Top unseen items; nothing for an empty history."""
        if len(query.history.items) == 0:
            return np.empty(0, dtype=np.int64)
        return top_unseen(masked, ordered, self.spec.quota)

    def similarity(self) -> ItemMatrix:
        """The transition matrix (row: the item taken first)."""
        return self.scorer.trans

    def reason(self, recent: np.ndarray, display: Display) -> str:
        """Names the latest item."""
        if len(recent):
            return f"often watched after {display(int(recent[-1]))}"
        return "popular with everyone"

    def save(self, directory: Path) -> None:
        """``sequence.npy`` (small catalogs) or its CSR arrays (:meth:`ItemMatrix.save`)."""
        self.scorer.trans.save(directory, self.name)
