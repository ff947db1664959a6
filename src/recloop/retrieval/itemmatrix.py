"""Sparse top-k item-item matrices: what item-kNN, transitions and EASE score from.

An :class:`ItemMatrix` is a float32 n_items x n_items matrix in CSR (row: the
history item, column: the scored item) holding at most ``k`` entries per row,
so its memory is O(n_items * k): 8 bytes per kept entry (int32 column, float32
value) plus 8 per row. Scoring a history is a sparse row gather
(``weights @ M[items]``). A small catalog (at most :data:`DENSE_MAX` items,
64 MiB as float32) also keeps the dense copy, so serving MovieLens reads
dense rows exactly as before; the lists are the same either way.

The builders never form a dense n_items^2 array: :func:`cosine_top_k` multiplies
the item x user matrix by the user x item matrix one block of items at a time,
each block sized so its product has at most ``budget`` entries.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = ["DENSE_MAX", "ItemMatrix", "cosine_top_k", "dense_top_k", "top_k_per_row"]

DENSE_MAX = 4096
"""Catalogs up to this size also keep the matrix dense for serving (at most 64 MiB)."""

_BLOCK_BUDGET = 20_000_000  # product entries per block: ~240 MB of scipy temporaries


class ItemMatrix:
    """A float32 (n, n) item-item matrix: CSR always, dense too when ``n <= dense_max``."""

    def __init__(
        self, csr: sp.csr_matrix, dense: np.ndarray | None = None, dense_max: int | None = None
    ) -> None:
        self.csr = sp.csr_matrix(csr, dtype=np.float32)
        self.n = int(self.csr.shape[0])
        if dense is None and self.n <= (DENSE_MAX if dense_max is None else dense_max):
            dense = self.csr.toarray()
        self.dense = None if dense is None else np.asarray(dense, dtype=np.float32)
        self._row_max: np.ndarray | None = None  # see row_max
        self._normalized: ItemMatrix | None = None  # see normalized

    @classmethod
    def from_dense(cls, matrix: np.ndarray, dense_max: int | None = None) -> ItemMatrix:
        """Wrap a dense float32 (n, n) array (zeros are not stored in the CSR)."""
        m = np.asarray(matrix, dtype=np.float32)
        keep = len(m) <= (DENSE_MAX if dense_max is None else dense_max)
        return cls(sp.csr_matrix(m), m if keep else None, dense_max)

    @classmethod
    def empty(cls, n: int) -> ItemMatrix:
        """An all-zero (n, n) matrix."""
        return cls(sp.csr_matrix((n, n), dtype=np.float32))

    @property
    def shape(self) -> tuple[int, int]:
        """(n, n)."""
        return self.n, self.n

    @property
    def nnz(self) -> int:
        """Stored entries."""
        return int(self.csr.nnz)

    @property
    def nbytes(self) -> int:
        """Bytes held: the CSR arrays plus the dense copy if any."""
        c = self.csr
        dense = 0 if self.dense is None else self.dense.nbytes
        return int(c.data.nbytes + c.indices.nbytes + c.indptr.nbytes + dense)

    def weighted_rows(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """float32 (n,): sum over j of ``weights[j] * M[items[j]]`` (repeated items add up)."""
        if self.dense is not None:
            return np.asarray(weights @ self.dense[items], dtype=np.float32)
        pos, lens = self._spans(items)
        vals = np.repeat(np.asarray(weights, dtype=np.float64), lens) * self.csr.data[pos]
        return np.bincount(self.csr.indices[pos], weights=vals, minlength=self.n).astype(np.float32)

    def _spans(self, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions in the CSR arrays of the rows ``items`` (concatenated), and each row's length."""
        rows = np.asarray(items, dtype=np.int64)
        starts = np.asarray(self.csr.indptr[rows], dtype=np.int64)
        lens = np.asarray(self.csr.indptr[rows + 1], dtype=np.int64) - starts
        ends = np.cumsum(lens)
        return np.repeat(starts - ends + lens, lens) + np.arange(int(ends[-1]) if len(ends) else 0), lens

    def rows(self, items: np.ndarray) -> np.ndarray:
        """float32 (len(items), n): the dense rows of ``items``."""
        if self.dense is not None:
            return np.asarray(self.dense[items])
        return np.asarray(self.csr[np.asarray(items, dtype=np.int64)].toarray(), dtype=np.float32)

    def block(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """float32 (len(rows), len(cols)): ``M[rows][:, cols]``."""
        r, c = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        if self.dense is not None:
            return self.dense.take(r, axis=0).take(c, axis=1)  # faster than one 2-D fancy index
        out = np.empty((len(r), len(c)), dtype=np.float32)
        indptr, indices, data = self.csr.indptr, self.csr.indices, self.csr.data
        for k, row in enumerate(r.tolist()):  # a few history items per request: scatter, then gather
            a, b = int(indptr[row]), int(indptr[row + 1])
            line = np.zeros(self.n, dtype=np.float32)  # calloc: untouched pages cost nothing
            line[indices[a:b]] = data[a:b]  # rows hold no duplicate columns (top-k builders)
            out[k] = line[c]
        return out

    def row_max(self, items: np.ndarray) -> np.ndarray:
        """float32 (len(items),): each row's largest entry off the diagonal, at least 0.

        Read from a per-row vector computed once (O(nnz), 4 bytes per item), not per call.
        """
        every = self._row_max
        if every is None:
            every = self._row_max = self._all_row_max()
        return every[np.asarray(items, dtype=np.int64)]

    def normalized(self) -> ItemMatrix:
        """This matrix with each row divided by its :meth:`row_max`, negatives and the diagonal at 0.

        Entries are in [0, 1]: 1 for each row's nearest neighbour. Made once, on first use
        (as much memory again as this matrix: what the negative feedback reads per request).
        """
        if self._normalized is None:
            c = self.csr
            rows = np.repeat(np.arange(self.n), np.diff(c.indptr))
            top = self.row_max(np.arange(self.n))
            top[top == 0] = 1.0
            vals = np.where(c.indices == rows, 0.0, np.maximum(c.data, 0.0) / top[rows]).astype(np.float32)
            csr = sp.csr_matrix((vals, c.indices, c.indptr), shape=c.shape)
            self._normalized = ItemMatrix(csr, dense_max=self.n if self.dense is not None else 0)
        return self._normalized

    def _all_row_max(self) -> np.ndarray:
        """float32 (n,): :meth:`row_max` of every row, from the CSR (which holds every nonzero)."""
        c = self.csr
        rows = np.repeat(np.arange(self.n), np.diff(c.indptr))
        vals = np.where(c.indices == rows, 0.0, np.maximum(c.data, 0.0)).astype(np.float32)
        out = np.zeros(self.n, dtype=np.float32)
        full = np.diff(c.indptr) > 0
        if full.any():
            out[full] = np.maximum(np.maximum.reduceat(vals, c.indptr[:-1][full]), 0.0)
        return out

    def toarray(self) -> np.ndarray:
        """The dense float32 (n, n) matrix (small catalogs and tests only)."""
        return self.dense if self.dense is not None else self.csr.toarray()

    def save(self, directory: Path, name: str) -> None:
        """``<name>.npy`` (dense, small catalogs) or ``<name>.{indptr,indices,data}.npy``."""
        if self.dense is not None:
            np.save(directory / f"{name}.npy", self.dense)
            return
        for part in ("indptr", "indices", "data"):
            np.save(directory / f"{name}.{part}.npy", getattr(self.csr, part))

    @classmethod
    def load(cls, directory: Path, name: str) -> ItemMatrix:
        """Read what :meth:`save` wrote; the sparse arrays are memory-mapped."""
        dense_file = directory / f"{name}.npy"
        if dense_file.exists():
            return cls.from_dense(np.load(dense_file))
        indptr, indices, data = (np.load(directory / f"{name}.{p}.npy", mmap_mode="r")
                                 for p in ("indptr", "indices", "data"))  # fmt: skip
        n = len(indptr) - 1
        return cls(sp.csr_matrix((data, indices, indptr), shape=(n, n)))


def top_k_per_row(m: sp.spmatrix, k: int, budget: int = _BLOCK_BUDGET) -> sp.csr_matrix:
    """Each row's ``k`` largest stored entries (ties to the lower column), float32 CSR.

    Sorts at most ``budget`` entries at a time (blocks of rows), so the sort's memory is bounded.
    """
    c = sp.csr_matrix(m, dtype=np.float32)
    c.sum_duplicates()
    counts = np.diff(c.indptr)
    if len(counts) == 0 or counts.max() <= k:
        return c
    if c.nnz > budget:
        spans = _blocks(counts.astype(np.float64), budget)
        return sp.csr_matrix(sp.vstack([_top_k_block(c[a:b], k) for a, b in spans], format="csr"))
    return _top_k_block(c, k)


def _top_k_block(c: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """:func:`top_k_per_row` of one block (sorted all at once)."""
    counts = np.diff(c.indptr)
    rows = np.repeat(np.arange(c.shape[0]), counts)
    order = np.lexsort((c.indices, -c.data, rows))  # grouped by row, in the CSR's own row spans
    rank = np.arange(c.nnz) - c.indptr[rows]
    keep = np.sort(order[rank < k])
    indptr = np.concatenate([[0], np.cumsum(np.minimum(counts, k))])
    return sp.csr_matrix((c.data[keep], c.indices[keep], indptr), shape=c.shape)


_DENSE_FROM_ITEMS = 4096  # smaller catalogs keep the exact sparse tie-break (the MovieLens figures)
_DENSE_SHARE = 0.1  # a block this full is cheaper to select from densely (argpartition) than to sort
_DENSE_ROW_ENTRIES = 16_000_000  # dense rows converted at a time: 64 MB of float32


def _block_top_k(co: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """:func:`top_k_per_row` of one block; dense selection when the block is mostly filled.

    A large catalog's co-occurrence rows are nearly dense (MovieLens-20M-like data: most item
    pairs co-occur), where sorting every stored entry costs O(nnz log nnz) against O(nnz)
    for an argpartition of dense rows. Ties at the k-th value may then pick another column.
    """
    rows, n = co.shape
    if n <= _DENSE_FROM_ITEMS or co.nnz < _DENSE_SHARE * rows * n or k >= n:
        return top_k_per_row(co, k)
    step = max(1, _DENSE_ROW_ENTRIES // n)
    parts = [dense_top_k(co[a : a + step].toarray(), k) for a in range(0, rows, step)]
    return sp.csr_matrix(sp.vstack(parts, format="csr"), dtype=np.float32)


def dense_top_k(block: np.ndarray, k: int) -> sp.csr_matrix:
    """Each row's ``k`` largest positive entries of a dense float (m, n) block, as CSR."""
    m, n = block.shape
    if k >= n:
        return sp.csr_matrix(np.where(block > 0, block, 0).astype(np.float32))
    cols = np.argpartition(-block, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(block, cols, axis=1)
    out = sp.csr_matrix((vals.ravel().astype(np.float32), (np.repeat(np.arange(m), k), cols.ravel())),
                        shape=(m, n))  # fmt: skip
    out.data[out.data < 0] = 0.0
    out.eliminate_zeros()
    return out


def _blocks(work: np.ndarray, budget: int) -> list[tuple[int, int]]:
    """Consecutive [a, b) spans of items whose summed ``work`` stays within ``budget`` (>= 1 item)."""
    spans, a, acc = [], 0, 0.0
    for i, w in enumerate(work.tolist()):
        if i > a and acc + w > budget:
            spans.append((a, i))
            a, acc = i, 0.0
        acc += w
    spans.append((a, len(work)))
    return spans


def cosine_top_k(x: sp.csr_matrix, k: int, shrink: float, budget: int = _BLOCK_BUDGET) -> sp.csr_matrix:
    """Top-``k`` cosine neighbours per item of a binary user x item CSR, diagonal excluded.

    sim(i, j) = co(i, j) / (sqrt(n_i) sqrt(n_j) + shrink + 1e-9). Built by blocks of
    items ``X[:, block]^T X``; a block's product is bounded by ``budget`` entries, so the
    peak memory is O(budget + n_items * k), never O(n_items^2).
    """
    n_items = x.shape[1]
    xt = sp.csr_matrix(x.T, dtype=np.float32)
    counts = np.asarray(x.sum(axis=0), dtype=np.float64).ravel()
    norms = np.sqrt(counts)
    lengths = np.diff(x.indptr).astype(np.float64)
    work = np.minimum(xt @ lengths, n_items)  # upper bound of each item's product row
    parts = []
    for a, b in _blocks(work, budget):
        co = sp.csr_matrix(xt[a:b] @ x, dtype=np.float32)
        co.sum_duplicates()
        rows = np.repeat(np.arange(a, b), np.diff(co.indptr))
        co.data /= (norms[rows] * norms[co.indices] + shrink + 1e-9).astype(np.float32)
        co.data[co.indices == rows] = 0.0
        co.eliminate_zeros()
        parts.append(_block_top_k(co, k))
    if not parts:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    return sp.csr_matrix(sp.vstack(parts, format="csr"), dtype=np.float32)
