"""Candidate generation: the model's sources, their quotas, the merge.

Each source scores every item from the query; the top ``quota`` unseen
items of each source are merged in source order. Every candidate keeps every
source's score and rank (rank 1 = best among unseen items), so the ranker can
weigh the sources against each other. Personal sources (history-dependent)
can be computed once per user history (:class:`UserScores`) and kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from recloop.config import ModelParams
from recloop.errors import ConfigError
from recloop.retrieval.als import ALSScorer
from recloop.retrieval.global_rows import GlobalRowsCache
from recloop.retrieval.history import History
from recloop.retrieval.sources import CandidateSource, Query, SourceSpec
from recloop.retrieval.sources.als import ALSSource
from recloop.retrieval.trending import ItemStats

__all__ = ["CandidateConfig", "CandidateSources", "Candidates", "UserScores", "default_candidates"]


class CandidateConfig(BaseModel):
    """The sources of a model, in merge order (earlier sources win a shared candidate)."""

    sources: list[SourceSpec] = []

    @property
    def quotas(self) -> dict[str, int]:
        """Quota per source name."""
        return {s.kind: s.quota for s in self.sources}


def default_candidates(models: ModelParams) -> CandidateConfig:
    """recloop's default mix, with the fit parameters of ``models`` (the settings)."""
    sequence = [SourceSpec(kind="sasrec", quota=models.sasrec_quota, params=models.sasrec.model_dump())]
    return CandidateConfig(sources=[
        SourceSpec(kind="ease", quota=100, params={**models.ease.model_dump(), "decay": 0.9}),
        SourceSpec(kind="itemknn", quota=50, params={**models.itemknn.model_dump(), "decay": 0.8}),
        SourceSpec(kind="sequence", quota=50,
                   params={"window": 5, "last_n": 10, "decay": 0.7, "neighbors": 200}),
        SourceSpec(kind="als", quota=50, params=models.als.model_dump()),
        *(sequence if models.sasrec_source else []),
        SourceSpec(kind="popular", quota=20),
        SourceSpec(kind="trending", quota=20),
    ])  # fmt: skip


@dataclass(frozen=True)
class Candidates:
    """Merged candidates for one query.

    ``items``: int64 (n,). ``scores``/``ranks``: float32 (n, n_sources), every
    source's score and rank for every candidate, columns in source order.
    ``source_max``: each source's highest score over the whole catalog (seen
    items included), float32 (n_sources,). ``origin``: index of the source
    that proposed it first.
    """

    items: np.ndarray
    scores: np.ndarray
    ranks: np.ndarray
    source_max: np.ndarray
    origin: np.ndarray


@dataclass(frozen=True)
class UserScores:
    """One user's history-dependent scores: the personal sources, in source order.

    ``masked``: float32 (n_personal, n_items) with seen items at -inf;
    ``ordered``: each row of ``masked`` sorted (for ranks by binary search);
    ``tops``: each source's proposed items, best first; ``source_max``: each
    row's maximum before masking.
    """

    masked: np.ndarray
    ordered: np.ndarray
    tops: tuple[np.ndarray, ...]
    source_max: np.ndarray


_NO_STATS = ItemStats(0)


