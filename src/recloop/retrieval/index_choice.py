"""The ALS index chosen by catalog size, and its recall against exact search measured at build.

``IndexConfig(type="auto")``: up to ``auto_flat_max`` items the exact flat index
(one query costs n_items x d multiply-adds: 1,682 x 32 on MovieLens); above it an
HNSW graph over the item factors made metric (:class:`MIPSIndex`: each item padded
with one coordinate so that every item has the same norm, the query padded with 0,
so inner products are unchanged and the largest inner product is the nearest
neighbour), whose ``efSearch`` doubles from the configured value (at most
:data:`MAX_EF`) until recall@10 against exact search reaches ``auto_target_recall``
on sample queries (the fitted user factors). Measured at 200k items
(benchmarks/results/scale_models.json): HNSW straight on ALS inner products stayed
at recall@10 0.88 even at efSearch 4096 (and 15 ms a search, past exact search's
1 ms), IVF needed every list; popular items with large norms break both. An
explicit ``type`` is built as configured and only measured. The
:class:`IndexReport` is kept in the bundle (``index.json``) and in the training
facts (the model card).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from recloop.errors import ValidationError
from recloop.retrieval.index import (
    FaissIndex,
    FlatIndex,
    HNSWIndex,
    IndexConfig,
    IVFIndex,
    VectorIndex,
    build_index,
    load_index,
    recall_against_exact,
)

__all__ = ["IndexReport", "MIPSIndex", "choose_index", "read_report"]

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


class MIPSIndex:
    """Inner-product search through a metric HNSW graph over padded vectors (same ids, same scores).

    Items x become [x, sqrt(r^2 - |x|^2)] with r the largest item norm (every padded item has
    norm r); a query q becomes [q, 0], so q' . x' = q . x and, all norms equal, the largest
    inner product is the nearest item, which a graph search finds reliably.
    """

    kind = "hnsw_mips"

    def __init__(self, inner: HNSWIndex) -> None:
        self.inner = inner

    @classmethod
    def build(cls, config: IndexConfig, vectors: np.ndarray) -> MIPSIndex:
        """Pad float32 (n, d) ``vectors`` to (n, d + 1) and build the HNSW graph over them."""
        x = np.asarray(vectors, dtype=np.float32)
        sq = np.einsum("ij,ij->i", x.astype(np.float64), x.astype(np.float64))
        pad = np.sqrt(np.maximum(sq.max(initial=0.0) - sq, 0.0)).astype(np.float32)
        return cls(HNSWIndex.build(config, np.hstack([x, pad[:, None]])))

    @property
    def dim(self) -> int:
        """Query dimension d (the graph holds d + 1)."""
        return self.inner.dim - 1

    @property
    def ntotal(self) -> int:
        """Number of items."""
        return self.inner.ntotal

    @property
    def ef_search(self) -> int:
        """Beam width of a search."""
        return self.inner.ef_search

    def set_ef_search(self, ef: int) -> None:
        """Search with beam width ``ef`` (saved with the index)."""
        self.inner.set_ef_search(ef)

    def add(self, vectors: np.ndarray) -> None:
        """Not supported: the padding depends on every item's norm; rebuild instead."""
        raise ValidationError("a MIPS index pads items by the largest norm; rebuild it to add items")

    def search(self, queries: np.ndarray, k: int, exclude: Sequence[np.ndarray] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Top-``k`` by inner product with the original vectors, as :meth:`FaissIndex.search`."""
        q = np.asarray(queries, dtype=np.float32)
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValidationError(f"queries must be (n, {self.dim}), got shape {q.shape}")
        return self.inner.search(np.hstack([q, np.zeros((len(q), 1), np.float32)]), k, exclude)

    def save(self, path: str | Path) -> None:
        """The padded graph (``faiss.write_index``); ``index.json`` says it is padded."""
        self.inner.save(path)

    @classmethod
    def load(cls, path: str | Path) -> MIPSIndex:
        """Read a padded graph written by :meth:`save`."""
        return cls(HNSWIndex.load(path))


def load_with_report(path: Path, report: IndexReport | None) -> VectorIndex:
    """The index at ``path`` as its report says it was built (a padded MIPS graph or any FAISS index)."""
    if report is not None and report.kind == MIPSIndex.kind:
        return MIPSIndex.load(path)
    return load_index(path)


def _sample(queries: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    if len(queries) <= n:
        return queries
    rng = np.random.default_rng(seed)
    return queries[np.sort(rng.choice(len(queries), size=n, replace=False))]


def choose_index(
    config: IndexConfig, vectors: np.ndarray, queries: np.ndarray
) -> tuple[FaissIndex | MIPSIndex, IndexReport]:
    """Build the index for float32 (n, d) ``vectors`` and measure its recall@10 on (q, d) ``queries``."""
    n = len(vectors)
    q = _sample(queries if len(queries) else vectors, MAX_QUERIES)
    auto = config.type == "auto"
    index: FaissIndex | MIPSIndex
    if auto and n > config.auto_flat_max:
        index = MIPSIndex.build(config, vectors)
    else:
        index = build_index(config, vectors)
    if isinstance(index, FlatIndex):
        return index, IndexReport("flat", n, 1.0, 0)
    exact = build_index(IndexConfig(type="flat"), vectors)
    recall = recall_against_exact(index, exact, q, RECALL_K)
    if isinstance(index, HNSWIndex | MIPSIndex):
        while auto and recall < config.auto_target_recall and index.ef_search < MAX_EF:
            index.set_ef_search(min(MAX_EF, index.ef_search * 2))
            recall = recall_against_exact(index, exact, q, RECALL_K)
        return index, IndexReport(index.kind, n, recall, len(q), ef_search=index.ef_search)
    if isinstance(index, IVFIndex):
        return index, IndexReport("ivf", n, recall, len(q), nprobe=index.nprobe, nlist=index.nlist)
    return index, IndexReport(index.kind, n, recall, len(q))
