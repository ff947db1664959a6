"""The ALS index chosen by catalog size, and its recall against exact search measured at build.

``IndexConfig(type="auto")``: up to ``auto_flat_max`` items the exact flat index
(one query costs n_items x d multiply-adds: 1,682 x 32 on MovieLens); above it an
IVF index with ``nlist`` ~ sqrt(n_items) lists, whose ``nprobe`` doubles from the
configured value until recall@10 against exact search reaches ``auto_target_recall``
on sample queries (the fitted user factors). HNSW over ALS inner products stays
low (recall@10 0.53 at 200k items with efSearch 128), so ``auto`` never picks it;
``type="hnsw"`` remains an explicit choice. The :class:`IndexReport` is kept in the
bundle (``index.json``) and in the training facts (the model card).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from recloop.retrieval.index import (
    FaissIndex,
    FlatIndex,
    IndexConfig,
    IVFIndex,
    build_index,
    recall_against_exact,
)

__all__ = ["IndexReport", "choose_index", "read_report"]

RECALL_K = 10
MAX_QUERIES = 500


@dataclass(frozen=True)
class IndexReport:
    """What was built: the backend, its catalog size, its search width, its measured recall@10.

    ``recall10`` is 1.0 for the exact index (not measured); ``queries`` how many it was measured on.
    """

    kind: str
    n_items: int
    recall10: float
    queries: int
    nprobe: int = 0
    nlist: int = 0

    def save(self, path: Path) -> None:
        """Write as JSON."""
        path.write_text(json.dumps(asdict(self)))


def read_report(path: Path) -> IndexReport | None:
    """The report :meth:`IndexReport.save` wrote, or None if there is none."""
    return IndexReport(**json.loads(path.read_text())) if path.is_file() else None


def _sample(queries: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    if len(queries) <= n:
        return queries
    rng = np.random.default_rng(seed)
    return queries[np.sort(rng.choice(len(queries), size=n, replace=False))]


def choose_index(
    config: IndexConfig, vectors: np.ndarray, queries: np.ndarray
) -> tuple[FaissIndex, IndexReport]:
    """Build the index for float32 (n, d) ``vectors`` and measure its recall@10 on (q, d) ``queries``."""
    n = len(vectors)
    q = _sample(queries if len(queries) else vectors, MAX_QUERIES)
    auto = config.type == "auto"
    if auto and n > config.auto_flat_max:
        nlist = max(config.ivf_nlist, int(math.sqrt(n)))
        config = config.model_copy(update={"type": "ivf", "ivf_nlist": nlist})
    elif auto:
        config = config.model_copy(update={"type": "flat"})
    index = build_index(config, vectors)
    if isinstance(index, FlatIndex):
        return index, IndexReport("flat", n, 1.0, 0)
    exact = build_index(IndexConfig(type="flat"), vectors)
    recall = recall_against_exact(index, exact, q, RECALL_K)
    if isinstance(index, IVFIndex):
        while auto and recall < config.auto_target_recall and index.nprobe < index.nlist:
            index.set_nprobe(index.nprobe * 2)
            recall = recall_against_exact(index, exact, q, RECALL_K)
        return index, IndexReport("ivf", n, recall, len(q), index.nprobe, index.nlist)
    return index, IndexReport(index.kind, n, recall, len(q))
