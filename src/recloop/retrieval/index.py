"""Vector index for ALS candidate retrieval: maximum inner product search over FAISS.

Three backends sit behind the :class:`VectorIndex` protocol and are chosen by
:func:`build_index` from :class:`IndexConfig`: ``flat`` (exact, ``IndexFlatIP``),
``hnsw`` (graph, ``IndexHNSWFlat``) and ``ivf`` (inverted lists, ``IndexIVFFlat``).
Item vectors are added as rows; a row's position is its id (int64, 0-based).

Threads: a single query is on the request path, where an OpenMP team costs more
than it saves (flat, 100k x 64, two cores: p50 1.4 ms with two threads, 1.0 ms with one).
OpenMP's thread count is a per-thread setting, so setting it once at build
time does not reach the server's worker threads; instead every single-query
:meth:`~FaissIndex.search` runs with one OpenMP thread on the calling thread
and restores the previous setting afterwards. Batch searches use the caller's
setting (one thread by default, see :mod:`recloop`; wrap the call in
:func:`recloop.runtime.training_threads` for all cores). Building and
:meth:`~FaissIndex.add` use the fixed training thread count
(:func:`recloop.runtime.training_thread_count`; HNSW's graph build uses one, since
its parallel insertion order is not deterministic).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, Self, runtime_checkable

import faiss
import numpy as np
import numpy.typing as npt
import structlog
from pydantic import BaseModel, ConfigDict, Field

from recloop.errors import DataError, ValidationError
from recloop.runtime import training_thread_count

__all__ = [
    "MIN_POINTS_PER_LIST",
    "FaissIndex",
    "FlatIndex",
    "HNSWIndex",
    "IVFIndex",
    "IndexConfig",
    "VectorIndex",
    "build_index",
    "load_index",
    "recall_against_exact",
]

log = structlog.get_logger(__name__)

MIN_POINTS_PER_LIST = 39
"""IVF k-means needs this many training points per list (FAISS warns below it)."""

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]


class IndexConfig(BaseModel):
    """Which vector index serves ALS retrieval, and its FAISS parameters.

    ``hnsw_*`` apply to ``type="hnsw"`` (graph degree, beam widths at search and
    build time); ``ivf_*`` to ``type="ivf"`` (number of lists, lists probed per
    query). Larger ``hnsw_ef_search``/``ivf_nprobe`` trade latency for recall.
    ``auto`` (:mod:`recloop.retrieval.index_choice`): exact ``flat`` up to
    ``auto_flat_max`` vectors, above it HNSW with ``efSearch`` raised until recall@10
    against exact search reaches ``auto_target_recall`` on sample queries.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["auto", "flat", "hnsw", "ivf"] = "auto"
    auto_flat_max: int = Field(default=50_000, ge=1)
    auto_target_recall: float = Field(default=0.95, gt=0.0, le=1.0)
    hnsw_m: int = Field(default=32, ge=2)
    hnsw_ef_search: int = Field(default=128, ge=1)
    hnsw_ef_construction: int = Field(default=200, ge=1)
    ivf_nlist: int = Field(default=64, ge=1)
    ivf_nprobe: int = Field(default=8, ge=1)