def _mask_and_sort(scores: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``scores`` with the ``seen`` items at -inf, and each of those rows sorted."""
    masked = scores.copy()
    masked[:, seen] = -np.inf
    return masked, np.sort(masked, axis=1)


def _ranks(scores: np.ndarray, ordered: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Rank of each of ``items`` among the unseen items (1 = best; ties share the best rank).

    ``scores`` has the seen items at -inf; ``ordered`` is ``np.sort(scores)``. float32.
    """
    above = len(ordered) - np.searchsorted(ordered, scores[items], side="right")
    ranks: np.ndarray = (above + 1).astype(np.float32)
    return ranks


class CandidateSources:
    """A model's fitted sources, in merge order."""

    def __init__(self, sources: Sequence[CandidateSource], n_items: int) -> None:
        names = [s.name for s in sources]
        if len(set(names)) != len(names):
            raise ConfigError(f"candidate source names must be unique, got {names}")
        self.sources = tuple(sources)
        self.n_items = n_items
        self.names = tuple(names)
        self.personal = tuple(k for k, s in enumerate(self.sources) if s.personal)
        self.common = tuple(k for k, s in enumerate(self.sources) if not s.personal)
        commons = [self.sources[k] for k in self.common]
        self._global = GlobalRowsCache(commons, n_items) if GlobalRowsCache.supports(commons) else None

    def __len__(self) -> int:
        return len(self.sources)

    def get(self, name: str) -> CandidateSource | None:
        """The source called ``name``, if the model has one."""
        return self.sources[self.names.index(name)] if name in self.names else None

    @property
    def als(self) -> ALSScorer | None:
        """The ALS model of the ``als`` source (the per-event fold-in), if any."""
        src = next((s for s in self.sources if isinstance(s, ALSSource)), None)
        return None if src is None else src.als

    @property
    def specs(self) -> list[SourceSpec]:
        """Every source's spec, in order (the recipe)."""
        return [s.spec for s in self.sources]

    def _rows(
        self, query: Query, which: tuple[int, ...]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
        """Scores, masked scores, their sorts and the proposals of the sources ``which``."""
        scores = np.empty((len(which), self.n_items), dtype=np.float32)
        for row, k in enumerate(which):
            scores[row] = self.sources[k].scores(query)
        masked, ordered = _mask_and_sort(scores, query.history.seen)
        tops = [self.sources[k].propose(query, masked[row], ordered[row]) for row, k in enumerate(which)]
        return scores, masked, ordered, tops

    def user_scores(self, history: History, user_factor: np.ndarray | None = None) -> UserScores:
        """The history-dependent part of :meth:`generate` (the personal sources).

        ``user_factor`` is the user's ALS factor if already folded in (per event). The
        result depends only on the history and this model, so a server can keep it until
        the user's next event.
        """
        if user_factor is None and self.als is not None:
            user_factor = self.als.fold_in(history.items)
        query = Query(history, _NO_STATS, 0.0, user_factor)  # personal sources read no item stats
        scores, masked, ordered, tops = self._rows(query, self.personal)
        return UserScores(masked, ordered, tuple(tops), scores.max(axis=1))

    def generate(
        self, history: History, stats: ItemStats, at: float, user_factor: np.ndarray | None = None,
        personal: UserScores | None = None,
    ) -> Candidates:  # fmt: skip
        """Top-``quota`` unseen items of each source, merged in source order.

        ``personal``: :meth:`user_scores` for this same history, if the caller kept it.
        """
        if personal is None:
            personal = self.user_scores(history, user_factor)
        query = Query(history, stats, at, user_factor)
        if self._global is None:
            glob, masked, ordered, tops = self._rows(query, self.common)
            common_max, common_cols = glob.max(axis=1), list(zip(self.common, masked, ordered, strict=True))
        else:
            rows, seen = self._global.rows(query), np.unique(history.seen)  # sorted, once
            tops = rows.tops(seen, [self.sources[k].spec.quota for k in self.common])
            common_max, common_cols = rows.source_max, []
        n_src = len(self.sources)
        every_top = dict(zip(self.personal, personal.tops, strict=True))
        every_top |= dict(zip(self.common, tops, strict=True))
        first = np.full(self.n_items, n_src, dtype=np.int64)  # proposing source
        for k in reversed(range(n_src)):  # earlier sources overwrite later ones
            first[every_top[k]] = k
        items = np.flatnonzero(first < n_src)  # every source excludes seen items itself
        source_max = np.empty(n_src, dtype=np.float32)
        source_max[list(self.personal)] = personal.source_max
        source_max[list(self.common)] = common_max
        scores = np.empty((len(items), n_src), dtype=np.float32)
        ranks = np.empty((len(items), n_src), dtype=np.float32)
        for k, m, o in [*zip(self.personal, personal.masked, personal.ordered, strict=True), *common_cols]:
            scores[:, k] = m[items]  # candidates are unseen: their masked score is their score
            ranks[:, k] = _ranks(m, o, items)
        if self._global is not None:
            for row, k in enumerate(self.common):
                scores[:, k] = rows.raw[row][items]
                ranks[:, k] = rows.ranks(row, seen, items)
        return Candidates(items=items, scores=scores, ranks=ranks, source_max=source_max, origin=first[items])
