"""Contract suite for the vector index, run against flat, HNSW and IVF.

The main data set is a seeded Gaussian mixture (50 centres, unit noise in 32
dimensions): embeddings such as ALS item factors have cluster structure, and
IVF relies on it. Isotropic noise, IVF's worst case, is tested separately.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np
import pytest
from structlog.testing import capture_logs

from recloop.errors import DataError, ValidationError
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

N, D, K = 2000, 32, 10
KINDS = ["flat", "hnsw", "ivf"]


def mixture(seed: int, n: int, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """(vectors (n, D), queries (n_queries, D)) float32 from one Gaussian mixture."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, D))
    x = centres[rng.integers(0, 50, n)] + rng.standard_normal((n, D))
    q = centres[rng.integers(0, 50, n_queries)] + rng.standard_normal((n_queries, D))
    return x.astype(np.float32), q.astype(np.float32)


def brute_force(x: np.ndarray, q: np.ndarray, k: int, exclude: Sequence[np.ndarray] = ()) -> tuple:
    """Exact top-k by inner product in float64 numpy: (scores (q, k), ids (q, k))."""
    s = q.astype(np.float64) @ x.astype(np.float64).T
    for row, ex in enumerate(exclude):
        s[row, ex] = -np.inf
    ids = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(s, ids, axis=1), ids


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return mixture(seed=7, n=N, n_queries=200)


@pytest.fixture(scope="module")
def exact(data: tuple[np.ndarray, np.ndarray]) -> FaissIndex:
    return build_index(IndexConfig(type="flat"), data[0])


@pytest.fixture(scope="module", params=KINDS)
def index(request: pytest.FixtureRequest, data: tuple[np.ndarray, np.ndarray]) -> FaissIndex:
    return build_index(IndexConfig(type=request.param), data[0])


# --- contract, every backend -------------------------------------------------------------


def test_builds_the_configured_backend(index: FaissIndex) -> None:
    assert isinstance(index, VectorIndex)
    assert index.dim == D
    assert index.ntotal == N
    expected = {"flat": FlatIndex, "hnsw": HNSWIndex, "ivf": IVFIndex}[index.kind]
    assert type(index) is expected


def test_search_shapes_dtypes_and_order(index: FaissIndex, data: tuple) -> None:
    scores, ids = index.search(data[1], K)
    assert scores.shape == ids.shape == (200, K)
    assert scores.dtype == np.float32
    assert ids.dtype == np.int64
    assert ((ids >= 0) & (ids < N)).all()
    assert (np.diff(scores, axis=1) <= 1e-5).all()
    # each score is the inner product of the query with the returned vector
    recomputed = np.einsum("qd,qkd->qk", data[1], data[0][ids])
    np.testing.assert_allclose(scores, recomputed, rtol=1e-4, atol=1e-4)


def test_recall_at_10_against_flat(index: FaissIndex, exact: FaissIndex, data: tuple) -> None:
    recall = recall_against_exact(index, exact, data[1], K)
    if index.kind == "flat":
        assert recall == 1.0
    else:
        assert recall >= 0.9, f"{index.kind} recall@10 = {recall:.3f}"


def test_excluded_ids_never_returned_and_k_results_kept(index: FaissIndex, data: tuple) -> None:
    x, q = data
    rng = np.random.default_rng(3)
    _, top = brute_force(x, q, 20)
    # exclude each query's 5 best, 5 more of its top 20 and 40 random ids
    exclude = [
        np.concatenate([top[i, :5], rng.choice(top[i, 5:], 5, replace=False), rng.integers(0, N, 40)])
        for i in range(len(q))
    ]
    scores, ids = index.search(q, K, exclude=exclude)
    assert ids.shape == (len(q), K)
    assert (ids >= 0).all(), "exclusion must not shrink the result list"
    for row, ex in enumerate(exclude):
        assert not np.isin(ids[row], ex).any()
        assert len(set(ids[row].tolist())) == K
    assert (np.diff(scores, axis=1) <= 1e-5).all()
    if index.kind == "flat":
        _, expected = brute_force(x, q, K, exclude)
        np.testing.assert_array_equal(ids, expected)