@runtime_checkable
class VectorIndex(Protocol):
    """Inner-product top-k search over vectors whose ids are their row numbers."""

    @property
    def dim(self) -> int:
        """Vector dimension ``d``."""
        ...

    @property
    def ntotal(self) -> int:
        """Number of vectors added so far."""
        ...

    def add(self, vectors: np.ndarray) -> None:
        """Append float32 (n, d) vectors; they get ids ``ntotal .. ntotal + n - 1``."""
        ...

    def search(
        self, queries: np.ndarray, k: int, exclude: Sequence[np.ndarray] | None = None
    ) -> tuple[FloatArray, IdArray]:
        """Top-``k`` by inner product for float32 (q, d) queries, best first.

        Returns (scores float32 (q, k), ids int64 (q, k)); id -1 (score -inf)
        where fewer than ``k`` results exist. ``exclude[i]`` (int ids) is never
        returned for query ``i``.
        """
        ...

    def save(self, path: str | Path) -> None:
        """Write the index to ``path``."""
        ...

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read an index written by :meth:`save`."""
        ...


@contextmanager
def _omp_threads(n: int) -> Iterator[None]:
    """Run FAISS with ``n`` OpenMP threads on the calling thread, then restore."""
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def _as_matrix(x: np.ndarray, dim: int | None, what: str) -> FloatArray:
    """``x`` as C-contiguous float32 (n, dim); ValidationError saying what is wrong."""
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise ValidationError(
            f"{what} must be a 2-D array (n, d), got shape {arr.shape}; "
            "use x.reshape(1, -1) for a single vector"
        )
    if dim is not None and arr.shape[1] != dim:
        raise ValidationError(f"{what} have dimension {arr.shape[1]} but the index has dimension {dim}")
    if arr.dtype.kind not in "iuf":
        raise ValidationError(f"{what} must be real numbers, got dtype {arr.dtype}")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(out).all():
        raise ValidationError(f"{what} contain NaN or infinite values")
    return out


def _missing(n_queries: int, k: int) -> tuple[FloatArray, IdArray]:
    """Placeholder results: scores -inf, ids -1, shape (n_queries, k)."""
    return (
        np.full((n_queries, k), -np.inf, dtype=np.float32),
        np.full((n_queries, k), -1, dtype=np.int64),
    )


class FaissIndex:
    """A FAISS inner-product index with validation, exclusion and thread control.

    Subclasses only say how to build their FAISS index (:meth:`build`) and
    which FAISS class they wrap; search, exclusion and persistence are shared.
    """

    kind: ClassVar[str] = "faiss"
    faiss_type: ClassVar[type[Any]] = faiss.Index

    def __init__(self, index: Any) -> None:
        if not isinstance(index, self.faiss_type):
            raise DataError(
                f"{type(self).__name__} wraps faiss.{self.faiss_type.__name__}, "
                f"got faiss.{type(index).__name__}"
            )
        if index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise DataError("the FAISS index must use METRIC_INNER_PRODUCT")
        self._index = index

    @classmethod
    def build(cls, config: IndexConfig, vectors: np.ndarray) -> Self:
        """Create the index for ``config`` and add float32 (n, d) ``vectors``."""
        raise NotImplementedError

    def _build_threads(self) -> int:
        """OpenMP threads of :meth:`add`: the training count (HNSW overrides: one)."""
        return training_thread_count()

    @property
    def dim(self) -> int:
        """Vector dimension ``d``."""
        return int(self._index.d)

    @property
    def ntotal(self) -> int:
        """Number of vectors added so far."""
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        """Append (n, d) vectors (converted to float32) as ids ``ntotal ..``; fixed thread count."""
        x = _as_matrix(vectors, self.dim, "vectors")
        with _omp_threads(self._build_threads()):
            self._index.add(x)

    def search(
        self, queries: np.ndarray, k: int, exclude: Sequence[np.ndarray] | None = None
    ) -> tuple[FloatArray, IdArray]:
        """Top-``k`` by inner product: (scores float32 (q, k), ids int64 (q, k)).

        Best first; id -1 and score -inf where fewer than ``k`` results exist.
        ``exclude[i]`` (int ids, any order, duplicates and unknown ids allowed)
        is never returned for query ``i``: the search over-fetches by
        ``len(exclude[i])`` and filters. A single query runs on one OpenMP thread.
        """
        q = _as_matrix(queries, self.dim, "queries")
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValidationError(f"k must be a positive integer, got {k!r}")
        k = int(k)
        excluded = self._excluded(exclude, len(q))
        # over-fetch by the number of excluded ids, so k results survive the filter
        fetch = min(k + max((len(e) for e in excluded), default=0), self.ntotal)
        if fetch == 0 or len(q) == 0:
            return _missing(len(q), k)
        if len(q) == 1:
            previous = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                scores, ids = self._index.search(q, fetch)
            finally:
                faiss.omp_set_num_threads(previous)
        else:
            scores, ids = self._index.search(q, fetch)
        if not excluded:
            if fetch < k:
                pad_scores, pad_ids = _missing(len(q), k - fetch)
                return np.hstack([scores, pad_scores]), np.hstack([ids, pad_ids])
            return scores, ids
        out_scores, out_ids = _missing(len(q), k)
        for row, ex in enumerate(excluded):
            found = ids[row]
            keep = found >= 0
            if len(ex):
                pos = np.minimum(np.searchsorted(ex, found), len(ex) - 1)
                keep &= ex[pos] != found
            kept = np.flatnonzero(keep)[:k]  # in FAISS's order, best first
            out_ids[row, : len(kept)] = found[kept]
            out_scores[row, : len(kept)] = scores[row, kept]
        return out_scores, out_ids

    @staticmethod
    def _excluded(exclude: Sequence[np.ndarray] | None, n_queries: int) -> list[IdArray]:
        """Per query, the excluded ids as sorted int64; an empty list when ``None``."""
        if exclude is None:
            return []
        if len(exclude) != n_queries:
            raise ValidationError(
                f"exclude has {len(exclude)} entries but there are {n_queries} queries; "
                "pass one id array per query"
            )
        return [np.sort(np.asarray(e, dtype=np.int64).ravel()) for e in exclude]

    def save(self, path: str | Path) -> None:
        """Write the index (vectors and search parameters) with ``faiss.write_index``."""
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a file written by :meth:`save`; DataError if it holds another index type."""
        if not Path(path).is_file():
            raise DataError(f"no vector index file at {path}")
        return cls(faiss.read_index(str(path)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, ntotal={self.ntotal})"


class FlatIndex(FaissIndex):
    """Exact search: every query is scored against every vector (``IndexFlatIP``)."""

    kind = "flat"
    faiss_type = faiss.IndexFlatIP

    @classmethod
    def build(cls, config: IndexConfig, vectors: np.ndarray) -> Self:
        x = _as_matrix(vectors, None, "vectors")
        index = cls(faiss.IndexFlatIP(x.shape[1]))
        index.add(x)
        return index


class HNSWIndex(FaissIndex):
    """Approximate search on an HNSW graph (``IndexHNSWFlat``, inner product).

    ``efSearch`` and ``efConstruction`` are stored in the saved file.
    """

    kind = "hnsw"
    faiss_type = faiss.IndexHNSWFlat

    @classmethod
    def build(cls, config: IndexConfig, vectors: np.ndarray) -> Self:
        x = _as_matrix(vectors, None, "vectors")
        raw = faiss.IndexHNSWFlat(x.shape[1], config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        raw.hnsw.efConstruction = config.hnsw_ef_construction
        raw.hnsw.efSearch = config.hnsw_ef_search
        index = cls(raw)
        index.add(x)
        return index

    def _build_threads(self) -> int:
        """One: HNSW inserts in parallel in an order that varies run to run."""
        return 1

    @property
    def ef_search(self) -> int:
        """Beam width of a search (``efSearch``)."""
        return int(self._index.hnsw.efSearch)

    def set_ef_search(self, ef: int) -> None:
        """Search with beam width ``ef`` (saved with the index)."""
        self._index.hnsw.efSearch = max(1, int(ef))


class IVFIndex(FaissIndex):
    """Approximate search over k-means inverted lists (``IndexIVFFlat``, inner product).

    Trained on the vectors it is built from. ``nlist`` is capped so each list
    gets at least :data:`MIN_POINTS_PER_LIST` training points (logged as
    ``ivf_nlist_capped``); ``nprobe`` is capped at ``nlist`` and stored in the
    saved file.
    """

    kind = "ivf"
    faiss_type = faiss.IndexIVFFlat

    @classmethod
    def build(cls, config: IndexConfig, vectors: np.ndarray) -> Self:
        x = _as_matrix(vectors, None, "vectors")
        n, d = x.shape
        if n == 0:
            raise ValidationError("an IVF index is trained on its vectors; got none")
        nlist = max(1, min(config.ivf_nlist, n // MIN_POINTS_PER_LIST))
        if nlist < config.ivf_nlist:
            log.warning(
                "ivf_nlist_capped",
                requested=config.ivf_nlist,
                used=nlist,
                n_vectors=n,
                min_points_per_list=MIN_POINTS_PER_LIST,
            )
        quantizer = faiss.IndexFlatIP(d)
        raw = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        raw.nprobe = min(config.ivf_nprobe, nlist)
        with _omp_threads(training_thread_count()):
            raw.train(x)
        index = cls(raw)
        index.add(x)
        return index

    @property
    def nlist(self) -> int:
        """Number of inverted lists actually used (after the cap)."""
        return int(self._index.nlist)

    @property
    def nprobe(self) -> int:
        """Lists scanned per query."""
        return int(self._index.nprobe)

    def set_nprobe(self, nprobe: int) -> None:
        """Scan ``nprobe`` lists per query (capped at ``nlist``; saved with the index)."""
        self._index.nprobe = max(1, min(int(nprobe), self.nlist))


_BACKENDS: dict[str, type[FaissIndex]] = {cls.kind: cls for cls in (FlatIndex, HNSWIndex, IVFIndex)}


def build_index(config: IndexConfig, vectors: np.ndarray) -> FaissIndex:
    """Build the index ``config.type`` names over float32 (n, d) ``vectors`` (ids = rows).

    ``auto`` here is the fixed part of the choice (flat, or HNSW at the configured
    ``efSearch``); :func:`recloop.retrieval.index_choice.choose_index` also tunes it.
    """
    if config.type == "auto":
        kind = "flat" if len(vectors) <= config.auto_flat_max else "hnsw"
        return _BACKENDS[kind].build(config, vectors)
    return _BACKENDS[config.type].build(config, vectors)


def load_index(path: str | Path) -> FaissIndex:
    """Read any index written by :meth:`FaissIndex.save`, as the matching backend."""
    if not Path(path).is_file():
        raise DataError(f"no vector index file at {path}")
    raw = faiss.read_index(str(path))
    for cls in _BACKENDS.values():
        if isinstance(raw, cls.faiss_type):
            return cls(raw)
    raise DataError(f"{path} holds a faiss.{type(raw).__name__}, not a flat, HNSW or IVF index")


def recall_against_exact(index: VectorIndex, exact: VectorIndex, queries: np.ndarray, k: int) -> float:
    """Mean over float32 (q, d) ``queries`` of |approx top-k ∩ exact top-k| / k.

    The denominator is the number of exact results, which is ``k`` unless the
    index holds fewer than ``k`` vectors.
    """
    if index.dim != exact.dim:
        raise ValidationError(f"index dimension {index.dim} differs from exact dimension {exact.dim}")
    _, approx_ids = index.search(queries, k)
    _, exact_ids = exact.search(queries, k)
    if len(exact_ids) == 0:
        raise ValidationError("recall needs at least one query")
    hits = (approx_ids[:, :, None] == exact_ids[:, None, :]) & (exact_ids[:, None, :] >= 0)
    found = hits.any(axis=2).sum(axis=1)
    truth = np.maximum((exact_ids >= 0).sum(axis=1), 1)
    return float(np.mean(found / truth))
