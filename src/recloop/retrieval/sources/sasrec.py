"""The SASRec source: next-item scores of a self-attentive model over the user's live history.

Its scores come from the user's current sequence (the latest ``max_len`` positives), so
every event changes them at once; they are also the ranker's ``sasrec_score``/``sasrec_rank``.
torch (``recloop[sequence]``) is imported only when a recipe names this source: a model
without it serves without torch, one with it and no torch fails at load with the pip command.
Files: ``sasrec.pt`` (the network's state_dict); its parameters are the spec's.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, ClassVar, Self

import numpy as np

from recloop.config import SASRecParams
from recloop.errors import ConfigError
from recloop.retrieval.sources.base import Display, FitContext, Query, SourceSpec, top_unseen

if TYPE_CHECKING:
    from recloop.retrieval.sasrec import SASRecScorer

__all__ = ["SASRecSource", "sasrec_module"]

INSTALL = "pip install 'recloop[sequence]'  (or: pip install torch==2.13.0, the CPU wheel)"


def sasrec_module() -> ModuleType:
    """:mod:`recloop.retrieval.sasrec`, imported now; ConfigError with the pip command without torch."""
    try:
        return importlib.import_module("recloop.retrieval.sasrec")
    except ImportError as exc:
        raise ConfigError(
            f"the sasrec sequence model needs PyTorch ({exc}); install it: {INSTALL}, "
            "or train without it (RECLOOP_MODELS__SASREC_SOURCE=false)"
        ) from exc


class SASRecSource:
    """SASRec's next-item candidates from the latest history items."""

    kind: ClassVar[str] = "sasrec"
    label: ClassVar[str] = "sequence model"
    personal: ClassVar[bool] = True
    explained_by: ClassVar[str | None] = None

    def __init__(self, spec: SourceSpec, scorer: SASRecScorer) -> None:
        self.spec, self.scorer = spec, scorer

    @property
    def name(self) -> str:
        """The source's kind."""
        return self.spec.kind

    @classmethod
    def fit(cls, spec: SourceSpec, ctx: FitContext) -> Self:
        """Train the network on the training sequences."""
        params = SASRecParams.model_validate(spec.params)
        return cls(spec, sasrec_module().SASRecScorer(params).fit(ctx.data))

    @classmethod
    def load(cls, spec: SourceSpec, directory: Path) -> Self:
        """Read ``sasrec.pt``."""
        params = SASRecParams.model_validate(spec.params)
        return cls(spec, sasrec_module().SASRecScorer.load(params, directory / f"{spec.kind}.pt"))

    def scores(self, query: Query) -> np.ndarray:
        """Next-item scores from the current history (zeros for an empty one)."""
        return self.scorer.score(query.history.items)

    def propose(self, query: Query, masked: np.ndarray, ordered: np.ndarray) -> np.ndarray:
        """Top unseen items; nothing for an empty history."""
        if len(query.history.items) == 0:
            return np.empty(0, dtype=np.int64)
        return top_unseen(masked, ordered, self.spec.quota)

    def similarity(self) -> None:
        """No item-item matrix."""
        return None

    def reason(self, recent: np.ndarray, display: Display) -> str:
        """Names the latest item."""
        if len(recent):
            return f"what people watch next after {display(int(recent[-1]))}"
        return "popular with everyone"

    def save(self, directory: Path) -> None:
        """``sasrec.pt``."""
        self.scorer.save(directory / f"{self.name}.pt")
