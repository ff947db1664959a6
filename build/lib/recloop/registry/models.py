"""Immutable values the model registry hands out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = ["CHALLENGER", "CHAMPION", "ModelVersionInfo", "PromotionAction", "PromotionResult"]

CHAMPION = "champion"
"""Alias of the model version that serves traffic."""

CHALLENGER = "challenger"
"""Alias of the model version under test against the champion."""

PromotionAction = Literal["promoted", "rolled_back", "unchanged"]


@dataclass(frozen=True, slots=True)
class ModelVersionInfo:
    """One registered model version with the run that produced it.

    ``metrics`` carry their original names (e.g. ``ndcg@10``), even though
    MLflow stores them under sanitized keys (``ndcg_at_10``). ``params`` are
    the flattened, dotted, stringified training parameters. ``tags`` are the
    model-version tags (user tags plus ``recloop.*`` bookkeeping).
    ``created_at`` is timezone-aware UTC.
    """

    name: str
    version: int
    aliases: tuple[str, ...]
    run_id: str
    run_name: str | None
    created_at: datetime
    status: str
    source: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_champion(self) -> bool:
        """Whether this version currently holds the ``champion`` alias."""
        return CHAMPION in self.aliases


@dataclass(frozen=True, slots=True)
class PromotionResult:
    """Outcome of :meth:`ModelRegistry.promote` or :meth:`ModelRegistry.rollback`.

    ``previous`` is the champion before the call (``None`` if there was none),
    ``champion`` the one after it. ``history`` is the stack of earlier
    champions that later rollbacks restore, oldest first.
    """

    action: PromotionAction
    champion: int
    previous: int | None
    history: tuple[int, ...] = ()