def test_exclusion_tolerates_empty_duplicate_and_unknown_ids(index: FaissIndex, data: tuple) -> None:
    q = data[1][:3]
    _, plain_ids = index.search(q, K)
    best = plain_ids[1, 0]
    exclude = [np.array([], dtype=np.int64), np.array([best, best, N + 5, -1]), np.array([10**9])]
    _, ids = index.search(q, K, exclude=exclude)
    np.testing.assert_array_equal(ids[[0, 2]], plain_ids[[0, 2]])
    assert best not in ids[1]
    assert (ids >= 0).all()


def test_exclude_needs_one_array_per_query(index: FaissIndex, data: tuple) -> None:
    with pytest.raises(ValidationError, match="one id array per query"):
        index.search(data[1][:3], K, exclude=[np.array([1])])


def test_single_query_matches_its_batch_row(index: FaissIndex, data: tuple) -> None:
    _, batch_ids = index.search(data[1][:5], K)
    for i in range(5):
        _, one = index.search(data[1][i : i + 1], K)
        np.testing.assert_array_equal(one[0], batch_ids[i])


def test_k_larger_than_index_pads_with_minus_one(index: FaissIndex) -> None:
    x, q = mixture(seed=1, n=60, n_queries=2)
    small = build_index(IndexConfig(type=index.kind, ivf_nprobe=64), x)
    scores, ids = small.search(q, 100)
    assert ids.shape == (2, 100)
    assert sorted(ids[0, :60].tolist()) == list(range(60))
    assert (ids[:, 60:] == -1).all()
    assert np.isneginf(scores[:, 60:]).all()
    scores, ids = small.search(q, 100, exclude=[np.arange(10), np.arange(50, 70)])
    assert sorted(ids[0, :50].tolist()) == list(range(10, 60))
    assert sorted(ids[1, :50].tolist()) == list(range(50))
    assert (ids[:, 50:] == -1).all()
    assert np.isneginf(scores[:, 50:]).all()
    assert np.isfinite(scores[:, :50]).all()


def test_save_load_round_trip_gives_identical_results(index: FaissIndex, data: tuple, tmp_path: Path) -> None:
    path = tmp_path / f"{index.kind}.faiss"
    index.save(path)
    exclude = [np.arange(i, i + 7) for i in range(len(data[1]))]
    expected = index.search(data[1], K, exclude=exclude)
    for loaded in (load_index(path), type(index).load(path)):
        assert type(loaded) is type(index)
        assert (loaded.dim, loaded.ntotal) == (index.dim, index.ntotal)
        got = loaded.search(data[1], K, exclude=exclude)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])


def test_wrong_dimension_is_a_validation_error(index: FaissIndex) -> None:
    with pytest.raises(ValidationError, match="dimension 31 but the index has dimension 32"):
        index.search(np.zeros((4, 31), dtype=np.float32), K)
    with pytest.raises(ValidationError, match="dimension 33 but the index has dimension 32"):
        index.add(np.zeros((4, 33), dtype=np.float32))
    with pytest.raises(ValidationError, match=r"2-D array .*reshape\(1, -1\)"):
        index.search(np.zeros(D, dtype=np.float32), K)


def test_bad_queries_and_k_are_validation_errors(index: FaissIndex) -> None:
    q = np.zeros((1, D), dtype=np.float32)
    with pytest.raises(ValidationError, match="k must be a positive integer"):
        index.search(q, 0)
    q[0, 3] = np.nan
    with pytest.raises(ValidationError, match="NaN or infinite"):
        index.search(q, K)


def test_added_vectors_get_the_next_ids(index: FaissIndex, data: tuple, tmp_path: Path) -> None:
    grown = load_index(_saved(index, tmp_path))  # keep the shared fixture untouched
    q = data[1][:1]
    far = (100.0 * q / np.linalg.norm(q)).astype(np.float64)  # float64 input is converted
    grown.add(far)
    assert grown.ntotal == N + 1
    _, ids = grown.search(q, K)
    assert ids[0, 0] == N


def test_single_query_restores_the_callers_openmp_setting(index: FaissIndex, data: tuple) -> None:
    seen: list[int] = []

    def worker() -> None:
        faiss.omp_set_num_threads(2)
        index.search(data[1][:1], K)
        seen.append(faiss.omp_get_max_threads())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [2]


def _saved(index: FaissIndex, tmp_path: Path) -> Path:
    path = tmp_path / "copy.faiss"
    index.save(path)
    return path


