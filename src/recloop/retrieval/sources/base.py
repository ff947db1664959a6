"""What a candidate source is: the protocol, its saved spec, the query it answers.

A source scores every item of the catalog for one query. Personal sources
read the user's history (and may be kept per user until the next event);
global ones read item statistics and the query time. The candidate
generator (:mod:`recloop.retrieval.candidates`) takes each source's top
``quota`` unseen items and keeps every source's score and rank per
candidate, so the ranker can weigh them against each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

import numpy as np
from pydantic import BaseModel, ConfigDict

from recloop.retrieval.base import TrainData
from recloop.retrieval.history import History
from recloop.retrieval.itemmatrix import ItemMatrix
from recloop.retrieval.trending import ItemStats

__all__ = ["CandidateSource", "Display", "FitContext", "Query", "SourceKind", "SourceSpec", "top_unseen"]

Display = Callable[[int], str]  # item index -> a title a person reads


class SourceSpec(BaseModel):
    """One source in a model's recipe: its kind, its quota and every parameter it was fitted with.

    ``params`` holds the kind's own pydantic parameter model, dumped; a bundle
    stores the spec so that a retrain refits exactly this source.
    """

    model_config = ConfigDict(frozen=True)

    kind: str
    quota: int
    params: dict[str, Any] = {}


@dataclass(frozen=True)
class Query:
    """What a source may read: the history, the item statistics and the time (Unix s).

    ``user_factor``: the user's ALS factor float32 (k,) if the caller folded it in already.
    """

    history: History
    stats: ItemStats
    at: float
    user_factor: np.ndarray | None = None


@dataclass(frozen=True)
class FitContext:
    """What fitting a source may read: the training interactions (dense indices, time order)."""

    data: TrainData


class CandidateSource(Protocol):
    """A fitted source of candidates."""

    kind: ClassVar[str]
    personal: ClassVar[bool]  # True: scores depend on the user's history
    label: ClassVar[str]  # what the UI calls it
    explained_by: ClassVar[str | None]  # source whose similarity names the history item behind a candidate
    spec: SourceSpec

    @property
    def name(self) -> str:
        """Unique within a model; the feature columns are ``<name>_score``/``<name>_rank``."""
        ...

    def scores(self, query: Query) -> np.ndarray:
        """Scores float32 (n_items,) for every item, seen items included."""
        ...

    def propose(self, query: Query, masked: np.ndarray, ordered: np.ndarray) -> np.ndarray:
        """The source's top ``spec.quota`` unseen items, best first, int64.

        ``masked`` is :meth:`scores` with seen items at -inf, ``ordered`` its sort.
        """
        ...

    def similarity(self) -> ItemMatrix | None:
        """An item x item matrix float32 (row: history item, sparse top-k) if the source has one."""
        ...

    def reason(self, recent: np.ndarray, display: Display) -> str:
        """The reason shown when no history item can be named (``recent``: latest items)."""
        ...

    def save(self, directory: Path) -> None:
        """Write the fitted state into a bundle directory."""
        ...


class SourceKind(CandidateSource, Protocol):
    """A source class: how to fit one and how to read one back from a bundle."""

    @classmethod
    def fit(cls, spec: SourceSpec, ctx: FitContext) -> Self:
        """Fit on the training interactions."""
        ...

    @classmethod
    def load(cls, spec: SourceSpec, directory: Path) -> Self:
        """Read back what :meth:`save` wrote."""
        ...


def top_unseen(scores: np.ndarray, ordered: np.ndarray, quota: int) -> np.ndarray:
    """The ``quota`` best items of ``scores`` (seen items are -inf), best first.

    ``ordered`` is ``np.sort(scores)``. Ties at the cut go to the lower item index.
    Sorting values and ordering only the winners is 4x cheaper than an argsort of
    the catalog, and this runs once per source per request.
    """
    n = len(scores)
    if quota <= 0 or n == 0:
        return np.empty(0, dtype=np.int64)
    cut = float(ordered[n - min(quota, n)])
    above = np.flatnonzero(scores > cut)
    above = above[np.argsort(-scores[above], kind="stable")]
    if cut == -np.inf:  # fewer than ``quota`` unseen items: that is all of them
        return above
    ties = np.flatnonzero(scores == cut)[: quota - len(above)]
    return np.concatenate([above, ties])
