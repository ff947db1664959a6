"""The ALS index chosen by catalog size, and its recall against exact search measured at build.

``IndexConfig(type="auto")``: up to ``auto_flat_max`` items the exact flat index
(one query costs n_items x d multiply-adds: 1,682 x 32 on MovieLens); above it an
HNSW graph whose ``efSearch`` doubles from the configured value (at most
:data:`MAX_EF`) until recall@10 against exact search reaches ``auto_target_recall``
on sample queries (the fitted user factors). IVF was tried first: on ALS inner
products at 200k items its recall stayed under 0.95 until ``nprobe`` reached every
list (an exhaustive scan), since popular items with large norms sit in every
cluster's top-k; HNSW at efSearch 128 gave 0.86 and reaches 0.95 by widening the
beam alone, without a rebuild (benchmarks/results/scale_models.json). An explicit
``type`` is built as configured and only measured. The :class:`IndexReport` is
kept in the bundle (``index.json``) and in the training facts (the model card).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from recloop.retrieval.index import (
    FaissIndex,
    FlatIndex,
    HNSWIndex,
    IndexConfig,
    IVFIndex,
    build_index,
    recall_against_exact,
)

__all__ = ["IndexReport", "choose_index", "read_report"]

RECALL_K = 10
MAX_QUERIES = 500
MAX_EF = 4096


@dataclass(frozen=True)
class IndexReport:
    """What was built: the backend, its catalog size, its search width, its measured recall@10.

    ``recall10`` is 1.0 for the exact index (not measured); ``queries`` how many it was
    measured on; ``ef_search`` (HNSW) or ``nprobe``/``nlist`` (IVF), 0 where not used.
    """

    kind: str
    n_items: int
    recall10: float
    queries: int
    ef_search: int = 0
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
    index = build_index(config, vectors)
    if isinstance(index, FlatIndex):
        return index, IndexReport("flat", n, 1.0, 0)
    exact = build_index(IndexConfig(type="flat"), vectors)
    recall = recall_against_exact(index, exact, q, RECALL_K)
    if isinstance(index, HNSWIndex):
        while auto and recall < config.auto_target_recall and index.ef_search < MAX_EF:
            index.set_ef_search(min(MAX_EF, index.ef_search * 2))
            recall = recall_against_exact(index, exact, q, RECALL_K)
        return index, IndexReport("hnsw", n, recall, len(q), ef_search=index.ef_search)
    if isinstance(index, IVFIndex):
        return index, IndexReport("ivf", n, recall, len(q), nprobe=index.nprobe, nlist=index.nlist)
    return index, IndexReport(index.kind, n, recall, len(q))
