"""Candidate sources, registered by kind.

Adding a source: one module with a class that follows
:class:`~recloop.retrieval.sources.base.SourceKind`, plus one
``register_source`` line below. A recipe names sources by kind
(:class:`~recloop.retrieval.sources.base.SourceSpec`).
"""

from __future__ import annotations

from recloop.errors import ConfigError
from recloop.retrieval.sources.als import ALSSource
from recloop.retrieval.sources.base import (
    CandidateSource,
    Display,
    FitContext,
    Query,
    SourceKind,
    SourceSpec,
    top_unseen,
)
from recloop.retrieval.sources.itemitem import EASESource, ItemKNNSource
from recloop.retrieval.sources.popularity import PopularSource, TrendingSource
from recloop.retrieval.sources.sasrec import SASRecSource
from recloop.retrieval.sources.transitions import SequenceSource

__all__ = [
    "SOURCE_KINDS",
    "CandidateSource",
    "Display",
    "FitContext",
    "Query",
    "SourceKind",
    "SourceSpec",
    "register_source",
    "source_kind",
    "top_unseen",
]

SOURCE_KINDS: dict[str, type[SourceKind]] = {}


def register_source(cls: type[SourceKind]) -> type[SourceKind]:
    """Make ``cls`` available to recipes under ``cls.kind`` (usable as a class decorator)."""
    SOURCE_KINDS[cls.kind] = cls
    return cls


def source_kind(kind: str) -> type[SourceKind]:
    """The registered class of ``kind``; ConfigError naming the known kinds otherwise."""
    try:
        return SOURCE_KINDS[kind]
    except KeyError:
        raise ConfigError(
            f"unknown candidate source kind {kind!r}; registered: {sorted(SOURCE_KINDS)}"
        ) from None


register_source(EASESource)
register_source(ItemKNNSource)
register_source(SequenceSource)
register_source(ALSSource)
register_source(PopularSource)
register_source(TrendingSource)
register_source(SASRecSource)
