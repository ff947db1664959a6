"""The P2 protocol's view of the serving path.

``ServiceSession`` adapts a :class:`Recommender` (embedded feature
store in a temporary directory, per-event fold-in) to the protocol interface,
so ``recloop evaluate --protocol p2`` measures the code the API runs.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Sequence

import numpy as np
import pandas as pd

from recloop.config import MemoryStateConfig
from recloop.data.movielens import Dataset
from recloop.events.feedback import Semantics
from recloop.events.schema import Event
from recloop.features.store import open_store
from recloop.serving.recommender import Recommender, ServedModel
from recloop.serving.runtime import service_for
from recloop.serving.stability import Stability

__all__ = ["ServiceSession", "service_session"]


class ServiceSession:
    """recommend -> service.rank_items; ingest -> service.apply (durable store + fold-in)."""

    def __init__(self, service: Recommender, tmp: tempfile.TemporaryDirectory[str]) -> None:
        self.service = service
        self._tmp = tmp
        self._ids = itertools.count()

    def recommend(self, user_id: int | str, k: int) -> np.ndarray:
        return self.service.rank_items(str(user_id), k)

    def recommend_many(self, user_ids: Sequence[int | str], k: int) -> list[np.ndarray]:
        return [self.recommend(u, k) for u in user_ids]

    def ingest(self, user_id: int | str, item: int, rating: float, timestamp: int) -> None:
        ev = Event(f"replay-{next(self._ids)}", str(user_id), int(item),
                   int(self.service.live.catalog.ids[item]), "rate", float(timestamp),
                   float(rating) if rating > 0 else None)  # fmt: skip
        if ev.value is None:
            ev = Event(ev.event_id, ev.user_id, ev.item, ev.item_id, "view", ev.timestamp)
        self.service.apply([ev])

    def close(self) -> None:
        """Close the store and remove its temporary directory."""
        self.service.live.store.close()
        self._tmp.cleanup()


def service_session(
    dataset: Dataset, base: pd.DataFrame, served: ServedModel, half_life_days: float,
    semantics: Semantics = "implicit", stability: Stability | None = None,
) -> ServiceSession:  # fmt: skip
    """A fresh service over ``base`` with an embedded store in a temp dir.

    ``semantics``: ``implicit`` is P2 as shared/EVALUATION.md defines it (every rating
    a positive); ``explicit`` is the served feedback table (the P2 "negatives" variant).
    ``stability``: list stability as served (default settings; ``Stability(0)`` turns it off).
    """
    tmp = tempfile.TemporaryDirectory(prefix="recloop-replay-")
    from pathlib import Path

    store = open_store(MemoryStateConfig(), dataset.n_items, Path(tmp.name), half_life_days)
    service = service_for(dataset, base, store, served, half_life_days, semantics=semantics,
                          stability=stability)
    return ServiceSession(service, tmp)
