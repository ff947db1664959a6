"""Item-item sources: EASE and item-kNN, a recency-weighted sum of rows of one matrix.

A user's score for item j is sum over the latest history items h of
decay^(age of h) * W[h, j], over the items whose recency weight is at least
``min_weight`` (at most ``max_history``). Memory: one sparse top-k
:class:`~recloop.retrieval.itemmatrix.ItemMatrix` per source (8 bytes per kept
entry; a catalog up to 4,096 items also keeps it dense: 11 MB at 1,682 items).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
from pydantic import BaseModel

from recloop.config import EASEParams, ItemKNNParams
from recloop.retrieval.base import TrainData
from recloop.retrieval.ease import EASEScorer
from recloop.retrieval.history import recency_weights
from recloop.retrieval.itemknn import ItemKNNScorer
from recloop.retrieval.itemmatrix import ItemMatrix
from recloop.retrieval.sources.base import Display, FitContext, Query, SourceSpec, top_unseen

__all__ = ["EASESource", "ItemKNNSource", "RecencyWindow"]


class RecencyWindow(BaseModel):
    """How the latest history items are weighted: decay per step back, and where to stop."""

    decay: float = 0.9
    max_history: int = 100
    min_weight: float = 1e-3

    def size(self) -> int:
        """How many latest items have recency weight >= ``min_weight`` (at most ``max_history``).

        0.9 keeps 66 items, 0.8 keeps 31: an older item would move a score by under 0.1%
        of the latest item's weight, and every row kept is a catalog-wide row read per request.
        """
        if not 0.0 < self.decay < 1.0 or self.min_weight <= 0.0:
            return self.max_history
        return max(1, min(self.max_history, int(math.log(self.min_weight) / math.log(self.decay)) + 1))


class _ItemItem:
    """Shared scoring of the item-item sources over ``self.matrix``."""

    personal: ClassVar[bool] = True
    explained_by: ClassVar[str | None] = None  # set per kind: the kind itself

    def __init__(self, spec: SourceSpec, matrix: ItemMatrix, window: RecencyWindow) -> None:
        self.spec, self.matrix, self.window = spec, matrix, window
        self._size = window.size()

    @property
    def name(self) -> str:
        """The source's kind."""
        return self.spec.kind

    def scores(self, query: Query) -> np.ndarray:
        """Recency- and feedback-weighted sum of the matrix rows of the latest history items."""
        items = query.history.items
        if len(items) == 0:
            return np.zeros(self.matrix.n, dtype=np.float32)
        last = items[-self._size :]
        w = recency_weights(len(last), self.window.decay)
        fb = query.history.item_weights[-self._size :]
        if np.any(fb != 1.0):  # explicit feedback: a 3-star rating or a view counts less than a like
            w = w * fb
        return self.matrix.weighted_rows(last, w)

    def propose(self, query: Query, masked: np.ndarray, ordered: np.ndarray) -> np.ndarray:
        """Top unseen items; nothing for an empty history (no signal)."""
        if len(query.history.items) == 0:
            return np.empty(0, dtype=np.int64)
        return top_unseen(masked, ordered, self.spec.quota)

    def similarity(self) -> ItemMatrix:
        """The item x item matrix."""
        return self.matrix

    def reason(self, recent: np.ndarray, display: Display) -> str:
        """Generic: the candidate's history item could not be named."""
        return "popular with everyone"

    def save(self, directory: Path) -> None:
        """``<name>.npy`` (small catalogs) or its CSR arrays (:meth:`ItemMatrix.save`)."""
        self.matrix.save(directory, self.name)

    params_model: ClassVar[type[RecencyWindow]] = RecencyWindow

    @classmethod
    def _matrix(cls, params: RecencyWindow, data: TrainData) -> ItemMatrix:
        raise NotImplementedError

    @classmethod
    def fit(cls, spec: SourceSpec, ctx: FitContext) -> Self:
        """Fit the kind's matrix with the spec's parameters."""
        params = cls.params_model.model_validate(spec.params)
        return cls(spec, cls._matrix(params, ctx.data), params)

    @classmethod
    def load(cls, spec: SourceSpec, directory: Path) -> Self:
        """Read the matrix :meth:`save` wrote."""
        params = cls.params_model.model_validate(spec.params)
        return cls(spec, ItemMatrix.load(directory, spec.kind), params)


class EASEParamsSpec(EASEParams, RecencyWindow):
    """EASE's L2 weight and its recency window."""

    decay: float = 0.9


class ItemKNNParamsSpec(ItemKNNParams, RecencyWindow):
    """Item-kNN's neighbours and shrink, and its recency window."""

    decay: float = 0.8


class EASESource(_ItemItem):
    """EASE (Steck 2019): closed-form item-item regression weights."""

    kind: ClassVar[str] = "ease"
    label: ClassVar[str] = "EASE"
    explained_by: ClassVar[str | None] = "ease"
    params_model: ClassVar[type[RecencyWindow]] = EASEParamsSpec

    @classmethod
    def _matrix(cls, params: RecencyWindow, data: TrainData) -> ItemMatrix:
        """Invert the regularised Gram matrix of the training interactions."""
        assert isinstance(params, EASEParamsSpec)
        ease = EASEParams(**{f: getattr(params, f) for f in EASEParams.model_fields})
        return EASEScorer(ease).fit(data).matrix


class ItemKNNSource(_ItemItem):
    """Item-kNN: cosine similarity of item columns, ``neighbors`` kept per item."""

    kind: ClassVar[str] = "itemknn"
    label: ClassVar[str] = "item-kNN"
    explained_by: ClassVar[str | None] = "itemknn"
    params_model: ClassVar[type[RecencyWindow]] = ItemKNNParamsSpec

    @classmethod
    def _matrix(cls, params: RecencyWindow, data: TrainData) -> ItemMatrix:
        """Cosine similarities of the training interactions."""
        assert isinstance(params, ItemKNNParamsSpec)
        knn = ItemKNNParams(neighbors=params.neighbors, shrink=params.shrink,
                            max_user_items=params.max_user_items, max_pairs=params.max_pairs)  # fmt: skip
        return ItemKNNScorer(knn).fit(data).matrix
