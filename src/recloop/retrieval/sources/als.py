"""The ALS source: implicit matrix factorisation, searched through a vector index.

Scores are item_factors @ x_u with x_u folded in from the user's history
(per event, by the caller, or here from the history). Its candidates come
from the index (FAISS), which excludes the seen items itself. Memory: the
item factors float32 (n_items, factors) plus the index, chosen by catalog size
(:mod:`recloop.retrieval.index_choice`; its recall@10 against exact search is
measured at build time and kept in ``index.json``).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

import numpy as np

from recloop.config import ALSParams
from recloop.retrieval.als import ALSScorer
from recloop.retrieval.index import IndexConfig, VectorIndex
from recloop.retrieval.index_choice import IndexReport, choose_index, load_with_report, read_report
from recloop.retrieval.sources.base import Display, FitContext, Query, SourceSpec
from recloop.stages import stage

__all__ = ["ALSSource", "ALSSourceParams"]


class ALSSourceParams(ALSParams):
    """ALS hyperparameters and the vector index its candidates are searched in."""

    index: IndexConfig = IndexConfig()


class ALSSource:
    """Matrix-factorisation candidates; also the fold-in every history-aware request uses."""

    kind: ClassVar[str] = "als"
    label: ClassVar[str] = "ALS"
    personal: ClassVar[bool] = True
    explained_by: ClassVar[str | None] = "ease"

    def __init__(self, spec: SourceSpec, als: ALSScorer, index: VectorIndex,
                 report: IndexReport | None = None) -> None:  # fmt: skip
        self.spec, self.als, self.index, self.report = spec, als, index, report
        self.params = ALSSourceParams.model_validate(spec.params)

    @property
    def name(self) -> str:
        """The source's kind."""
        return self.spec.kind

    @classmethod
    def fit(cls, spec: SourceSpec, ctx: FitContext) -> Self:
        """Fit ALS, then index its item factors."""
        p = ALSSourceParams.model_validate(spec.params)
        als = ALSScorer(ALSParams.model_validate(p.model_dump(exclude={"index"}))).fit(ctx.data)
        with stage("index"):
            index, report = choose_index(p.index, als.item_factors, als.user_factors)
        return cls(spec, als, index, report)

    @classmethod
    def load(cls, spec: SourceSpec, directory: Path) -> Self:
        """Read ``als_items.npy`` and ``index.faiss``."""
        p = ALSSourceParams.model_validate(spec.params)
        als = ALSScorer(ALSParams.model_validate(p.model_dump(exclude={"index"})))
        als.set_item_factors(np.load(directory / "als_items.npy"))
        report = read_report(directory / "index.json")
        return cls(spec, als, load_with_report(directory / "index.faiss", report), report)

    def factor(self, query: Query) -> np.ndarray:
        """The user's factor: the caller's, else folded in from the history."""
        if query.user_factor is not None:
            return query.user_factor
        return self.als.fold_in(query.history.items)

    def scores(self, query: Query) -> np.ndarray:
        """item_factors @ x_u."""
        return np.asarray(self.als.item_factors @ self.factor(query), dtype=np.float32)

    def propose(self, query: Query, masked: np.ndarray, ordered: np.ndarray) -> np.ndarray:
        """The index's nearest items to x_u, seen ones excluded by the index."""
        factor = self.factor(query)[None, :]
        if self.spec.quota <= 0 or len(query.history.items) == 0 or not np.any(factor):
            return np.empty(0, dtype=np.int64)
        _, ids = self.index.search(factor, self.spec.quota, exclude=[query.history.seen])
        out: np.ndarray = np.asarray(ids[0], dtype=np.int64)
        return out[out >= 0]

    def similarity(self) -> None:
        """No item-item matrix (reasons use EASE's)."""
        return None

    def reason(self, recent: np.ndarray, display: Display) -> str:
        """Taste profile."""
        return "matches your taste profile"

    def save(self, directory: Path) -> None:
        """``als_items.npy``, ``index.faiss`` and ``index.json`` (what was built, its recall)."""
        np.save(directory / "als_items.npy", self.als.item_factors)
        self.index.save(directory / "index.faiss")
        if self.report is not None:
            self.report.save(directory / "index.json")