# --- backend specifics -------------------------------------------------------------------


def test_ivf_caps_nlist_and_logs_it() -> None:
    x, q = mixture(seed=2, n=500, n_queries=5)
    with capture_logs() as logs:
        index = build_index(IndexConfig(type="ivf", ivf_nlist=64, ivf_nprobe=100), x)
    [event] = [e for e in logs if e["event"] == "ivf_nlist_capped"]
    assert (event["requested"], event["used"], event["n_vectors"]) == (64, 12, 500)
    assert event["log_level"] == "warning"
    assert isinstance(index, IVFIndex)
    assert (index.nlist, index.nprobe) == (12, 12)
    # nprobe is capped at nlist, so probing every list is exact
    assert recall_against_exact(index, build_index(IndexConfig(), x), q, K) == 1.0


def test_ivf_without_vectors_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="trained on its vectors"):
        build_index(IndexConfig(type="ivf"), np.zeros((0, D), dtype=np.float32))


def test_isotropic_data_recall_grows_with_nprobe_and_hnsw_stays_high() -> None:
    """Without cluster structure IVF needs more probes; HNSW does not care."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((N, D)).astype(np.float32)
    q = rng.standard_normal((200, D)).astype(np.float32)
    exact = build_index(IndexConfig(), x)
    recalls = [
        recall_against_exact(build_index(IndexConfig(type="ivf", ivf_nprobe=p), x), exact, q, K)
        for p in (1, 8, 24, 51)
    ]
    assert recalls == sorted(recalls)
    assert recalls[0] < 0.5
    assert recalls[-1] == 1.0
    assert recall_against_exact(build_index(IndexConfig(type="hnsw"), x), exact, q, K) >= 0.95


def test_hnsw_and_ivf_keep_search_parameters_when_saved(tmp_path: Path) -> None:
    x, _ = mixture(seed=4, n=N, n_queries=1)
    cfg = IndexConfig(type="hnsw", hnsw_ef_search=77, hnsw_ef_construction=55)
    build_index(cfg, x).save(tmp_path / "h")
    hnsw = HNSWIndex.load(tmp_path / "h")
    assert hnsw.ef_search == 77
    build_index(IndexConfig(type="ivf", ivf_nprobe=5), x).save(tmp_path / "i")
    ivf = IVFIndex.load(tmp_path / "i")
    assert (ivf.nlist, ivf.nprobe) == (51, 5)


def test_load_rejects_missing_and_mismatched_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no vector index file"):
        load_index(tmp_path / "missing.faiss")
    build_index(IndexConfig(), np.eye(D, dtype=np.float32)).save(tmp_path / "flat")
    with pytest.raises(DataError, match=r"HNSWIndex wraps faiss\.IndexHNSWFlat"):
        HNSWIndex.load(tmp_path / "flat")


def test_config_rejects_unknown_backend() -> None:
    with pytest.raises(ValueError, match="type"):
        IndexConfig(type="annoy")  # type: ignore[arg-type]


# --- recall_against_exact ----------------------------------------------------------------


class _Fixed:
    """A stub index that returns fixed ids, to check the recall formula by hand."""

    def __init__(self, ids: list[list[int]]) -> None:
        self.ids = np.array(ids, dtype=np.int64)

    dim = 2
    ntotal = 10

    def add(self, vectors: np.ndarray) -> None: ...

    def search(self, queries: np.ndarray, k: int, exclude: object = None) -> tuple:
        return np.zeros(self.ids.shape, dtype=np.float32), self.ids

    def save(self, path: object) -> None: ...

    @classmethod
    def load(cls, path: object) -> _Fixed:
        raise NotImplementedError


def test_recall_formula_by_hand() -> None:
    approx = _Fixed([[0, 1, 2], [5, 6, -1]])
    truth = _Fixed([[0, 1, 3], [7, 6, 5]])
    # (2/3 + 2/3) / 2
    assert recall_against_exact(approx, truth, np.zeros((2, 2)), 3) == pytest.approx(2 / 3)


def test_recall_needs_matching_dimensions(exact: FaissIndex) -> None:
    with pytest.raises(ValidationError, match="dimension"):
        recall_against_exact(_Fixed([[0]]), exact, np.zeros((1, 2)), 1)
